"""ECS services and task definitions, resource by resource: no public IPs, no privileged containers, no host process
namespace, logs that go somewhere the stack owns, EFS volumes encrypted in transit. (What depends on ECS Exec, and
read-only root filesystems, which ECS Exec cannot use: exec_targets.py.)"""

from __future__ import annotations

from collections.abc import Iterator

from pulumi_policy import ResourceValidationArgs, Severity

from guard.kit import ADVISORY, resource_policy, where
from guard.types import SERVICE, TASK
from guard.values import UNKNOWN, as_list, fix, get, json_document


def ecs_no_public_ip(args: ResourceValidationArgs) -> Iterator[str]:
    if get(args.props, "networkConfiguration.assignPublicIp") is True:
        yield fix("tasks get public IPs", where(args), "set network_configuration.assign_public_ip=False")


def containers(args: ResourceValidationArgs) -> list[dict]:
    """A task definition's container definitions; not applicable (said, not skipped) while they are unknown."""
    found = json_document(args.props, "containerDefinitions")
    if found is UNKNOWN:
        args.not_applicable("the container definitions are unknown until their inputs exist; checked during update")
    return [c for c in found if isinstance(c, dict)] if isinstance(found, list) else []


def ecs_not_privileged(args: ResourceValidationArgs) -> Iterator[str]:
    for c in containers(args):
        if c.get("privileged") is True:
            yield fix(f"container '{c.get('name')}' is privileged", where(args), "remove privileged")


def ecs_logging(args: ResourceValidationArgs) -> Iterator[str]:
    for c in containers(args):
        logging = c.get("logConfiguration") or {}
        if not logging.get("logDriver"):
            yield fix(f"container '{c.get('name')}' sends its logs nowhere", where(args),
                      "add an awslogs logConfiguration to a log group the stack creates")
        elif str((logging.get("options") or {}).get("awslogs-create-group", "")).lower() == "true":
            yield fix(f"container '{c.get('name')}' lets awslogs create its group, which then never expires",
                      where(args), "create the log group in the stack, with retention, and drop "
                      "awslogs-create-group")


def ecs_no_host_pid(args: ResourceValidationArgs) -> Iterator[str]:
    if get(args.props, "pidMode") == "host":
        yield fix("its containers share the host's process namespace (pid_mode \"host\"): they see, and can signal, "
                  "every process on the host", where(args), "remove pid_mode (or set it to \"task\")")


def ecs_efs_in_transit(args: ResourceValidationArgs) -> Iterator[str]:
    volumes = get(args.props, "volumes", [])
    if volumes is UNKNOWN:
        args.not_applicable("the task's volumes are unknown until their inputs exist; checked during update")
    for v in as_list(volumes):
        efs = get(v, "efsVolumeConfiguration")
        transit = get(efs, "transitEncryption") if efs and efs is not UNKNOWN else UNKNOWN
        if transit is not UNKNOWN and transit != "ENABLED":
            yield fix(f"EFS volume '{get(v, 'name')}' is mounted without TLS (transit_encryption is not ENABLED), so "
                      "file data crosses the network in the clear", where(args),
                      f"set volumes[name={get(v, 'name')}].efs_volume_configuration.transit_encryption=\"ENABLED\"")


POLICIES = [
    resource_policy("ecs-no-public-ip", "ECS services assign no public IPs.", (SERVICE,), ecs_no_public_ip,
                    reads="ecs.Service network_configuration.assign_public_ip", controls=("ECS.2",),
                    severity=Severity.CRITICAL),
    resource_policy("ecs-no-privileged-containers", "No privileged containers.", (TASK,), ecs_not_privileged,
                    reads="TaskDefinition container_definitions privileged", controls=("ECS.4",)),
    resource_policy("ecs-no-host-pid", "Task definitions do not share the host's process namespace.", (TASK,),
                    ecs_no_host_pid, reads="TaskDefinition pid_mode", controls=("ECS.3",)),
    resource_policy("ecs-container-logging", "Every container logs to a log group the stack owns.", (TASK,),
                    ecs_logging, reads="TaskDefinition container_definitions logConfiguration",
                    severity=Severity.MEDIUM),
    resource_policy("ecs-efs-in-transit", "EFS volumes of task definitions are encrypted in transit (advisory).",
                    (TASK,), ecs_efs_in_transit, reads="TaskDefinition volumes efs_volume_configuration",
                    level=ADVISORY, severity=Severity.MEDIUM),
]
