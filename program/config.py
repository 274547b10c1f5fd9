"""The stack's configuration: one typed, frozen `Settings`, validated before any resource is registered.

Each key is declared once, in its section (program/sections); Pulumi.yaml's `config:` block is written from those
declarations. A bad value never gets as far as AWS: `parse` collects every problem of every section and raises one
`ConfigError` that names each key, the value given and the form expected. Checks that need AWS (the account's zones,
where each endpoint service is offered, the account id) or other stacks run only once every static value has passed.
"""

from __future__ import annotations

import difflib
import ipaddress
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi

from airgap.catalog import ENDPOINT_SERVICES
from airgap.naming import PhysicalNames, name_problem
from airgap.workload import Needs
from program import resolve
from program.contract import MOVE_VARIABLE, Out, StackState
from program.keys import PROJECT, Problems, Values
from program.lookups import AwsLookups, NetworkOffer, ProviderLookups
from program.sections import Context, all_keys, modules, needs_of, workloads

KEYS = all_keys()  # the shipped sections' keys (parse and load ask the sections each time)
# Keys older versions read, and what replaced them: reported by name instead of as unknown keys.
RETIRED = {
    "asleep": "no such key: whether a stack is asleep lives with the deployed stack, the same for every clone and "
              "CI job. Remove it (`pulumi config rm airgap:asleep`); `python3 dev.py sleep|wake --stack <stack>` "
              "move the stack",
}
ECS_SERVICE_LINKED_ROLE = "AWSServiceRoleForECS"
_OTHER_PARTITIONS = ("cn-", "us-gov-", "us-iso", "eusc-", "eu-isoe")


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
    """Everything the components need to know about one stack, already checked: the network as resolved, and each
    section's model (`sections["bastion"].mode`)."""

    stack: str
    names: PhysicalNames
    region: str
    account: str
    state: StackState
    role: str  # all | network | workloads
    network: NetworkOffer | None  # a workload stack's network stack
    vpc_cidr: ipaddress.IPv4Network
    subnet_prefix_length: int
    availability_zones: tuple[str, ...]
    # Interface endpoint service -> the AZs that get its network interface (only zones AWS offers it in), and
    # whether AWS accepts an endpoint policy on it.
    endpoint_zones: Mapping[str, tuple[str, ...]]
    endpoint_policy_supported: Mapping[str, bool]
    endpoints: tuple[str, ...]
    endpoints_overridden: bool
    # Create ECS's service-linked role: the account lacks it (it never used ECS), or this stack created it before.
    ecs_service_linked_role: bool
    sections: Mapping[str, Any]

    @property
    def asleep(self) -> bool:
        return self.state.asleep

    @property
    def production(self) -> bool:
        return bool(self.sections["common"].production)

    @property
    def log_retention_days(self) -> int:
        return int(self.sections["common"].log_retention_days)

    @property
    def needs(self) -> Needs:
        """What this stack's workloads need, together."""
        return needs_of(self.sections)

    def subnet_cidr(self, zone: str) -> ipaddress.IPv4Network:
        """The isolated subnet of one AZ. The slot comes from the zone's letter, not its position in the list,
        so adding or removing an AZ never renumbers (and so never replaces) the others."""
        return list(self.vpc_cidr.subnets(new_prefix=self.subnet_prefix_length))[_zone_slot(zone)]

    @property
    def endpoints_present(self) -> tuple[str, ...]:
        """The endpoints that exist while the stack is in its state (asleep: only the gateway)."""
        return tuple(n for n in self.endpoints if not self.asleep or ENDPOINT_SERVICES[n].kind != "Interface")


def _zone_slot(zone: str) -> int:
    return ord(zone[-1]) - ord("a")


