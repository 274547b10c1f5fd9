"""The stack's configuration: one typed, frozen `Settings`, validated before any resource is registered.

Every key is declared in Pulumi.yaml (`config:` block, with type, description and default); `KEYS` below holds the
same defaults and a test keeps the two in step. A bad value never gets as far as AWS: `parse` collects every problem
— every bad element of a list too — and raises one `ConfigError` that names each key, the value given and the form
expected. Checks that need AWS (the account's zones, where each endpoint service is offered, the account id) run
only once every static value has passed, so a typo is reported without touching AWS.
"""

from __future__ import annotations

import difflib
import ipaddress
import json
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import pulumi

from airgap.catalog import (
    BASTION_ENDPOINTS,
    ENDPOINT_SERVICES,
    FARGATE_SIZES,
    INSTANCE_TYPES,
    LOG_RETENTION_DAYS,
    SSM_HOST_ENDPOINTS,
)
from airgap.image_reference import FORM as IMAGE_FORM
from airgap.image_reference import EcrImage, Reference
from airgap.naming import PhysicalNames, name_problem
from program.contract import MOVE_VARIABLE, Out, StackState
from program.lookups import AwsLookups, NetworkOffer, ProviderLookups

PROJECT = "airgap"
# Keys older versions read, and what replaced them: reported by name instead of as unknown keys.
RETIRED = {
    "asleep": "no such key: whether a stack is asleep lives with the deployed stack, the same for every clone and "
              "CI job. Remove it (`pulumi config rm airgap:asleep`); `python3 dev.py sleep|wake --stack <stack>` "
              "move the stack",
}
ECS_SERVICE_LINKED_ROLE = "AWSServiceRoleForECS"

KeyKind = Literal["string", "integer", "boolean", "string-list", "integer-list"]


@dataclass(frozen=True)
class Key:
    kind: KeyKind
    default: Any


# The project's config keys and their defaults (Pulumi.yaml declares the same, with descriptions).
KEYS: dict[str, Key] = {
    "vpcCidr": Key("string", "10.40.0.0/16"),
    "subnetPrefixLength": Key("integer", 24),
    "availabilityZones": Key("string-list", []),
    "azCount": Key("integer", 2),
    "endpointPlacement": Key("string", "every-az"),
    "endpoints": Key("string-list", []),
    "includeEc2Messages": Key("boolean", False),
    "s3Buckets": Key("string-list", []),
    "role": Key("string", "all"),
    "networkStack": Key("string", ""),
    "ssmHost": Key("boolean", True),
    "ssmHostInstanceType": Key("string", "t4g.micro"),
    "fileShare": Key("boolean", True),
    "bastion": Key("string", "parked"),
    "bastionCpu": Key("integer", 256),
    "bastionMemory": Key("integer", 512),
    "bastionImage": Key("string", ""),
    "bastionImageSource": Key("string", "public.ecr.aws/amazonlinux/amazonlinux:2023"),
    "bastionForwardPorts": Key("integer-list", []),
    "execKms": Key("boolean", False),
    "logRetentionDays": Key("integer", 30),
    "flowLogs": Key("boolean", True),
    "flowLogTraffic": Key("string", "ALL"),
    "flowLogRetentionDays": Key("integer", 14),
    "production": Key("boolean", False),
}

EndpointPlacement = Literal["every-az", "single-az"]
Role = Literal["all", "network", "workloads"]
BastionMode = Literal["off", "parked", "on"]

_OTHER_PARTITIONS = ("cn-", "us-gov-", "us-iso", "eusc-", "eu-isoe")
# S3 bucket naming rules (Amazon S3 User Guide, "General purpose bucket naming rules"), the ones a typo breaks.
_BUCKET = re.compile(r"(?!xn--)(?!sthree-)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_RFC1918 = tuple(ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"))


def known_regions() -> tuple[str, ...]:
    """The regions the AWS provider knows (pulumi_aws ships the list as its `Region` enum)."""
    import pulumi_aws

    return tuple(r.value for r in pulumi_aws.Region)


class ConfigError(pulumi.RunError):
    """One error for every bad value in the stack's config; raised before anything is registered."""

    FIX = "Fix each with `pulumi config set <key> <value>` (lists: `--path '<key>[0]' <value>`)."

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        noun = "problem" if len(self.problems) == 1 else "problems"
        super().__init__(f"the stack configuration has {len(self.problems)} {noun}; nothing was created:\n{lines}\n"
                         f"{self.FIX}")


