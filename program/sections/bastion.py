"""The Fargate bastion: ECS Exec, port forwarding to every workload that serves it something."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi

from airgap.bastion import DEFAULT_IMAGE_SOURCE, PLATFORMS, FargateBastion, FargateBastionArgs
from airgap.catalog import FARGATE_SIZES
from airgap.image_reference import FORM as IMAGE_FORM
from airgap.image_reference import EcrImage, Reference
from airgap.workload import Needs, Workload
from program.account import ecs_service_linked_role
from program.contract import Out
from program.keys import Key, Problems, Values
from program.sections import Built, Context

NAME, ORDER = "bastion", 60
MAX_FORWARD_PORTS = 50
KEYS = (
    Key("bastion", "string", "parked", "Fargate SSM bastion - off (none, and no bastion-only endpoints), parked "
        "(service at 0 tasks) or on (1 task)."),
    Key("bastionCpu", "integer", 256, f"Bastion task CPU units ({', '.join(map(str, FARGATE_SIZES))})."),
    Key("bastionMemory", "integer", 512, "Bastion task memory in MiB; must be a size Fargate allows with bastionCpu."),
    Key("bastionImage", "string", "", "Bastion image URI in a private ECR registry of the stack's account and "
        "region, maintained by you. Empty copies bastionImageSource into the stack's own repository."),
    Key("bastionImageArchitecture", "string", "X86_64", "The CPU architecture bastionImage is built for: X86_64 or "
        "ARM64 (the copy of bastionImageSource is always ARM64)."),
    Key("bastionImageSource", "string", DEFAULT_IMAGE_SOURCE, "Image the stack's repository is filled from "
        "(python3 dev.py bastion image, or forward), from outside the VPC; <registry>/<repository>:<tag> or "
        "@sha256:<digest>, anonymous pulls."),
    Key("bastionForwardPorts", "integer-list", [],
        "TCP ports on the SSM host that the bastion may port-forward to (never 22 or 3389)."),
    Key("execKms", "boolean", False, "Encrypt the ECS Exec channel and its logs with a customer managed KMS key "
        "(adds the kms endpoint)."),
)


@dataclass(frozen=True)
class BastionSection:
    mode: str  # off | parked | on
    cpu: int
    memory: int
    image: str
    image_architecture: str
    image_source: str
    forward_ports: tuple[int, ...]
    exec_kms: bool
    switch = ('airgap:bastion = "off"', "airgap:bastion to parked")
    workload = True

    @property
    def enabled(self) -> bool:
        return self.mode != "off"

    def needs(self) -> Needs:
        return FargateBastion.needs(kms=self.exec_kms) if self.enabled else Needs()

    def image_problem(self, account: str) -> str | None:
        """Why the custom image cannot be pulled: the ECR endpoints admit only the account's own repositories."""
        found = EcrImage.parse(self.image) if self.image else None
        if found is not None and found.account != account:
            return f"an image in this account's registry ({account}): the ECR endpoints admit only the account's own " \
                   "repositories"
        return None

    def build(self, settings: Any, built: Built) -> FargateBastion | None:
        if not self.enabled:
            return None
        role = ecs_service_linked_role(settings)
        built.components["ecs-service-linked-role"] = role
        bastion = FargateBastion("bastion", FargateBastionArgs(
            vpc_id=built.network.vpc_id, subnet_ids=list(built.network.subnet_ids_by_zone.values()),
            names=settings.names, mode="on" if self.mode == "on" else "parked", cpu=self.cpu, memory=self.memory,
            log_retention_days=settings.log_retention_days, image_source=self.image_source,
            image_tag=Reference.parse(self.image_source).private_tag, image=self.image or None,
            image_architecture="ARM64" if self.image_architecture == "ARM64" else "X86_64", kms=self.exec_kms,
            endpoints=built.endpoints, asleep=settings.asleep, depends_on=[role] if role is not None else []))
        # Everything built before it that serves something may be forwarded to: the SSM host's ports, the database.
        bastion.allow_forwarding_to(*(c for c in built.components.values() if isinstance(c, Workload)))
        return bastion

    def export(self, settings: Any, built: Built) -> None:
        bastion = built.components.get(NAME)
        if built.components.get("ecs-service-linked-role") is not None:
            pulumi.export(Out.ECS_SERVICE_LINKED_ROLE, "created")
        if bastion is None:
            return
        pulumi.export(Out.BASTION_MODE, self.mode)
        pulumi.export(Out.BASTION_FORWARD_PORTS, list(self.forward_ports))
        pulumi.export(Out.BASTION_CLUSTER, bastion.cluster.name)
        pulumi.export(Out.BASTION_SERVICE, bastion.service.name)
        pulumi.export(Out.BASTION_COMMANDS, bastion.commands)
        pulumi.export(Out.BASTION_IMAGE, bastion.image)
        pulumi.export(Out.BASTION_IMAGE_PLATFORM, bastion.image_platform)
        if bastion.image_source:
            # The task cannot pull from the internet: the image is copied in from outside, once (forward does too).
            pulumi.export(Out.BASTION_IMAGE_SOURCE, bastion.image_source)
            pulumi.export(Out.BASTION_IMAGE_FILL, f"python3 dev.py bastion image --stack {settings.stack}")
        # What the bastion's group may reach, for `dev.py bastion forward` to check --to/--port against.
        targets = [t for c in built.components.values() if isinstance(c, Workload) for t in c.forward_targets()]
        pulumi.export(Out.BASTION_TARGETS, [{"name": t.name, "address": t.address, "ports": list(t.ports)}
                                            for t in targets])
        host = next((t for t in targets if t.name == "ssm-host"), None)
        if host is not None:
            port = str(host.ports[0])
            pulumi.export(Out.BASTION_FORWARD_TO_SSM_HOST, pulumi.Output.all(bastion.commands, host.address).apply(
                lambda v: v[0]["portForward"].replace("<hostIp>", v[1]).replace("<port>", port)))


