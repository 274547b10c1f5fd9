"""Stack policies on what the workloads need of the VPC endpoints: which endpoints each needs (in its VPC, its region,
with private DNS), whether every needed 443 flow is allowed on both sides, and whether the endpoint group admits only
what it should. Everything is matched through property dependencies, so these run unchanged in a first preview."""

from __future__ import annotations

from collections.abc import Iterator

from pulumi_policy import PolicyConfigSchema, PolicyResource, Severity, StackValidationArgs

from guard.contract import ASLEEP, NetworkOut
from guard.graph import StackGraph, endpoint_service, endpoint_type, label
from guard.kit import PRIVATE_ONLY, config, stack_policy
from guard.reach import Reach, is_s3_gateway
from guard.routes import Routes
from guard.types import CLUSTER, EGRESS, ENDPOINT, INGRESS, INSTANCE, INSTANCE_STATE, KMS_KEY, SERVICE, SG, TASK
from guard.values import UNKNOWN, RuleView, as_list, fix, get, json_document, ours, remedy, rules_of

Violations = Iterator[tuple[str, str]]
Needs = list[tuple[PolicyResource, dict[str, str]]]


def _serves(endpoint: PolicyResource, region: str | None, service: str) -> bool:
    """Whether the endpoint is for `service` in `region` (any region when the consumer's is not known)."""
    named_region, named_service = endpoint_service(endpoint)
    return named_service == service and (region is None or named_region == region)


def _usable(endpoint: PolicyResource, region: str | None, service: str) -> bool:
    if not _serves(endpoint, region, service):
        return False
    if service == "s3":
        return True
    return get(endpoint.props, "privateDnsEnabled") is True


def _service_needs(graph: StackGraph, service: PolicyResource, unknown: list[str]) -> dict[str, str]:
    why: dict[str, str] = {}
    if get(service.props, "enableExecuteCommand") is True:
        why["ssmmessages"] = "ECS Exec sessions"
        for cluster in graph.feeds(service, "cluster", CLUSTER):
            key = get(cluster.props, "configuration.executeCommandConfiguration.kmsKeyId")
            if key is not None or graph.feeds(cluster, "configuration", KMS_KEY):
                why["kms"] = "decrypting its KMS-encrypted exec channel"
    for task in graph.feeds(service, "taskDefinition", TASK):
        containers = json_document(task.props, "containerDefinitions")
        if containers is UNKNOWN:
            unknown.append(label(task))
            continue
        for c in as_list(containers):
            image = str(c.get("image", ""))
            if ".dkr.ecr." in image:
                why.update({"ecr.api": "pulling the image from private ECR",
                            "ecr.dkr": "pulling the image from private ECR",
                            "s3": "ECR image layers are served from S3"})
            if (c.get("logConfiguration") or {}).get("logDriver") == "awslogs":
                why["logs"] = "the awslogs driver"
    return why


def _installs_packages(instance: PolicyResource) -> bool:
    """An airgap host (its first boot runs dnf), or user data that runs dnf or yum: the Amazon Linux repositories
    are S3 buckets (Amazon Linux 2023 User Guide, package repositories; reached through the S3 gateway)."""
    if ours(instance.urn):
        return True
    data = get(instance.props, "userData")
    return isinstance(data, str) and any(f"{tool} " in data for tool in ("dnf", "yum"))


def needs(graph: StackGraph, args: StackValidationArgs) -> tuple[Needs, list[str]]:
    """[(consumer, {endpoint service: why})], and the consumers whose needs are unknown in this preview."""
    found: Needs = []
    unknown: list[str] = []
    for instance in graph.of(INSTANCE):
        why = {"ssm": "the SSM agent registers the instance", "ssmmessages": "Session Manager sessions"}
        if _installs_packages(instance):
            why["s3"] = "the package repositories its user data installs from (Amazon Linux's are in S3)"
        if config(args, "ec2messages", False):
            why["ec2messages"] = "SSM Agent older than 3.3.40.0 (policy config ec2messages)"
        found.append((instance, why))
    for service in graph.of(SERVICE):
        found.append((service, _service_needs(graph, service, unknown)))
    return found, unknown


def _not_running(graph: StackGraph, consumer: PolicyResource) -> bool:
    """A stopped instance (its InstanceState says so) or a service at zero tasks: nothing of it runs now."""
    if consumer.resource_type == SERVICE:
        return get(consumer.props, "desiredCount") == 0
    states = graph.fed_by(consumer, "instanceId", INSTANCE_STATE)
    return bool(states) and all(get(s.props, "state") == "stopped" for s in states)