@dataclass(frozen=True)
class Settings:
    """Everything the components need to know about one stack, already checked."""

    stack: str
    names: PhysicalNames
    region: str
    account: str
    vpc_cidr: ipaddress.IPv4Network
    subnet_prefix_length: int
    availability_zones: tuple[str, ...]
    endpoint_placement: EndpointPlacement
    # Interface endpoint service -> the AZs that get its network interface: the placement, within the zones that
    # AWS offers the service in (CreateVpcEndpoint rejects a subnet in any other zone).
    endpoint_zones: Mapping[str, tuple[str, ...]]
    # Interface endpoint service -> whether AWS accepts an endpoint policy on it.
    endpoint_policy_supported: Mapping[str, bool]
    endpoints: tuple[str, ...]
    endpoints_overridden: bool
    include_ec2_messages: bool
    s3_buckets: tuple[str, ...]
    # all: network and workloads in one stack; network: only the network; workloads: on `network`'s network.
    role: Role
    network: NetworkOffer | None
    # Asleep: no interface endpoint, the host stopped, the bastion at 0; data and the (free) S3 gateway kept.
    state: StackState
    ssm_host: bool
    ssm_host_instance_type: str
    file_share: bool
    bastion: BastionMode
    bastion_cpu: int
    bastion_memory: int
    bastion_image: str
    bastion_image_source: str
    bastion_forward_ports: tuple[int, ...]
    exec_kms: bool
    # Create ECS's service-linked role: the account lacks it (it never used ECS), or this stack created it before.
    ecs_service_linked_role: bool
    log_retention_days: int
    flow_logs: bool
    flow_log_traffic: str
    flow_log_retention_days: int
    production: bool

    def subnet_cidr(self, zone: str) -> ipaddress.IPv4Network:
        """The isolated subnet of one AZ. The slot comes from the zone's letter, not its position in the list,
        so adding or removing an AZ never renumbers (and so never replaces) the others."""
        slot = _zone_slot(zone)
        return list(self.vpc_cidr.subnets(new_prefix=self.subnet_prefix_length))[slot]

    @property
    def asleep(self) -> bool:
        return self.state.asleep

    @property
    def endpoints_present(self) -> tuple[str, ...]:
        """The endpoints that exist while the stack is in its configured state (asleep: only the gateway)."""
        return tuple(n for n in self.endpoints if not self.asleep or ENDPOINT_SERVICES[n].kind != "Interface")

    @property
    def workloads(self) -> tuple[Literal["ssm-host", "bastion"], ...]:
        return (*(("ssm-host",) if self.ssm_host else ()), *(("bastion",) if self.bastion != "off" else ()))


def _zone_slot(zone: str) -> int:
    return ord(zone[-1]) - ord("a")


def _shown(value: Any) -> str:
    return json.dumps(value) if not isinstance(value, str) else f'"{value}"'


class _Problems:
    def __init__(self) -> None:
        self.items: list[str] = []

    def bad(self, key: str, value: Any, expected: str) -> None:
        self.items.append(f"{key} = {_shown(value)}: expected {expected}")


_NOT_READ = object()  # a value that could not be read; its problem is already recorded


def _read(raw: Mapping[str, str | None], key: str, problems: _Problems) -> Any:
    """Turn the engine's string value (or the default) into the key's type, or record why not."""
    spec = KEYS[key]
    text = raw.get(key)
    if text is None:
        return spec.default
    full = f"{PROJECT}:{key}"
    if spec.kind == "string":
        return text
    if spec.kind == "integer":
        if re.fullmatch(r"-?\d+", text.strip()):
            return int(text)
        problems.bad(full, text, "a whole number")
        return _NOT_READ
    if spec.kind == "boolean":
        if text.lower() in ("true", "false"):
            return text.lower() == "true"
        problems.bad(full, text, "true or false")
        return _NOT_READ
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        value = None
    example = '["ap-northeast-1a", "ap-northeast-1c"]' if spec.kind == "string-list" else "[8080, 5432]"
    if not isinstance(value, list):
        problems.bad(full, text, f"a YAML list such as {example}")
        return _NOT_READ
    item_type, item_form = (str, "a string") if spec.kind == "string-list" else (int, "a whole number")
    good = True
    for i, item in enumerate(value):
        if type(item) is not item_type:
            problems.bad(f"{full}[{i}]", item, item_form)
            good = False
    return value if good else _NOT_READ