def _region_problem(region: str | None, p: Problems) -> bool:
    """Record why `region` cannot be used; True when it can."""
    if not region:
        p.say('aws:region is not set: expected a region such as "ap-northeast-1" '
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


def _keys_known(raw: Mapping[str, str | None], p: Problems) -> None:
    keys = all_keys()
    for key in sorted(set(raw) & set(RETIRED)):
        p.bad(f"{PROJECT}:{key}", raw[key], RETIRED[key])
    for key in sorted(set(raw) - set(keys) - set(RETIRED)):
        close = difflib.get_close_matches(key, keys, n=1)
        hint = f'; did you mean "{PROJECT}:{close[0]}"?' if close else f" ({', '.join(keys)})"
        p.bad(f"{PROJECT}:{key}", raw[key], f"one of the declared keys{hint}")


# The AWS provider's settings (pulumi-aws's config; tests/test_config.py keeps this in step with the pinned version).
AWS_PROVIDER_KEYS = (
    "accessKey", "allowedAccountIds", "assumeRoleWithWebIdentity", "assumeRoles", "customCaBundle", "defaultTags",
    "ec2MetadataServiceEndpoint", "ec2MetadataServiceEndpointMode", "endpoints", "forbiddenAccountIds", "httpProxy",
    "httpsProxy", "ignoreTags", "insecure", "maxRetries", "noProxy", "profile", "region", "retryMode",
    "s3UsEast1RegionalEndpoint", "s3UsePathStyle", "secretKey", "sharedConfigFiles", "sharedCredentialsFiles",
    "skipCredentialsValidation", "skipMetadataApiCheck", "skipRegionValidation", "skipRequestingAccountId", "stsRegion",
    "tagPolicyCompliance", "token", "tokenBucketRateLimiterCapacity", "useDualstackEndpoint", "useFipsEndpoint",
    "userAgents",
)


def _namespaces_known(foreign: Mapping[str, str | None], project: str, p: Problems) -> None:
    """Keys outside the project's namespace that were meant for it (`AIRGAP:bastion`, `airgapp:bastion`) or for
    the AWS provider (`aws:regoin`): each would be ignored without a word."""
    for full in sorted(foreign):
        namespace, _, name = full.partition(":")
        if namespace != project and (namespace.lower() == project
                                     or difflib.get_close_matches(namespace.lower(), [project], cutoff=0.75)):
            p.bad(full, foreign[full], f'the namespace "{project}:" (keys are case-sensitive): {project}:{name}')
        elif namespace == "aws" and name not in AWS_PROVIDER_KEYS:
            close = difflib.get_close_matches(name, AWS_PROVIDER_KEYS, n=1)
            hint = f'did you mean "aws:{close[0]}"?' if close else "see the pulumi-aws provider's configuration"
            p.bad(full, foreign[full], f"one of the AWS provider's settings; {hint}")


def _workload_checks(sections: Mapping[str, Any], p: Problems) -> tuple[str, ...]:
    """At least one workload, and an explicit endpoint list that holds everything they need. Returns the needed
    endpoints in catalogue order."""
    network = sections["network"]
    running = [w for w in workloads(sections) if w.workload]
    if network.role != "network" and not any(w.enabled for w in running):
        p.say(f"{' and '.join(w.switch[0] for w in running)}: expected at least one workload — the stack would be "
              "endpoints that bill every hour for nothing to use them (set "
              f"{' or '.join(w.switch[1] for w in running if w.switch[1])})")
    needed = needs_of(sections).endpoints
    ordered = tuple(n for n in ENDPOINT_SERVICES if n in needed)
    chosen = network.chosen_endpoints if network.role != "workloads" else ()  # the network stack's to choose
    missing = [n for n in ordered if chosen and n not in chosen]
    if missing and all(n in ENDPOINT_SERVICES for n in chosen):
        p.bad("airgap:endpoints", list(chosen), f"every endpoint the workloads need: add {', '.join(missing)} (or [] "
              "to derive them from the workloads)")
    return ordered


def parse(raw: Mapping[str, str | None], *, stack: str, project: str = PROJECT, region: str | None,
          aws: AwsLookups, move: str | None = None, foreign: Mapping[str, str | None] | None = None) -> Settings:
    """Validate raw config strings (as `pulumi.Config.get` returns them) into `Settings`. `move` is a state change
    asked for this one run (the ops commands set it in the environment); None keeps the deployed state. `foreign`
    holds the keys of other namespaces (`aws:region`, ...), by their full names."""
    p = Problems()
    _keys_known(raw, p)
    _namespaces_known(foreign or {}, project, p)
    for what, value in (("project name", project), ("stack name", stack)):
        problem = name_problem(what, value)
        if problem:
            p.say(f"{problem}. Fix: " + ("`pulumi stack rename <new-name>`" if what == "stack name" else
                                          "rename the project"))
    ctx = Context(project, stack, region, _region_problem(region, p))
    moved = resolve.move(move, p)
    for module in modules():
        ctx.sections[module.NAME] = module.parse(Values(module.KEYS, raw, p), ctx, p)
    needed = _workload_checks(ctx.sections, p)
    if p.items:
        raise ConfigError(p.items)
    return _resolved(ctx, needed, moved, aws, p)


def _resolved(ctx: Context, needed: tuple[str, ...], moved: StackState | None, aws: AwsLookups,
              p: Problems) -> Settings:
    """Only now: AWS (and for a workload stack, the network stack) is asked, with the stack's credentials."""
    network, bastion = ctx.sections["network"], ctx.sections["bastion"]
    region = ctx.region
    assert network.vpc is not None and network.prefix is not None and region is not None
    deployed = aws.own_outputs()
    state = moved or resolve.deployed_state(deployed, p)
    offer = resolve.network_offer(network.network_stack, region, needed, state.asleep, aws, p) \
        if network.role == "workloads" else None
    if p.items:
        raise ConfigError(p.items)
    available = sorted(offer.subnets) if offer is not None else sorted(aws.zones())
    if offer is not None:
        zones = tuple(available)
    elif network.explicit_zones:
        zones = resolve.explicit_zones(network.explicit_zones, available, region, p)
    else:
        zones = resolve.zones(network.az_count, available, p)
    vpc, prefix = network.vpc, network.prefix
    capacity = 2 ** (prefix - vpc.prefixlen)
    crowded = [z for z in zones if _zone_slot(z) >= capacity] if offer is None else []
    if crowded:
        p.bad("airgap:vpcCidr", str(vpc), f"room for a /{prefix} subnet in zone {crowded[0]} (subnets are slotted by "
              f"zone letter; {vpc} holds {capacity} of them): a larger VPC or a longer subnetPrefixLength")
    account = aws.account_id()
    if (image := bastion.image_problem(account)) is not None:
        p.bad("airgap:bastionImage", bastion.image, image)
    if p.items:
        raise ConfigError(p.items)
    chosen = network.chosen_endpoints
    endpoints = tuple(n for n in ENDPOINT_SERVICES if n in chosen) if chosen else needed
    # A workload stack places no endpoint: it uses the network stack's.
    endpoint_zones, policy = resolve.place_endpoints(endpoints, zones, network.placement, region, aws, p) \
        if offer is None else ({}, {})
    if p.items:
        raise ConfigError(p.items)
    return Settings(
        stack=ctx.stack, names=PhysicalNames(ctx.project, ctx.stack), region=region, account=account, state=state,
        role=network.role, network=offer,
        vpc_cidr=ipaddress.IPv4Network(offer.vpc_cidr) if offer is not None else vpc, subnet_prefix_length=prefix,
        availability_zones=zones, endpoint_zones=endpoint_zones, endpoint_policy_supported=policy,
        endpoints=endpoints, endpoints_overridden=bool(chosen),
        ecs_service_linked_role=bastion.enabled and network.role != "network" and (
            deployed.get(Out.ECS_SERVICE_LINKED_ROLE) == "created" or not aws.role_exists(ECS_SERVICE_LINKED_ROLE)),
        sections=dict(ctx.sections))


def network_asleep(settings: Settings) -> str | None:
    """What to tell the user of a workload stack that is awake on an asleep network: its workloads cannot reach AWS
    until the network wakes."""
    offer = settings.network
    if offer is None or settings.asleep or offer.state != StackState.ASLEEP:
        return None
    return (f"network asleep: network stack {offer.stack} is asleep, so this stack's workloads cannot reach AWS "
            f"until it wakes (`python3 dev.py wake --stack {settings.stack}` wakes {offer.stack} first)")


def load() -> Settings:
    """Read and validate the running stack's config. Called first in __main__.py."""
    from program.pulumi_internals import config_present

    cfg = pulumi.Config(PROJECT)
    keys = all_keys()
    raw: dict[str, str | None] = {key: cfg.get(key) for key in keys}
    # A misspelt key would otherwise be ignored silently and its default used: report it instead.
    prefix = f"{PROJECT}:"
    present = config_present()
    for full, value in present.items():
        if full.startswith(prefix) and full[len(prefix):] not in keys:
            raw[full[len(prefix):]] = str(value)
    foreign = {full: str(value) for full, value in present.items() if not full.startswith(prefix)}
    return parse(raw, stack=pulumi.get_stack(), project=pulumi.get_project(),
                 region=pulumi.Config("aws").get("region"), aws=ProviderLookups(),
                 move=os.environ.get(MOVE_VARIABLE) or None, foreign=foreign)
