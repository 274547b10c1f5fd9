"""EC2 and ECS rules: nothing public, IMDSv2, encrypted disks, no key pairs, no privileged containers (ECS Exec:
exec_targets.py)."""

from __future__ import annotations

from collections.abc import Iterator

from pulumi_policy import ResourceValidationArgs, Severity

from guard.kit import resource_policy
from guard.types import INSTANCE, LAUNCH_CONFIGURATION, LAUNCH_TEMPLATE, SERVICE, TASK
from guard.values import UNKNOWN, as_list, fix, get, json_document

INSTANCE = (INSTANCE,)
# What auto-scaling groups launch from: judged like an instance, since every instance they start inherits them.
LAUNCHES = (*INSTANCE, LAUNCH_TEMPLATE, LAUNCH_CONFIGURATION)
SERVICE = (SERVICE,)
TASK = (TASK,)


def _where(args: ResourceValidationArgs) -> str:
    return f"{args.resource_type.rsplit(':', 1)[-1]} '{args.name}'"


def ec2_no_public_ip(args: ResourceValidationArgs) -> Iterator[str]:
    if args.resource_type == LAUNCH_TEMPLATE:
        # A string in a launch template's network interfaces ("true"/"false"); unset follows the subnet.
        for i, nic in enumerate(as_list(get(args.props, "networkInterfaces", []))):
            if str(get(nic, "associatePublicIpAddress", "")).lower() == "true":
                yield fix(f"network interface {i} gives every instance launched from it a public IP", _where(args),
                          f'set network_interfaces[{i}].associate_public_ip_address="false"')
    elif get(args.props, "associatePublicIpAddress") is True:
        yield fix("every instance launched from it gets a public IP" if args.resource_type != INSTANCE[0] else
                  "the instance gets a public IP", _where(args), "set associate_public_ip_address=False")


def ec2_imdsv2(args: ResourceValidationArgs) -> Iterator[str]:
    # Unset means what EC2 does: IMDSv1 stays allowed (http_tokens "optional") unless the AMI or the account's
    # default says otherwise, which the pack cannot see.
    if get(args.props, "metadataOptions.httpTokens") != "required":
        yield fix("IMDSv1 is allowed, so any SSRF on the host can read its role credentials", _where(args),
                  'set metadata_options.http_tokens="required"')


def ec2_encrypted_root(args: ResourceValidationArgs) -> Iterator[str]:
    if get(args.props, "rootBlockDevice.encrypted") is not True:
        yield fix("the root volume is not encrypted", _where(args),
                  "set root_block_device.encrypted=True")


def ec2_no_key_pair(args: ResourceValidationArgs) -> Iterator[str]:
    if get(args.props, "keyName"):
        yield fix("the instance has an SSH key pair" if args.resource_type == INSTANCE[0] else
                  "every instance launched from it has an SSH key pair", _where(args),
                  "remove key_name: Session Manager needs no key and no inbound port")


def ecs_no_public_ip(args: ResourceValidationArgs) -> Iterator[str]:
    if get(args.props, "networkConfiguration.assignPublicIp") is True:
        yield fix("tasks get public IPs", _where(args), "set network_configuration.assign_public_ip=False")


def _containers(args: ResourceValidationArgs) -> list[dict]:
    containers = json_document(args.props, "containerDefinitions")
    if containers is UNKNOWN:
        args.not_applicable("the container definitions are unknown until their inputs exist; checked during update")
    return containers if isinstance(containers, list) else []


def ecs_not_privileged(args: ResourceValidationArgs) -> Iterator[str]:
    for c in _containers(args):
        if c.get("privileged") is True:
            yield fix(f"container '{c.get('name')}' is privileged", _where(args), "remove privileged")


def ecs_logging(args: ResourceValidationArgs) -> Iterator[str]:
    for c in _containers(args):
        logging = c.get("logConfiguration") or {}
        if not logging.get("logDriver"):
            yield fix(f"container '{c.get('name')}' sends its logs nowhere", _where(args),
                      "add an awslogs logConfiguration to a log group the stack creates")
        elif str((logging.get("options") or {}).get("awslogs-create-group", "")).lower() == "true":
            yield fix(f"container '{c.get('name')}' lets awslogs create its group, which then never expires",
                      _where(args), "create the log group in the stack, with retention, and drop "
                      "awslogs-create-group")


POLICIES = [
    resource_policy("ec2-no-public-ip", "EC2 instances, launch templates and launch configurations give no public IP.",
                    LAUNCHES, ec2_no_public_ip, severity=Severity.CRITICAL),
    resource_policy("ec2-imdsv2", "EC2 instances, launch templates and launch configurations require IMDSv2.",
                    LAUNCHES, ec2_imdsv2),
    resource_policy("ec2-encrypted-root", "EC2 root volumes are encrypted.", INSTANCE, ec2_encrypted_root),
    resource_policy("ec2-no-key-pair", "EC2 instances, launch templates and launch configurations carry no SSH key "
                    "pair.", LAUNCHES, ec2_no_key_pair, severity=Severity.MEDIUM),
    resource_policy("ecs-no-public-ip", "ECS services assign no public IPs.", SERVICE, ecs_no_public_ip,
                    severity=Severity.CRITICAL),
    resource_policy("ecs-no-privileged-containers", "No privileged containers.", TASK, ecs_not_privileged),
    resource_policy("ecs-container-logging", "Every container logs to a log group the stack owns.", TASK,
                    ecs_logging, severity=Severity.MEDIUM),
]