def derive_endpoints(ssm_host: bool, bastion: str, include_ec2_messages: bool, exec_kms: bool) -> tuple[str, ...]:
    """The endpoint services the workloads need, in catalogue order: endpoints follow the workloads."""
    wanted: set[str] = set()
    if ssm_host:
        wanted.update(SSM_HOST_ENDPOINTS)
        if include_ec2_messages:
            wanted.add("ec2messages")
    if bastion != "off":
        wanted.update(BASTION_ENDPOINTS)
        if exec_kms:
            wanted.add("kms")
    return tuple(name for name in ENDPOINT_SERVICES if name in wanted)


def _region_problem(region: str | None, p: _Problems) -> bool:
    """Record why `region` cannot be used; True when it can."""
    if not region:
        p.items.append('aws:region is not set: expected a region such as "ap-northeast-1" '
                       "(pulumi config set aws:region ap-northeast-1)")
        return False
    if region.startswith(_OTHER_PARTITIONS):
        p.bad("aws:region", region, "a region of the standard aws partition (China, GovCloud, ISO and sovereign "
              "regions use other ARNs and endpoint names and are not supported)")
        return False
    regions = known_regions()
    if region not in regions:
        close = difflib.get_close_matches(region, regions, n=1)
        hint = f'; did you mean "{close[0]}"?' if close else ""
        p.bad("aws:region", region, f'an AWS region such as "ap-northeast-1" or "us-east-1"{hint}')
        return False
    return True


