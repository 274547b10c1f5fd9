"""airgap: a private-only AWS environment, reached only through AWS Systems Manager.

    VPC, isolated subnets only ── endpoint group ── interface endpoints (+ S3 gateway on every route table)
     ├─ SSM host (EC2) ── tcp/2049 ──► file share (EFS)
     ├─ database (Aurora PostgreSQL, paused when idle)
     └─ Fargate bastion (ECS Exec) ── port forwarding ──► SSM host, database
    operator ── aws ssm start-session ──► ssmmessages endpoint ──► host or bastion

airgap:role splits it: a network stack (the VPC and its endpoints) and workload stacks on it (the rest).
"""

from airgap import (
    PrivateNetwork,
    PrivateNetworkArgs,
    SharedNetwork,
    SharedNetworkArgs,
    VpcEndpoints,
    VpcEndpointsArgs,
    VpcFlowLogs,
    VpcFlowLogsArgs,
)
from program import config
from program.outputs import export_network, export_state, export_workloads
from program.sections import Built, build_workloads

settings = config.load()
export_state(settings)
network_config = settings.sections["network"]

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
        VpcFlowLogsArgs(vpc_id=network.vpc_id, names=settings.names, traffic=network_config.flow_log_traffic,
                        retention_days=network_config.flow_log_retention_days, keep_on_destroy=settings.production),
    ) if network_config.flow_logs else None
    # The only way out of the VPC, and what may pass: endpoint policies admit the account's own principals and
    # resources, and the S3 gateway exactly the buckets the workloads read.
    endpoints = VpcEndpoints(
        "endpoints",
        VpcEndpointsArgs(vpc_id=network.vpc_id, subnet_ids=network.subnet_ids_by_zone,
                         route_table_ids=network.route_table_ids, services=settings.endpoints,
                         zones=settings.endpoint_zones, policy_supported=settings.endpoint_policy_supported,
                         workloads=[settings.needs], buckets=network_config.s3_buckets, asleep=settings.asleep),
    )
    export_network(settings, network, endpoints, flow_logs)

# The workloads the config turns on (program/sections), in order: the file share, the SSM host, the database, and
# last the bastion, which may forward to each of them. Each connects itself to the endpoints before it starts.
built = Built(network, endpoints)
if settings.role != "network":
    build_workloads(settings, built)
export_workloads(settings, built)
