"""The pack's verdict on every test stack — the shipped stacks, the configs a user would ship, every bad variant, the
purpose-written programs and the examples — and the recorded verdicts they are compared with.

A change that should not change what the pack finds (a faster graph, a refactor) must leave every verdict equal to
the recording; a change that means to (a message made true, a new check) re-records it, and the diff of
tests/fixtures/pack-verdicts.json is the review of what changed:

    .venv/bin/python tests/verdicts.py --record
"""

from __future__ import annotations

import json
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import programs
from conftest import ROOT, captured, run_program
from variants import SHIPPED_CONFIGS, VARIANTS

from offline.guard_run import Report, analyze
from offline.harness import MODES, Capture, capture
from offline.stack_files import stacks

FIXTURE = ROOT / "tests" / "fixtures" / "pack-verdicts.json"
EXAMPLES = ROOT / "examples"
EXAMPLE_CONFIG = {"existing-vpc-with-endpoints": {"airgap-existing-vpc:endpointGroupId": "sg-0123456789abcdef0",
                                                  "airgap-existing-vpc:s3PrefixListId": "pl-61a54008"}}
PROGRAMS = {
    "exec-never-enabled": programs.EXEC_NEVER_ENABLED,
    "endpoint-group-admits-nothing": programs.ENDPOINT_GROUP_ADMITS_NOTHING,
    "groups-naming-each-other": programs.GROUPS_NAMING_EACH_OTHER,
    "wider-bad": programs.WIDER_BAD,
    "wider-good": programs.WIDER_GOOD,
    "two-regions": programs.TWO_REGIONS.replace("{endpoint_region}", "None"),
    "two-regions-crossed": programs.TWO_REGIONS.replace("{endpoint_region}", '"ap-northeast-1"'),
    "hub-and-spokes": programs.HUB_AND_SPOKES,
    "untraceable-vpc": programs.UNTRACEABLE_VPC,
    "gateway-by-default": programs.GATEWAY_BY_DEFAULT,
    "ecs-services": programs.ECS_SERVICES,
    "default-vpc": programs.DEFAULT_VPC,
    "other-shapes": programs.OTHER_SHAPES,
    "ordinary-vpc-with-nat": programs.ORDINARY_VPC_WITH_NAT,
}


# The programs of tests/test_foreign_programs.py: run as another project's stacks (not private-only by default).
FOREIGN = ("hub-and-spokes", "untraceable-vpc", "gateway-by-default", "ecs-services", "default-vpc", "other-shapes",
           "ordinary-vpc-with-nat")


def variant_id(index: int, policy: str, mode: str) -> str:
    return f"variant-{index:02d}-{policy}-{mode}"


def _program(source: str, mode: str, project: str) -> Callable[[], Capture]:
    def run() -> Capture:
        with tempfile.TemporaryDirectory() as tmp:
            return run_program(source, Path(tmp), mode, project=project)

    return run


def _example(case: str, mode: str) -> Callable[[], Capture]:
    root = EXAMPLES / case.removesuffix("-with-endpoints")
    return lambda: capture("example", mode, EXAMPLE_CONFIG.get(case, {}), program=root / "__main__.py", root=root)


def cases() -> dict[str, Callable[[], Capture]]:
    """Every test stack, by a stable id, and how to build it."""
    found: dict[str, Callable[[], Capture]] = {}
    for mode in MODES:
        for stack in stacks():
            found[f"stack-{stack}-{mode}"] = lambda s=stack, m=mode: captured(s, m)
        for overrides in SHIPPED_CONFIGS:
            found[f"config-{json.dumps(overrides, sort_keys=True)}-{mode}"] = \
                lambda o=overrides, m=mode: captured("dev", m, **o)
        for i, (policy, change, _) in enumerate(VARIANTS):
            found[variant_id(i, policy, mode)] = lambda c=change, m=mode: c(captured("dev", m))
        for name, source in PROGRAMS.items():
            found[f"program-{name}-{mode}"] = _program(source, mode, "foreign" if name in FOREIGN else "airgap")
        for case in ("minimal", "existing-vpc", "existing-vpc-with-endpoints", "two-environments"):
            found[f"example-{case}-{mode}"] = _example(case, mode)
    return found


_reports: dict[str, Report] = {}


def report(case: str) -> Report:
    """The pack's report on one test stack, computed once per session (the policy tests read the same ones)."""
    if case not in _reports:
        _reports[case] = analyze(cases()[case]())
    return _reports[case]


def verdict(found: Report) -> dict[str, Any]:
    """What the pack decided, in a form that compares exactly: every finding and every not-applicable reason."""
    return {"findings": sorted([f.policy, f.level, f.urn, f.message] for f in found.findings),
            "not_applicable": sorted([policy, reason] for policy, reason in found.not_applicable)}


def recorded() -> dict[str, Any]:
    return json.loads(FIXTURE.read_text())


def record() -> int:
    verdicts = {case: verdict(report(case)) for case in sorted(cases())}
    FIXTURE.write_text(json.dumps(verdicts, indent=1, sort_keys=True) + "\n")
    print(f"recorded the pack's verdicts on {len(verdicts)} test stacks in {FIXTURE.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    if sys.argv[1:] != ["--record"]:
        sys.exit(__doc__)
    sys.exit(record())
