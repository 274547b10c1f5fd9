"""The SSM host: Amazon Linux 2023 on EC2, reached with Session Manager, mounting the file share."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi

from airgap.catalog import INSTANCE_TYPES
from airgap.ssm_host import SsmHost, SsmHostArgs
from airgap.workload import Needs
from program.contract import Out
from program.keys import Key, Problems, Values
from program.sections import Built, Context

NAME, ORDER = "ssm-host", 40
KEYS = (
    Key("ssmHost", "boolean", True, "Run the SSM host (EC2, Amazon Linux 2023, reached with Session Manager)."),
    Key("ssmHostInstanceType", "string", "t4g.micro", "The SSM host's instance type (t4g.nano|micro|small, "
        "t3.nano|micro|small). Under 2 GiB, first boot adds 1 GiB of swap before dnf."),
)


@dataclass(frozen=True)
class SsmHostSection:
    enabled: bool
    instance_type: str
    ec2_messages: bool
    switch = ("airgap:ssmHost = false", "airgap:ssmHost to true")
    workload = True

    def needs(self) -> Needs:
        return SsmHost.needs(ec2_messages=self.ec2_messages) if self.enabled else Needs()

    def build(self, settings: Any, built: Built) -> SsmHost | None:
        if not self.enabled:
            return None
        bastion = settings.sections["bastion"]
        return SsmHost("ssm-host", SsmHostArgs(
            vpc_id=built.network.vpc_id, subnet_id=built.network.subnet_ids_by_zone[settings.availability_zones[0]],
            instance_type=self.instance_type, endpoints=built.endpoints, file_share=built.components.get("file-share"),
            asleep=settings.asleep, forward_ports=bastion.forward_ports,
            session_user=settings.sections["sessions"].user, names=settings.names))

    def export(self, settings: Any, built: Built) -> None:
        host = built.components.get(NAME)
        if host is None:
            return
        region = settings.region
        pulumi.export(Out.SSM_HOST_INSTANCE_ID, host.instance.id)
        pulumi.export(Out.SSM_HOST_PRIVATE_IP, host.instance.private_ip)
        # A shell under the stack's preferences: the operator policy allows no other shell document.
        sessions = built.components.get("sessions")
        document = f" --document-name {sessions.document_name}" if sessions is not None else ""
        pulumi.export(Out.SSM_HOST_SESSION, host.instance.id.apply(
            lambda i: f"aws ssm start-session --region {region} --target {i}{document}"))
        # First boot reports each step on the console and ends with "done" or "FAILED: <step>".
        pulumi.export(Out.SSM_HOST_BOOT_LOG, host.instance.id.apply(
            lambda i: f"aws ec2 get-console-output --region {region} --instance-id {i} --latest --output text"
                      " | grep airgap-first-boot"))


def parse(v: Values, ctx: Context, p: Problems) -> SsmHostSection:
    if v.ok("ssmHostInstanceType") and v["ssmHostInstanceType"] not in INSTANCE_TYPES:
        p.bad("airgap:ssmHostInstanceType", v["ssmHostInstanceType"], f"one of {', '.join(INSTANCE_TYPES)}")
    enabled = v["ssmHost"] is not False
    if ctx.sections["file-share"].enabled and v["ssmHost"] is False:
        p.bad("airgap:fileShare", True, "false while airgap:ssmHost is false (the SSM host is the share's only client)")
    return SsmHostSection(enabled, v.get("ssmHostInstanceType", "t4g.micro"),
                          ctx.sections["network"].include_ec2_messages)
