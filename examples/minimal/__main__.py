"""The smallest airgap: a VPC with isolated subnets only, the three endpoints Session Manager needs (ssm,
ssmmessages, and the free S3 gateway for the agent's and Amazon Linux's buckets), and one host.

    pulumi up
    aws ssm start-session --target $(pulumi stack output hostId)
"""

import ipaddress

import pulumi
import pulumi_aws as aws

from airgap import (
    PrivateNetwork,
    PrivateNetworkArgs,
    SsmHost,
    SsmHostArgs,
    VpcEndpoints,
    VpcEndpointsArgs,
    VpcFlowLogs,
    VpcFlowLogsArgs,
)

# Two AZs: the first two the account may use without opting in.
zones = aws.get_availability_zones(state="available", filters=[
    aws.GetAvailabilityZonesFilterArgs(name="opt-in-status", values=["opt-in-not-required"])]).names[:2]
cidr = ipaddress.ip_network("10.60.0.0/16")
subnets = dict(zip(zones, cidr.subnets(new_prefix=24), strict=False))

network = PrivateNetwork("network", PrivateNetworkArgs(cidr=cidr, subnets=subnets))
VpcFlowLogs("flow-logs", VpcFlowLogsArgs(vpc_id=network.vpc_id, traffic="REJECT"))
endpoints = VpcEndpoints(
    "endpoints",
    VpcEndpointsArgs(vpc_id=network.vpc_id, subnet_ids=network.subnet_ids_by_zone,
                     route_table_ids=network.route_table_ids, services=("ssm", "ssmmessages", "s3"),
                     # One interface per endpoint, in the host's AZ: the cheapest placement.
                     zones={"ssm": zones[:1], "ssmmessages": zones[:1]},
                     workloads=("ssm-host",)),
)
host = SsmHost(
    "host",
    SsmHostArgs(vpc_id=network.vpc_id, subnet_id=network.subnet_ids_by_zone[zones[0]], endpoints=endpoints),
)

pulumi.export("hostId", host.instance.id)