def parse(
    raw: Mapping[str, str | None],
    *,
    stack: str,
    project: str = PROJECT,
    region: str | None,
    aws: AwsLookups,
    move: str | None = None,
) -> Settings:
    """Validate raw config strings (as `pulumi.Config.get` returns them) into `Settings`. `move` is a state change
    asked for this one run (the ops commands set it in the environment); None keeps the deployed state."""
    p = _Problems()
    for key in sorted(set(raw) & set(RETIRED)):
        p.bad(f"{PROJECT}:{key}", raw[key], RETIRED[key])
    for key in sorted(set(raw) - set(KEYS) - set(RETIRED)):
        close = difflib.get_close_matches(key, KEYS, n=1)
        hint = f'; did you mean "{PROJECT}:{close[0]}"?' if close else f" ({', '.join(KEYS)})"
        p.bad(f"{PROJECT}:{key}", raw[key], f"one of the declared keys{hint}")
    v = {key: _read(raw, key, p) for key in KEYS}
    ok = {key: value is not _NOT_READ for key, value in v.items()}
    for what, value in (("project name", project), ("stack name", stack)):
        problem = name_problem(what, value)
        if problem:
            p.items.append(f"{problem}. Fix: "
                           + ("`pulumi stack rename <new-name>`" if what == "stack name" else "rename the project"))
    region_ok = _region_problem(region, p)
    moved = _move(move, p)

    vpc = None
    if ok["vpcCidr"]:
        try:
            vpc = ipaddress.IPv4Network(v["vpcCidr"], strict=True)
        except ValueError:
            p.bad("airgap:vpcCidr", v["vpcCidr"], 'an IPv4 CIDR block with no host bits set, such as "10.40.0.0/16"')
        else:
            if not any(vpc.subnet_of(block) for block in _RFC1918):
                p.bad("airgap:vpcCidr", v["vpcCidr"], "a private (RFC 1918) range inside 10.0.0.0/8, "
                      "172.16.0.0/12 or 192.168.0.0/16")
                vpc = None
            elif not 16 <= vpc.prefixlen <= 24:
                p.bad("airgap:vpcCidr", v["vpcCidr"], "a prefix length from /16 to /24 (AWS allows /16 to /28 "
                      "for a VPC; /24 is the smallest that still holds two useful subnets)")
                vpc = None

    prefix = v["subnetPrefixLength"] if ok["subnetPrefixLength"] else None
    if prefix is not None and vpc is not None and not vpc.prefixlen < prefix <= 28:
        p.bad("airgap:subnetPrefixLength", prefix, f"a number from {vpc.prefixlen + 1} to 28 "
              f"(longer than the VPC's /{vpc.prefixlen}; AWS's smallest subnet is /28)")
        prefix = None

    explicit = v["availabilityZones"] if ok["availabilityZones"] else []
    if ok["azCount"] and not explicit and v["azCount"] < 2:
        p.bad("airgap:azCount", v["azCount"], "2 or more (one isolated subnet per AZ; EFS and the endpoints "
              "want two AZs to survive one)")
    if explicit:
        if len(explicit) < 2:
            p.bad("airgap:availabilityZones", explicit, "at least two zone names, or [] to use airgap:azCount")
        if region_ok:
            for i, zone in enumerate(explicit):
                if not re.fullmatch(re.escape(region) + r"[a-z]", zone):
                    p.bad(f"airgap:availabilityZones[{i}]", zone, f'a zone name of {region}, such as "{region}a"')
        if len(set(explicit)) != len(explicit):
            p.bad("airgap:availabilityZones", explicit, "each zone at most once")

    if ok["endpointPlacement"] and v["endpointPlacement"] not in ("every-az", "single-az"):
        p.bad("airgap:endpointPlacement", v["endpointPlacement"], '"every-az" (highly available) or "single-az" '
              "(one network interface per endpoint: cheapest)")

    chosen = v["endpoints"] if ok["endpoints"] else []
    for i, name in enumerate(chosen):
        if name not in ENDPOINT_SERVICES:
            close = difflib.get_close_matches(name, ENDPOINT_SERVICES, n=1)
            hint = f' (did you mean "{close[0]}"?)' if close else ""
            p.bad(f"airgap:endpoints[{i}]", name, f"one of {', '.join(ENDPOINT_SERVICES)}{hint}, or [] for all "
                  "the workloads need")

    for i, bucket in enumerate(v["s3Buckets"] if ok["s3Buckets"] else []):
        if not _BUCKET.fullmatch(bucket) or ".." in bucket or re.fullmatch(r"[\d.]+", bucket):
            p.bad(f"airgap:s3Buckets[{i}]", bucket, "an S3 bucket name: 3 to 63 lowercase letters, digits, '.' and "
                  "'-', starting and ending with a letter or digit")

    if ok["ssmHostInstanceType"] and v["ssmHostInstanceType"] not in INSTANCE_TYPES:
        p.bad("airgap:ssmHostInstanceType", v["ssmHostInstanceType"], f"one of {', '.join(INSTANCE_TYPES)}")

    if ok["bastion"] and v["bastion"] not in ("off", "parked", "on"):
        p.bad("airgap:bastion", v["bastion"], '"off" (no bastion, no bastion-only endpoints), "parked" '
              '(service at 0 tasks) or "on" (one task running)')

    cpu, memory = v["bastionCpu"], v["bastionMemory"]
    if ok["bastionCpu"] and cpu not in FARGATE_SIZES:
        p.bad("airgap:bastionCpu", cpu, f"a Fargate CPU size: {', '.join(map(str, FARGATE_SIZES))}")
    elif ok["bastionCpu"] and ok["bastionMemory"] and memory not in FARGATE_SIZES[cpu]:
        choices = FARGATE_SIZES[cpu]
        p.bad("airgap:bastionMemory", memory, f"a memory size Fargate allows with {cpu} CPU units: "
              f"{choices[0]} to {choices[-1]} MiB in steps Fargate allows ({', '.join(map(str, choices))})")

    image = v["bastionImage"] if ok["bastionImage"] else ""
    # Without NAT only the account's own private ECR, in the stack's region, is reachable.
    image_match = EcrImage.parse(image) if image else None
    if image and not image_match:
        p.bad("airgap:bastionImage", image, 'a full image URI in a private ECR registry, such as '
              '"123456789012.dkr.ecr.ap-northeast-1.amazonaws.com/tools:1.0", or "" for a copy of '
              "airgap:bastionImageSource in the stack's own repository")
    elif image_match and region_ok and image_match.region != region:
        p.bad("airgap:bastionImage", image, f"an image in the stack's region {region}: the VPC reaches only its own "
              f"region's ECR endpoints (copy the image to {region})")
    source = v["bastionImageSource"]
    try:
        Reference.parse(source)
    except ValueError:
        p.bad("airgap:bastionImageSource", source, f"an image reference {IMAGE_FORM}, from a registry that "
              "allows anonymous pulls")
    if image and source != KEYS["bastionImageSource"].default:
        p.bad("airgap:bastionImageSource", source, "its default while airgap:bastionImage is set (a custom "
              "image is used as it is; nothing is copied)")

    ports = v["bastionForwardPorts"] if ok["bastionForwardPorts"] else []
    for i, port in enumerate(ports):
        if not 1 <= port <= 65535:
            p.bad(f"airgap:bastionForwardPorts[{i}]", port, "a TCP port from 1 to 65535")
        elif port in (22, 3389):
            p.bad(f"airgap:bastionForwardPorts[{i}]", port, "a port other than 22 and 3389 (Session Manager replaces "
                  "SSH and RDP)")
    if len(set(ports)) != len(ports):
        p.bad("airgap:bastionForwardPorts", ports, "each port at most once")
    if ports and v["ssmHost"] is False:
        p.bad("airgap:bastionForwardPorts", ports, "[] while airgap:ssmHost is false (the ports open the SSM "
              "host to the bastion)")

    if ok["logRetentionDays"] and v["logRetentionDays"] not in LOG_RETENTION_DAYS:
        p.bad("airgap:logRetentionDays", v["logRetentionDays"], "a retention CloudWatch Logs accepts: "
              f"{', '.join(map(str, LOG_RETENTION_DAYS))}")

    if ok["flowLogTraffic"] and v["flowLogTraffic"] not in ("ALL", "REJECT", "ACCEPT"):
        p.bad("airgap:flowLogTraffic", v["flowLogTraffic"], '"ALL" (every flow), "REJECT" (only refused flows: '
              'what an operator reads first, and what Security Hub EC2.6 asks for at least) or "ACCEPT"')
    if ok["flowLogRetentionDays"] and not 1 <= v["flowLogRetentionDays"] <= 3650:
        p.bad("airgap:flowLogRetentionDays", v["flowLogRetentionDays"], "days from 1 to 3650 before the flow log "
              "files are deleted")

    role = v["role"] if ok["role"] else "all"
    if role not in ("all", "network", "workloads"):
        p.bad("airgap:role", role, '"all" (network and workloads in this stack), "network" (only the VPC, '
              'endpoints and S3 gateway, for workload stacks to use) or "workloads" (on airgap:networkStack\'s '
              "network)")
        role = "all"
    network_stack = v["networkStack"] if ok["networkStack"] else ""
    if role == "workloads" and not network_stack:
        p.bad("airgap:networkStack", network_stack, 'the network stack to run on, as `pulumi stack ls` names it: '
              '"net" in this project, or "<org>/airgap/net"')
    elif network_stack and role != "workloads":
        p.bad("airgap:networkStack", network_stack, '"" unless airgap:role is "workloads"')
    elif network_stack and not re.fullmatch(r"([A-Za-z0-9_.-]+/){0,2}[A-Za-z0-9_.-]+", network_stack):
        p.bad("airgap:networkStack", network_stack, 'a stack name: "net", "<project>/net" or "<org>/<project>/net"')
    if role == "workloads" and v["s3Buckets"]:
        p.bad("airgap:s3Buckets", v["s3Buckets"], "[] in a workload stack: the S3 gateway belongs to the network "
              "stack; set it there")

    if v["fileShare"] is True and v["ssmHost"] is False:
        p.bad("airgap:fileShare", True, "false while airgap:ssmHost is false (the SSM host is the share's only "
              "client)")
    if v["ssmHost"] is False and v["bastion"] == "off" and role != "network":
        p.items.append("airgap:ssmHost = false and airgap:bastion = \"off\": expected at least one workload — the "
                       "stack would be endpoints that bill every hour for nothing to use them (set airgap:ssmHost "
                       "to true or airgap:bastion to parked)")

    needed = derive_endpoints(v["ssmHost"] is True, v["bastion"] if ok["bastion"] else "off",
                              v["includeEc2Messages"] is True, v["execKms"] is True)
    missing = [n for n in needed if chosen and n not in chosen]
    if missing and all(n in ENDPOINT_SERVICES for n in chosen):
        p.bad("airgap:endpoints", chosen, f"every endpoint the workloads need: add {', '.join(missing)} (or [] to "
              "derive them from the workloads)")

    if p.items:
        raise ConfigError(p.items)

    # Only now: AWS (and for a workload stack, the network stack) is asked, with the stack's credentials.
    assert vpc is not None and prefix is not None and region is not None
    deployed = aws.own_outputs()
    state = moved or _deployed_state(deployed, p)
    offer = _network_offer(network_stack, region, needed, state.asleep, aws, p) if role == "workloads" else None
    if p.items:
        raise ConfigError(p.items)
    available = sorted(offer.subnets) if offer is not None else sorted(aws.zones())
    if offer is not None:
        zones = tuple(available)
    elif explicit:
        for i, zone in enumerate(explicit):
            if zone not in available:
                p.bad(f"airgap:availabilityZones[{i}]", zone, f"a zone this account has in {region} and that needs "
                      f"no opt-in: {', '.join(available)}")
        zones = tuple(explicit)
    else:
        zones = _resolve_zones(v["azCount"], available, p)
    capacity = 2 ** (prefix - vpc.prefixlen)
    crowded = [z for z in zones if _zone_slot(z) >= capacity] if offer is None else []
    if crowded:
        p.bad("airgap:vpcCidr", str(vpc), f"room for a /{prefix} subnet in zone {crowded[0]} (subnets are slotted "
              f"by zone letter; {vpc} holds {capacity} of them): a larger VPC or a longer subnetPrefixLength")
    account = aws.account_id()
    if image_match and image_match.account != account:
        p.bad("airgap:bastionImage", image, f"an image in this account's registry ({account}): the ECR endpoints "
              "admit only the account's own repositories")
    if p.items:
        raise ConfigError(p.items)

    overridden = bool(chosen)
    endpoints = tuple(name for name in ENDPOINT_SERVICES if name in chosen) if overridden else needed
    # A workload stack places no endpoint: it uses the network stack's.
    endpoint_zones, policy_supported = _place_endpoints(endpoints, zones, v["endpointPlacement"], region, aws, p) \
        if offer is None else ({}, {})
    if p.items:
        raise ConfigError(p.items)
    return Settings(
        stack=stack,
        names=PhysicalNames(project, stack),
        region=region,
        account=account,
        vpc_cidr=ipaddress.IPv4Network(offer.vpc_cidr) if offer is not None else vpc,
        subnet_prefix_length=prefix,
        availability_zones=zones,
        endpoint_placement=v["endpointPlacement"],
        endpoint_zones=endpoint_zones,
        endpoint_policy_supported=policy_supported,
        endpoints=endpoints,
        endpoints_overridden=overridden,
        include_ec2_messages=v["includeEc2Messages"],
        s3_buckets=tuple(v["s3Buckets"]),
        state=state,
        role=role,
        network=offer,
        ssm_host=v["ssmHost"],
        ssm_host_instance_type=v["ssmHostInstanceType"],
        file_share=v["fileShare"],
        bastion=v["bastion"],
        bastion_cpu=cpu,
        bastion_memory=memory,
        bastion_image=image,
        bastion_image_source=source,
        bastion_forward_ports=tuple(ports),
        exec_kms=v["execKms"],
        ecs_service_linked_role=v["bastion"] != "off" and role != "network" and (
            deployed.get(Out.ECS_SERVICE_LINKED_ROLE) == "created" or not aws.role_exists(ECS_SERVICE_LINKED_ROLE)),
        log_retention_days=v["logRetentionDays"],
        flow_logs=v["flowLogs"],
        flow_log_traffic=v["flowLogTraffic"],
        flow_log_retention_days=v["flowLogRetentionDays"],
        production=v["production"],
    )


