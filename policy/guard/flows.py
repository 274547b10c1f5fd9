"""Who may open connections to whom: the flows a stack's standalone rules allow, each with the rule on either side.

A flow is one egress rule on the source's group paired with the ingress rule on the target's group for the same
port. Ends are named by the group's logical name, by what another stack's outputs call an id it exports (a network
stack's endpoint group, read through a StackReference), by the service whose prefix list a rule names, or by the
CIDR. The offline plan's flow table and diagram read this same model (offline/graph.py), so what the plan shows is
what the pack sees.
"""

from __future__ import annotations

from dataclasses import dataclass

from pulumi_policy import PolicyResource

from guard.contract import NetworkOut
from guard.graph import StackGraph
from guard.types import EGRESS, ENDPOINT, INGRESS, SG, STACK_REFERENCE
from guard.values import UNKNOWN, get, plain, protocol_name


@dataclass(frozen=True)
class RuleEnd:
    """One rule, seen from the flow it belongs to."""

    rule: PolicyResource
    group: str  # the group the rule is on
    peer: str  # the other end: a group, "prefix list of <service>", or a CIDR
    port: str


@dataclass(frozen=True)
class Flow:
    source: str
    target: str
    port: str
    egress: PolicyResource | None  # the rule on the source's group
    ingress: PolicyResource | None  # the rule on the target's group

    @property
    def both_sides(self) -> bool:
        return self.egress is not None and self.ingress is not None


def port_text(props: object) -> str:
    protocol = protocol_name(get(props, "ipProtocol"))
    if protocol == "all":
        return "all traffic"
    start, end = get(props, "fromPort"), get(props, "toPort")
    if UNKNOWN in (start, end) or start is None:
        return f"{protocol}/?"
    return f"{protocol}/{start:g}" if start == end else f"{protocol}/{start:g}-{end:g}"


def referenced(graph: StackGraph) -> dict[str, str]:
    """Ids of another stack's resources, named as that stack names them: a network stack's endpoint group and
    S3 prefix list, read from the outputs of this stack's StackReference to it."""
    names: dict[str, str] = {}
    for ref in graph.of(STACK_REFERENCE):
        outputs = plain(get(ref.props, "outputs"))
        if not isinstance(outputs, dict):
            continue
        if outputs.get(NetworkOut.ENDPOINT_GROUP_ID):
            names[str(outputs[NetworkOut.ENDPOINT_GROUP_ID])] = f"endpoint-group of {ref.name}"
        if outputs.get(NetworkOut.S3_PREFIX_LIST_ID):
            names[str(outputs[NetworkOut.S3_PREFIX_LIST_ID])] = f"prefix list of s3 of {ref.name}"
    return names


def group_name(graph: StackGraph, rule: PolicyResource, elsewhere: dict[str, str]) -> str:
    groups = graph.feeds(rule, "securityGroupId", SG)
    return groups[0].name if groups else elsewhere.get(str(get(rule.props, "securityGroupId")), "?")


def peer_name(graph: StackGraph, rule: PolicyResource, elsewhere: dict[str, str]) -> str:
    groups = graph.feeds(rule, "referencedSecurityGroupId", SG)
    if groups:
        return groups[0].name
    for key in ("referencedSecurityGroupId", "prefixListId"):
        if str(get(rule.props, key)) in elsewhere:
            return elsewhere[str(get(rule.props, key))]
    if get(rule.props, "prefixListId"):
        endpoints = graph.feeds(rule, "prefixListId", ENDPOINT)
        if not endpoints:
            return f"prefix list {get(rule.props, 'prefixListId')}"
        # Named by the endpoint's service (com.amazonaws.<region>.s3 -> s3), not by its logical name.
        service = str(get(endpoints[0].props, "serviceName", "")).rsplit(".", 1)[-1]
        return f"prefix list of {service or endpoints[0].name}"
    for key in ("cidrIpv4", "cidrIpv6"):
        if get(rule.props, key):
            return str(get(rule.props, key))
    return "?"


def rule_ends(graph: StackGraph, type_: str) -> list[RuleEnd]:
    elsewhere = referenced(graph)
    return [RuleEnd(r, group_name(graph, r, elsewhere), peer_name(graph, r, elsewhere), port_text(r.props))
            for r in graph.of(type_)]


def flows(graph: StackGraph) -> list[Flow]:
    """Every allowed flow, pairing the egress rule on the source with the ingress rule on the target."""
    table: dict[tuple[str, str, str], dict[str, PolicyResource]] = {}
    for end in rule_ends(graph, EGRESS):
        table.setdefault((end.group, end.peer, end.port), {})["egress"] = end.rule
    for end in rule_ends(graph, INGRESS):
        table.setdefault((end.peer, end.group, end.port), {})["ingress"] = end.rule
    return [Flow(s, t, p, sides.get("egress"), sides.get("ingress"))
            for (s, t, p), sides in sorted(table.items())]


def one_sided(graph: StackGraph) -> list[Flow]:
    """Flows between two security groups that only one side allows: the other side drops the traffic."""
    # Another stack's endpoint group is a group; its S3 prefix list is not (it has no ingress half to miss).
    groups = {g.name for g in graph.of(SG)} | {n for n in referenced(graph).values() if not n.startswith("prefix ")}
    return [f for f in flows(graph) if f.target in groups and f.source in groups and not f.both_sides]
