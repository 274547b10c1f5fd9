"""SsmHost: an Amazon Linux 2023 instance in an isolated subnet, managed and reached only through Systems Manager.

No key pair, no public IP, no inbound rule unless a connection to it is allowed: Session Manager needs outbound 443
to the endpoints and nothing inbound (Systems Manager User Guide, "Step 1: Complete Session Manager prerequisites").
With a file share, it mounts it over TLS at boot.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.catalog import INSTANCE_TYPES, al2023_ami_parameter
from components.connections import Connections, Port
from components.endpoints import VpcEndpoints
from components.file_share import FileShare
from components.iam import managed_policy, service_role
from components.network import PrivateNetwork

MOUNT_POINT = "/mnt/share"


@dataclass(frozen=True)
class SsmHostArgs:
    network: PrivateNetwork
    zone: str
    instance_type: str
    # The endpoints it is managed through, and the share it mounts: connected before the instance is created, so
    # that the agent registers and the mount succeeds at first boot.
    endpoints: VpcEndpoints | None = None
    file_share: FileShare | None = None


def user_data(file_system_id: str, access_point_id: str) -> str:
    """First-boot script: efs-utils from the AL2023 repositories (in S3, through the gateway endpoint), then a
    persistent TLS mount through the access point, authorised by the instance role (`iam`)."""
    return f"""#!/bin/bash
set -euo pipefail
dnf install -y amazon-efs-utils
mkdir -p {MOUNT_POINT}
echo "{file_system_id}:/ {MOUNT_POINT} efs _netdev,noresvport,tls,iam,accesspoint={access_point_id} 0 0" >> /etc/fstab
# A new mount target takes a minute or two to answer; keep trying for five.
for attempt in $(seq 1 30); do
  mount {MOUNT_POINT} && exit 0
  sleep 10
done
echo "airgap: could not mount the file share at {MOUNT_POINT}" >&2
exit 1
"""


class SsmHost(pulumi.ComponentResource):
    connections: Connections
    role: aws.iam.Role
    instance: aws.ec2.Instance

    def __init__(self, name: str, args: SsmHostArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("airgap:compute:SsmHost", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        instance_type = INSTANCE_TYPES[args.instance_type]

        self.connections = Connections.with_new_group(
            "ssm-host", vpc_id=args.network.vpc.id, owner=self,
            description="SSM host: no inbound except connections allowed to it",
        )
        group = self.connections.group

        self.role = service_role("ssm-host", "ec2.amazonaws.com", "SSM host: managed by Systems Manager", self)
        core = managed_policy("ssm-host-core", self.role, "AmazonSSMManagedInstanceCore", self)
        profile = aws.iam.InstanceProfile("ssm-host", role=self.role.name, opts=child)

        # Everything first boot needs, created before the instance: the endpoints and both halves of each rule to
        # them (the agent registers through ssm/ssmmessages; dnf reaches S3), the role's SSM permissions, and for
        # the share its mount targets, the NFS rules and the file-system policy that lets this role mount.
        first_boot: list[pulumi.Resource] = [core]
        if args.endpoints is not None:
            first_boot += args.endpoints.allow_from(self.connections)
        share = args.file_share
        if share is not None:
            first_boot += self.connections.allow_to(share.connections, Port.tcp(2049), "NFS over TLS to the file share")
            first_boot += [*share.mount_targets, share.grant_mount(self.role)]

        ami = aws.ssm.get_parameter_output(name=al2023_ami_parameter(instance_type.architecture)).value
        script = (
            pulumi.Output.all(share.file_system.id, share.access_point.id).apply(lambda ids: user_data(*ids))
            if share is not None
            else None
        )
        self.instance = aws.ec2.Instance(
            "ssm-host",
            ami=ami,
            instance_type=instance_type.name,
            subnet_id=args.network.subnets[args.zone].id,
            vpc_security_group_ids=[group.id],
            iam_instance_profile=profile.name,
            associate_public_ip_address=False,
            metadata_options=aws.ec2.InstanceMetadataOptionsArgs(
                http_endpoint="enabled",
                http_tokens="required",  # IMDSv2 only
                http_put_response_hop_limit=1,  # credentials never leave the instance (e.g. into a container)
            ),
            root_block_device=aws.ec2.InstanceRootBlockDeviceArgs(
                encrypted=True, volume_type="gp3", volume_size=8, delete_on_termination=True
            ),
            user_data=script,
            user_data_replace_on_change=True,
            tags={"Name": name},
            opts=pulumi.ResourceOptions(
                parent=self,
                # The AMI parameter moves with every Amazon Linux release; following it would replace the host
                # on an unrelated `pulumi up`. Patch in place (dnf, Patch Manager); replace deliberately.
                ignore_changes=["ami"],
                depends_on=first_boot,
            ),
        )
        self.register_outputs(
            {"instanceId": self.instance.id, "privateIp": self.instance.private_ip, "roleArn": self.role.arn}
        )
