"""Security-group rules as edges of the stack graph, and who may open a connection to whom.

Built once per stack analysis (`Reach.of(graph)`) and indexed by the group a rule is on and the groups it names, so
"may A send 443 to B" looks only at A's rules. A rule is an edge whichever way it was written: a standalone vpc rule,
a legacy `aws.ec2.SecurityGroupRule`, or inline on the group (minus what the provider reads back from standalone
rules once the group exists).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from functools import cache

from pulumi_policy import PolicyResource

from guard.graph import StackGraph, endpoint_type
from guard.types import EGRESS, ENDPOINT, INGRESS, SG, VPC
from guard.values import ANYWHERE, LEGACY_RULE, UNKNOWN, RuleView, as_list, get, protocol_name, rules_of


@dataclass(frozen=True)
class Edge:
    rule: PolicyResource
    view: RuleView
    group: PolicyResource | None  # the group the rule is on
    peers: tuple[PolicyResource, ...]  # groups it references
    prefix_sources: tuple[PolicyResource, ...]  # endpoints whose prefix list it references


def _signature(direction: str, protocol: object, start: object, end: object, cidrs: list, groups: list,
               prefixes: list) -> tuple:
    name = protocol_name(protocol)
    ports = () if name == "all" else (start, end)
    return (direction, str(name), ports, tuple(sorted(map(str, cidrs))), tuple(sorted(map(str, groups))),
            tuple(sorted(map(str, prefixes))))


def _first(items: list[PolicyResource]) -> PolicyResource | None:
    return items[0] if items else None


def _read_back(graph: StackGraph) -> dict[str, set[tuple]]:
    """Per group URN, the signatures of its standalone rules. Once a group exists, the provider reads every rule on
    it — standalone ones included — into the group's ingress/egress state; those entries are not inline rules."""
    found: dict[str, set[tuple]] = {}
    for rule in graph.of(INGRESS, EGRESS):
        group = _first(graph.feeds(rule, "securityGroupId", SG))
        if group is None:
            continue
        p = rule.props
        found.setdefault(group.urn, set()).add(_signature(
            "ingress" if rule.resource_type == INGRESS else "egress", get(p, "ipProtocol"), get(p, "fromPort"),
            get(p, "toPort"), [c for c in (get(p, "cidrIpv4"), get(p, "cidrIpv6")) if c],
            [g for g in (get(p, "referencedSecurityGroupId"),) if g], [x for x in (get(p, "prefixListId"),) if x]))
    return found


def _inline_edges(graph: StackGraph, group: PolicyResource, mirrored: set[tuple]) -> list[Edge]:
    found = []
    for direction in ("ingress", "egress"):
        if get(group.props, direction, []) is UNKNOWN:
            continue
        for i, view in enumerate(v for v in rules_of(SG, group.props) if v.direction == direction):
            e = f"{direction}.{i}"
            if _signature(direction, get(group.props, f"{e}.protocol"), get(group.props, f"{e}.fromPort"),
                          get(group.props, f"{e}.toPort"),
                          as_list(get(group.props, f"{e}.cidrBlocks", [])) +
                          as_list(get(group.props, f"{e}.ipv6CidrBlocks", [])),
                          as_list(get(group.props, f"{e}.securityGroups", [])),
                          as_list(get(group.props, f"{e}.prefixListIds", []))) in mirrored:
                continue
            # A rule written inline: the dependencies are per property, so it is taken to reference every group
            # its direction names (inline rules are a violation of their own anyway).
            found.append(Edge(group, view, group, tuple(graph.feeds(group, direction, SG)), ()))
    return found


def edges(graph: StackGraph) -> list[Edge]:
    found: list[Edge] = []
    read_back = _read_back(graph)
    for rule in graph.of(INGRESS, EGRESS):
        (view,) = rules_of(rule.resource_type, rule.props)
        found.append(Edge(rule, view, _first(graph.feeds(rule, "securityGroupId", SG)),
                          tuple(graph.feeds(rule, "referencedSecurityGroupId", SG)),
                          tuple(graph.feeds(rule, "prefixListId", ENDPOINT))))
    for rule in graph.of(LEGACY_RULE):
        for view in rules_of(rule.resource_type, rule.props):
            peers = graph.feeds(rule, "sourceSecurityGroupId", SG)
            group = _first(graph.feeds(rule, "securityGroupId", SG))
            if get(rule.props, "self") is True and group is not None:
                peers = [group]
            found.append(Edge(rule, view, group, tuple(peers), ()))
    for group in graph.of(SG):
        found += _inline_edges(graph, group, read_back.get(group.urn, set()))
    return found