def asleep(graph: StackGraph, consumer: PolicyResource, endpoints: list[PolicyResource],
           offered: set[str] | None = None) -> bool:
    """Asleep: nothing of the consumer runs and its VPC has no interface endpoint at all — the stack removed them on
    purpose and brings them back with the workload (`pulumi up`). A parked service (zero tasks) in a VPC that keeps
    its endpoints is not asleep: it is started outside Pulumi (UpdateService) and then needs every one of them."""
    return _not_running(graph, consumer) and not any(
        endpoint_type(e) == "Interface" for e in endpoints) and not (offered or set()) - {"s3"}


def _missing(graph: StackGraph, consumer: PolicyResource, why: dict[str, str], region: str | None,
             offered: set[str], unplaced: dict[str | None, list[PolicyResource]], blind: list[str]) \
        -> list[tuple[str, str, str]]:
    """(service, why it is needed, what is there instead) for each endpoint the consumer lacks."""
    here = graph.in_vpc_of(graph.vpc_of(consumer), ENDPOINT)
    missing: list[tuple[str, str, str]] = []
    for service, reason in why.items():
        if service in offered or any(_usable(e, region, service) for e in here):
            continue
        if any(_serves(e, region, service) for e in unplaced.get(service, [])):
            blind.append(label(consumer))  # an endpoint whose VPC cannot be seen may be the one
            continue
        half = [e for e in here if _serves(e, region, service)]
        elsewhere = sorted({r for e in here for r, s in [endpoint_service(e)] if s == service and r})
        what = ("its endpoint has private DNS off" if half else
                f"only an endpoint for {', '.join(elsewhere)}, and the consumer is in {region}"
                if elsewhere else "no endpoint in its VPC")
        missing.append((service, reason, what))
    return missing


def required_endpoints(graph: StackGraph, args: StackValidationArgs) -> Violations:
    """Judged per consumer, in its VPC and its region (the region of its own provider; failing that, the one its
    VPC's endpoints name): a stack with explicit providers or several regions is judged region by region. An
    asleep consumer (see `asleep`) needs none until it wakes."""
    consumers, unknown = needs(graph, args)
    unplaced: dict[str | None, list[PolicyResource]] = {}
    for e in graph.unplaced(ENDPOINT):
        unplaced.setdefault(endpoint_service(e)[1], []).append(e)
    routes = Routes.of(graph)
    blind: list[str] = []
    for consumer, why in consumers:
        vpc = graph.vpc_of(consumer)
        region = graph.region_of(consumer)
        # On another stack's network: what that stack says it offers (its outputs, through the StackReference).
        offer = graph.network_offer(consumer)
        if vpc is None and offer is None:
            blind.append(label(consumer))  # never paired with another VPC's endpoints
            continue
        if offer and region is None:
            region = offer.get(NetworkOut.REGION)
        on_offer = offer is not None and offer.get(NetworkOut.REGION) == region
        offered = set(offer.get(NetworkOut.ENDPOINT_SERVICES) or []) if offer and on_offer else set()
        # On a network stack that is asleep (its `state` output): its endpoints return when it wakes; nothing in
        # this program could give them now (the program reports "network asleep").
        network_asleep = bool(offer) and offer.get(NetworkOut.STATE) == ASLEEP
        if asleep(graph, consumer, graph.in_vpc_of(vpc, ENDPOINT), offered) or network_asleep \
                or routes.routes_out(consumer):
            continue
        missing = _missing(graph, consumer, why, region, offered, unplaced, blind)
        if missing:
            # One finding per consumer: the missing endpoints are one root cause, however many there are.
            names = ", ".join(s for s, _, _ in missing)
            detail = "; ".join(f"needs {s} for {reason}, but there is {what}" for s, reason, what in missing)
            yield fix(detail, label(consumer), remedy(consumer.urn, _how_to_add([s for s, _, _ in missing]),
                      f"add {names} to airgap:endpoints, or leave that key empty so the endpoints follow "
                      "the workloads")), consumer.urn
    if unknown:
        args.not_applicable(f"container definitions of {', '.join(unknown)} are unknown; checked during update")
    if blind:
        args.not_applicable(_blind(blind))


def _how_to_add(services: list[str]) -> str:
    """S3 through a gateway endpoint on the route tables (free), every other service through an interface endpoint."""
    interfaces = [s for s in services if s != "s3"]
    parts = [f"an aws.ec2.VpcEndpoint for each of {', '.join(interfaces)} (vpc_endpoint_type Interface, "
             "private_dns_enabled=True) in its VPC"] if interfaces else []
    if "s3" in services:
        parts.append("an S3 gateway endpoint (vpc_endpoint_type Gateway, on its subnets' route tables)")
    return "add " + ", and ".join(parts)


