"""airgap's workloads on a VPC this program did not create: every component takes ids, not objects.

The VPC, its isolated subnets and their route tables come from config (another stack's outputs, or a landing zone's
VPC). If the VPC already has its endpoints, name their security group (`endpointGroupId`) and the program only adds
its own 443 rules to that group; otherwise it creates the endpoints its workloads need. A private PostgreSQL sits
beside them, reached through the bastion.
"""

import pulumi

from airgap import (
    Database,
    DatabaseArgs,
    EndpointAccess,
    EndpointGroup,
    FargateBastion,
    FargateBastionArgs,
    FileShare,
    FileShareArgs,
    SsmHost,
    SsmHostArgs,
    VpcEndpoints,
    VpcEndpointsArgs,
)

config = pulumi.Config()
vpc_id = config.require("vpcId")
subnet_ids: dict[str, str] = config.require_object("subnetIdsByZone")
route_table_ids: list[str] = config.require_object("routeTableIds")
zones = sorted(subnet_ids)

# The endpoints: the VPC's own (by their group's id), or new ones on it.
endpoints: EndpointAccess
if group_id := config.get("endpointGroupId"):
    endpoints = EndpointGroup.existing("endpoints", group_id, s3_prefix_list_id=config.require("s3PrefixListId"))
else:
    interfaces = ("ssm", "ssmmessages", "ecr.api", "ecr.dkr", "logs")
    endpoints = VpcEndpoints(
        "endpoints",
        VpcEndpointsArgs(vpc_id=vpc_id, subnet_ids=subnet_ids, route_table_ids=route_table_ids,
                         zones={s: zones[:1] for s in interfaces},
                         workloads=[SsmHost.needs(), FargateBastion.needs(), Database.needs()]),
    )

share = FileShare("share", FileShareArgs(vpc_id=vpc_id, subnet_ids=subnet_ids))
host = SsmHost("host", SsmHostArgs(vpc_id=vpc_id, subnet_id=subnet_ids[zones[0]], endpoints=endpoints,
                                   file_share=share))
database = Database("database", DatabaseArgs(vpc_id=vpc_id, subnet_ids=list(subnet_ids.values())))
bastion = FargateBastion("bastion", FargateBastionArgs(vpc_id=vpc_id, subnet_ids=list(subnet_ids.values()),
                                                       endpoints=endpoints))
bastion.allow_forwarding_to(database)  # 5432, both halves: `aws ssm start-session ... ToRemoteHost` reaches it

pulumi.export("hostId", host.instance.id)
pulumi.export("fileSystemId", share.file_system.id)
pulumi.export("bastionCluster", bastion.cluster.name)
pulumi.export("databaseEndpoint", database.cluster.endpoint)
pulumi.export("databaseSecretArn", database.secret_arn)
