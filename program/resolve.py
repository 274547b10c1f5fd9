"""The checks that need answers from outside the stack file, run once every static value has passed: the stack's
own deployed state, the network stack a workload stack runs on, the account's zones, where each endpoint service
is offered."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from airgap.catalog import ENDPOINT_SERVICES
from program.contract import MOVE_VARIABLE, Out, StackState
from program.keys import Problems
from program.lookups import AwsLookups, NetworkOffer


def move(requested: str | None, p: Problems) -> StackState | None:
    if requested is None:
        return None
    try:
        return StackState(requested)
    except ValueError:
        p.bad(MOVE_VARIABLE, requested, f"one of {StackState.forms()}, or unset to keep the deployed state (the ops "
              "commands set it for one `pulumi up`)")
        return None


def deployed_state(outputs: Mapping[str, Any], p: Problems) -> StackState:
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


def network_offer(stack: str, region: str, needed: Sequence[str], asleep: bool, aws: AwsLookups,
                  p: Problems) -> NetworkOffer | None:
    """Read the network stack a workload stack runs on, and check it offers what the workloads need — before
    anything is registered, so a workload stack never half-deploys onto a network that cannot serve it."""
    try:
        outputs = aws.network_outputs(stack)
    except Exception as err:  # the engine's answer for a stack that does not exist or cannot be read
        p.bad("airgap:networkStack", stack, f"a stack this backend has and you may read (Pulumi said: {err})")
        return None
    offer = NetworkOffer.read(stack, outputs)
    if isinstance(offer, list) and any(" " in o for o in offer):
        p.bad("airgap:networkStack", stack, f"the outputs of an airgap network stack: {'; '.join(offer)}")
        return None
    if isinstance(offer, list):
        p.bad("airgap:networkStack", stack, "a deployed network stack (airgap:role network): its outputs lack "
              f"{', '.join(offer)}" + (" — it has no outputs at all: `pulumi up` it first" if not outputs else ""))
        return None
    if offer.region != region:
        p.bad("airgap:networkStack", stack, f"a network in this stack's region {region} (it is in {offer.region})")
        return None
    elsewhere = sorted(z for z in offer.subnets if not z.startswith(region))
    if elsewhere:
        p.bad("airgap:networkStack", stack, f"a network whose subnets are in {region} (its subnetIdsByZone names "
              f"{', '.join(elsewhere)})")
        return None
    missing = [n for n in needed if n not in offer.endpoint_services]
    # An asleep network offers only the gateway; its endpoints come back when it wakes, so that is reported by the
    # program (config.network_asleep), not refused: previews of its workload stacks pass while it sleeps.
    if missing and not asleep and offer.state != StackState.ASLEEP:
        p.bad("airgap:networkStack", stack, f"a network stack that offers every endpoint this stack's workloads "
              f"need; it lacks {', '.join(missing)} (add them to its airgap:endpoints, or leave that empty, and "
              f"`pulumi up --stack {stack}`)")
    return offer


def zones(count: int, available: Sequence[str], p: Problems) -> tuple[str, ...]:
    if len(available) < count:
        p.bad("airgap:azCount", count, f"at most {len(available)}, the AZs this account has in the region "
              f"({', '.join(available)})")
        return tuple(available)
    return tuple(available[:count])


def explicit_zones(explicit: Sequence[str], available: Sequence[str], region: str, p: Problems) -> tuple[str, ...]:
    for i, zone in enumerate(explicit):
        if zone not in available:
            p.bad(f"airgap:availabilityZones[{i}]", zone, f"a zone this account has in {region} and that needs no "
                  f"opt-in: {', '.join(available)}")
    return tuple(explicit)


def place_endpoints(endpoints: Sequence[str], zones: Sequence[str], placement: str, region: str, aws: AwsLookups,
                    p: Problems) -> tuple[dict[str, tuple[str, ...]], dict[str, bool]]:
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
