"""PrivateNetwork: a VPC with isolated subnets only. No Internet Gateway, NAT, Elastic IP or default route, ever.

Not `awsx.ec2.Vpc`: it creates an Internet Gateway even when every subnet is isolated, which is exactly the
internet path this project exists to rule out.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

import pulumi
import pulumi_aws as aws

from airgap.naming import ChildNames, check_component_name


class Network(Protocol):
    """Where workloads are placed: a VPC and its isolated subnets by AZ. A PrivateNetwork of this stack, or a
    SharedNetwork (another stack's, through a stack reference)."""

    @property
    def vpc_id(self) -> pulumi.Input[str]: ...

    @property
    def subnet_ids_by_zone(self) -> Mapping[str, pulumi.Input[str]]: ...


@dataclass(frozen=True)
class ExistingNetwork:
    """A VPC this program did not create, by ids: what the components attach to (`Network`)."""

    vpc_id: pulumi.Input[str]
    # AZ name -> that AZ's subnet id; the AZ names key the mount targets and endpoint interfaces.
    subnet_ids_by_zone: Mapping[str, pulumi.Input[str]]
    route_table_ids: tuple[pulumi.Input[str], ...] = ()


@dataclass(frozen=True)
class PrivateNetworkArgs:
    cidr: ipaddress.IPv4Network
    # AZ name -> that AZ's isolated subnet CIDR.
    subnets: dict[str, ipaddress.IPv4Network]


class PrivateNetwork(pulumi.ComponentResource):
    """The VPC, one isolated subnet and route table per AZ, and the default security group emptied."""

    vpc: aws.ec2.Vpc
    subnets: dict[str, aws.ec2.Subnet]
    route_tables: dict[str, aws.ec2.RouteTable]
    subnet_ids: pulumi.Output[list[str]]

    def __init__(self, name: str, args: PrivateNetworkArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("airgap:network:PrivateNetwork", check_component_name("PrivateNetwork", name), None, opts)
        names = ChildNames(name, first_name="network")

        self.vpc = aws.ec2.Vpc(
            names(),
            cidr_block=str(args.cidr),
            # Private DNS for interface endpoints resolves only with both on (the endpoints' service names must
            # resolve to their private IPs, or the agent goes to the public endpoint and times out).
            enable_dns_support=True,
            enable_dns_hostnames=True,
            tags={"Name": name},
            opts=names.opts(self, was="vpc"),
        )
        # Adopted with no rules: the provider strips AWS's "all traffic from this group" rules. Nothing may use
        # the default group; traffic inside the VPC is allowed group-to-group by reference, never by CIDR.
        self.default_security_group = aws.ec2.DefaultSecurityGroup(
            names("default-group"),
            vpc_id=self.vpc.id,
            tags={"Name": f"{name}-default-unused"},
            opts=names.opts(self, was="default-group-emptied"),
        )

        self.subnets = {}
        self.route_tables = {}
        for zone, cidr in args.subnets.items():
            child = names.opts(self, was=f"isolated-{zone}")
            subnet = aws.ec2.Subnet(
                names(f"isolated-{zone}"),
                vpc_id=self.vpc.id,
                cidr_block=str(cidr),
                availability_zone=zone,
                map_public_ip_on_launch=False,
                tags={"Name": f"{name}-isolated-{zone}"},
                opts=child,
            )
            # Its own table with only the implicit local route; the S3 gateway endpoint adds its prefix-list
            # route here. There is no 0.0.0.0/0 to add: no gateway exists to point it at.
            table = aws.ec2.RouteTable(
                names(f"isolated-{zone}"),
                vpc_id=self.vpc.id,
                tags={"Name": f"{name}-isolated-{zone}"},
                opts=child,
            )
            aws.ec2.RouteTableAssociation(
                names(f"isolated-{zone}"),
                subnet_id=subnet.id,
                route_table_id=table.id,
                opts=child,
            )
            self.subnets[zone] = subnet
            self.route_tables[zone] = table

        self.subnet_ids = pulumi.Output.all(*[s.id for s in self.subnets.values()])
        self._subnet_ids_by_zone = {zone: s.id for zone, s in self.subnets.items()}
        self.register_outputs(
            {
                "vpcId": self.vpc.id,
                "subnetIds": self.subnet_ids,
                "routeTableIds": [t.id for t in self.route_tables.values()],
            }
        )

    @property
    def vpc_id(self) -> pulumi.Output[str]:
        return self.vpc.id

    @property
    def subnet_ids_by_zone(self) -> dict[str, pulumi.Output[str]]:
        return self._subnet_ids_by_zone

    @property
    def route_table_ids(self) -> tuple[pulumi.Output[str], ...]:
        return tuple(t.id for t in self.route_tables.values())