def _image(v: Values, ctx: Context, p: Problems) -> tuple[str, str, str]:
    image = v.get("bastionImage", "")
    # Without NAT only the account's own private ECR, in the stack's region, is reachable.
    found = EcrImage.parse(image) if image else None
    if image and not found:
        p.bad("airgap:bastionImage", image, 'a full image URI in a private ECR registry, such as '
              '"123456789012.dkr.ecr.ap-northeast-1.amazonaws.com/tools:1.0", or "" for a copy of '
              "airgap:bastionImageSource in the stack's own repository")
    elif found and ctx.region_ok and found.region != ctx.region:
        p.bad("airgap:bastionImage", image, f"an image in the stack's region {ctx.region}: the VPC reaches only its "
              f"own region's ECR endpoints (copy the image to {ctx.region})")
    architecture = v.get("bastionImageArchitecture", "X86_64")
    if architecture not in PLATFORMS:
        p.bad("airgap:bastionImageArchitecture", architecture, '"X86_64" or "ARM64" (ECS cpuArchitecture)')
    elif architecture != v.default("bastionImageArchitecture") and not image:
        p.bad("airgap:bastionImageArchitecture", architecture, "its default while airgap:bastionImage is empty (the "
              "copied image is always ARM64)")
    source = v["bastionImageSource"]
    try:
        Reference.parse(source)
    except ValueError:
        p.bad("airgap:bastionImageSource", source, f"an image reference {IMAGE_FORM}, from a registry that allows "
              "anonymous pulls")
    else:
        if EcrImage.parse(source):
            p.bad("airgap:bastionImageSource", source, "a public image (public.ecr.aws/..., docker.io/...): the copy "
                  "pulls it anonymously; a private ECR image goes in airgap:bastionImage instead")
    if image and source != DEFAULT_IMAGE_SOURCE:
        p.bad("airgap:bastionImageSource", source, "its default while airgap:bastionImage is set (a custom image is "
              "used as it is; nothing is copied)")
    return image, source, architecture if architecture in PLATFORMS else "X86_64"


def _ports(v: Values, ctx: Context, p: Problems) -> tuple[int, ...]:
    ports = v.get("bastionForwardPorts", [])
    for i, port in enumerate(ports):
        if not 1 <= port <= 65535:
            p.bad(f"airgap:bastionForwardPorts[{i}]", port, "a TCP port from 1 to 65535")
        elif port in (22, 3389):
            p.bad(f"airgap:bastionForwardPorts[{i}]", port, "a port other than 22 and 3389 (Session Manager replaces "
                  "SSH and RDP)")
    if len(set(ports)) != len(ports):
        p.bad("airgap:bastionForwardPorts", ports, "each port at most once")
    if len(ports) > MAX_FORWARD_PORTS:
        p.bad("airgap:bastionForwardPorts", ports, f"at most {MAX_FORWARD_PORTS} ports: each is a rule on the SSM "
              "host's group and on the bastion's, and a group holds 60 inbound and 60 outbound rules by default "
              "(Amazon VPC quotas), some already taken")
    if ports and not ctx.sections["ssm-host"].enabled:
        p.bad("airgap:bastionForwardPorts", ports, "[] while airgap:ssmHost is false (the ports open the SSM host to "
              "the bastion)")
    return tuple(ports)


def parse(v: Values, ctx: Context, p: Problems) -> BastionSection:
    mode = v.get("bastion", "off")
    known = mode in ("off", "parked", "on")
    if not known:
        p.bad("airgap:bastion", mode, '"off" (no bastion, no bastion-only endpoints), "parked" (service at 0 tasks) '
              'or "on" (one task running)')
        mode = "off"
    cpu, memory = v["bastionCpu"], v["bastionMemory"]
    if v.ok("bastionCpu") and cpu not in FARGATE_SIZES:
        p.bad("airgap:bastionCpu", cpu, f"a Fargate CPU size: {', '.join(map(str, FARGATE_SIZES))}")
    elif v.ok("bastionCpu") and v.ok("bastionMemory") and memory not in FARGATE_SIZES[cpu]:
        choices = FARGATE_SIZES[cpu]
        p.bad("airgap:bastionMemory", memory, f"a memory size Fargate allows with {cpu} CPU units: {choices[0]} to "
              f"{choices[-1]} MiB in steps Fargate allows ({', '.join(map(str, choices))})")
    image, source, architecture = _image(v, ctx, p)
    ports = _ports(v, ctx, p)
    if known and ctx.sections["database"].enabled and mode == "off":
        p.bad("airgap:database", True, "false while airgap:bastion is off (the database is reached through the "
              "bastion: set airgap:bastion to parked)")
    return BastionSection(mode, cpu, memory, image, architecture, source, ports, v["execKms"] is True)