def _network_offer(stack: str, region: str, needed: Sequence[str], asleep: bool, aws: AwsLookups,
                   p: _Problems) -> NetworkOffer | None:
    """Read the network stack a workload stack runs on, and check it offers what the workloads need — before
    anything is registered, so a workload stack never half-deploys onto a network that cannot serve it."""
    try:
        outputs = aws.network_outputs(stack)
    except Exception as err:  # the engine's answer for a stack that does not exist or cannot be read
        p.bad("airgap:networkStack", stack, f"a stack this backend has and you may read (Pulumi said: {err})")
        return None
    offer = NetworkOffer.read(stack, outputs)
    if isinstance(offer, list):
        p.bad("airgap:networkStack", stack, "a deployed network stack (airgap:role network): its outputs lack "
              f"{', '.join(offer)}" + (" — it has no outputs at all: `pulumi up` it first" if not outputs else ""))
        return None
    if offer.region != region:
        p.bad("airgap:networkStack", stack, f"a network in this stack's region {region} (it is in {offer.region})")
        return None
    missing = [n for n in needed if n not in offer.endpoint_services]
    # An asleep network offers only the gateway; its endpoints come back when it wakes, so that is reported by the
    # program (`network_asleep`), not refused: previews of its workload stacks pass while it sleeps.
    if missing and not asleep and offer.state != StackState.ASLEEP:
        p.bad("airgap:networkStack", stack, f"a network stack that offers every endpoint this stack's workloads "
              f"need; it lacks {', '.join(missing)} (add them to its airgap:endpoints, or leave that empty, and "
              f"`pulumi up --stack {stack}`)")
    return offer


