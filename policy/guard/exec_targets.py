"""ECS Exec, judged only on services meant to be reached with it.

An ordinary service that nobody opens a shell in needs no ECS Exec, no init process and no ssmmessages channel: a
finding that tells it otherwise is false. A service is an exec target when it enables exec, or when its program shows
the intent elsewhere — its cluster configures exec (`configuration.execute_command_configuration`), or its task role is
granted the ssmmessages channel actions ECS Exec uses (Amazon ECS Developer Guide, "Monitor Amazon ECS containers with
ECS Exec": the task role needs ssmmessages:CreateControlChannel, CreateDataChannel, OpenControlChannel and
OpenDataChannel). A service with neither, in a VPC that has an ssmmessages endpoint — the channel Session Manager and
ECS Exec use — gets an advisory: that is the classic "TargetNotConnected" setup, but it may also be a VPC whose
endpoint serves only EC2.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

from pulumi_policy import PolicyResource, Severity, StackValidationArgs

from guard.graph import StackGraph, endpoint_service, endpoint_type, label
from guard.iam_documents import documents
from guard.kit import ADVISORY, PRIVATE_ONLY, stack_policy
from guard.types import CLUSTER, ENDPOINT, ROLE, ROLE_POLICY, SERVICE, TASK
from guard.values import UNKNOWN, fix, get, json_document, plain

Violations = Iterator[tuple[str, str]]
CHANNEL = "ssmmessages:"


def _grants_channel(document: object) -> bool:
    return CHANNEL in json.dumps(plain(document)) if document not in (None, UNKNOWN) else False


def exec_intent(graph: StackGraph, service: PolicyResource) -> str | None:
    """Why the program means `service` to be an ECS Exec target, besides enabling it; None when it shows no intent."""
    for cluster in graph.feeds(service, "cluster", CLUSTER):
        if get(cluster.props, "configuration.executeCommandConfiguration") not in (None, UNKNOWN):
            return f"its cluster '{cluster.name}' configures ECS Exec (configuration.execute_command_configuration)"
    for task in graph.feeds(service, "taskDefinition", TASK):
        for role in graph.feeds(task, "taskRoleArn", ROLE):
            attached = [d for p in graph.fed_by(role, "role", ROLE_POLICY) for d in documents(p)]
            if any(_grants_channel(d) for d in documents(role) + attached):
                return f"its task role '{role.name}' is granted the ssmmessages channel actions"
    return None


def _has_ssmmessages_endpoint(graph: StackGraph, service: PolicyResource) -> bool:
    return any(endpoint_type(e) == "Interface" and endpoint_service(e)[1] == "ssmmessages"
               for e in graph.in_vpc_of(graph.vpc_of(service), ENDPOINT))


def task_containers(task: PolicyResource, unknown: list[str]) -> list:
    """A task definition's container definitions, parsed; [] (and its label added to `unknown`) while unknown."""
    found = json_document(task.props, "containerDefinitions")
    if found is UNKNOWN:
        unknown.append(label(task))
        return []
    return found if isinstance(found, list) else []


def _unknown_containers(args: StackValidationArgs, unknown: list[str]) -> None:
    if unknown:
        args.not_applicable(f"container definitions of {', '.join(unknown)} are unknown until their inputs exist; "
                            "checked during update")


def _exec_off(service: PolicyResource) -> bool:
    return get(service.props, "enableExecuteCommand") is not True


def exec_enabled(graph: StackGraph, args: StackValidationArgs) -> Violations:
    for service in graph.of(SERVICE):
        why = exec_intent(graph, service)
        if _exec_off(service) and why:
            yield fix(f"is meant to be reached with ECS Exec ({why}), but enable_execute_command is off, so "
                      "`aws ecs execute-command` and `aws ssm start-session --target ecs:...` fail with "
                      "TargetNotConnected", label(service), "set enable_execute_command=True on the service"), \
                service.urn


def exec_expected(graph: StackGraph, args: StackValidationArgs) -> Violations:
    for service in graph.of(SERVICE):
        if _exec_off(service) and exec_intent(graph, service) is None and _has_ssmmessages_endpoint(graph, service):
            yield fix("its VPC has an ssmmessages endpoint, the channel of Session Manager and ECS Exec, but the "
                      "service does not enable ECS Exec: a session to it (`aws ssm start-session --target ecs:...`) "
                      "fails with TargetNotConnected", label(service),
                      "if it is meant to be reached, set enable_execute_command=True and grant its task role the "
                      "four ssmmessages channel actions; otherwise ignore this advisory"), service.urn


def read_only_root(graph: StackGraph, args: StackValidationArgs) -> Violations:
    """Every container's root filesystem read-only — but a container reached (or meant to be reached) with ECS Exec,
    whose injected SSM agent writes into it (AWS's amazon-ecs-exec-checker requires readonlyRootFilesystem false;
    containers-roadmap #1359)."""
    exec_tasks = {task.urn for service in graph.of(SERVICE) if not _exec_off(service) or exec_intent(graph, service)
                  for task in graph.feeds(service, "taskDefinition", TASK)}
    unknown: list[str] = []
    for task in graph.of(TASK):
        if task.urn in exec_tasks:
            continue
        for c in task_containers(task, unknown):
            if isinstance(c, dict) and c.get("readonlyRootFilesystem") is not True:
                yield fix(f"container '{c.get('name')}' can write to its root filesystem, so whatever gets in can "
                          "change the image's binaries and configuration", label(task),
                          "set readonlyRootFilesystem: true in its container definition and mount a volume where it "
                          "must write (a container you open shells in keeps it writable: enable ECS Exec on its "
                          "service, whose agent needs it)"), task.urn
    _unknown_containers(args, unknown)


def exec_init_process(graph: StackGraph, args: StackValidationArgs) -> Violations:
    unknown: list[str] = []
    for service in graph.of(SERVICE):
        if _exec_off(service):
            continue
        for task in graph.feeds(service, "taskDefinition", TASK):
            for c in task_containers(task, unknown):
                if (c.get("linuxParameters") or {}).get("initProcessEnabled") is not True:
                    yield fix(f"container '{c.get('name')}' is reached with ECS Exec but has no init process, so "
                              "exec sessions leave zombie processes behind", label(task),
                              "set linuxParameters.initProcessEnabled=true in its container definition"), task.urn
    _unknown_containers(args, unknown)


_SERVICES = "ecs.Service enable_execute_command, cluster, task_definition"

POLICIES = [
    stack_policy("ecs-exec-enabled", "ECS services meant to be reached with ECS Exec enable it.", exec_enabled,
                 reads=f"{_SERVICES}; Cluster configuration.execute_command_configuration; the task role's policies"),
    stack_policy("ecs-exec-expected", "A service in a VPC with an ssmmessages endpoint probably means to be reached "
                 "with ECS Exec (advisory).", exec_expected, level=ADVISORY, severity=Severity.LOW,
                 applies=PRIVATE_ONLY, reads=f"{_SERVICES}; VpcEndpoint service_name in its VPC"),
    stack_policy("ecs-exec-init-process", "Containers reached with ECS Exec run an init process.", exec_init_process,
                 severity=Severity.LOW, reads=f"{_SERVICES}; TaskDefinition container_definitions linuxParameters"),
    stack_policy("ecs-read-only-root", "Containers have read-only root filesystems (except those reached with ECS "
                 "Exec, whose agent writes to it).", read_only_root, controls=("ECS.5",),
                 reads=f"TaskDefinition container_definitions readonlyRootFilesystem; {_SERVICES}"),
]
