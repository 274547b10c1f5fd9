"""airgap: a private-only AWS environment, reached only through AWS Systems Manager.

    VPC (isolated subnets, no internet path) ── endpoint group ── interface endpoints + S3 gateway
"""

import pulumi

from components import config
from components.endpoints import VpcEndpoints, VpcEndpointsArgs
from components.network import PrivateNetwork, PrivateNetworkArgs

settings = config.load()

network = PrivateNetwork(
    "network",
    PrivateNetworkArgs(
        cidr=settings.vpc_cidr,
        subnets={zone: settings.subnet_cidr(zone) for zone in settings.availability_zones},
    ),
)

endpoints = VpcEndpoints(
    "endpoints",
    VpcEndpointsArgs(
        network=network,
        region=settings.region,
        services=settings.endpoints,
        zones=settings.endpoint_zones,
    ),
)

pulumi.export("vpcId", network.vpc.id)
pulumi.export("subnetIds", network.subnet_ids)
pulumi.export("endpointServices", list(settings.endpoints))
pulumi.export("endpointDnsNames", endpoints.dns_names)
