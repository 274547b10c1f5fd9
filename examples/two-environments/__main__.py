"""Two complete environments — VPC, flow logs, endpoints, host, file share, bastion — in one stack.

Every child's logical name and every physical name starts with the component's name, so `blue-…` and `green-…`
never collide. Green runs in another region through an explicit provider: its components read their region and
account from that provider, so its endpoints get that region's service names and its policies that region's ARNs.
"""

import ipaddress

import pulumi
import pulumi_aws as aws

from airgap import (
    FargateBastion,
    FargateBastionArgs,
    FileShare,
    FileShareArgs,
    Port,
    PrivateNetwork,
    PrivateNetworkArgs,
    SsmHost,
    SsmHostArgs,
    VpcEndpoints,
    VpcEndpointsArgs,
    VpcFlowLogs,
    VpcFlowLogsArgs,
)

INTERFACES = ("ssm", "ssmmessages", "ecr.api", "ecr.dkr", "logs")


def environment(name: str, cidr: str, opts: pulumi.ResourceOptions | None = None) -> SsmHost:
    """One environment, every component named `<name>-…`; `opts` (e.g. a provider) applies to all of them."""
    zones = aws.get_availability_zones(state="available", opts=pulumi.InvokeOptions(
        provider=opts.provider if opts else None)).names[:2]
    block = ipaddress.ip_network(cidr)
    network = PrivateNetwork(f"{name}-network", PrivateNetworkArgs(
        cidr=block, subnets=dict(zip(zones, block.subnets(new_prefix=24), strict=False))), opts)
    VpcFlowLogs(f"{name}-flow-logs", VpcFlowLogsArgs(vpc_id=network.vpc_id), opts)
    endpoints = VpcEndpoints(f"{name}-endpoints", VpcEndpointsArgs(
        vpc_id=network.vpc_id, subnet_ids=network.subnet_ids_by_zone, route_table_ids=network.route_table_ids,
        services=(*INTERFACES, "s3"), zones={s: zones[:1] for s in INTERFACES}, workloads=("ssm-host", "bastion")),
        opts)
    share = FileShare(f"{name}-share", FileShareArgs(vpc_id=network.vpc_id, subnet_ids=network.subnet_ids_by_zone),
                      opts)
    host = SsmHost(f"{name}-host", SsmHostArgs(vpc_id=network.vpc_id, subnet_id=network.subnet_ids_by_zone[zones[0]],
                                               endpoints=endpoints, file_share=share), opts)
    bastion = FargateBastion(f"{name}-bastion", FargateBastionArgs(
        vpc_id=network.vpc_id, subnet_ids=list(network.subnet_ids_by_zone.values()), endpoints=endpoints), opts)
    # Port forwarding from the bastion to the host's web port: one connection, both rules.
    bastion.connections.allow_to(host, Port.tcp(8080), "port forwarding to the host")
    pulumi.export(f"{name}HostId", host.instance.id)
    pulumi.export(f"{name}BastionCluster", bastion.cluster.name)
    return host


other = aws.Provider("other-region", region=pulumi.Config().get("otherRegion") or "eu-west-1")
environment("blue", "10.70.0.0/16")
environment("green", "10.71.0.0/16", pulumi.ResourceOptions(provider=other))
