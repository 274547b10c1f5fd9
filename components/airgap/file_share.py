"""FileShare: an EFS file system for the SSM host, reachable only over TLS, only by the roles granted to it.

The EC2/EFS pair done without a cycle: the share's group admits 2049 from a client only through
`client.connections.allow_to(share)` (2049, the share's default port), a pair of standalone rules.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from airgap.connections import Connections, Port
from airgap.naming import ChildNames, check_component_name

NFS = Port.tcp(2049)

# The POSIX identity every client writes as through the access point (ec2-user's uid/gid on Amazon Linux).
SHARE_UID = 1000
SHARE_GID = 1000
SHARE_ROOT = "/share"


@dataclass(frozen=True)
class FileShareArgs:
    vpc_id: pulumi.Input[str]
    # AZ name -> a subnet in it: one mount target each (EFS allows one per AZ).
    subnet_ids: Mapping[str, pulumi.Input[str]]
    # Production stacks protect the file system: `pulumi destroy` stops at it instead of deleting the data.
    protect: bool = False


class FileShare(pulumi.ComponentResource):
    connections: Connections
    file_system: aws.efs.FileSystem
    access_point: aws.efs.AccessPoint
    mount_targets: list[aws.efs.MountTarget]
    policy: aws.efs.FileSystemPolicy | None

    def __init__(self, name: str, args: FileShareArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("airgap:storage:FileShare", check_component_name("FileShare", name), None, opts)
        child = pulumi.ResourceOptions(parent=self)
        names = ChildNames(name, first_name="file-share")

        self.connections = Connections.with_new_group(
            names(), vpc_id=args.vpc_id, owner=self, default_port=NFS,
            description="EFS mount targets: NFS from the clients allowed to mount the share",
        )
        group = self.connections.group

        self.file_system = aws.efs.FileSystem(
            names(),
            encrypted=True,
            # Elastic: pay for what is read and written; no burst credits to run out of on a quiet share.
            throughput_mode="elastic",
            lifecycle_policies=[
                aws.efs.FileSystemLifecyclePolicyArgs(transition_to_ia="AFTER_30_DAYS"),
                aws.efs.FileSystemLifecyclePolicyArgs(transition_to_primary_storage_class="AFTER_1_ACCESS"),
            ],
            tags={"Name": name},
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect),
        )
        aws.efs.BackupPolicy(
            names(),
            file_system_id=self.file_system.id,
            backup_policy=aws.efs.BackupPolicyBackupPolicyArgs(status="ENABLED"),
            opts=child,
        )
        # One mount target per AZ: the file system's DNS name resolves to the one in the client's own AZ.
        self.mount_targets = [
            aws.efs.MountTarget(
                names(zone),
                file_system_id=self.file_system.id,
                subnet_id=subnet_id,
                security_groups=[group.id],
                opts=child,
            )
            for zone, subnet_id in args.subnet_ids.items()
        ]
        self.access_point = aws.efs.AccessPoint(
            names(),
            file_system_id=self.file_system.id,
            posix_user=aws.efs.AccessPointPosixUserArgs(uid=SHARE_UID, gid=SHARE_GID),
            root_directory=aws.efs.AccessPointRootDirectoryArgs(
                path=SHARE_ROOT,
                creation_info=aws.efs.AccessPointRootDirectoryCreationInfoArgs(
                    owner_uid=SHARE_UID, owner_gid=SHARE_GID, permissions="750"
                ),
            ),
            tags={"Name": name},
            opts=child,
        )
        self.policy = None
        self._names = names
        self.register_outputs(
            {
                "fileSystemId": self.file_system.id,
                "accessPointId": self.access_point.id,
                "groupId": group.id,
            }
        )

    def grant_mount(self, *roles: aws.iam.Role) -> aws.efs.FileSystemPolicy:
        """Write the share's file-system policy: TLS or nothing, and these roles may mount and write through the
        access point. Called once, with every client role (EFS has one policy per file system)."""
        if self.policy is not None:
            raise ValueError("grant_mount was already called for this share: pass every client role in one call")
        arns = [role.arn for role in roles]
        document = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "DenyWithoutTls",
                    "Effect": "Deny",
                    "Principal": {"AWS": "*"},
                    "Action": "*",
                    "Resource": self.file_system.arn,
                    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                },
                {
                    "Sid": "ClientsMountThroughTheAccessPoint",
                    "Effect": "Allow",
                    "Principal": {"AWS": arns},
                    "Action": ["elasticfilesystem:ClientMount", "elasticfilesystem:ClientWrite"],
                    "Resource": self.file_system.arn,
                    "Condition": {"StringEquals": {"elasticfilesystem:AccessPointArn": self.access_point.arn}},
                },
            ],
        }
        self.policy = aws.efs.FileSystemPolicy(
            self._names(),
            file_system_id=self.file_system.id,
            policy=pulumi.Output.json_dumps(document),
            opts=pulumi.ResourceOptions(parent=self),
        )
        return self.policy
