"""EBS volumes encrypted at rest (AWS FSBP EC2.3), wherever a program declares them: an instance's root and extra
volumes, a launch configuration's, a launch template's block device mappings, a standalone `aws.ebs.Volume`.

Unset `encrypted` means what EC2 does: the volume is unencrypted unless the account turns on EBS encryption by default
in that region (FSBP EC2.7), or it is made from an encrypted snapshot (Amazon EBS User Guide, "Amazon EBS
encryption"); the pack cannot see either, so the message says "unless" instead of claiming it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pulumi_policy import ResourceValidationArgs

from guard.kit import resource_policy, where
from guard.types import EBS_VOLUME, INSTANCE, LAUNCH_CONFIGURATION, LAUNCH_TEMPLATE
from guard.values import UNKNOWN, as_list, fix, get

_UNLESS = "unencrypted unless the account encrypts new EBS volumes by default in this region"


def _state(encrypted: Any, snapshot: Any) -> str | None:
    """Why a volume with this `encrypted` value may be unencrypted; None when it is (or may be, unknown) encrypted."""
    if encrypted is True or str(encrypted).lower() == "true" or encrypted is UNKNOWN:
        return None
    if encrypted is None or encrypted == "":
        return f"encrypted is unset, so it is {_UNLESS}{' or its snapshot is encrypted' if snapshot else ''}"
    return "encrypted is false"


def ec2_encrypted_root(args: ResourceValidationArgs) -> Iterator[str]:
    why = _state(get(args.props, "rootBlockDevice.encrypted"), None)
    if why:
        yield fix(f"the root volume is not encrypted at rest: root_block_device.{why}", where(args),
                  "set root_block_device.encrypted=True")


def _devices(args: ResourceValidationArgs) -> list[tuple[str, Any, Any]]:
    """(where in the resource, encrypted, snapshot) for each non-root volume the resource declares."""
    if args.resource_type == EBS_VOLUME:
        return [("", get(args.props, "encrypted"), get(args.props, "snapshotId"))]
    if args.resource_type == LAUNCH_TEMPLATE:
        return [(f"block_device_mappings[{i}] ({get(m, 'deviceName')}).ebs.", get(m, "ebs.encrypted"),
                 get(m, "ebs.snapshotId")) for i, m in enumerate(as_list(get(args.props, "blockDeviceMappings", [])))
                if get(m, "ebs") is not None]
    return [(f"ebs_block_devices[{i}] ({get(d, 'deviceName')}).", get(d, "encrypted"), get(d, "snapshotId"))
            for i, d in enumerate(as_list(get(args.props, "ebsBlockDevices", [])))]


def ebs_encrypted_volumes(args: ResourceValidationArgs) -> Iterator[str]:
    for path, encrypted, snapshot in _devices(args):
        why = _state(encrypted, snapshot)
        if why:
            fix_path = f"{path}encrypted" if path else "encrypted"
            value = '"true"' if args.resource_type == LAUNCH_TEMPLATE else "True"
            yield fix(f"a volume is not encrypted at rest: {path}{why}", where(args), f"set {fix_path}={value}")


POLICIES = [
    resource_policy("ec2-encrypted-root", "EC2 instances' and launch configurations' root volumes are encrypted.",
                    (INSTANCE, LAUNCH_CONFIGURATION), ec2_encrypted_root, controls=("EC2.3",),
                    reads="Instance/LaunchConfiguration root_block_device.encrypted"),
    resource_policy("ebs-encrypted-volumes", "Every other EBS volume is encrypted: instances' and launch "
                    "configurations' extra volumes, launch templates' block devices, standalone volumes.",
                    (INSTANCE, LAUNCH_CONFIGURATION, LAUNCH_TEMPLATE, EBS_VOLUME), ebs_encrypted_volumes,
                    controls=("EC2.3",), reads="ebs_block_devices[].encrypted, block_device_mappings[].ebs.encrypted, "
                                               "ebs.Volume encrypted (and snapshot_id)"),
]
