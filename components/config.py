"""The stack's configuration: one typed, frozen `Settings`, validated before any resource is registered.

Every key is declared in Pulumi.yaml (`config:` block, with type, description and default); `KEYS` below holds the
same defaults and a test keeps the two in step. A bad value never gets as far as AWS: `parse` collects every problem
and raises one `ConfigError` that names each key, the value given and the form expected.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

import pulumi

from components.catalog import (
    BASTION_ENDPOINTS,
    ENDPOINT_SERVICES,
    FARGATE_SIZES,
    INSTANCE_TYPES,
    LOG_RETENTION_DAYS,
    SSM_HOST_ENDPOINTS,
)
from components.image_reference import FORM as IMAGE_FORM
from components.image_reference import Reference
from components.naming import PhysicalNames, name_problem

PROJECT = "airgap"

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
    "production": Key("boolean", False),
}

EndpointPlacement = Literal["every-az", "single-az"]
BastionMode = Literal["off", "parked", "on"]

_REGION = re.compile(r"^[a-z]{2}-[a-z]+-\d$")
_OTHER_PARTITIONS = ("cn-", "us-gov-", "us-iso")
# Without NAT only the account's private ECR is reachable: <account>.dkr.ecr.<region>.amazonaws.com/<repo>[:tag|@digest]
_ECR_IMAGE = re.compile(r"\d{12}\.dkr\.ecr\.[a-z]{2}-[a-z]+-\d\.amazonaws\.com/[a-z0-9][a-z0-9._/-]*"
                        r"(:[\w][\w.-]{0,127}|@sha256:[0-9a-f]{64})?")
_RFC1918 = tuple(ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"))


@dataclass(frozen=True)
class EndpointOffer:
    """What AWS says of one interface endpoint service in the stack's region (ec2:DescribeVpcEndpointServices,
    read through the provider's `aws.ec2.get_vpc_endpoint_service`)."""

    zones: tuple[str, ...]  # AZ names, as this account names them, where the service has an endpoint
    policy_supported: bool  # whether the endpoint accepts an endpoint policy


class AwsLookups(Protocol):
    """The facts about the account and region that config validation needs from AWS (invokes, in `load`)."""

    def zones(self) -> Sequence[str]:
        """The region's AZs that need no opt-in."""
        ...

    def endpoint_service(self, service_name: str) -> EndpointOffer | None:
        """The interface endpoint service `com.amazonaws.<region>.<name>`, or None where the region has none."""
        ...


