"""Questions a reader asks of a captured stack: which flows are allowed, is there any way to the internet.

Everything is resolved through property dependencies (which resource feeds which property), never through ids:
in a first preview every id is the same unknown value.
"""

from __future__ import annotations

from dataclasses import dataclass

from offline.harness import UNKNOWN, Capture, Registration

# Type tokens come from the pack's own module, so the plan and the pack name resources alike.
from guard.graph import EGRESS, ENDPOINT, INGRESS, SG, STACK_REFERENCE, SUBNET  # isort: skip  # noqa: F401

INTERNET_TYPES = {
    "aws:ec2/internetGateway:InternetGateway": "Internet Gateway",
    "aws:ec2/natGateway:NatGateway": "NAT gateway",
    "aws:ec2/eip:Eip": "Elastic IP",
    "aws:ec2/egressOnlyInternetGateway:EgressOnlyInternetGateway": "egress-only internet gateway",
    "aws:ec2/internetGatewayAttachment:InternetGatewayAttachment": "Internet Gateway attachment",
}
DEFAULT_ROUTES = {"0.0.0.0/0", "::/0"}


@dataclass(frozen=True)
class RuleEnd:
    """One rule, seen from the flow it belongs to."""

    rule: Registration
    group: str  # the group the rule is on (its logical name)
    peer: str  # the other end: a group name, "prefix list <endpoint>", or a CIDR
    port: str


@dataclass(frozen=True)
class Flow:
    source: str
    target: str
    port: str
    egress: Registration | None  # the rule on the source group
    ingress: Registration | None  # the rule on the target group

    @property
    def both_sides(self) -> bool:
        return self.egress is not None and self.ingress is not None


def port_text(inputs: dict) -> str:
    protocol = inputs.get("ipProtocol")
    if protocol in ("-1", "all"):
        return "all traffic"
    start, end = inputs.get("fromPort"), inputs.get("toPort")
    return f"{protocol}/{start:g}" if start == end else f"{protocol}/{start:g}-{end:g}"


def _one(capture: Capture, rule: Registration, prop: str) -> Registration | None:
    urns = rule.property_dependencies.get(prop) or []
    index = capture.by_urn()
    found = [index[u] for u in urns if u in index]
    return found[0] if found else None


def referenced(capture: Capture) -> dict[str, str]:
    """Ids of another stack's resources, named as that stack names them: a network stack's endpoint group and
    S3 prefix list, read from the outputs of this stack's StackReference to it."""
    names: dict[str, str] = {}
    for ref in capture.of_type(STACK_REFERENCE):
        outputs = ref.state.get("outputs") or {}
        if outputs.get("endpointGroupId"):
            names[str(outputs["endpointGroupId"])] = f"endpoint-group of {ref.name}"
        if outputs.get("s3PrefixListId"):
            names[str(outputs["s3PrefixListId"])] = f"prefix list of s3 of {ref.name}"
    return names


def group_name(capture: Capture, rule: Registration) -> str:
    group = _one(capture, rule, "securityGroupId")
    return group.name if group else referenced(capture).get(str(rule.inputs.get("securityGroupId")), "?")


def peer_name(capture: Capture, rule: Registration) -> str:
    ref = _one(capture, rule, "referencedSecurityGroupId")
    if ref is not None:
        return ref.name
    elsewhere = referenced(capture)
    for key in ("referencedSecurityGroupId", "prefixListId"):
        if str(rule.inputs.get(key)) in elsewhere:
            return elsewhere[str(rule.inputs[key])]
    if rule.inputs.get("prefixListId"):
        source = _one(capture, rule, "prefixListId")
        # Named by the endpoint's service (com.amazonaws.<region>.s3 -> s3), not by its logical name.
        service = str(source.inputs.get("serviceName", "")).rsplit(".", 1)[-1] if source else ""
        return f"prefix list of {service or source.name}" if source else f"prefix list {rule.inputs['prefixListId']}"
    for key in ("cidrIpv4", "cidrIpv6"):
        if rule.inputs.get(key):
            return rule.inputs[key]
    return "?"


def rule_ends(capture: Capture, type_: str) -> list[RuleEnd]:
    return [RuleEnd(r, group_name(capture, r), peer_name(capture, r), port_text(r.inputs))
            for r in capture.of_type(type_)]


def flows(capture: Capture) -> list[Flow]:
    """Every allowed flow, pairing the egress rule on the source with the ingress rule on the target."""
    table: dict[tuple[str, str, str], dict[str, Registration]] = {}
    for end in rule_ends(capture, EGRESS):
        table.setdefault((end.group, end.peer, end.port), {})["egress"] = end.rule
    for end in rule_ends(capture, INGRESS):
        table.setdefault((end.peer, end.group, end.port), {})["ingress"] = end.rule
    return [Flow(s, t, p, sides.get("egress"), sides.get("ingress"))
            for (s, t, p), sides in sorted(table.items())]


def internet_paths(capture: Capture) -> list[str]:
    """Each way the stack could reach or be reached from the internet, as a sentence; [] when there is none."""
    found: list[str] = []
    for r in capture:
        if r.type in INTERNET_TYPES:
            found.append(f"{INTERNET_TYPES[r.type]} {r.name}")
        if r.type == "aws:ec2/route:Route" and (
            r.inputs.get("destinationCidrBlock") in DEFAULT_ROUTES
            or r.inputs.get("destinationIpv6CidrBlock") in DEFAULT_ROUTES
        ):
            found.append(f"default route {r.name}")
        if r.type == "aws:ec2/routeTable:RouteTable":
            for route in r.inputs.get("routes") or []:
                if route.get("cidrBlock") in DEFAULT_ROUTES or route.get("ipv6CidrBlock") in DEFAULT_ROUTES:
                    found.append(f"default route inline in route table {r.name}")
        if r.type == "aws:ec2/subnet:Subnet" and r.inputs.get("mapPublicIpOnLaunch") is True:
            found.append(f"subnet {r.name} maps public IPs")
        if r.type == "aws:ec2/instance:Instance" and r.inputs.get("associatePublicIpAddress") is True:
            found.append(f"instance {r.name} has a public IP")
        if r.type == "aws:ecs/service:Service":
            network = (r.inputs.get("networkConfiguration") or {})
            if network.get("assignPublicIp") is True:
                found.append(f"ECS service {r.name} assigns public IPs")
    return found


def inline_rules(capture: Capture) -> list[str]:
    """Security groups that carry rules inline (which standalone rules would fight, and which can form cycles)."""
    return [f"{r.name} ({', '.join(k for k in ('ingress', 'egress') if r.inputs.get(k))})"
            for r in capture
            if r.type in (SG, "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup")
            and (r.inputs.get("ingress") or r.inputs.get("egress"))]


def shown(value: object) -> str:
    return "(known after up)" if value == UNKNOWN else str(value)