def network_asleep(settings: Settings) -> str | None:
    """What to tell the user of a workload stack that is awake on an asleep network: its workloads cannot reach AWS
    until the network wakes."""
    offer = settings.network
    if offer is None or settings.asleep or offer.state != StackState.ASLEEP:
        return None
    return (f"network asleep: network stack {offer.stack} is asleep, so this stack's workloads cannot reach AWS "
            f"until it wakes (`python3 dev.py wake --stack {settings.stack}` wakes {offer.stack} first)")


def _move(move: str | None, p: _Problems) -> StackState | None:
    if move is None:
        return None
    try:
        return StackState(move)
    except ValueError:
        p.bad(MOVE_VARIABLE, move, f"one of {StackState.forms()}, or unset to keep the deployed state (the ops "
              "commands set it for one `pulumi up`)")
        return None


def _deployed_state(outputs: Mapping[str, Any], p: _Problems) -> StackState:
    """The state the stack was last deployed in; a stack never deployed starts awake."""
    found = outputs.get(Out.STATE)
    if found is None:
        return StackState.AWAKE
    try:
        return StackState(str(found))
    except ValueError:
        p.bad(f"stack output {Out.STATE}", found, f"one of {StackState.forms()} (set {MOVE_VARIABLE} to one of "
              "them for the next `pulumi up`)")
        return StackState.AWAKE