class ConfigError(pulumi.RunError):
    """One error for every bad value in the stack's config; raised before anything is registered."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        noun = "problem" if len(self.problems) == 1 else "problems"
        super().__init__(
            f"the stack configuration has {len(self.problems)} {noun}; nothing was created:\n{lines}\n"
            "Fix each with `pulumi config set <key> <value>` (lists: `--path '<key>[0]' <value>`)."
        )


@dataclass(frozen=True)
class Settings:
    """Everything the components need to know about one stack, already checked."""

    stack: str
    names: PhysicalNames
    region: str
    vpc_cidr: ipaddress.IPv4Network
    subnet_prefix_length: int
    availability_zones: tuple[str, ...]
    endpoint_placement: EndpointPlacement
    # Interface endpoint service -> the AZs that get its network interface: the placement, within the zones that
    # AWS offers the service in (CreateVpcEndpoint rejects a subnet in any other zone).
    endpoint_zones: Mapping[str, tuple[str, ...]]
    endpoints: tuple[str, ...]
    endpoints_overridden: bool
    include_ec2_messages: bool
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
    log_retention_days: int
    production: bool

    def subnet_cidr(self, zone: str) -> ipaddress.IPv4Network:
        """The isolated subnet of one AZ. The slot comes from the zone's letter, not its position in the list,
        so adding or removing an AZ never renumbers (and so never replaces) the others."""
        slot = _zone_slot(zone)
        return list(self.vpc_cidr.subnets(new_prefix=self.subnet_prefix_length))[slot]


def _zone_slot(zone: str) -> int:
    return ord(zone[-1]) - ord("a")


class _Problems:
    def __init__(self) -> None:
        self.items: list[str] = []

    def bad(self, key: str, value: Any, expected: str) -> None:
        shown = json.dumps(value) if not isinstance(value, str) else f'"{value}"'
        self.items.append(f"{key} = {shown}: expected {expected}")


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
        return None
    if spec.kind == "boolean":
        if text.lower() in ("true", "false"):
            return text.lower() == "true"
        problems.bad(full, text, "true or false")
        return None
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        value = None
    item_type = str if spec.kind == "string-list" else int
    if isinstance(value, list) and all(type(v) is item_type for v in value):
        return value
    example = '["ap-northeast-1a", "ap-northeast-1c"]' if item_type is str else "[8080, 5432]"
    problems.bad(full, text, f"a YAML list such as {example}")
    return None


def derive_endpoints(ssm_host: bool, bastion: str, include_ec2_messages: bool, exec_kms: bool) -> tuple[str, ...]:
    """The endpoint services the workloads need, in catalogue order (issue 3: endpoints follow the workloads)."""
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


def parse(
    raw: Mapping[str, str | None],
    *,
    stack: str,
    project: str = PROJECT,
    region: str | None,
    aws: AwsLookups,
) -> Settings:
    """Validate raw config strings (as `pulumi.Config.get` returns them) into `Settings`.

    `aws` is asked only once every static value has passed, so a typo is reported without touching AWS.
    """
    p = _Problems()
    unknown = sorted(set(raw) - set(KEYS))
    for key in unknown:
        p.bad(f"{PROJECT}:{key}", raw[key], f"one of the declared keys ({', '.join(KEYS)})")
    v = {key: _read(raw, key, p) for key in KEYS}
    for what, value in (("project name", project), ("stack name", stack)):
        problem = name_problem(what, value)
        if problem:
            p.items.append(f"{problem}. Fix: "
                           + ("`pulumi stack rename <new-name>`" if what == "stack name" else "rename the project"))

    if not region:
        p.items.append('aws:region is not set: expected a region such as "ap-northeast-1" '
                       "(pulumi config set aws:region ap-northeast-1)")
    elif region.startswith(_OTHER_PARTITIONS):
        p.bad("aws:region", region, "a region of the standard aws partition (China, GovCloud and ISO regions "
              "use other endpoint names and are not supported)")
    elif not _REGION.match(region):
        p.bad("aws:region", region, 'a region name such as "ap-northeast-1" or "us-east-1"')

    vpc = None
    if v["vpcCidr"] is not None:
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

    prefix = v["subnetPrefixLength"]
    if prefix is not None and vpc is not None and not vpc.prefixlen < prefix <= 28:
        p.bad("airgap:subnetPrefixLength", prefix, f"a number from {vpc.prefixlen + 1} to 28 "
              f"(longer than the VPC's /{vpc.prefixlen}; AWS's smallest subnet is /28)")
        prefix = None

    if v["azCount"] is not None and not v["availabilityZones"] and v["azCount"] < 2:
        p.bad("airgap:azCount", v["azCount"], "2 or more (one isolated subnet per AZ; EFS and the endpoints "
              "want two AZs to survive one)")
    explicit = v["availabilityZones"] or []
    if explicit:
        if len(explicit) < 2:
            p.bad("airgap:availabilityZones", explicit, "at least two zone names, or [] to use airgap:azCount")
        if region and _REGION.match(region):
            wrong = [z for z in explicit if not re.fullmatch(re.escape(region) + r"[a-z]", z)]
            if wrong:
                p.bad("airgap:availabilityZones", explicit, f'zone names of {region}, such as "{region}a" '
                      f"(not {', '.join(wrong)})")
        if len(set(explicit)) != len(explicit):
            p.bad("airgap:availabilityZones", explicit, "each zone at most once")

    if v["endpointPlacement"] is not None and v["endpointPlacement"] not in ("every-az", "single-az"):
        p.bad("airgap:endpointPlacement", v["endpointPlacement"], '"every-az" (highly available) or "single-az" '
              "(one network interface per endpoint: cheapest)")

    for name in v["endpoints"] or []:
        if name not in ENDPOINT_SERVICES:
            p.bad("airgap:endpoints", v["endpoints"], f"service names from {', '.join(ENDPOINT_SERVICES)} "
                  f'("{name}" is not one), or [] to derive them from the workloads')
            break

    if v["ssmHostInstanceType"] is not None and v["ssmHostInstanceType"] not in INSTANCE_TYPES:
        p.bad("airgap:ssmHostInstanceType", v["ssmHostInstanceType"], f"one of {', '.join(INSTANCE_TYPES)}")

    if v["bastion"] is not None and v["bastion"] not in ("off", "parked", "on"):
        p.bad("airgap:bastion", v["bastion"], '"off" (no bastion, no bastion-only endpoints), "parked" '
              '(service at 0 tasks) or "on" (one task running)')

    cpu, memory = v["bastionCpu"], v["bastionMemory"]
    if cpu is not None and cpu not in FARGATE_SIZES:
        p.bad("airgap:bastionCpu", cpu, f"a Fargate CPU size: {', '.join(map(str, FARGATE_SIZES))}")
    elif cpu is not None and memory is not None and memory not in FARGATE_SIZES[cpu]:
        choices = FARGATE_SIZES[cpu]
        p.bad("airgap:bastionMemory", memory, f"a memory size Fargate allows with {cpu} CPU units: "
              f"{choices[0]} to {choices[-1]} MiB in steps Fargate allows ({', '.join(map(str, choices))})")

    image = v["bastionImage"]
    if image and not _ECR_IMAGE.fullmatch(image):
        p.bad("airgap:bastionImage", image, 'a full image URI in a private ECR registry, such as '
              '"123456789012.dkr.ecr.ap-northeast-1.amazonaws.com/tools:1.0", or "" for a copy of '
              "airgap:bastionImageSource in the stack's own repository")
    source = v["bastionImageSource"]
    if source is not None:
        try:
            Reference.parse(source)
        except ValueError:
            p.bad("airgap:bastionImageSource", source, f"an image reference {IMAGE_FORM}, from a registry that "
                  "allows anonymous pulls")
        if image and source != KEYS["bastionImageSource"].default:
            p.bad("airgap:bastionImageSource", source, "its default while airgap:bastionImage is set (a custom "
                  "image is used as it is; nothing is copied)")

    ports = v["bastionForwardPorts"] or []
    for port in ports:
        if not 1 <= port <= 65535 or port in (22, 3389):
            p.bad("airgap:bastionForwardPorts", ports, "TCP ports from 1 to 65535, other than 22 and 3389 "
                  "(Session Manager replaces SSH and RDP)")
            break
    if ports and v["ssmHost"] is False:
        p.bad("airgap:bastionForwardPorts", ports, "[] while airgap:ssmHost is false (the ports open the SSM "
              "host to the bastion)")

    if v["logRetentionDays"] is not None and v["logRetentionDays"] not in LOG_RETENTION_DAYS:
        p.bad("airgap:logRetentionDays", v["logRetentionDays"], "a retention CloudWatch Logs accepts: "
              f"{', '.join(map(str, LOG_RETENTION_DAYS))}")

    if v["fileShare"] and v["ssmHost"] is False:
        p.bad("airgap:fileShare", True, "false while airgap:ssmHost is false (the SSM host is the share's only "
              "client)")

    if p.items:
        raise ConfigError(p.items)

    assert vpc is not None and prefix is not None and region is not None
    zones = tuple(explicit) if explicit else _resolve_zones(v["azCount"], aws.zones, p)
    capacity = 2 ** (prefix - vpc.prefixlen)
    crowded = [z for z in zones if _zone_slot(z) >= capacity]
    if crowded:
        p.bad("airgap:vpcCidr", str(vpc), f"room for a /{prefix} subnet in zone {crowded[0]} (subnets are slotted "
              f"by zone letter; {vpc} holds {capacity} of them): a larger VPC or a longer subnetPrefixLength")
    if p.items:
        raise ConfigError(p.items)

    overridden = bool(v["endpoints"])
    endpoints = (
        tuple(name for name in ENDPOINT_SERVICES if name in v["endpoints"])
        if overridden
        else derive_endpoints(v["ssmHost"], v["bastion"], v["includeEc2Messages"], v["execKms"])
    )
    endpoint_zones = _place_endpoints(endpoints, zones, v["endpointPlacement"], region, aws, p)
    if p.items:
        raise ConfigError(p.items)
    return Settings(
        stack=stack,
        names=PhysicalNames(project, stack),
        region=region,
        vpc_cidr=vpc,
        subnet_prefix_length=prefix,
        availability_zones=zones,
        endpoint_placement=v["endpointPlacement"],
        endpoint_zones=endpoint_zones,
        endpoints=endpoints,
        endpoints_overridden=overridden,
        include_ec2_messages=v["includeEc2Messages"],
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
        log_retention_days=v["logRetentionDays"],
        production=v["production"],
    )


def _resolve_zones(count: int, zone_lookup: Callable[[], Sequence[str]], p: _Problems) -> tuple[str, ...]:
    available = sorted(zone_lookup())
    if len(available) < count:
        p.bad("airgap:azCount", count, f"at most {len(available)}, the AZs this account has in the region "
              f"({', '.join(available)})")
        return tuple(available)
    return tuple(available[:count])


def _place_endpoints(endpoints: Sequence[str], zones: Sequence[str], placement: str, region: str, aws: AwsLookups,
                     p: _Problems) -> dict[str, tuple[str, ...]]:
    """Each interface endpoint's zones: the stack's zones that AWS offers the service in — all of them (every-az)
    or the first (single-az). CreateVpcEndpoint fails for a subnet in a zone the service is not offered in; not
    every service is in every zone (e.g. a region's newest or oldest zone), so the zones are asked, never assumed."""
    placed: dict[str, tuple[str, ...]] = {}
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
    return placed


def load() -> Settings:
    """Read and validate the running stack's config. Called first in __main__.py."""
    from pulumi.runtime import config as runtime_config

    cfg = pulumi.Config(PROJECT)
    raw: dict[str, str | None] = {key: cfg.get(key) for key in KEYS}
    # A misspelt key would otherwise be ignored silently and its default used: report it instead.
    present = {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}
    prefix = f"{PROJECT}:"
    for full, value in present.items():
        if full.startswith(prefix) and full[len(prefix):] not in KEYS:
            raw[full[len(prefix):]] = str(value)

    return parse(raw, stack=pulumi.get_stack(), project=pulumi.get_project(),
                 region=pulumi.Config("aws").get("region"), aws=_ProviderLookups())


class _ProviderLookups:
    """`AwsLookups` through the provider's invokes: in a real preview they ask AWS with the stack's credentials."""

    def zones(self) -> Sequence[str]:
        import pulumi_aws as aws

        # Only zones that need no opt-in: Local and Wavelength Zones have no Fargate, EFS or most endpoints.
        found = aws.get_availability_zones(
            state="available",
            filters=[aws.GetAvailabilityZonesFilterArgs(name="opt-in-status", values=["opt-in-not-required"])],
        )
        return found.names

    def endpoint_service(self, service_name: str) -> EndpointOffer | None:
        import pulumi_aws as aws

        try:
            found = aws.ec2.get_vpc_endpoint_service(service_name=service_name, service_type="Interface")
        except Exception as err:
            # The provider's data source fails with "no matching EC2 VPC Endpoint Service found" when the region
            # has no such service; anything else (credentials, throttling) is not ours to hide.
            if "no matching" in str(err).lower():
                return None
            raise
        return EndpointOffer(tuple(found.availability_zones), bool(found.vpc_endpoint_policy_supported))
