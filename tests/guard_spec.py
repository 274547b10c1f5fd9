"""Per-policy specs in AWSGuard's style: a known-good resource, mutated once per case, judged by one policy through the
pack's own servicer — no program run, so a case takes milliseconds.

A `Spec` says which policy, which resources (built with `res`), and what must come out: a phrase of the finding, or
None for no finding. Every case names the AWS documentation it rests on (`source`), and tests/test_spec.py holds
each policy to at least one case that fires and one that does not.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from offline.guard_run import Report, analyze
from offline.harness import UNKNOWN, Capture, Registration

REGION = "ap-northeast-1"
__all__ = ["UNKNOWN", "Spec", "judge", "res", "set_path"]


def set_path(props: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A deep copy of `props` with the dotted `path` set (None removes it); list indexes are numbers."""
    out = copy.deepcopy(props)
    *parents, last = path.split(".")
    target: Any = out
    for part in parents:
        target = target[int(part)] if isinstance(target, list) else target.setdefault(part, {})
    if isinstance(target, list):
        target[int(last)] = value
    elif value is None:
        target.pop(last, None)
    else:
        target[last] = copy.deepcopy(value)
    return out


def res(type_: str, name: str, props: dict[str, Any] | None = None, *, project: str = "spec",
        **feeds: Registration | list[Registration]) -> Registration:
    """One resource of a stack in `project`; `feeds` names the resources whose outputs flow into each property."""
    deps = {prop: [r.urn for r in (v if isinstance(v, list) else [v])] for prop, v in feeds.items()}
    return Registration(urn=f"urn:pulumi:spec::{project}::{type_}::{name}", type=type_, name=name, parent=None,
                        custom=True, inputs=copy.deepcopy(props or {}), state=copy.deepcopy(props or {}), id="",
                        dependencies=sorted({u for v in deps.values() for u in v}), property_dependencies=deps,
                        protect=False)


def judge(policy: str, resources: list[Registration], config: dict[str, Any] | None = None) -> Report:
    """`policy` alone on a stack of `resources`, as the CLI would run it (levels and config reconciled)."""
    capture = Capture(stack="spec", mode="update", region=REGION, config={"aws:region": REGION},
                      resources=resources, exports={}, project=resources[0].urn.split("::")[1] if resources else "")
    return analyze(capture, config, only=(policy,))


@dataclass(frozen=True)
class Spec:
    policy: str
    resources: Callable[[], list[Registration]]
    fires: str | None  # a phrase of the finding; None: the policy must find nothing
    source: str  # the AWS documentation (or provider source) the case rests on
    config: dict[str, Any] = field(default_factory=dict)
    id: str = ""

    def check(self) -> None:
        report = judge(self.policy, self.resources(), {self.policy: self.config} if self.config else None)
        assert report.skipped == [], [f.message for f in report.skipped]
        found = [f.message for f in report.by_policy(self.policy)]
        if self.fires is None:
            assert found == [], found
        else:
            assert found, f"{self.policy} found nothing"
            assert all("Fix: " in m for m in found), found
            assert any(self.fires in m for m in found), found
