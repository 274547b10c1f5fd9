"""Each policy on its own, in milliseconds: the AWSGuard-style specs of tests/specs_*.py (a known-good resource,
changed once per case), each resting on the AWS documentation it names."""

from __future__ import annotations

import pytest
import specs_compute
import specs_data
import specs_network
import specs_perimeter
import specs_stack
from guard_spec import Spec

from guard import POLICIES  # isort: skip

SPECS: list[Spec] = [*specs_compute.SPECS, *specs_network.SPECS, *specs_data.SPECS, *specs_stack.SPECS,
                     *specs_perimeter.SPECS]


@pytest.mark.parametrize("spec", SPECS, ids=[f"{s.policy}-{s.id}" for s in SPECS])
def test_spec(spec: Spec) -> None:
    assert spec.source, "every case names the documentation it rests on"
    spec.check()


def test_every_policy_has_a_case_that_fires_and_one_that_does_not() -> None:
    names = {p.name for p in POLICIES}
    assert sorted(names - {s.policy for s in SPECS if s.fires is not None}) == []
    assert sorted(names - {s.policy for s in SPECS if s.fires is None}) == []
    assert {s.policy for s in SPECS} <= names


def test_spec_ids_are_unique() -> None:
    ids = [f"{s.policy}-{s.id}" for s in SPECS]
    assert len(ids) == len(set(ids)) and all(s.id for s in SPECS)
