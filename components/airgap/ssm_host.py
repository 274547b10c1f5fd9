"""SsmHost: an Amazon Linux 2023 instance in an isolated subnet, managed and reached only through Systems Manager.

No key pair, no public IP, no inbound rule unless a connection to it is allowed: Session Manager needs outbound 443
to the endpoints and nothing inbound (Systems Manager User Guide, "Step 1: Complete Session Manager prerequisites").
With a file share, it mounts it over TLS at boot.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from airgap.catalog import INSTANCE_TYPES, al2023_ami_parameter
from airgap.connections import Connections
from airgap.endpoint_policies import AWS_BUCKETS, SSM_AGENT_BUCKETS
from airgap.endpoints import EndpointAccess
from airgap.file_share import FileShare
from airgap.iam import managed_policy, role_policy, service_role, statement
from airgap.naming import BOOT_STATUS, SHARE_MOUNT_POINT, STACK_TAG, ChildNames, PhysicalNames, check_component_name
from airgap.where import where
from airgap.workload import ForwardTarget, Needs, buckets_of


@dataclass(frozen=True)
class SsmHostArgs:
    vpc_id: pulumi.Input[str]
    # An isolated subnet: the host has no public IP, and reaches AWS only through `endpoints`.
    subnet_id: pulumi.Input[str]
    instance_type: str = "t4g.micro"
    # The endpoints it is managed through, and the share it mounts: connected before the instance is created, so
    # that the agent registers and the mount succeeds at first boot.
    endpoints: EndpointAccess | None = None
    file_share: FileShare | None = None
    # Asleep: the instance is stopped, not terminated. A stopped instance bills only its EBS volume, keeps its disk,
    # id, private IP and role, and starts again with `pulumi up` (Amazon EC2 User Guide, "Stop and start Amazon EC2
    # instances").
    asleep: bool = False
    # TCP ports on the host a bastion may port-forward to (its forward targets).
    forward_ports: tuple[int, ...] = ()
    # The non-root user Session Manager runs shells as (SessionPreferences' run-as user): first boot creates it.
    session_user: str | None = None
    names: PhysicalNames | None = None


# Below this much memory, first boot adds swap before dnf: dnf next to the SSM agent on a 512 MiB instance is
# OOM-killed (amazonlinux/amazon-linux-2023 #404; the Amazon Linux team's workaround there is swap).
SWAP_BELOW_GIB = 2
SWAP_MIB = 1024


# cloud-init marks user data done before running it (cloudinit/helpers.py), so a host put to sleep mid first boot
# would never finish it: run it on every boot (AWS Knowledge Center "execute-user-data-ec2"); after its first
# success the script ends at once.
_EVERY_BOOT = """#cloud-config
cloud_final_modules:
- [scripts-user, always]
"""
_BOUNDARY = "==airgap-user-data=="


def user_data(file_system_id: str | None, access_point_id: str | None, memory_gib: float,
              session_user: str | None = None) -> str:
    """The host's user data: a MIME multi-part document (cloud-init's format for several parts) holding the
    cloud-config that runs user scripts on every boot, and the first-boot script."""
    parts = [("text/cloud-config", "every-boot.cfg", _EVERY_BOOT),
             ("text/x-shellscript", "first-boot.sh",
              boot_script(file_system_id, access_point_id, memory_gib, session_user))]
    body = "".join(f"--{_BOUNDARY}\nContent-Type: {kind}; charset=\"us-ascii\"\nMIME-Version: 1.0\n"
                   f"Content-Transfer-Encoding: 7bit\nContent-Disposition: attachment; filename=\"{name}\"\n\n"
                   f"{text}\n" for kind, name, text in parts)
    return (f"Content-Type: multipart/mixed; boundary=\"{_BOUNDARY}\"\nMIME-Version: 1.0\n\n{body}"
            f"--{_BOUNDARY}--\n")


def boot_script(file_system_id: str | None, access_point_id: str | None, memory_gib: float,
                session_user: str | None = None) -> str:
    """First-boot script, run by cloud-init at every boot until it has succeeded once; safe to run again (each step
    checks before it acts), so a boot interrupted anywhere is finished by the next.

    1. swap on small instances (a swap file as in AWS's knowledge-center article "How do I allocate memory to work
       as swap space in an Amazon EC2 instance by using a swap file?": dd, chmod 600, mkswap, swapon, fstab);
    2. efs-utils from the Amazon Linux repositories (in S3, through the gateway endpoint), retried;
    3. a persistent TLS mount of the share through its access point, authorised by the instance role (`iam`).

    Every step reports to the console (`aws ec2 get-console-output --latest`), and the outcome is written to
    BOOT_STATUS ("ok" or "failed: <step>"); a failure also exits non-zero, so `cloud-init status` says error.
    """
    user = f"""
# 0. The user Session Manager runs shells as: with runAs on, a session to a missing user fails to start.
id -u "{session_user}" >/dev/null 2>&1 || useradd --create-home --shell /bin/bash "{session_user}" \\
  || fail "creating the session user {session_user}"
""" if session_user else ""
    swap = f"""
# 1. Swap before dnf: this instance has {memory_gib:g} GiB.
if ! swapon --show=NAME --noheadings | grep -qx "$SWAPFILE"; then
  if [ ! -f "$SWAPFILE" ]; then
    dd if=/dev/zero of="$SWAPFILE" bs=1M count={SWAP_MIB} status=none && chmod 600 "$SWAPFILE" && mkswap "$SWAPFILE" \\
      || {{ rm -f "$SWAPFILE"; fail "creating the swap file $SWAPFILE (removed; running this again retries)"; }}
  fi
  swapon "$SWAPFILE" || {{ rm -f "$SWAPFILE"; fail "enabling swap on $SWAPFILE (removed; running again retries)"; }}
  say "swap on: $SWAPFILE, {SWAP_MIB} MiB"
fi
grep -qs "^$SWAPFILE " "$FSTAB" || echo "$SWAPFILE swap swap defaults 0 0" >> "$FSTAB"
""" if memory_gib < SWAP_BELOW_GIB else ""
    share = f"""
# 2. efs-utils, from the Amazon Linux repositories in S3 (through the gateway endpoint).
for attempt in 1 2 3 4 5; do
  rpm -q amazon-efs-utils >/dev/null 2>&1 && break
  dnf install -y amazon-efs-utils && break
  say "dnf install amazon-efs-utils failed (attempt $attempt of 5); retrying in 20 s"
  sleep 20
done
rpm -q amazon-efs-utils >/dev/null 2>&1 \\
  || fail "installing amazon-efs-utils with dnf (the S3 gateway endpoint, its policy, or 443 to S3's prefix list)"

# 3. The share, over TLS, through its access point; one fstab line, however often this runs.
mkdir -p "$SHARE"
grep -qs " $SHARE efs " "$FSTAB" \\
  || echo "{file_system_id}:/ $SHARE efs _netdev,noresvport,tls,iam,accesspoint={access_point_id} 0 0" >> "$FSTAB"
# A new mount target takes a minute or two to answer; keep trying for five.
for attempt in $(seq 1 30); do
  mountpoint -q "$SHARE" && break
  mount "$SHARE" && break
  sleep 10
done
mountpoint -q "$SHARE" || fail "mounting the file share at $SHARE (mount targets, 2049 rules, file-system policy)"
say "file share mounted at $SHARE"
""" if file_system_id else ""
    return f"""#!/bin/bash
# airgap first boot. Safe to run again: every step checks before it acts.
set -uo pipefail
STATUS={BOOT_STATUS}
FSTAB=/etc/fstab
SHARE={SHARE_MOUNT_POINT}
SWAPFILE=/swapfile
CONSOLE=/dev/console
say() {{ echo "airgap-first-boot: $*" | tee -a "$CONSOLE" >&2; }}
fail() {{ say "FAILED: $*"; echo "failed: $*" > "$STATUS"; exit 1; }}
mkdir -p "$(dirname "$STATUS")"
if [ "$(cat "$STATUS" 2>/dev/null)" = ok ]; then say "done (on an earlier boot)"; exit 0; fi
echo "running" > "$STATUS"
{user}{swap}{share}
echo "ok" > "$STATUS"
say "done"
"""


class SsmHost(pulumi.ComponentResource):
    connections: Connections
    role: aws.iam.Role
    instance: aws.ec2.Instance
    power: aws.ec2transitgateway.InstanceState

    @classmethod
    def needs(cls, ec2_messages: bool = False) -> Needs:
        """The agent's endpoints (Systems Manager User Guide, "Use VPC endpoints"): ssm, ssmmessages, and S3 for dnf
        and the agent's own buckets; ec2messages only for agents older than 3.3.40.0."""
        return Needs(frozenset({"ssm", "ssmmessages", "s3", *(["ec2messages"] if ec2_messages else [])}),
                     buckets_of("ssm-host"))

    def forward_targets(self) -> list[ForwardTarget]:
        ports = self._forward_ports
        return [ForwardTarget("ssm-host", self.instance.private_ip, ports, "the SSM host")] if ports else []

    def __init__(self, name: str, args: SsmHostArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("airgap:compute:SsmHost", check_component_name("SsmHost", name), None, opts)
        names = ChildNames(name, first_name="ssm-host")
        if args.instance_type not in INSTANCE_TYPES:
            raise ValueError(f'SsmHost instance_type "{args.instance_type}": expected one of {list(INSTANCE_TYPES)}')
        instance_type = INSTANCE_TYPES[args.instance_type]
        region = where(self).region
        self._forward_ports = tuple(args.forward_ports)

        self.connections = Connections.with_new_group(
            names(), vpc_id=args.vpc_id, owner=self,
            description="SSM host: no inbound except connections allowed to it",
        )
        group = self.connections.group

        profile, first_boot = self._identity_and_first_boot(names, args, region)
        share = args.file_share
        ami = aws.ssm.get_parameter_output(name=al2023_ami_parameter(instance_type.architecture),
                                           opts=pulumi.InvokeOptions(parent=self)).value
        memory = instance_type.memory_gib
        script = (
            pulumi.Output.all(share.file_system.id, share.access_point.id).apply(
                lambda ids: user_data(ids[0], ids[1], memory, args.session_user))
            if share is not None
            else user_data(None, None, memory, args.session_user)
        )
        self.instance = aws.ec2.Instance(
            names(),
            ami=ami,
            instance_type=instance_type.name,
            subnet_id=args.subnet_id,
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
            # The operator policy allows sessions on the stack's tagged hosts only.
            tags={"Name": name, STACK_TAG: (args.names or PhysicalNames.of_this_stack()).prefix},
            opts=pulumi.ResourceOptions(
                parent=self,
                # The AMI parameter moves with every Amazon Linux release; following it would replace the host
                # on an unrelated `pulumi up`. Patch in place (dnf, Patch Manager); replace deliberately.
                ignore_changes=["ami"],
                depends_on=first_boot,
            ),
        )
        # Running or stopped, as the stack is awake or asleep. The provider's resource for an instance's state is
        # Terraform's aws_ec2_instance_state, which pulumi-aws files under ec2transitgateway. On waking it waits for
        # the same things first boot does, so the agent finds its endpoints when it starts again.
        self.power = aws.ec2transitgateway.InstanceState(
            names(),
            instance_id=self.instance.id,
            state="stopped" if args.asleep else "running",
            opts=pulumi.ResourceOptions(parent=self, depends_on=first_boot),
        )
        self.register_outputs(
            {"instanceId": self.instance.id, "privateIp": self.instance.private_ip, "roleArn": self.role.arn,
             "state": self.power.state}
        )

    def _identity_and_first_boot(self, names: ChildNames, args: SsmHostArgs,
                                 region: str) -> tuple[aws.iam.InstanceProfile, list[pulumi.Resource]]:
        """The role and its profile; and everything first boot needs, created before the instance: the endpoints
        and both halves of each rule to them (the agent registers through ssm/ssmmessages; dnf reaches S3), the
        role's SSM permissions, and for the share its mount targets, NFS rules and the policy that lets it mount."""
        self.role = service_role(names(), "ec2.amazonaws.com", "SSM host: managed by Systems Manager", self)
        core = managed_policy(names("core"), self.role, "AmazonSSMManagedInstanceCore", self)
        # Behind a VPC endpoint the agent reads AWS's SSM buckets with the instance's credentials, which need the
        # permission explicitly ("SSM Agent communications with AWS managed S3 buckets").
        agent_buckets = [f"arn:aws:s3:::{b.name(region)}/*" for b in AWS_BUCKETS
                         if b.source == SSM_AGENT_BUCKETS and b.applies(region)]
        agent = role_policy(names("agent-buckets"), self.role,
                            [statement("ReadSsmAgentBuckets", ["s3:GetObject"], agent_buckets)], self)
        profile = aws.iam.InstanceProfile(names(), role=self.role.name, opts=pulumi.ResourceOptions(parent=self))
        first_boot: list[pulumi.Resource] = [core, agent]
        if args.endpoints is not None:
            first_boot += args.endpoints.allow_from(self.connections)
        share = args.file_share
        if share is not None:
            first_boot += self.connections.allow_to(share, description="NFS over TLS to the file share")
            first_boot += [*share.mount_targets, share.grant_mount(self.role)]
        return profile, first_boot
