"""The network: the VPC, its isolated subnets, the endpoints and the S3 gateway, the flow logs — or, for a workload
stack, the network stack it runs on."""

from __future__ import annotations

import difflib
import ipaddress
import re
from dataclasses import dataclass
from typing import Literal

from airgap.catalog import ENDPOINT_SERVICES
from program.keys import Key, Problems, Values, shown
from program.sections import Context

NAME, ORDER = "network", 10
EndpointPlacement = Literal["every-az", "single-az"]
Role = Literal["all", "network", "workloads"]

KEYS = (
    Key("vpcCidr", "string", "10.40.0.0/16", "The VPC's private IPv4 range (RFC 1918, /16 to /24)."),
    Key("subnetPrefixLength", "integer", 24,
        "Prefix length of each isolated subnet; subnets are slotted by zone letter (a = first slot)."),
    Key("availabilityZones", "string-list", [],
        "Explicit AZ names, at least two. Empty uses the first azCount zones that need no opt-in."),
    Key("azCount", "integer", 2, "How many AZs get an isolated subnet when availabilityZones is empty (2 or more)."),
    Key("endpointPlacement", "string", "every-az", "every-az (an endpoint interface in each AZ, survives an AZ loss) "
        "or single-az (one interface per endpoint, cheapest)."),
    Key("endpoints", "string-list", [],
        "Endpoint services to create, exactly. Empty derives them from the workloads (SSM host, bastion)."),
    Key("includeEc2Messages", "boolean", False, "Add the ec2messages endpoint for SSM Agent older than 3.3.40.0; "
        "current Amazon Linux agents do not need it."),
    Key("s3Buckets", "string-list", [], "Buckets of this account the workloads may read and write through the S3 "
        "gateway; every other bucket is refused there (AWS's buckets the workloads need are allowed by name)."),
    Key("role", "string", "all", "all (network and workloads in this stack), network (only the VPC, subnets, "
        "endpoint group, endpoints and S3 gateway; ssmHost and bastion say which workloads it serves) or workloads "
        "(on airgap:networkStack's network, creating only the workloads and their rules)."),
    Key("networkStack", "string", "", 'With role workloads, the network stack to run on ("net", or '
        '"<org>/airgap/net"); checked before anything is created.'),
    Key("flowLogs", "boolean", True, "Record the VPC's traffic (VPC flow logs) in an S3 bucket the stack owns, "
        "delivered by the service, not through the VPC."),
    Key("flowLogTraffic", "string", "ALL",
        "Which flows to record - ALL, REJECT (refused flows only; what an operator reads first) or ACCEPT."),
    Key("flowLogRetentionDays", "integer", 14, "Days before flow log files are deleted from their bucket (1 to 3650)."),
)

