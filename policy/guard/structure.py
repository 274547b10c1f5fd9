"""Stack policies on the stack's structure: no security groups that name each other inline, every VPC's default
group adopted, EC2 instances reachable by Session Manager, distinct ECS task roles, flow logs, and the interface
endpoints' cost."""

from __future__ import annotations

from collections.abc import Iterator

from pulumi_policy import PolicyConfigSchema, PolicyResource, Severity, StackValidationArgs

from guard import prices
from guard.exec_targets import exec_intent
from guard.graph import StackGraph, endpoint_service, endpoint_type, label
from guard.kit import ADVISORY, config, stack_policy
from guard.types import (
    ATTACHMENT,
    DEFAULT_SG,
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


BUDGET_SCHEMA = PolicyConfigSchema(properties={"monthlyBudgetUsd": {
    "type": "number", "default": 60, "description": "monthly budget for interface endpoints, in USD"}})

POLICIES = [
    stack_policy("no-security-group-cycles", "No security groups reference each other through inline rules.",
                 no_group_cycles, severity=Severity.CRITICAL),
    stack_policy("default-security-group-managed", "Every VPC's default security group is adopted and emptied.",
                 default_group_managed, severity=Severity.MEDIUM),
    stack_policy("ec2-ssm-managed", "EC2 instances carry AmazonSSMManagedInstanceCore through their profile.",
                 ec2_ssm_managed),
    stack_policy("ecs-task-roles-distinct", "ECS tasks have a task role, distinct from the execution role.",
                 ecs_roles_distinct),
    stack_policy("vpc-flow-logs", "Every VPC records its refused traffic at least (VPC flow logs).", vpc_flow_logs,
                 severity=Severity.MEDIUM),
    stack_policy("endpoint-budget", "The interface endpoints' monthly cost stays within budget.", endpoint_budget,
                 level=ADVISORY, severity=Severity.LOW, schema=BUDGET_SCHEMA),
]
