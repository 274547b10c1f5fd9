"""Every shipped stack's plan, URN by URN and input by input, against the fingerprint recorded before the config
became per-component sections (tests/fixtures/plans.json, `python -m offline.snapshot` on commit 6f73b8a): a
refactor that says it changes nothing for users changes nothing. The one addition since is dev's database."""

from __future__ import annotations

import json

import pytest
from conftest import ROOT

from offline.snapshot import VARIANTS, fingerprint

BEFORE = json.loads((ROOT / "tests" / "fixtures" / "plans.json").read_text())


def _database(urn: str) -> bool:
    """dev's database: the component and its children, and the bastion's two rules to it."""
    name = urn.rsplit("::", 1)[-1]
    return "airgap:data:Database" in urn or name in ("bastion-sends-tcp5432-to-database",
                                                     "database-allows-tcp5432-from-bastion")


@pytest.mark.parametrize("key", sorted(BEFORE))
def test_the_plan_is_what_it_was_but_for_the_database(key: str) -> None:
    name, mode = key.split("/")
    stack, overrides, state = VARIANTS[name]
    before, after = BEFORE[key], fingerprint(stack, overrides, state, mode)
    assert sorted(set(before) - set(after)) == [], "resources gone"
    assert sorted(u for u in set(after) - set(before) if not _database(u)) == [], "resources new"
    changed = {u: sorted(k for k in {*before[u], *after[u]} if before[u].get(k) != after[u].get(k))
               for u in set(before) & set(after)}
    assert {u: keys for u, keys in changed.items() if keys} == {}, "inputs changed"
