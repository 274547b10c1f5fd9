"""Every shipped stack's plan, URN by URN and input by input, against the fingerprint recorded once Session Manager
became a governed perimeter (tests/fixtures/plans.json, `python -m offline.snapshot --write …`, airgap 0.4): a refactor
that says it changes nothing for users changes nothing. (Recorded before on 6f73b8a, it held the config's move to
per-component sections to the same standard, dev's database the one addition.)"""

from __future__ import annotations

import json

import pytest
from conftest import ROOT

from offline.snapshot import VARIANTS, fingerprint

pytestmark = pytest.mark.program

BEFORE = json.loads((ROOT / "tests" / "fixtures" / "plans.json").read_text())


@pytest.mark.parametrize("key", sorted(BEFORE))
def test_the_plan_is_what_it_was(key: str) -> None:
    name, mode = key.split("/")
    stack, overrides, state = VARIANTS[name]
    before, after = BEFORE[key], fingerprint(stack, overrides, state, mode)
    assert sorted(set(before) - set(after)) == [], "resources gone"
    assert sorted(set(after) - set(before)) == [], "resources new"
    changed = {u: sorted(k for k in {*before[u], *after[u]} if before[u].get(k) != after[u].get(k))
               for u in set(before) & set(after)}
    assert {u: keys for u, keys in changed.items() if keys} == {}, "inputs changed"
