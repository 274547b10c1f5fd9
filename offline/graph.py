"""Questions a reader asks of a captured stack — which flows are allowed, is there any way to the internet, does any
group carry inline rules — answered by the policy pack's own model, never re-implemented here.

The capture is handed to the pack exactly as `pulumi preview --policy-pack` hands a stack to it (offline/guard_run.py),
so the flows come from `guard.flows` over the resources pulumi_policy itself builds (unknown values and all), and
the internet paths and inline rules are the pack's own findings. What the plan prints is what the pack judged.
"""

from __future__ import annotations

from guard import POLICIES
from guard import flows as pack_flows
from guard.flows import Flow, RuleEnd
from guard.graph import StackGraph
from guard.network import INTERNET
from guard.posture import KEY as PRIVATE_ONLY_KEY
from guard.types import EGRESS, ENDPOINT, INGRESS, SG, STACK_REFERENCE, SUBNET
from offline.guard_run import analyze, stack_resources
from offline.harness import UNKNOWN, Capture

__all__ = ["EGRESS", "ENDPOINT", "INGRESS", "INTERNET_POLICIES", "INTERNET_TYPES", "SG", "STACK_REFERENCE", "SUBNET",
           "UNKNOWN", "Flow", "RuleEnd", "flows", "inline_rules", "internet_paths", "model", "one_sided",
           "rule_ends", "shown"]

INTERNET_TYPES = INTERNET
# The pack's policies that find a way to or from the internet.
INTERNET_POLICIES = ("no-internet-gateway", "no-default-route", "subnet-no-public-ip", "ec2-no-public-ip",
                     "ecs-no-public-ip")
INLINE_POLICY = "no-inline-security-group-rules"


def model(capture: Capture) -> StackGraph:
    """The stack as the pack's stack policies see it."""
    return StackGraph(stack_resources(capture))


def rule_ends(capture: Capture, type_: str) -> list[RuleEnd]:
    return pack_flows.rule_ends(model(capture), type_)


def flows(capture: Capture) -> list[Flow]:
    """Every allowed flow, pairing the egress rule on the source with the ingress rule on the target."""
    return pack_flows.flows(model(capture))


def one_sided(capture: Capture) -> list[Flow]:
    return pack_flows.one_sided(model(capture))


def _findings(capture: Capture, policies: tuple[str, ...]) -> list[str]:
    # The plan asks what paths exist, whatever the stack's posture: the private-only policies judge as if declared.
    knobs = {p.name for p in POLICIES if p.config_schema and PRIVATE_ONLY_KEY in p.config_schema.properties}
    report = analyze(capture, {name: {PRIVATE_ONLY_KEY: True} for name in policies if name in knobs}, only=policies)
    # A finding reads "<policy description>\n<resource>: <problem>. Fix: ..."; the plan shows the middle.
    return [f.message.split("\n", 1)[-1].split(" Fix: ", 1)[0] for f in report.violations]


def internet_paths(capture: Capture) -> list[str]:
    """Each way the stack could reach or be reached from the internet, as the pack words it; [] when there is none."""
    return _findings(capture, INTERNET_POLICIES)


def inline_rules(capture: Capture) -> list[str]:
    """Security groups that carry rules inline (which standalone rules would fight, and which can form cycles)."""
    return _findings(capture, (INLINE_POLICY,))


def shown(value: object) -> str:
    return "(known after up)" if value == UNKNOWN else str(value)
