"""Network and security-group rules: no way to or from the internet in a private-only stack, and in any stack no rule
wider than the traffic it is for. A property left unset means what AWS does with it."""

from __future__ import annotations

from collections.abc import Iterator

from pulumi_policy import PolicyConfigSchema, ResourceValidationArgs, Severity

from guard.kit import ADVISORY, PRIVATE_ONLY, WORDING, config, resource_policy, where
from guard.posture import resource_private_only
from guard.types import (
    DEFAULT_ROUTE_TABLE,
    EGRESS_ONLY_INTERNET_GATEWAY,
    EIP,
    INTERNET_GATEWAY,
    INTERNET_GATEWAY_ATTACHMENT,
    NAT_GATEWAY,
    ROUTE,
    ROUTE_TABLE,
    SUBNET,
    VPC,
)
from guard.values import ANYWHERE, GROUPS, LEGACY_RULE, STANDALONE, UNKNOWN, RuleView, fix, get, remedy, rules_of

INTERNET = {
    INTERNET_GATEWAY: "an Internet Gateway",
    INTERNET_GATEWAY_ATTACHMENT: "an Internet Gateway attachment",
    NAT_GATEWAY: "a NAT gateway",
    EIP: "an Elastic IP",
    EGRESS_ONLY_INTERNET_GATEWAY: "an egress-only internet gateway",
}
RULE_TYPES = (*STANDALONE, LEGACY_RULE, *GROUPS)
SG_ONLY = GROUPS[:1]
# Remote administration ports: SSH and RDP (AWS FSBP EC2.13, EC2.14, EC2.21, EC2.53, EC2.54 name these two).
ADMIN_PORTS = {22: "SSH", 3389: "RDP"}


def no_internet_gateways(args: ResourceValidationArgs) -> Iterator[str]:
    yield fix(f"{INTERNET[args.resource_type]} opens a path to the internet, and the stack is meant to be "
              "private-only", where(args),
              "remove it; a private-only VPC reaches AWS through VPC endpoints and its operators through Session "
              "Manager")


def no_default_route(args: ResourceValidationArgs) -> Iterator[str]:
    remedy_text = ("remove the route; in a private-only stack a subnet keeps only the local route and the S3 gateway "
                   "endpoint's prefix list")
    if args.resource_type == ROUTE:
        for key in ("destinationCidrBlock", "destinationIpv6CidrBlock"):
            if get(args.props, key) in ANYWHERE:
                yield fix(f"a default route ({get(args.props, key)})", where(args), remedy_text)
        return
    routes = get(args.props, "routes", [])
    if routes is UNKNOWN:
        args.not_applicable("the route list is unknown until its targets exist; checked again during update")
    for i in range(len(routes)):
        for key in ("cidrBlock", "ipv6CidrBlock"):
            if get(args.props, f"routes.{i}.{key}") in ANYWHERE:
                yield fix(f"an inline default route ({get(args.props, f'routes.{i}.{key}')})", where(args),
                          remedy_text)


def subnet_no_public_ip(args: ResourceValidationArgs) -> Iterator[str]:
    if get(args.props, "mapPublicIpOnLaunch") is True:
        yield fix("the subnet gives every instance launched in it a public IPv4 address", where(args),
                  "set map_public_ip_on_launch=False")


def vpc_dns(args: ResourceValidationArgs) -> Iterator[str]:
    # AWS defaults: DNS support on, DNS hostnames off.
    if get(args.props, "enableDnsSupport", True) is not True or get(args.props, "enableDnsHostnames") is not True:
        yield fix("DNS support or DNS hostnames is off, so interface endpoints' private DNS names cannot resolve "
                  "and agents call the public endpoints and time out", where(args),
                  "set enable_dns_support=True and enable_dns_hostnames=True")


