"""The stack's outputs: what operators, `dev.py` and workload stacks read from a deployed stack.

A network (roles all and network) exports what a workload stack needs to run on it (lookups.py: NetworkOffer reads
exactly these); each workload section exports how to reach its workload (program/sections).
"""

from __future__ import annotations

import pulumi

from airgap.endpoint_policies import allowed_buckets
from airgap.endpoints import VpcEndpoints
from airgap.flow_logs import VpcFlowLogs
from airgap.network import PrivateNetwork
from program.config import Settings, network_asleep
from program.contract import Out
from program.sections import Built, workloads


def export_state(settings: Settings) -> None:
    pulumi.export(Out.REGION, settings.region)
    # Where the stack's state lives: the next `pulumi up` from any clone reads it back (config.py: own_outputs).
    pulumi.export(Out.STATE, settings.state.value)
    pulumi.export(Out.ROLE, settings.role)
    if (warning := network_asleep(settings)) is not None:
        pulumi.log.warn(warning)


def export_network(settings: Settings, network: PrivateNetwork, endpoints: VpcEndpoints,
                   flow_logs: VpcFlowLogs | None) -> None:
    pulumi.export(Out.VPC_ID, network.vpc.id)
    pulumi.export(Out.VPC_CIDR, str(settings.vpc_cidr))
    pulumi.export(Out.SUBNET_IDS, network.subnet_ids)
    pulumi.export(Out.SUBNET_IDS_BY_ZONE, network.subnet_ids_by_zone)
    pulumi.export(Out.ENDPOINT_GROUP_ID, endpoints.connections.group.id)
    if endpoints.s3_prefix_list is not None:
        pulumi.export(Out.S3_PREFIX_LIST_ID, endpoints.s3_prefix_list.prefix_list_id)
    # The endpoints that exist now: a workload stack checks its needs against this (asleep: only the gateway).
    pulumi.export(Out.ENDPOINT_SERVICES, list(settings.endpoints_present))
    if flow_logs is not None:
        pulumi.export(Out.FLOW_LOG_BUCKET, flow_logs.bucket.id)
    buckets = allowed_buckets(settings.region, settings.needs.buckets, settings.sections["network"].s3_buckets)
    pulumi.export(Out.S3_BUCKETS_REACHABLE, [b.name for b in buckets])
    pulumi.export(Out.ENDPOINT_DNS_NAMES, endpoints.dns_names)


def export_workloads(settings: Settings, built: Built) -> None:
    if settings.network is not None:
        pulumi.export(Out.NETWORK_STACK, settings.network.stack)
        pulumi.export(Out.VPC_ID, built.network.vpc_id)
    for section in workloads(settings.sections):
        section.export(settings, built)