def _blind(labels: list[str]) -> str:
    return (f"the VPC of {', '.join(sorted(set(labels)))} (or of an endpoint it might use) cannot be traced in this "
            "stack — it comes from another stack or from an output the pack cannot follow — so its endpoints are "
            "not judged rather than paired with another VPC's")


# --- flows that must be open on both sides -----------------------------------------------------------------------

_BOTH_HALVES = ("add both halves as standalone rules: an aws.vpc.SecurityGroupEgressRule for tcp/443 on the "
                "consumer's group referencing the endpoint group, and an aws.vpc.SecurityGroupIngressRule for tcp/443 "
                "on the endpoint group referencing the consumer's group")


def _names(groups: list[PolicyResource]) -> str:
    return ", ".join(f"'{g.name}'" for g in groups) or "(none)"


def _group_reachability(reach: Reach, consumer: PolicyResource, groups: list[PolicyResource],
                        interfaces: list[PolicyResource]) -> Violations:
    endpoint_groups = {g.urn: g for e in interfaces for g in reach.graph.groups_of(e)}.values()
    for target in endpoint_groups:
        if not reach.egress(groups, target, 443):
            yield fix(f"cannot send 443 to endpoint group '{target.name}': no egress rule on its groups "
                      f"({_names(groups)}), so its calls to AWS time out", label(consumer),
                      remedy(consumer.urn, _BOTH_HALVES, "endpoints.allow_from(<its Connections>)")), consumer.urn
        if not reach.ingress(target, groups, 443):
            yield fix(f"the endpoint group does not admit 443 from {label(consumer)}'s groups "
                      f"({_names(groups)}), so its calls to AWS time out and it never registers",
                      f"SecurityGroup '{target.name}'",
                      remedy(target.urn, _BOTH_HALVES, "endpoints.allow_from(<its Connections>)")), target.urn


def endpoint_reachability(graph: StackGraph, args: StackValidationArgs) -> Violations:
    reach = Reach.of(graph)
    blind: list[str] = []
    for consumer in graph.of(INSTANCE, SERVICE):
        groups = graph.groups_of(consumer)
        if not groups:
            continue  # its groups live outside this stack: their rules cannot be seen from here
        vpc = graph.vpc_of(consumer)
        offer = graph.network_offer(consumer)
        if vpc is None and offer is None:
            blind.append(label(consumer))
            continue
        endpoints = graph.in_vpc_of(vpc, ENDPOINT)
        shared_group = offer.get(NetworkOut.ENDPOINT_GROUP_ID) if offer else None
        if offer and set(offer.get(NetworkOut.ENDPOINT_SERVICES) or []) - {"s3"} and shared_group:
            yield from _shared_group_reachability(graph, consumer, groups, str(shared_group))
        yield from _group_reachability(reach, consumer, groups,
                                       [e for e in endpoints if endpoint_type(e) == "Interface"])
        shared_s3 = str((offer or {}).get(NetworkOut.S3_PREFIX_LIST_ID) or "") if "s3" in ((offer or {}).get(
            NetworkOut.ENDPOINT_SERVICES) or []) else ""
        if (any(is_s3_gateway(e) for e in endpoints) or shared_s3) and not reach.egress_to_s3(groups, shared_s3):
            yield fix("cannot reach S3 through the gateway: no 443 egress to the S3 prefix list (ECR layers and "
                      "dnf repositories live in S3)", label(consumer),
                      remedy(consumer.urn, "add an aws.vpc.SecurityGroupEgressRule for tcp/443 with "
                             "prefix_list_id set to the gateway endpoint's prefix_list_id",
                             "endpoints.allow_from(<its Connections>)")), consumer.urn
    if blind:
        args.not_applicable(_blind(blind))


class _RulesById:
    """Standalone rules by the group id they name literally: how a workload stack's rules name the network stack's
    endpoint group, which it knows only by id."""

    def __init__(self, graph: StackGraph) -> None:
        self.egress_to: dict[str, list[PolicyResource]] = {}
        self.ingress_on: dict[str, list[PolicyResource]] = {}
        for r in graph.of(EGRESS):
            if isinstance(group := get(r.props, "referencedSecurityGroupId"), str):
                self.egress_to.setdefault(group, []).append(r)
        for r in graph.of(INGRESS):
            if isinstance(group := get(r.props, "securityGroupId"), str):
                self.ingress_on.setdefault(group, []).append(r)