# S3 bucket naming rules (Amazon S3 User Guide, "General purpose bucket naming rules"), the ones a typo breaks.
_BUCKET = re.compile(r"(?!xn--)(?!sthree-)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_RESERVED_SUFFIXES = ("-s3alias", "--ol-s3", "--x-s3", ".mrap", "--table-s3")
_RFC1918 = tuple(ipaddress.IPv4Network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"))


@dataclass(frozen=True)
class NetworkSection:
    vpc: ipaddress.IPv4Network | None  # None: refused (its problem is recorded)
    prefix: int | None
    explicit_zones: tuple[str, ...]
    az_count: int
    placement: EndpointPlacement
    chosen_endpoints: tuple[str, ...]  # airgap:endpoints, exactly as given
    include_ec2_messages: bool
    s3_buckets: tuple[str, ...]
    role: Role
    network_stack: str
    flow_logs: bool
    flow_log_traffic: str
    flow_log_retention_days: int


def _vpc(v: Values, p: Problems) -> ipaddress.IPv4Network | None:
    if not v.ok("vpcCidr"):
        return None
    try:
        vpc = ipaddress.IPv4Network(v["vpcCidr"], strict=True)
    except ValueError:
        p.bad("airgap:vpcCidr", v["vpcCidr"], 'an IPv4 CIDR block with no host bits set, such as "10.40.0.0/16"')
        return None
    if not any(vpc.subnet_of(block) for block in _RFC1918):
        p.bad("airgap:vpcCidr", v["vpcCidr"], "a private (RFC 1918) range inside 10.0.0.0/8, 172.16.0.0/12 or "
              "192.168.0.0/16")
        return None
    if not 16 <= vpc.prefixlen <= 24:
        p.bad("airgap:vpcCidr", v["vpcCidr"], "a prefix length from /16 to /24 (AWS allows /16 to /28 for a VPC; "
              "/24 is the smallest that still holds two useful subnets)")
        return None
    return vpc


def _zones(v: Values, ctx: Context, p: Problems) -> tuple[str, ...]:
    explicit = v.get("availabilityZones", [])
    if v.ok("azCount") and not explicit and v["azCount"] < 2:
        p.bad("airgap:azCount", v["azCount"], "2 or more (one isolated subnet per AZ; EFS and the endpoints want "
              "two AZs to survive one)")
    if explicit:
        if len(explicit) < 2:
            p.bad("airgap:availabilityZones", explicit, "at least two zone names, or [] to use airgap:azCount")
        if ctx.region_ok and ctx.region:
            for i, zone in enumerate(explicit):
                if not re.fullmatch(re.escape(ctx.region) + r"[a-z]", zone):
                    p.bad(f"airgap:availabilityZones[{i}]", zone,
                          f'a zone name of {ctx.region}, such as "{ctx.region}a"')
        if len(set(explicit)) != len(explicit):
            p.bad("airgap:availabilityZones", explicit, "each zone at most once")
    return tuple(explicit)


def _endpoints_and_buckets(v: Values, p: Problems) -> tuple[tuple[str, ...], tuple[str, ...]]:
    if v.ok("endpointPlacement") and v["endpointPlacement"] not in ("every-az", "single-az"):
        p.bad("airgap:endpointPlacement", v["endpointPlacement"], '"every-az" (highly available) or "single-az" '
              "(one network interface per endpoint: cheapest)")
    chosen = v.get("endpoints", [])
    for i, name in enumerate(chosen):
        if name not in ENDPOINT_SERVICES:
            close = difflib.get_close_matches(name, ENDPOINT_SERVICES, n=1)
            hint = f' (did you mean "{close[0]}"?)' if close else ""
            p.bad(f"airgap:endpoints[{i}]", name, f"one of {', '.join(ENDPOINT_SERVICES)}{hint}, or [] for all the "
                  "workloads need")
    if len(set(chosen)) != len(chosen):
        p.bad("airgap:endpoints", list(chosen), "each endpoint service at most once")
    buckets = v.get("s3Buckets", [])
    for i, bucket in enumerate(buckets):
        if not _BUCKET.fullmatch(bucket) or ".." in bucket or re.fullmatch(r"[\d.]+", bucket):
            p.bad(f"airgap:s3Buckets[{i}]", bucket, "an S3 bucket name: 3 to 63 lowercase letters, digits, '.' and "
                  "'-', starting and ending with a letter or digit")
        elif bucket.endswith(_RESERVED_SUFFIXES) or bucket.startswith("amzn-s3-demo-"):
            p.bad(f"airgap:s3Buckets[{i}]", bucket, "a general purpose bucket's name: the suffixes "
                  f"{', '.join(_RESERVED_SUFFIXES)} and the prefix amzn-s3-demo- are reserved (Amazon S3 User Guide, "
                  '"General purpose bucket naming rules")')
    if len(set(buckets)) != len(buckets):
        p.bad("airgap:s3Buckets", list(buckets), "each bucket at most once")
    return tuple(chosen), tuple(buckets)


# What a network stack decides: set in a workload stack they would do nothing, so they are refused there.
NETWORK_ONLY = ("vpcCidr", "subnetPrefixLength", "availabilityZones", "azCount", "endpointPlacement", "endpoints",
                "includeEc2Messages", "flowLogs", "flowLogTraffic", "flowLogRetentionDays")
_STACK_PART = r"[A-Za-z0-9_-][A-Za-z0-9_.-]*"  # no "." or ".." part: a stack name is not a path


def _network_stack(stack: str, ctx: Context, p: Problems) -> None:
    parts = stack.split("/")
    if not re.fullmatch(rf"(?:{_STACK_PART}/){{0,2}}{_STACK_PART}", stack):
        p.bad("airgap:networkStack", stack, 'a stack name: "net", "<project>/net" or "<org>/<project>/net" (a name, '
              "not a path)")
    elif parts[-1] == ctx.stack and (len(parts) == 1 or parts[-2] == ctx.project):
        p.bad("airgap:networkStack", stack, f"another stack than this one ({ctx.stack}): a workload stack runs on a "
              "network stack's VPC, and this stack would delete the VPC it runs in")


def _role(v: Values, ctx: Context, p: Problems) -> tuple[Role, str]:
    role = v.get("role", "all")
    if role not in ("all", "network", "workloads"):
        p.bad("airgap:role", role, '"all" (network and workloads in this stack), "network" (only the VPC, endpoints '
              'and S3 gateway, for workload stacks to use) or "workloads" (on airgap:networkStack\'s network)')
        role = "all"
    stack = v.get("networkStack", "")
    if role == "workloads" and not stack:
        p.bad("airgap:networkStack", stack, 'the network stack to run on, as `pulumi stack ls` names it: "net" in '
              'this project, or "<org>/airgap/net"')
    elif stack and role != "workloads":
        p.bad("airgap:networkStack", stack, '"" unless airgap:role is "workloads"')
    elif stack:
        _network_stack(stack, ctx, p)
    if role == "workloads" and v["s3Buckets"]:
        p.bad("airgap:s3Buckets", v["s3Buckets"], "[] in a workload stack: the S3 gateway belongs to the network "
              "stack; set it there")
    for key in NETWORK_ONLY if role == "workloads" else ():
        if v.ok(key) and v[key] != v.default(key):
            p.bad(f"airgap:{key}", v[key], f"its default ({shown(v.default(key))}) in a workload stack: the network "
                  f"stack ({stack or 'airgap:networkStack'}) decides it; set it there")
    return role, stack


def _flow_logs(v: Values, p: Problems) -> None:
    if v.ok("flowLogTraffic") and v["flowLogTraffic"] not in ("ALL", "REJECT", "ACCEPT"):
        p.bad("airgap:flowLogTraffic", v["flowLogTraffic"], '"ALL" (every flow), "REJECT" (only refused flows: what '
              'an operator reads first, and what Security Hub EC2.6 asks for at least) or "ACCEPT"')
    if v.ok("flowLogRetentionDays") and not 1 <= v["flowLogRetentionDays"] <= 3650:
        p.bad("airgap:flowLogRetentionDays", v["flowLogRetentionDays"], "days from 1 to 3650 before the flow log "
              "files are deleted")


def parse(v: Values, ctx: Context, p: Problems) -> NetworkSection:
    vpc = _vpc(v, p)
    prefix = v.get("subnetPrefixLength", None)
    if prefix is not None and vpc is not None and not vpc.prefixlen < prefix <= 28:
        p.bad("airgap:subnetPrefixLength", prefix, f"a number from {vpc.prefixlen + 1} to 28 (longer than the VPC's "
              f"/{vpc.prefixlen}; AWS's smallest subnet is /28)")
        prefix = None
    zones = _zones(v, ctx, p)
    chosen, buckets = _endpoints_and_buckets(v, p)
    role, stack = _role(v, ctx, p)
    _flow_logs(v, p)
    return NetworkSection(vpc, prefix, zones, v.get("azCount", 2), v.get("endpointPlacement", "every-az"), chosen,
                          v["includeEc2Messages"] is True, buckets, role, stack, v["flowLogs"] is True,
                          v.get("flowLogTraffic", "ALL"), v.get("flowLogRetentionDays", 14))
