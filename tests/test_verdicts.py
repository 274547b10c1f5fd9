"""Verdicts unchanged: on every test stack the pack finds exactly what tests/fixtures/pack-verdicts.json recorded
(each finding's policy, level, resource and message, and each not-applicable reason). See tests/verdicts.py."""

from __future__ import annotations

import functools

import pytest
import verdicts

pytestmark = pytest.mark.program


@functools.cache
def _recorded() -> dict:
    return verdicts.recorded()


def test_every_test_stack_has_a_recorded_verdict() -> None:
    assert sorted(_recorded()) == sorted(verdicts.cases()), "re-record: .venv/bin/python tests/verdicts.py --record"


@pytest.mark.parametrize("case", sorted(verdicts.cases()))
def test_the_pack_decides_as_recorded(case: str) -> None:
    assert verdicts.verdict(verdicts.report(case)) == _recorded()[case]