def _covers_443(rule: PolicyResource) -> bool:
    view: RuleView = rules_of(rule.resource_type, rule.props)[0]
    return view.covers(443)


def _shared_group_reachability(graph: StackGraph, consumer: PolicyResource, groups: list[PolicyResource],
                               group_id: str) -> Violations:
    """The network stack's endpoint group, known here only by its id: the workload stack must add both halves —
    443 out of the consumer's group to that id, and 443 into that id from the consumer's group."""
    urns = {g.urn for g in groups}
    by_id = graph.shared(_RulesById)
    out = any(_covers_443(r) and any(g.urn in urns for g in graph.feeds(r, "securityGroupId", SG))
              for r in by_id.egress_to.get(group_id, []))
    into = any(_covers_443(r) and any(g.urn in urns for g in graph.feeds(r, "referencedSecurityGroupId", SG))
               for r in by_id.ingress_on.get(group_id, []))
    if not out:
        yield fix(f"cannot send 443 to the network stack's endpoint group {group_id}: no egress rule on its groups "
                  f"({_names(groups)})", label(consumer),
                  remedy(consumer.urn, _BOTH_HALVES, "network.allow_from(<its Connections>)")), consumer.urn
    if not into:
        yield fix(f"the network stack's endpoint group {group_id} does not admit 443 from its groups "
                  f"({_names(groups)}): a workload stack adds that ingress rule itself", label(consumer),
                  remedy(consumer.urn, _BOTH_HALVES, "network.allow_from(<its Connections>)")), consumer.urn


def _ports(view: RuleView) -> str:
    if view.protocol == "all":
        return "(all ports)"
    start, end = view.from_port, view.to_port
    return f"{start:g}" if start == end else f"{start:g}-{end:g}"


def endpoint_group_by_reference(graph: StackGraph, args: StackValidationArgs) -> Violations:
    endpoint_groups = {g.urn for e in graph.of(ENDPOINT) for g in graph.groups_of(e)}
    for e in Reach.of(graph).edges:
        if e.group is None or e.group.urn not in endpoint_groups or e.view.direction != "ingress":
            continue
        port_ok = e.view.protocol == "tcp" and e.view.from_port == 443 and e.view.to_port == 443
        if not port_ok or not e.peers or e.view.cidrs or e.prefix_sources:
            source = ", ".join(map(str, e.view.cidrs)) or _names(list(e.peers))
            yield fix(f"endpoint group '{e.group.name}' admits {e.view.protocol} {_ports(e.view)} from {source}; it "
                      "should admit only tcp/443 from the consumers' groups",
                      label(e.rule), remedy(e.rule.urn, "remove the rule and admit tcp/443 from each consumer's "
                                            "group (referenced_security_group_id)",
                                            "endpoints.allow_from(consumer)")), e.rule.urn


EC2MESSAGES_SCHEMA = PolicyConfigSchema(properties={"ec2messages": {
    "type": "boolean", "default": False,
    "description": "require the ec2messages endpoint for EC2 (only SSM Agent older than 3.3.40.0 needs it)"}})

# Where the endpoint policies apply: any stack, but a workload whose subnets route out reaches AWS that way.
NO_ROUTE_OUT = "workloads in subnets without a route out"

POLICIES = [
    stack_policy("required-endpoints", "Every workload has the VPC endpoints it needs, in its VPC, with private DNS.",
                 required_endpoints, schema=EC2MESSAGES_SCHEMA, applies=NO_ROUTE_OUT,
                 reads="Instance and ecs.Service placement; Cluster exec config; TaskDefinition images and log "
                       "drivers; VpcEndpoint service_name, private_dns_enabled, VPC; routes; StackReference outputs"),
    stack_policy("endpoint-reachability", "Every endpoint consumer has 443 egress to the endpoint group and the "
                 "endpoint group admits 443 from it; and it can reach S3 through the gateway.",
                 endpoint_reachability, severity=Severity.HIGH, applies=NO_ROUTE_OUT,
                 reads="the consumers' and endpoints' security groups and every rule on them; S3 gateway prefix list"),
    stack_policy("endpoint-group-ingress-by-reference", "The endpoint group admits only tcp/443, only from "
                 "referenced security groups.", endpoint_group_by_reference, applies=PRIVATE_ONLY,
                 reads="VpcEndpoint security_group_ids; ingress rules on those groups"),
]