def _resolve_zones(count: int, available: Sequence[str], p: _Problems) -> tuple[str, ...]:
    if len(available) < count:
        p.bad("airgap:azCount", count, f"at most {len(available)}, the AZs this account has in the region "
              f"({', '.join(available)})")
        return tuple(available)
    return tuple(available[:count])


def _place_endpoints(endpoints: Sequence[str], zones: Sequence[str], placement: str, region: str, aws: AwsLookups,
                     p: _Problems) -> tuple[dict[str, tuple[str, ...]], dict[str, bool]]:
    """Each interface endpoint's zones: the stack's zones that AWS offers the service in — all of them (every-az)
    or the first (single-az). CreateVpcEndpoint fails for a subnet in a zone the service is not offered in; not
    every service is in every zone (e.g. a region's newest or oldest zone), so the zones are asked, never assumed.
    Also whether each accepts an endpoint policy, as AWS says."""
    placed: dict[str, tuple[str, ...]] = {}
    policy: dict[str, bool] = {}
    for name in endpoints:
        service = ENDPOINT_SERVICES[name]
        if service.kind != "Interface":
            continue
        offer = aws.endpoint_service(service.service_name(region))
        if offer is None:
            p.bad("airgap:endpoints", name, f"a service with an interface endpoint in {region}; AWS offers no "
                  f"{service.service_name(region)} there")
            continue
        usable = [z for z in zones if z in offer.zones]
        if not usable:
            p.bad("airgap:availabilityZones", list(zones), f"at least one zone where AWS offers the {name} endpoint "
                  f"({', '.join(sorted(offer.zones)) or 'none'}); list the zones explicitly to include one")
            continue
        placed[name] = tuple(usable[:1] if placement == "single-az" else usable)
        policy[name] = offer.policy_supported
    return placed, policy


def load() -> Settings:
    """Read and validate the running stack's config. Called first in __main__.py."""
    from program.pulumi_internals import config_present

    cfg = pulumi.Config(PROJECT)
    raw: dict[str, str | None] = {key: cfg.get(key) for key in KEYS}
    # A misspelt key would otherwise be ignored silently and its default used: report it instead.
    present = config_present()
    prefix = f"{PROJECT}:"
    for full, value in present.items():
        if full.startswith(prefix) and full[len(prefix):] not in KEYS:
            raw[full[len(prefix):]] = str(value)
    return parse(raw, stack=pulumi.get_stack(), project=pulumi.get_project(),
                 region=pulumi.Config("aws").get("region"), aws=ProviderLookups(),
                 move=os.environ.get(MOVE_VARIABLE) or None)
