"""Stack policies: what only the whole graph can tell. Which endpoints the workloads need, whether every flow they
need is allowed on both sides, whether groups form a cycle, what the endpoints cost.

Everything is matched through property dependencies (which resource feeds which property), so these run unchanged
in the first preview of a new stack, where every id is unknown.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from dataclasses import dataclass

from pulumi_policy import PolicyConfigSchema, PolicyResource, Severity, StackValidationArgs

from guard import prices
from guard.exec_targets import exec_intent
from guard.graph import StackGraph, endpoint_service, endpoint_type, label
from guard.kit import ADVISORY, config, stack_policy
from guard.types import (
    ATTACHMENT,
    CLUSTER,
    DEFAULT_SG,
    EGRESS,
    ENDPOINT,
    FILE_SYSTEM,
    FLOW_LOG,
    FS_POLICY,
    INGRESS,
    INSTANCE,
    INSTANCE_STATE,
    KMS_KEY,
    MOUNT_TARGET,
    PROFILE,
    ROLE,
    ROUTE,
    SERVICE,
    SG,
    SUBNET,
    TASK,
    VPC,
)
from guard.values import (
    ANYWHERE,
    LEGACY_RULE,
    UNKNOWN,
    RuleView,
    as_list,
    fix,
    get,
    json_document,
    remedy,
    rules_of,
)

Violations = Iterator[tuple[str, str]]


# --- security-group rules as graph edges ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Edge:
    rule: PolicyResource
    view: RuleView
    group: PolicyResource | None  # the group the rule is on
    peers: tuple[PolicyResource, ...]  # groups it references
    prefix_sources: tuple[PolicyResource, ...]  # endpoints whose prefix list it references


def _signature(direction: str, protocol: object, start: object, end: object, cidrs: list, groups: list,
               prefixes: list) -> tuple:
    protocol = str(protocol).lower()
    protocol = {"-1": "all", "6": "tcp", "17": "udp"}.get(protocol, protocol)
    ports = () if protocol == "all" else (start, end)
    return (direction, protocol, ports, tuple(sorted(map(str, cidrs))), tuple(sorted(map(str, groups))),
            tuple(sorted(map(str, prefixes))))


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
        mirrored = read_back.get(group.urn, set())
        for direction in ("ingress", "egress"):
            entries = get(group.props, direction, [])
            if entries is UNKNOWN:
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


def _first(items: list[PolicyResource]) -> PolicyResource | None:
    return items[0] if items else None


def _vpc_cidrs(graph: StackGraph) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    cidrs = []
    for vpc in graph.of(VPC):
        block = get(vpc.props, "cidrBlock")
        if isinstance(block, str):
            cidrs.append(ipaddress.ip_network(block, strict=False))
    return cidrs


def _cidr_reaches_vpc(cidr: object, vpc_cidrs: list) -> bool:
    if not isinstance(cidr, str):
        return False
    try:
        network = ipaddress.ip_network(cidr, strict=False)
    except ValueError:
        return False
    return any(network.version == v.version and v.subnet_of(network) for v in vpc_cidrs)


class Flows:
    """Answers 'may A open a connection to B on port P', one side at a time."""

    def __init__(self, graph: StackGraph) -> None:
        self.graph, self.edges, self.vpc_cidrs = graph, edges(graph), _vpc_cidrs(graph)

    def _on(self, group: PolicyResource, direction: str, port: int) -> list[Edge]:
        return [e for e in self.edges if e.group is not None and e.group.urn == group.urn
                and e.view.direction == direction and e.view.covers(port)]

    def egress(self, sources: list[PolicyResource], target: PolicyResource, port: int) -> bool:
        return any(target.urn in {p.urn for p in e.peers} or any(_cidr_reaches_vpc(c, self.vpc_cidrs)
                                                                 for c in e.view.cidrs)
                   for s in sources for e in self._on(s, "egress", port))

    def ingress(self, target: PolicyResource, sources: list[PolicyResource], port: int) -> bool:
        urns = {s.urn for s in sources}
        return any(urns & {p.urn for p in e.peers} or any(_cidr_reaches_vpc(c, self.vpc_cidrs) for c in e.view.cidrs)
                   for e in self._on(target, "ingress", port))

    def egress_to_s3(self, sources: list[PolicyResource], prefix_list_id: str = "") -> bool:
        """443 out to S3's prefix list (of a gateway in this stack, or `prefix_list_id`: another stack's)."""
        return any(any(_is_s3_gateway(p) for p in e.prefix_sources) or any(c in ANYWHERE for c in e.view.cidrs)
                   or (prefix_list_id and get(e.rule.props, "prefixListId") == prefix_list_id)
                   for s in sources for e in self._on(s, "egress", 443))


def _is_s3_gateway(endpoint: PolicyResource) -> bool:
    service = get(endpoint.props, "serviceName")
    return isinstance(service, str) and service.endswith(".s3") and endpoint_type(endpoint) == "Gateway"


def _ports(view: RuleView) -> str:
    if view.protocol == "all":
        return "(all ports)"
    start, end = view.from_port, view.to_port
    return f"{start:g}" if start == end else f"{start:g}-{end:g}"


def _names(groups: list[PolicyResource]) -> str:
    return ", ".join(f"'{g.name}'" for g in groups) or "(none)"


# --- which endpoints the workloads need ----------------------------------------------------------------------------

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


Needs = list[tuple[PolicyResource, dict[str, str]]]


def needs(graph: StackGraph, args: StackValidationArgs) -> tuple[Needs, list[str]]:
    """[(consumer, {endpoint service: why})], and the consumers whose needs are unknown in this preview."""
    found: Needs = []
    unknown: list[str] = []
    for instance in graph.of(INSTANCE):
        why = {"ssm": "the SSM agent registers the instance", "ssmmessages": "Session Manager sessions"}
        if config(args, "ec2messages", False):
            why["ec2messages"] = "SSM Agent older than 3.3.40.0 (policy config ec2messages)"
        found.append((instance, why))
    for service in graph.of(SERVICE):
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
        found.append((service, why))
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


def required_endpoints(graph: StackGraph, args: StackValidationArgs) -> Violations:
    """Judged per consumer, in its VPC and its region (the region of its own provider; failing that, the one its
    VPC's endpoints name): a stack with explicit providers or several regions is judged region by region. An
    asleep consumer (see `asleep`) needs none until it wakes."""
    consumers, unknown = needs(graph, args)
    endpoints = graph.of(ENDPOINT)
    unplaced = [e for e in endpoints if graph.vpc_of(e) is None]
    blind: list[str] = []
    for consumer, why in consumers:
        vpc = graph.vpc_of(consumer)
        region = graph.region_of(consumer)
        # On another stack's network: what that stack says it offers (its outputs, through the StackReference).
        offer = graph.network_offer(consumer)
        if vpc is None and offer is None:
            blind.append(label(consumer))  # never paired with another VPC's endpoints
            continue
        here = graph.in_vpc(endpoints, vpc)
        if offer and region is None:
            region = offer.get("region")
        offered = set(offer.get("endpointServices") or []) if offer and offer.get("region") == region else set()
        # On a network stack that is asleep (its `state` output): its endpoints return when it wakes; nothing in
        # this program could give them now (the program reports "network asleep").
        network_asleep = bool(offer) and offer.get("state") == "asleep"
        if asleep(graph, consumer, here, offered) or network_asleep or _routes_out(graph, consumer):
            continue
        missing: list[tuple[str, str, str]] = []  # (service, why it is needed, what is there instead)
        for service, reason in why.items():
            if service in offered:
                continue
            if not any(_usable(e, region, service) for e in here):
                if any(_serves(e, region, service) for e in unplaced):
                    blind.append(label(consumer))  # an endpoint whose VPC cannot be seen may be the one
                    continue
                half = [e for e in here if _serves(e, region, service)]
                elsewhere = sorted({r for e in here for r, s in [endpoint_service(e)] if s == service and r})
                what = ("its endpoint has private DNS off" if half else
                        f"only an endpoint for {', '.join(elsewhere)}, and the consumer is in {region}"
                        if elsewhere else "no endpoint in its VPC")
                missing.append((service, reason, what))
        if missing:
            # One finding per consumer: the missing endpoints are one root cause, however many there are.
            names = ", ".join(s for s, _, _ in missing)
            detail = "; ".join(f"needs {s} for {reason}, but there is {what}" for s, reason, what in missing)
            yield fix(detail, label(consumer),
                      remedy(consumer.urn, f"add an aws.ec2.VpcEndpoint for each of {names} (vpc_endpoint_type "
                             "Interface, private_dns_enabled=True) in its VPC",
                             f"add {names} to airgap:endpoints, or leave that key empty so the endpoints follow "
                             "the workloads")), consumer.urn
    if unknown:
        args.not_applicable(f"container definitions of {', '.join(unknown)} are unknown; checked during update")
    if blind:
        args.not_applicable(_blind(blind))


def _routes_out(graph: StackGraph, consumer: PolicyResource) -> bool:
    """Every subnet it runs in has a default route (to a NAT or internet gateway): it reaches AWS's public service
    endpoints that way, and needs no interface endpoint (an ordinary VPC, not a private-only one)."""
    subnets = graph.feeds(consumer, "subnetId" if consumer.resource_type == INSTANCE else "networkConfiguration",
                          SUBNET)
    return bool(subnets) and all(any(_has_default_route(graph, t) for t in graph.route_tables_of(s))
                                 for s in subnets)


def _blind(labels: list[str]) -> str:
    return (f"the VPC of {', '.join(sorted(set(labels)))} (or of an endpoint it might use) cannot be traced in this "
            "stack — it comes from another stack or from an output the pack cannot follow — so its endpoints are "
            "not judged rather than paired with another VPC's")


# --- flows that must be open on both sides -----------------------------------------------------------------------

def endpoint_reachability(graph: StackGraph, args: StackValidationArgs) -> Violations:
    flows = Flows(graph)
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
        interfaces = [e for e in graph.in_vpc(graph.of(ENDPOINT), vpc) if endpoint_type(e) == "Interface"]
        endpoint_groups = {g.urn: g for e in interfaces for g in graph.groups_of(e)}.values()
        if offer and set(offer.get("endpointServices") or []) - {"s3"} and offer.get("endpointGroupId"):
            yield from _shared_group_reachability(graph, consumer, groups, str(offer["endpointGroupId"]))
        for target in endpoint_groups:
            if not flows.egress(groups, target, 443):
                yield fix(f"cannot send 443 to endpoint group '{target.name}': no egress rule on its groups "
                          f"({_names(groups)}), so its calls to AWS time out", label(consumer),
                          remedy(consumer.urn, _BOTH_HALVES, "endpoints.allow_from(<its Connections>)")), \
                    consumer.urn
            if not flows.ingress(target, groups, 443):
                yield fix(f"the endpoint group does not admit 443 from {label(consumer)}'s groups "
                          f"({_names(groups)}), so its calls to AWS time out and it never registers",
                          f"SecurityGroup '{target.name}'",
                          remedy(target.urn, _BOTH_HALVES, "endpoints.allow_from(<its Connections>)")), \
                    target.urn
        shared_s3 = str((offer or {}).get("s3PrefixListId") or "") if "s3" in ((offer or {}).get(
            "endpointServices") or []) else ""
        if (any(_is_s3_gateway(e) for e in graph.in_vpc(graph.of(ENDPOINT), vpc)) or shared_s3) \
                and not flows.egress_to_s3(groups, shared_s3):
            yield fix("cannot reach S3 through the gateway: no 443 egress to the S3 prefix list (ECR layers and "
                      "dnf repositories live in S3)", label(consumer),
                      remedy(consumer.urn, "add an aws.vpc.SecurityGroupEgressRule for tcp/443 with "
                             "prefix_list_id set to the gateway endpoint's prefix_list_id",
                             "endpoints.allow_from(<its Connections>)")), \
                consumer.urn
    if blind:
        args.not_applicable(_blind(blind))


_NFS_HALVES = ("add both halves as standalone rules: tcp/2049 egress on the client's group referencing the share's "
               "group, and tcp/2049 ingress on the share's group referencing the client's group")
_BOTH_HALVES = ("add both halves as standalone rules: an aws.vpc.SecurityGroupEgressRule for tcp/443 on the "
                "consumer's group referencing the endpoint group, and an aws.vpc.SecurityGroupIngressRule for tcp/443 "
                "on the endpoint group referencing the consumer's group")


def _shared_group_reachability(graph: StackGraph, consumer: PolicyResource, groups: list[PolicyResource],
                               group_id: str) -> Violations:
    """The network stack's endpoint group, known here only by its id: the workload stack must add both halves —
    443 out of the consumer's group to that id, and 443 into that id from the consumer's group."""
    urns = {g.urn for g in groups}
    out = any(get(r.props, "referencedSecurityGroupId") == group_id
              and rules_of(r.resource_type, r.props)[0].covers(443)
              and any(g.urn in urns for g in graph.feeds(r, "securityGroupId", SG)) for r in graph.of(EGRESS))
    into = any(get(r.props, "securityGroupId") == group_id and rules_of(r.resource_type, r.props)[0].covers(443)
               and any(g.urn in urns for g in graph.feeds(r, "referencedSecurityGroupId", SG))
               for r in graph.of(INGRESS))
    if not out:
        yield fix(f"cannot send 443 to the network stack's endpoint group {group_id}: no egress rule on its groups "
                  f"({_names(groups)})", label(consumer),
                  remedy(consumer.urn, _BOTH_HALVES, "network.allow_from(<its Connections>)")), consumer.urn
    if not into:
        yield fix(f"the network stack's endpoint group {group_id} does not admit 443 from its groups "
                  f"({_names(groups)}): a workload stack adds that ingress rule itself", label(consumer),
                  remedy(consumer.urn, _BOTH_HALVES, "network.allow_from(<its Connections>)")), consumer.urn


def _share_groups(graph: StackGraph, fs: PolicyResource) -> list[PolicyResource]:
    groups: dict[str, PolicyResource] = {}
    for target in graph.fed_by(fs, "fileSystemId", MOUNT_TARGET):
        groups.update({g.urn: g for g in graph.groups_of(target)})
    return list(groups.values())


def _share_clients(graph: StackGraph, flows: Flows, fs: PolicyResource, share: list[PolicyResource]) \
        -> dict[str, tuple[str, list[PolicyResource]]]:
    """Client name -> (what it is, its groups): groups any rule pairs with the share's, and instances whose role
    the file-system policy grants."""
    urns = {g.urn for g in share}
    clients: dict[str, tuple[str, list[PolicyResource]]] = {}
    for e in flows.edges:
        if e.group is None or not e.view.covers(2049):
            continue
        if e.group.urn in urns:
            for p in e.peers:
                if p.urn not in urns:
                    clients[p.urn] = (f"SecurityGroup '{p.name}'", [p])
        elif urns & {p.urn for p in e.peers}:
            clients[e.group.urn] = (f"SecurityGroup '{e.group.name}'", [e.group])
    for policy in graph.fed_by(fs, "fileSystemId", FS_POLICY):
        for role in graph.feeds(policy, "policy", ROLE):
            for profile in graph.fed_by(role, "role", PROFILE):
                for instance in graph.fed_by(profile, "iamInstanceProfile", INSTANCE):
                    groups = graph.groups_of(instance)
                    if groups and not any(g.urn in clients for g in groups):
                        clients[instance.urn] = (label(instance), groups)
    return clients


def efs_reachability(graph: StackGraph, args: StackValidationArgs) -> Violations:
    flows = Flows(graph)
    for fs in graph.of(FILE_SYSTEM):
        share = _share_groups(graph, fs)
        for urn, (name, groups) in _share_clients(graph, flows, fs, share).items():
            for target in share:
                if not flows.egress(groups, target, 2049):
                    yield fix(f"may mount {label(fs)} but has no 2049 egress to its group '{target.name}'",
                              name, remedy(urn, _NFS_HALVES, "client.connections.allow_to(share.connections, "
                                           "Port.tcp(2049), ...)")), urn
                if not flows.ingress(target, groups, 2049):
                    yield fix(f"the file share's group does not admit 2049 from {name}",
                              f"SecurityGroup '{target.name}'", remedy(target.urn, _NFS_HALVES,
                                                                       "client.connections.allow_to(share.connections, "
                                                                       "Port.tcp(2049), ...)")), target.urn


def endpoint_group_by_reference(graph: StackGraph, args: StackValidationArgs) -> Violations:
    endpoint_groups = {g.urn: g for e in graph.of(ENDPOINT) for g in graph.groups_of(e)}
    for e in edges(graph):
        if e.group is None or e.group.urn not in endpoint_groups or e.view.direction != "ingress":
            continue
        port_ok = e.view.protocol == "tcp" and e.view.from_port == 443 and e.view.to_port == 443
        if not port_ok or not e.peers or e.view.cidrs or e.prefix_sources:
            source = ", ".join(map(str, e.view.cidrs)) or _names(list(e.peers))
            yield fix(f"endpoint group '{e.group.name}' admits {e.view.protocol} {_ports(e.view)} from {source}; it "
                      "should admit only tcp/443 from the consumers' groups",
                      label(e.rule), remedy(e.rule.urn, "remove the rule and admit tcp/443 from each consumer's "
                                            "group (referenced_security_group_id)",
                                            "endpoints.allow_from(consumer)")), \
                e.rule.urn


# --- structure -------------------------------------------------------------------------------------------------------

def no_group_cycles(graph: StackGraph, args: StackValidationArgs) -> Violations:
    names = {g.urn: g for g in graph.of(SG)}
    refers = {g.urn: {p.urn for d in ("ingress", "egress") for p in graph.feeds(g, d, SG) if p.urn != g.urn}
              for g in names.values()}
    reported: set[frozenset[str]] = set()
    for start in refers:
        stack, path = [(start, [start])], None
        while stack:
            node, trail = stack.pop()
            for nxt in refers.get(node, ()):
                if nxt == start:
                    path = trail
                    break
                if nxt not in trail:
                    stack.append((nxt, [*trail, nxt]))
            if path:
                break
        if path and frozenset(path) not in reported:
            reported.add(frozenset(path))
            cycle = " -> ".join(f"'{names[u].name}'" for u in [*path, start])
            yield fix(f"security groups reference each other through inline rules ({cycle}): neither can be "
                      "created first — 'Circular dependency between resources'", label(names[start]),
                      remedy(start, "move the rules out of the groups into standalone "
                             "aws.vpc.SecurityGroupIngressRule / SecurityGroupEgressRule resources",
                             "Connections.allow_to")), start


def default_group_managed(graph: StackGraph, args: StackValidationArgs) -> Violations:
    for vpc in graph.of(VPC):
        if not graph.fed_by(vpc, "vpcId", DEFAULT_SG):
            yield fix("the VPC's default security group is not managed, so it keeps AWS's allow-all-from-itself "
                      "rules", label(vpc), "adopt it with aws.ec2.DefaultSecurityGroup(vpc_id=vpc.id) and no "
                      "rules"), vpc.urn


def ec2_ssm_managed(graph: StackGraph, args: StackValidationArgs) -> Violations:
    for instance in graph.of(INSTANCE):
        roles = [r for p in graph.feeds(instance, "iamInstanceProfile", PROFILE) for r in graph.feeds(p, "role", ROLE)]
        managed = any(str(get(a.props, "policyArn", "")).endswith(":policy/AmazonSSMManagedInstanceCore")
                      for r in roles for a in graph.fed_by(r, "role", ATTACHMENT))
        managed = managed or any("AmazonSSMManagedInstanceCore" in str(get(r.props, "managedPolicyArns", ""))
                                 for r in roles)
        if not managed:
            yield fix("the instance's role does not carry AmazonSSMManagedInstanceCore, so Session Manager cannot "
                      "reach it and nothing else can", label(instance), "give it an instance profile whose role "
                      "attaches arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"), instance.urn


def ecs_roles_distinct(graph: StackGraph, args: StackValidationArgs) -> Violations:
    for task in graph.of(TASK):
        def role(prop: str, t: PolicyResource = task) -> str | None:
            fed = graph.feeds(t, prop, ROLE)
            if fed:
                return fed[0].urn
            literal = get(t.props, prop)
            return literal if isinstance(literal, str) else None

        task_role, execution_role = role("taskRoleArn"), role("executionRoleArn")
        # Only a task reached with ECS Exec needs a task role of its own (for the channel); any task gains from two.
        exec_target = any(get(s.props, "enableExecuteCommand") is True or exec_intent(graph, s)
                          for s in graph.fed_by(task, "taskDefinition", SERVICE))
        if task_role is None and exec_target:
            yield fix("the task has no task role, so ECS Exec has no identity to open its channels with",
                      label(task), "give it a task role with the four ssmmessages channel actions"), task.urn
        elif task_role == execution_role:
            yield fix("the task role and the execution role are the same role, so the container holds the image "
                      "pull and log permissions ECS needs, and ECS holds whatever the app needs", label(task),
                      "use two roles: execution (pull, logs) and task (ssmmessages, exec logging)"), task.urn


def efs_has_tls_policy(graph: StackGraph, args: StackValidationArgs) -> Violations:
    for fs in graph.of(FILE_SYSTEM):
        if not graph.fed_by(fs, "fileSystemId", FS_POLICY):
            yield fix("the file system has no file-system policy, so any client that reaches a mount target may "
                      "mount it, with or without TLS", label(fs),
                      remedy(fs.urn, "add an aws.efs.FileSystemPolicy that denies access when aws:SecureTransport is "
                             "false and allows only the roles that mount it", "FileShare.grant_mount(role)")), fs.urn


def _has_default_route(graph: StackGraph, table: PolicyResource) -> bool:
    inline = get(table.props, "routes", [])
    if inline is not UNKNOWN and any(get(r, "cidrBlock") in ANYWHERE or get(r, "ipv6CidrBlock") in ANYWHERE
                                     for r in inline):
        return True
    return any(get(r.props, "destinationCidrBlock") in ANYWHERE or get(r.props, "destinationIpv6CidrBlock") in ANYWHERE
               for r in graph.fed_by(table, "routeTableId", ROUTE))


def efs_isolated(graph: StackGraph, args: StackValidationArgs) -> Violations:
    for target in graph.of(MOUNT_TARGET):
        for subnet in graph.feeds(target, "subnetId", SUBNET):
            public = get(subnet.props, "mapPublicIpOnLaunch") is True
            routed = any(_has_default_route(graph, t) for t in graph.route_tables_of(subnet))
            if public or routed:
                yield fix(f"the mount target sits in {label(subnet)}, which "
                          f"{'maps public IPs' if public else 'has a default route'}", label(target),
                          "place mount targets only in the isolated subnets"), target.urn


def vpc_flow_logs(graph: StackGraph, args: StackValidationArgs) -> Violations:
    for vpc in graph.of(VPC):
        logs = graph.fed_by(vpc, "vpcId", FLOW_LOG)
        if not logs:
            yield fix("the VPC records no flow logs, so a refused connection leaves no trace to read (Security Hub "
                      "EC2.6)", label(vpc), "add an aws.ec2.FlowLog with vpc_id set to it and traffic_type REJECT "
                      "or ALL"), vpc.urn
        elif all(get(f.props, "trafficType") == "ACCEPT" for f in logs):
            yield fix("the VPC's flow logs record only accepted traffic: refused connections, what an operator "
                      "reads first, are not recorded", label(vpc), "set traffic_type to REJECT or ALL"), vpc.urn


def endpoint_budget(graph: StackGraph, args: StackValidationArgs) -> Violations:
    """Each interface endpoint priced in the region its service name names."""
    budget = float(config(args, "monthlyBudgetUsd", 60))
    lines, interfaces, monthly, fallbacks = [], 0, 0.0, set()
    for e in graph.of(ENDPOINT):
        if endpoint_type(e) != "Interface":
            continue
        subnets = get(e.props, "subnetIds", [])
        count = len(graph.feeds(e, "subnetIds", SUBNET)) if subnets is UNKNOWN else len(subnets)
        region, service = endpoint_service(e)
        _, priced_as = prices.prices_for(region)
        if priced_as != region:
            fallbacks.add(region or "an unknown region")
        interfaces += count
        monthly += prices.interface_endpoints_month(count, priced_as)
        lines.append(f"{service or e.name} x{count} AZ")
    # Sorted: the engine's registration order varies from run to run, the message should not.
    lines.sort()
    if monthly > budget:
        note = f" (priced as {prices.FALLBACK_REGION} for {', '.join(sorted(fallbacks))})" if fallbacks else ""
        yield fix(f"the interface endpoints cost about ${monthly:.0f}/month{note} — {interfaces} endpoint-AZs "
                  f"({', '.join(lines)}), billed every hour, idle or not — over the ${budget:.0f} budget", "stack",
                  remedy(next((e.urn for e in graph.of(ENDPOINT)), None),
                         "place each interface endpoint in fewer subnets, delete the endpoints of workloads not in "
                         "use, or raise the policy's monthlyBudgetUsd",
                         "endpointPlacement=single-az, bastion=off, or `python3 dev.py sleep` when unused")), ""


EC2MESSAGES_SCHEMA = PolicyConfigSchema(properties={"ec2messages": {
    "type": "boolean", "default": False,
    "description": "require the ec2messages endpoint for EC2 (only SSM Agent older than 3.3.40.0 needs it)"}})
BUDGET_SCHEMA = PolicyConfigSchema(properties={"monthlyBudgetUsd": {
    "type": "number", "default": 60, "description": "monthly budget for interface endpoints, in USD"}})

POLICIES = [
    stack_policy("required-endpoints", "Every workload has the VPC endpoints it needs, in its VPC, with private DNS.",
                 required_endpoints, schema=EC2MESSAGES_SCHEMA),
    stack_policy("endpoint-reachability", "Every endpoint consumer has 443 egress to the endpoint group and the "
                 "endpoint group admits 443 from it; and it can reach S3 through the gateway.",
                 endpoint_reachability, severity=Severity.HIGH),
    stack_policy("efs-reachability", "Every file-share client has 2049 egress to the share's group and the share's "
                 "group admits 2049 from it.", efs_reachability),
    stack_policy("endpoint-group-ingress-by-reference", "The endpoint group admits only tcp/443, only from "
                 "referenced security groups.", endpoint_group_by_reference),
    stack_policy("no-security-group-cycles", "No security groups reference each other through inline rules.",
                 no_group_cycles, severity=Severity.CRITICAL),
    stack_policy("default-security-group-managed", "Every VPC's default security group is adopted and emptied.",
                 default_group_managed, severity=Severity.MEDIUM),
    stack_policy("ec2-ssm-managed", "EC2 instances carry AmazonSSMManagedInstanceCore through their profile.",
                 ec2_ssm_managed),
    stack_policy("ecs-task-roles-distinct", "ECS tasks have a task role, distinct from the execution role.",
                 ecs_roles_distinct),
    stack_policy("efs-has-tls-policy", "Every EFS file system has a file-system policy.", efs_has_tls_policy),
    stack_policy("efs-mount-targets-isolated", "EFS mount targets sit only in isolated subnets.", efs_isolated),
    stack_policy("vpc-flow-logs", "Every VPC records its refused traffic at least (VPC flow logs).", vpc_flow_logs,
                 severity=Severity.MEDIUM),
    stack_policy("endpoint-budget", "The interface endpoints' monthly cost stays within budget.", endpoint_budget,
                 level=ADVISORY, severity=Severity.LOW, schema=BUDGET_SCHEMA),
]