@cache
def _network(cidr: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    try:
        return ipaddress.ip_network(cidr, strict=False)
    except ValueError:
        return None


def is_s3_gateway(endpoint: PolicyResource) -> bool:
    service = get(endpoint.props, "serviceName")
    return isinstance(service, str) and service.endswith(".s3") and endpoint_type(endpoint) == "Gateway"


class Reach:
    """Answers 'may A open a connection to B on port P', one side at a time, from the rules on A's and B's groups."""

    def __init__(self, graph: StackGraph) -> None:
        self.graph = graph
        self.edges = edges(graph)
        self._vpc_cidrs = [n for vpc in graph.of(VPC) if isinstance(block := get(vpc.props, "cidrBlock"), str)
                           and (n := _network(block)) is not None]
        self._reaches: dict[str, bool] = {}
        self._on_group: dict[tuple[str, str], list[Edge]] = {}
        self._naming: dict[str, list[Edge]] = {}
        self._position = {id(e): i for i, e in enumerate(self.edges)}
        for e in self.edges:
            if e.group is not None:
                self._on_group.setdefault((e.group.urn, e.view.direction), []).append(e)
            for peer in e.peers:
                self._naming.setdefault(peer.urn, []).append(e)

    @staticmethod
    def of(graph: StackGraph) -> Reach:
        """The stack's one Reach, built the first time a policy asks for it."""
        return graph.shared(Reach)

    def on(self, group: PolicyResource, direction: str) -> list[Edge]:
        """The rules on `group` in one direction."""
        return self._on_group.get((group.urn, direction), [])

    def naming(self, group: PolicyResource) -> list[Edge]:
        """The rules (on any group) that reference `group`."""
        return self._naming.get(group.urn, [])

    def touching(self, groups: list[PolicyResource]) -> list[Edge]:
        """The rules on any of `groups` or referencing any of them, in stack order."""
        found = {id(e): e for g in groups for e in (*self.on(g, "ingress"), *self.on(g, "egress"), *self.naming(g))}
        return sorted(found.values(), key=lambda e: self._position[id(e)])

    def _on(self, group: PolicyResource, direction: str, port: int) -> list[Edge]:
        return [e for e in self.on(group, direction) if e.view.covers(port)]

    def cidr_reaches_vpc(self, cidr: object) -> bool:
        """Whether a rule's range covers a VPC of this stack."""
        if not isinstance(cidr, str):
            return False
        if cidr not in self._reaches:
            network = _network(cidr)
            self._reaches[cidr] = network is not None and any(
                network.version == v.version and v.subnet_of(network) for v in self._vpc_cidrs)
        return self._reaches[cidr]

    def egress(self, sources: list[PolicyResource], target: PolicyResource, port: int) -> bool:
        return any(target.urn in {p.urn for p in e.peers} or any(self.cidr_reaches_vpc(c) for c in e.view.cidrs)
                   for s in sources for e in self._on(s, "egress", port))

    def ingress(self, target: PolicyResource, sources: list[PolicyResource], port: int) -> bool:
        urns = {s.urn for s in sources}
        return any(urns & {p.urn for p in e.peers} or any(self.cidr_reaches_vpc(c) for c in e.view.cidrs)
                   for e in self._on(target, "ingress", port))

    def egress_to_s3(self, sources: list[PolicyResource], prefix_list_id: str = "") -> bool:
        """443 out to S3's prefix list (of a gateway in this stack, or `prefix_list_id`: another stack's)."""
        return any(any(is_s3_gateway(p) for p in e.prefix_sources) or any(c in ANYWHERE for c in e.view.cidrs)
                   or (prefix_list_id and get(e.rule.props, "prefixListId") == prefix_list_id)
                   for s in sources for e in self._on(s, "egress", 443))
