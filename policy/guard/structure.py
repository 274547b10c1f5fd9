"""Stack policies on the stack's structure: no security groups that name each other inline, every VPC's default
group adopted, EC2 instances reachable by Session Manager, distinct ECS task roles, flow logs, and the interface
endpoints' cost."""

from __future__ import annotations

from collections.abc import Iterator

from pulumi_policy import PolicyConfigSchema, PolicyResource, Severity, StackValidationArgs

from guard import prices
from guard.exec_targets import exec_intent
from guard.graph import StackGraph, endpoint_service, endpoint_type, label
from guard.iam_documents import managed_arns
from guard.kit import ADVISORY, PRIVATE_ONLY, config, stack_policy
from guard.network import ADMIN_PORTS
from guard.reach import Reach
from guard.types import (
    ATTACHMENT,
    ENDPOINT,
    FLOW_LOG,
    INSTANCE,
    PROFILE,
    ROLE,
    SERVICE,
    SG,
    SUBNET,
    TASK,
    VPC,
)
from guard.values import UNKNOWN, fix, get, remedy

Violations = Iterator[tuple[str, str]]


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


# Either AWS managed policy gives the SSM Agent what it needs to register (AWS Systems Manager User Guide,
# "Configure instance permissions required for Systems Manager").
SSM_POLICIES = ("AmazonSSMManagedInstanceCore", "AmazonSSMManagedEC2InstanceDefaultPolicy")


def _ssm_managed(graph: StackGraph, instance: PolicyResource) -> bool | None:
    """Whether its profile's role carries an SSM managed policy; None when its profile is not in this stack."""
    profiles = graph.feeds(instance, "iamInstanceProfile", PROFILE)
    if not profiles and get(instance.props, "iamInstanceProfile"):
        return None
    roles = [r for p in profiles for r in graph.feeds(p, "role", ROLE)]
    arns = [str(arn) for r in roles for a in graph.fed_by(r, "role", ATTACHMENT) for arn in managed_arns(a)]
    arns += [str(arn) for r in roles for arn in managed_arns(r)]
    return any(arn.endswith(f":policy/{name}") for arn in arns for name in SSM_POLICIES)


def _other_way_in(graph: StackGraph, instance: PolicyResource) -> bool:
    """A key pair, or a group that admits SSH or RDP: the program shows another way to administer it."""
    reach = Reach.of(graph)
    return bool(get(instance.props, "keyName")) or any(
        any(e.view.covers(p) for p in ADMIN_PORTS) for g in graph.groups_of(instance) for e in reach.on(g, "ingress"))


def ec2_ssm_managed(graph: StackGraph, args: StackValidationArgs) -> Violations:
    elsewhere: list[str] = []
    for instance in graph.of(INSTANCE):
        managed = _ssm_managed(graph, instance)
        if managed is None:
            elsewhere.append(label(instance))
            continue
        if managed:
            continue
        what = ("its instance profile's role carries neither AmazonSSMManagedInstanceCore nor "
                "AmazonSSMManagedEC2InstanceDefaultPolicy" if graph.feeds(instance, "iamInstanceProfile", PROFILE)
                else "it has no instance profile")
        alone = "" if _other_way_in(graph, instance) else \
            " — and it has no other way in (no key pair, no SSH or RDP ingress)"
        yield fix(f"{what}, so Systems Manager cannot manage it and Session Manager cannot reach it, unless the "
                  f"account's Default Host Management Configuration does{alone}", label(instance),
                  "give it an instance profile whose role attaches "
                  "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"), instance.urn
    if elsewhere:
        args.not_applicable(f"the instance profile of {', '.join(elsewhere)} is not made in this stack, so its role "
                            "cannot be seen")


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


def vpc_flow_logs(graph: StackGraph, args: StackValidationArgs) -> Violations:
    for vpc in graph.of(VPC):
        logs = graph.fed_by(vpc, "vpcId", FLOW_LOG)
        if not logs:
            yield fix("the VPC records no flow logs, so a refused connection leaves no trace to read (Security Hub "
                      "EC2.6)", label(vpc), remedy(vpc.urn, "add an aws.ec2.FlowLog with vpc_id set to it and "
                      "traffic_type REJECT or ALL", "pulumi config set airgap:flowLogs true")), vpc.urn
        elif all(get(f.props, "trafficType") == "ACCEPT" for f in logs):
            yield fix("the VPC's flow logs record only accepted traffic: refused connections, what an operator "
                      "reads first, are not recorded", label(vpc),
                      remedy(vpc.urn, "set traffic_type to REJECT or ALL",
                             "pulumi config set airgap:flowLogTraffic REJECT (or ALL)")), vpc.urn


def endpoint_budget(graph: StackGraph, args: StackValidationArgs) -> Violations:
    """Each interface endpoint priced in the region its service name names."""
    budget = float(config(args, "monthlyBudgetUsd", BUDGET_USD))
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


# Six endpoints in one AZ (a host's shells with their key and logs, and a bastion) are about $61 in Tokyo.
BUDGET_USD = 75
BUDGET_SCHEMA = PolicyConfigSchema(properties={"monthlyBudgetUsd": {
    "type": "number", "default": BUDGET_USD, "description": "monthly budget for interface endpoints, in USD"}})

POLICIES = [
    stack_policy("no-security-group-cycles", "No security groups reference each other through inline rules.",
                 no_group_cycles, severity=Severity.CRITICAL, reads="SecurityGroup ingress/egress and what feeds them"),
    stack_policy("ec2-ssm-managed", "EC2 instances are managed by Systems Manager: their profile's role carries "
                 "AmazonSSMManagedInstanceCore.", ec2_ssm_managed, controls=("SSM.1",),
                 reads="Instance iam_instance_profile, key_name, groups' ingress; InstanceProfile role; "
                       "RolePolicyAttachment policy_arn; Role managed_policy_arns"),
    stack_policy("ecs-task-roles-distinct", "ECS tasks have a task role, distinct from the execution role.",
                 ecs_roles_distinct, reads="TaskDefinition task_role_arn, execution_role_arn; Service exec intent"),
    stack_policy("vpc-flow-logs", "Every VPC records its refused traffic at least (VPC flow logs).", vpc_flow_logs,
                 controls=("EC2.6",), severity=Severity.MEDIUM, reads="Vpc; FlowLog vpc_id, traffic_type"),
    stack_policy("endpoint-budget", "The interface endpoints' monthly cost stays within budget.", endpoint_budget,
                 level=ADVISORY, severity=Severity.LOW, schema=BUDGET_SCHEMA, applies=PRIVATE_ONLY,
                 reads="VpcEndpoint vpc_endpoint_type, service_name, subnet_ids; guard/prices.py"),
]
