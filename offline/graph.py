"""Questions a reader asks of a captured stack — which flows are allowed, is there any way to the internet, does any
group carry inline rules — answered by the policy pack's own model, never re-implemented here.

The capture is handed to the pack exactly as `pulumi preview --policy-pack` hands a stack to it (offline/guard_run.py),
so the flows come from `guard.flows` over the resources pulumi_policy itself builds (unknown values and all), and
the internet paths and inline rules are the pack's own findings. What the plan prints is what the pack judged.
"""

from __future__ import annotations

from functools import cached_property

from guard import POSTURE_POLICIES
from guard import flows as pack_flows
from guard.flows import Flow, RuleEnd
from guard.graph import StackGraph
from guard.network import INTERNET
from guard.posture import KEY as PRIVATE_ONLY_KEY
from guard.types import EGRESS, ENDPOINT, INGRESS, SG, STACK_REFERENCE, SUBNET
from offline.guard_run import analyze, stack_resources
from offline.harness import UNKNOWN, Capture

__all__ = [
    "EGRESS",
    "ENDPOINT",
    "INGRESS",
    "INTERNET_POLICIES",
    "INTERNET_TYPES",
    "SG",
    "STACK_REFERENCE",
    "SUBNET",
    "UNKNOWN",
    "Analysis",
    "Flow",
    "RuleEnd",
    "flows",
    "inline_rules",
    "internet_paths",
    "rule_ends",
    "shown",
]

INTERNET_TYPES = INTERNET
# The pack's policies that find a way to or from the internet.
INTERNET_POLICIES = ("no-internet-gateway", "no-default-route", "subnet-no-public-ip", "ec2-no-public-ip",
                     "ecs-no-public-ip")
INLINE_POLICY = "no-inline-security-group-rules"


class Analysis:
    """One stack, judged once: the pack's model built once and its findings asked for once, then every question the
    plan, the diagram and the checks ask answered from them."""

    def __init__(self, capture: Capture) -> None:
        self.capture = capture

    @cached_property
    def model(self) -> StackGraph:
        """The stack as the pack's stack policies see it."""
        return StackGraph(stack_resources(self.capture))

    @cached_property
    def flows(self) -> list[Flow]:
        """Every allowed flow, pairing the egress rule on the source with the ingress rule on the target."""
        return pack_flows.flows(self.model)

    @cached_property
    def one_sided(self) -> list[Flow]:
        return pack_flows.one_sided(self.model)

    def rule_ends(self, type_: str) -> list[RuleEnd]:
        return pack_flows.rule_ends(self.model, type_)

    @cached_property
    def _findings(self) -> list[tuple[str, str]]:
        """The internet and inline-rule policies' findings, by policy, from one run of the pack. The plan asks what
        paths exist whatever the stack's posture: the private-only policies judge as if it were declared."""
        asked = (*INTERNET_POLICIES, INLINE_POLICY)
        posture = {name: {PRIVATE_ONLY_KEY: True} for name in asked if name in POSTURE_POLICIES}
        report = analyze(self.capture, posture, only=asked)
        # A finding reads "<policy description>\n<resource>: <problem>. Fix: ..."; the plan shows the middle.
        return [(f.policy, f.message.split("\n", 1)[-1].split(" Fix: ", 1)[0]) for f in report.violations]

    @property
    def internet_paths(self) -> list[str]:
        """Each way the stack could reach or be reached from the internet, as the pack words it; [] when none."""
        return [message for policy, message in self._findings if policy in INTERNET_POLICIES]

    @property
    def inline_rules(self) -> list[str]:
        """Security groups that carry rules inline (which standalone rules would fight, and which can form cycles)."""
        return [message for policy, message in self._findings if policy == INLINE_POLICY]


# One question of a capture, for tests and callers that ask only one.
def rule_ends(capture: Capture, type_: str) -> list[RuleEnd]:
    return Analysis(capture).rule_ends(type_)


def flows(capture: Capture) -> list[Flow]:
    return Analysis(capture).flows


def internet_paths(capture: Capture) -> list[str]:
    return Analysis(capture).internet_paths


def inline_rules(capture: Capture) -> list[str]:
    return Analysis(capture).inline_rules


def shown(value: object) -> str:
    return "(known after up)" if value == UNKNOWN else str(value)
