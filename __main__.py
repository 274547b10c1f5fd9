"""airgap: a private-only AWS environment, reached only through AWS Systems Manager.

    VPC, isolated subnets only ── endpoint group ── interface endpoints (+ S3 gateway on every route table)
     ├─ SSM host (EC2) ── tcp/2049 ──► file share (EFS)
     └─ Fargate bastion (ECS Exec) ── port forwarding ──► SSM host
    operator ── aws ssm start-session ──► ssmmessages endpoint ──► host or bastion

airgap:role splits it: a network stack (the VPC and its endpoints) and workload stacks on it (the rest).
"""

from airgap import (
    FargateBastion,
    FargateBastionArgs,
    FileShare,
    FileShareArgs,
    PrivateNetwork,
    PrivateNetworkArgs,
    SharedNetwork,
    SharedNetworkArgs,
    SsmHost,
    SsmHostArgs,
    VpcEndpoints,
    VpcEndpointsArgs,
    VpcFlowLogs,
    VpcFlowLogsArgs,
)
from airgap.connections import Port
from airgap.image_reference import Reference
from program import config
from program.account import ecs_service_linked_role
from program.outputs import export_network, export_state, export_workloads

settings = config.load()
ecs_role = ecs_service_linked_role(settings)
export_state(settings, ecs_role)

# The network: this stack's own (roles all and network), or a network stack's (role workloads).
if (offer := settings.network) is not None:
    network = endpoints = SharedNetwork(
        "network",
        SharedNetworkArgs(stack=offer.stack, vpc_id=offer.vpc_id, subnet_ids_by_zone=offer.subnets,
                          endpoint_group_id=offer.endpoint_group_id, s3_prefix_list_id=offer.s3_prefix_list_id),
    )
else:
    network = PrivateNetwork(
        "network",
        PrivateNetworkArgs(
            cidr=settings.vpc_cidr,
            subnets={zone: settings.subnet_cidr(zone) for zone in settings.availability_zones},
        ),
    )
    flow_logs = VpcFlowLogs(
        "flow-logs",
        VpcFlowLogsArgs(vpc_id=network.vpc_id, names=settings.names, traffic=settings.flow_log_traffic,
                        retention_days=settings.flow_log_retention_days, keep_on_destroy=settings.production),
    ) if settings.flow_logs else None
    # The only way out of the VPC, and what may pass: endpoint policies admit the account's own principals and
    # resources, and the S3 gateway exactly the buckets the workloads read.
    endpoints = VpcEndpoints(
        "endpoints",
        VpcEndpointsArgs(vpc_id=network.vpc_id, subnet_ids=network.subnet_ids_by_zone,
                         route_table_ids=network.route_table_ids, services=settings.endpoints,
                         zones=settings.endpoint_zones, policy_supported=settings.endpoint_policy_supported,
                         workloads=settings.workloads, buckets=settings.s3_buckets,
                         asleep=settings.asleep),
    )
    export_network(settings, network, endpoints, flow_logs)

if settings.role != "network":
    share = FileShare(
        "file-share",
        FileShareArgs(vpc_id=network.vpc_id, subnet_ids=network.subnet_ids_by_zone, protect=settings.production),
    ) if settings.file_share else None

    # The host and the bastion connect themselves to the endpoints (and the host to the share) before they start.
    host = SsmHost(
        "ssm-host",
        SsmHostArgs(vpc_id=network.vpc_id, subnet_id=network.subnet_ids_by_zone[settings.availability_zones[0]],
                    instance_type=settings.ssm_host_instance_type, endpoints=endpoints, file_share=share,
                    running=not settings.asleep),
    ) if settings.ssm_host else None

    bastion = FargateBastion(
        "bastion",
        FargateBastionArgs(vpc_id=network.vpc_id, subnet_ids=list(network.subnet_ids_by_zone.values()),
                           names=settings.names, mode=settings.bastion, cpu=settings.bastion_cpu,
                           memory=settings.bastion_memory, log_retention_days=settings.log_retention_days,
                           image_source=settings.bastion_image_source,
                           image_tag=Reference.parse(settings.bastion_image_source).private_tag,
                           image=settings.bastion_image or None, kms=settings.exec_kms, endpoints=endpoints,
                           asleep=settings.asleep, depends_on=[ecs_role] if ecs_role is not None else []),
    ) if settings.bastion != "off" else None
    if bastion is not None and host is not None:
        for port in settings.bastion_forward_ports:
            bastion.connections.allow_to(host, Port.tcp(port), "port forwarding to the SSM host")

    export_workloads(settings, network, host, share, bastion)
