"""The stack's outputs: what operators, `dev.py` and workload stacks read from a deployed stack.

A network (roles all and network) exports what a workload stack needs to run on it (lookups.py: NetworkOffer reads
exactly these); workloads export how to reach them.
"""

from __future__ import annotations

import pulumi

from airgap.bastion import FargateBastion
from airgap.endpoint_policies import allowed_buckets
from airgap.endpoints import VpcEndpoints
from airgap.file_share import FileShare
from airgap.flow_logs import VpcFlowLogs
from airgap.network import Network, PrivateNetwork
from airgap.ssm_host import SsmHost
from program.config import Settings, network_asleep
from program.contract import Out


def export_state(settings: Settings, ecs_role: pulumi.Resource | None) -> None:
    pulumi.export(Out.REGION, settings.region)
    # Where the stack's state lives: the next `pulumi up` from any clone reads it back (config.py: own_outputs).
    pulumi.export(Out.STATE, settings.state.value)
    pulumi.export(Out.ROLE, settings.role)
    if ecs_role is not None:
        pulumi.export(Out.ECS_SERVICE_LINKED_ROLE, "created")
    if (warning := network_asleep(settings)) is not None:
        pulumi.log.warn(warning)


def export_network(settings: Settings, network: PrivateNetwork, endpoints: VpcEndpoints,
                   flow_logs: VpcFlowLogs | None) -> None:
    pulumi.export("vpcId", network.vpc.id)
    pulumi.export("vpcCidr", str(settings.vpc_cidr))
    pulumi.export("subnetIds", network.subnet_ids)
    pulumi.export("subnetIdsByZone", network.subnet_ids_by_zone)
    pulumi.export("endpointGroupId", endpoints.connections.group.id)
    if endpoints.s3_prefix_list is not None:
        pulumi.export("s3PrefixListId", endpoints.s3_prefix_list.prefix_list_id)
    # The endpoints that exist now: a workload stack checks its needs against this (asleep: only the gateway).
    pulumi.export("endpointServices", list(settings.endpoints_present))
    if flow_logs is not None:
        pulumi.export("flowLogBucket", flow_logs.bucket.id)
    pulumi.export("s3BucketsReachable", [b.name for b in allowed_buckets(settings.region, settings.workloads,
                                                                         settings.s3_buckets)])
    pulumi.export("endpointDnsNames", endpoints.dns_names)


def export_workloads(settings: Settings, network: Network, host: SsmHost | None, share: FileShare | None,
                     bastion: FargateBastion | None) -> None:
    if settings.network is not None:
        pulumi.export("networkStack", settings.network.stack)
        pulumi.export("vpcId", network.vpc_id)
    if host is not None:
        pulumi.export("ssmHostInstanceId", host.instance.id)
        pulumi.export("ssmHostPrivateIp", host.instance.private_ip)
        pulumi.export("ssmHostSession", host.instance.id.apply(
            lambda i: f"aws ssm start-session --region {settings.region} --target {i}"))
        # First boot reports each step on the console and ends with "done" or "FAILED: <step>".
        pulumi.export("ssmHostBootLog", host.instance.id.apply(
            lambda i: f"aws ec2 get-console-output --region {settings.region} --instance-id {i} --latest --output text"
                      " | grep airgap-first-boot"))
    if share is not None:
        pulumi.export("fileShareId", share.file_system.id)
        pulumi.export("fileShareArn", share.file_system.arn)
    if bastion is not None:
        pulumi.export("bastionMode", settings.bastion)
        pulumi.export("bastionForwardPorts", list(settings.bastion_forward_ports))
        pulumi.export("bastionCluster", bastion.cluster.name)
        pulumi.export("bastionService", bastion.service.name)
        pulumi.export("bastionCommands", bastion.commands)
        pulumi.export("bastionImage", bastion.image)
        pulumi.export("bastionImagePlatform", bastion.image_platform)
        if bastion.image_source:
            # The task cannot pull from the internet: the image is copied in from outside, once (forward does too).
            pulumi.export("bastionImageSource", bastion.image_source)
            pulumi.export("bastionImageFill", f"python3 dev.py bastion image --stack {settings.stack}")
        # What the bastion's group may reach, for `dev.py bastion forward` to check --host/--port against.
        pulumi.export("bastionTargets", [{"name": "ssm-host", "address": host.instance.private_ip,
                                          "ports": list(settings.bastion_forward_ports)}]
                      if host is not None and settings.bastion_forward_ports else [])
        if host is not None and settings.bastion_forward_ports:
            port = str(settings.bastion_forward_ports[0])
            pulumi.export("bastionForwardToSsmHost", pulumi.Output.all(
                bastion.commands, host.instance.private_ip).apply(
                lambda v: v[0]["portForward"].replace("<hostIp>", v[1]).replace("<port>", port)))