def no_inline_rules(args: ResourceValidationArgs) -> Iterator[str]:
    inline = [k for k in ("ingress", "egress") if get(args.props, k)]
    if inline:
        yield fix(f"inline {' and '.join(inline)} rules (two groups naming each other inline cannot be created: "
                  "'Circular dependency between resources'; inline and standalone rules also overwrite each other)",
                  where(args), remedy(args.urn, "leave ingress/egress unset and allow connections with standalone "
                                      "aws.vpc.SecurityGroupIngressRule / SecurityGroupEgressRule resources",
                                      "Connections.allow_to"))


def group_description(args: ResourceValidationArgs) -> Iterator[str]:
    description = get(args.props, "description")
    if not description or description == "Managed by Pulumi":
        yield fix("the group has no description of its own", where(args),
                  "say what the group is for (it shows in the console and in every rule review)")


def _ports(rule: RuleView) -> str:
    return ", ".join(f"{name} ({port})" for port, name in ADMIN_PORTS.items() if rule.covers(port))


def _authorized(rule: RuleView, ports: list[int]) -> bool:
    """Only ports the stack serves to the internet on purpose (FSBP EC2.18's authorizedTcpPorts, 80 and 443)."""
    start, end = rule.from_port, rule.to_port
    return rule.protocol == "tcp" and isinstance(start, (int, float)) and isinstance(end, (int, float)) \
        and all(p in ports for p in range(int(start), int(end) + 1))


def no_ingress_from_anywhere(args: ResourceValidationArgs) -> Iterator[str]:
    private = resource_private_only(args)
    authorized = [int(p) for p in config(args, "authorizedPorts", [80, 443])]
    for rule in rules_of(args.resource_type, args.props):
        if rule.direction != "ingress" or not any(c in ANYWHERE for c in rule.cidrs):
            continue
        if not private and _authorized(rule, authorized):
            continue
        admin = _ports(rule)
        what = f"ingress from the whole internet{f', including {admin}' if admin else ''}"
        yield fix(f"{what}, and the stack is meant to be private-only" if private else what, where(args),
                  "admit the clients' security group by reference (referenced_security_group_id), or the narrowest "
                  "range they come from")


def no_admin_ports(args: ResourceValidationArgs) -> Iterator[str]:
    """SSH or RDP from a named source. From anywhere is no-ingress-from-anywhere's, and all traffic
    no-all-protocol-rules': one root cause, one finding."""
    ports = [int(p) for p in config(args, "ports", list(ADMIN_PORTS))]
    private = resource_private_only(args)
    for rule in rules_of(args.resource_type, args.props):
        if rule.direction != "ingress" or rule.protocol == "all" or any(c in ANYWHERE for c in rule.cidrs):
            continue
        for port in ports:
            if rule.covers(port):
                what = f"ingress that includes port {port} ({ADMIN_PORTS.get(port, 'an administration port')})"
                yield fix(what, where(args),
                          "remove it: a private-only stack reaches its hosts through Session Manager "
                          "(aws ssm start-session), with no inbound rule at all" if private else
                          "admit it only from the group of the hosts that administer it (a bastion's), or reach the "
                          "instances through Session Manager and remove the rule")


def no_all_protocol_rules(args: ResourceValidationArgs) -> Iterator[str]:
    for rule in rules_of(args.resource_type, args.props):
        if rule.protocol == "all":
            yield fix(f"an all-protocol {rule.direction} rule", where(args),
                      remedy(args.urn, "set ip_protocol and the one port range the flow needs",
                             "Port.tcp(443), Port.tcp(2049), ..."))


def no_open_egress(args: ResourceValidationArgs) -> Iterator[str]:
    for rule in rules_of(args.resource_type, args.props):
        if rule.direction == "egress" and any(c in ANYWHERE for c in rule.cidrs):
            yield fix("egress to 0.0.0.0/0 or ::/0 hides which flows are needed, and the stack is meant to be "
                      "private-only: it has no internet to reach", where(args),
                      "allow egress to the specific groups, prefix lists and ranges the workload talks to")


def group_references_not_cidrs(args: ResourceValidationArgs) -> Iterator[str]:
    for rule in rules_of(args.resource_type, args.props):
        inside = [c for c in rule.cidrs if c not in ANYWHERE]
        if rule.direction == "ingress" and inside:
            # Not "inside the VPC": a resource policy cannot see which VPC the range belongs to.
            yield fix(f"ingress from a CIDR range ({', '.join(map(str, inside))}): every address in it is admitted, "
                      "whatever runs there", where(args),
                      "admit the source's security group by reference (referenced_security_group_id)")


