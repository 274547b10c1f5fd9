"""Network and security-group rules: no way to or from the internet, no rule a private VPC should not have."""

from __future__ import annotations

from collections.abc import Iterator

from pulumi_policy import PolicyConfigSchema, ResourceValidationArgs, Severity

from guard.kit import ADVISORY, config, resource_policy
from guard.types import (
    DEFAULT_ROUTE_TABLE,
    DEFAULT_SG,
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
from guard.values import ANYWHERE, GROUPS, LEGACY_RULE, STANDALONE, UNKNOWN, fix, get, remedy, rules_of

INTERNET = {
    INTERNET_GATEWAY: "an Internet Gateway",
    INTERNET_GATEWAY_ATTACHMENT: "an Internet Gateway attachment",
    NAT_GATEWAY: "a NAT gateway",
    EIP: "an Elastic IP",
    EGRESS_ONLY_INTERNET_GATEWAY: "an egress-only internet gateway",
}
RULE_TYPES = (*STANDALONE, LEGACY_RULE, *GROUPS)


def _where(args: ResourceValidationArgs) -> str:
    return f"{args.resource_type.rsplit(':', 1)[-1]} '{args.name}'"


def no_internet_gateways(args: ResourceValidationArgs) -> Iterator[str]:
    yield fix(f"{INTERNET[args.resource_type]} opens a path to the internet", _where(args),
              "remove it; this VPC reaches AWS through VPC endpoints and operators through Session Manager")


def no_default_route(args: ResourceValidationArgs) -> Iterator[str]:
    remedy = "remove the route; an isolated subnet keeps only the local route and the S3 gateway's prefix list"
    if args.resource_type == ROUTE:
        for key in ("destinationCidrBlock", "destinationIpv6CidrBlock"):
            if get(args.props, key) in ANYWHERE:
                yield fix(f"a default route ({get(args.props, key)})", _where(args), remedy)
        return
    routes = get(args.props, "routes", [])
    if routes is UNKNOWN:
        args.not_applicable("the route list is unknown until its targets exist; checked again during update")
    for i in range(len(routes)):
        for key in ("cidrBlock", "ipv6CidrBlock"):
            if get(args.props, f"routes.{i}.{key}") in ANYWHERE:
                yield fix(f"an inline default route ({get(args.props, f'routes.{i}.{key}')})", _where(args), remedy)


def subnet_no_public_ip(args: ResourceValidationArgs) -> Iterator[str]:
    if get(args.props, "mapPublicIpOnLaunch") is True:
        yield fix("the subnet gives every instance a public IP", _where(args), "set map_public_ip_on_launch=False")


def vpc_dns(args: ResourceValidationArgs) -> Iterator[str]:
    # AWS defaults: DNS support on, DNS hostnames off.
    if get(args.props, "enableDnsSupport", True) is not True or get(args.props, "enableDnsHostnames") is not True:
        yield fix("DNS support or DNS hostnames is off, so interface endpoints' private DNS names cannot resolve "
                  "and agents call the public endpoints and time out", _where(args),
                  "set enable_dns_support=True and enable_dns_hostnames=True")


def default_group_empty(args: ResourceValidationArgs) -> Iterator[str]:
    if get(args.props, "ingress") or get(args.props, "egress"):
        yield fix("the default security group keeps rules, so anything launched without a group is reachable",
                  _where(args), "adopt it with aws.ec2.DefaultSecurityGroup and no ingress or egress")


def no_inline_rules(args: ResourceValidationArgs) -> Iterator[str]:
    inline = [k for k in ("ingress", "egress") if get(args.props, k)]
    if inline:
        yield fix(f"inline {' and '.join(inline)} rules (two groups naming each other inline cannot be created: "
                  "'Circular dependency between resources'; inline and standalone rules also overwrite each other)",
                  _where(args), remedy(args.urn, "leave ingress/egress unset and allow connections with standalone "
                                       "aws.vpc.SecurityGroupIngressRule / SecurityGroupEgressRule resources",
                                       "Connections.allow_to"))


def group_description(args: ResourceValidationArgs) -> Iterator[str]:
    description = get(args.props, "description")
    if not description or description == "Managed by Pulumi":
        yield fix("the group has no description of its own", _where(args),
                  "say what the group is for (it shows in the console and in every rule review)")


def no_ingress_from_anywhere(args: ResourceValidationArgs) -> Iterator[str]:
    for rule in rules_of(args.resource_type, args.props):
        if rule.direction == "ingress" and any(c in ANYWHERE for c in rule.cidrs):
            yield fix("ingress from the whole internet", _where(args),
                      "admit the consumer's security group by reference instead")


def no_admin_ports(args: ResourceValidationArgs) -> Iterator[str]:
    ports = [int(p) for p in config(args, "ports", [22, 3389])]
    for rule in rules_of(args.resource_type, args.props):
        if rule.direction != "ingress":
            continue
        for port in ports:
            if rule.covers(port):
                yield fix(f"ingress that includes port {port} (SSH/RDP)", _where(args),
                          "remove it; Session Manager (aws ssm start-session) replaces SSH and RDP, with no inbound "
                          "rule at all")


def no_all_protocol_rules(args: ResourceValidationArgs) -> Iterator[str]:
    for rule in rules_of(args.resource_type, args.props):
        if rule.protocol == "all":
            yield fix(f"an all-protocol {rule.direction} rule", _where(args),
                      remedy(args.urn, "set ip_protocol and the one port range the flow needs",
                             "Port.tcp(443), Port.tcp(2049), ..."))


def no_open_egress(args: ResourceValidationArgs) -> Iterator[str]:
    for rule in rules_of(args.resource_type, args.props):
        if rule.direction == "egress" and any(c in ANYWHERE for c in rule.cidrs):
            yield fix("egress to 0.0.0.0/0 or ::/0 hides which flows are needed (and a private-only VPC has no "
                      "internet to reach)", _where(args), "allow egress to the specific groups, prefix lists and "
                      "ranges the workload talks to")


def group_references_not_cidrs(args: ResourceValidationArgs) -> Iterator[str]:
    for rule in rules_of(args.resource_type, args.props):
        inside = [c for c in rule.cidrs if c not in ANYWHERE]
        if rule.direction == "ingress" and inside:
            # Not "inside the VPC": a resource policy cannot see which VPC the range belongs to.
            yield fix(f"ingress from a CIDR range ({', '.join(map(str, inside))}): every address in it is admitted, "
                      "whatever runs there", _where(args),
                      "admit the source's security group by reference (referenced_security_group_id)")


PORTS_SCHEMA = PolicyConfigSchema(properties={"ports": {
    "type": "array", "items": {"type": "integer"}, "default": [22, 3389],
    "description": "ports no security group may admit from any source"}})

POLICIES = [
    resource_policy("no-internet-gateway", "No Internet Gateway, NAT gateway, Elastic IP or egress-only gateway: "
                    "the environment is private-only.", INTERNET, no_internet_gateways, severity=Severity.CRITICAL),
    resource_policy("no-default-route", "No route to 0.0.0.0/0 or ::/0.",
                    (ROUTE, ROUTE_TABLE,
                     DEFAULT_ROUTE_TABLE), no_default_route, severity=Severity.CRITICAL),
    resource_policy("subnet-no-public-ip", "Subnets never map public IPs on launch.", (SUBNET,),
                    subnet_no_public_ip),
    resource_policy("vpc-dns-enabled", "VPCs resolve private DNS: DNS support and DNS hostnames on.",
                    (VPC,), vpc_dns, severity=Severity.MEDIUM),
    resource_policy("default-security-group-empty", "The default security group has no rules.",
                    (DEFAULT_SG,), default_group_empty),
    resource_policy("no-inline-security-group-rules", "Security groups carry no inline rules; every rule is a "
                    "standalone resource.", GROUPS[:1], no_inline_rules),
    resource_policy("security-group-description", "Every security group says what it is for.", GROUPS[:1],
                    group_description, level=ADVISORY, severity=Severity.LOW),
    resource_policy("no-ingress-from-anywhere", "No ingress from 0.0.0.0/0 or ::/0.", RULE_TYPES,
                    no_ingress_from_anywhere, severity=Severity.CRITICAL),
    resource_policy("no-admin-port-ingress", "No ingress on SSH or RDP ports from any source.", RULE_TYPES,
                    no_admin_ports, schema=PORTS_SCHEMA),
    resource_policy("no-all-protocol-rules", "Rules name a protocol and ports, not all traffic.", RULE_TYPES,
                    no_all_protocol_rules, level=ADVISORY, severity=Severity.MEDIUM),
    resource_policy("no-open-egress", "No egress to 0.0.0.0/0 or ::/0.", RULE_TYPES, no_open_egress,
                    level=ADVISORY, severity=Severity.MEDIUM),
    resource_policy("ingress-by-group-reference", "Traffic inside the VPC is admitted by security-group reference, "
                    "not by CIDR.", RULE_TYPES, group_references_not_cidrs, severity=Severity.MEDIUM),
]