ANYWHERE_SCHEMA = PolicyConfigSchema(properties={"authorizedPorts": {
    "type": "array", "items": {"type": "integer"}, "default": [80, 443],
    "description": "TCP ports a stack that is not private-only may open to the internet (FSBP EC2.18's default)"}})
PORTS_SCHEMA = PolicyConfigSchema(properties={"ports": {
    "type": "array", "items": {"type": "integer"}, "default": list(ADMIN_PORTS),
    "description": "remote administration ports no security group may admit from a named source"}})
_RULES = "security groups' inline rules, aws.vpc.SecurityGroupIngressRule/EgressRule, aws.ec2.SecurityGroupRule"

POLICIES = [
    resource_policy("no-internet-gateway", "No Internet Gateway, NAT gateway, Elastic IP or egress-only gateway in a "
                    "private-only stack.", INTERNET, no_internet_gateways, reads="the resources' types",
                    applies=PRIVATE_ONLY, severity=Severity.CRITICAL),
    resource_policy("no-default-route", "No route to 0.0.0.0/0 or ::/0 in a private-only stack.",
                    (ROUTE, ROUTE_TABLE, DEFAULT_ROUTE_TABLE), no_default_route,
                    reads="Route destination_cidr_block/destination_ipv6_cidr_block, RouteTable routes",
                    applies=PRIVATE_ONLY, severity=Severity.CRITICAL),
    resource_policy("subnet-no-public-ip", "Subnets never map public IPs on launch.", (SUBNET,), subnet_no_public_ip,
                    reads="Subnet map_public_ip_on_launch", controls=("EC2.15",)),
    resource_policy("vpc-dns-enabled", "VPCs resolve private DNS: DNS support and DNS hostnames on.", (VPC,), vpc_dns,
                    reads="Vpc enable_dns_support, enable_dns_hostnames", applies=PRIVATE_ONLY,
                    severity=Severity.MEDIUM),
    resource_policy("no-inline-security-group-rules", "Security groups carry no inline rules; every rule is a "
                    "standalone resource.", SG_ONLY, no_inline_rules, reads="SecurityGroup ingress, egress"),
    resource_policy("security-group-description", "Every security group says what it is for.", SG_ONLY,
                    group_description, reads="SecurityGroup description", level=ADVISORY, severity=Severity.LOW),
    resource_policy("no-ingress-from-anywhere", "No ingress from 0.0.0.0/0 or ::/0 but to the authorized ports (none "
                    "in a private-only stack).", RULE_TYPES, no_ingress_from_anywhere, reads=_RULES,
                    controls=("EC2.18", "EC2.19"), applies=WORDING, severity=Severity.CRITICAL,
                    schema=ANYWHERE_SCHEMA),
    resource_policy("no-admin-port-ingress", "No SSH or RDP ingress, even from a named source (advisory; from "
                    "anywhere is no-ingress-from-anywhere).", RULE_TYPES, no_admin_ports, reads=_RULES,
                    applies=WORDING, level=ADVISORY, schema=PORTS_SCHEMA),
    resource_policy("no-all-protocol-rules", "Rules name a protocol and ports, not all traffic.", RULE_TYPES,
                    no_all_protocol_rules, reads=_RULES, level=ADVISORY, severity=Severity.MEDIUM),
    resource_policy("no-open-egress", "No egress to 0.0.0.0/0 or ::/0 in a private-only stack.", RULE_TYPES,
                    no_open_egress, reads=_RULES, applies=PRIVATE_ONLY, level=ADVISORY, severity=Severity.MEDIUM),
    resource_policy("ingress-by-group-reference", "Ingress is admitted by security-group reference, not by CIDR.",
                    RULE_TYPES, group_references_not_cidrs, reads=_RULES, severity=Severity.MEDIUM),
]
