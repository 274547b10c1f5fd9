"""The private network: isolated subnets, no way to or from the internet, the default group emptied. Both modes."""

from __future__ import annotations

import pytest

from offline import graph
from offline.harness import Capture

pytestmark = pytest.mark.program

VPC = "aws:ec2/vpc:Vpc"
SUBNET = "aws:ec2/subnet:Subnet"
TABLE = "aws:ec2/routeTable:RouteTable"
ASSOCIATION = "aws:ec2/routeTableAssociation:RouteTableAssociation"


def test_no_internet_gateway_nat_eip_or_default_route(dev: Capture) -> None:
    assert graph.internet_paths(dev) == []
    types = {r.type for r in dev}
    assert not types & set(graph.INTERNET_TYPES)
    assert "aws:ec2/route:Route" not in types
    for table in dev.of_type(TABLE):
        assert not table.inputs.get("routes"), f"route table {table.name} carries routes"


def test_internet_path_detection_would_catch_each_kind(cap) -> None:
    # The checker itself must see what it is meant to see: feed it a capture with every kind of path.
    from offline.harness import Registration

    def reg(type_: str, name: str, **inputs: object) -> Registration:
        return Registration(f"urn:{name}", type_, name, None, True, dict(inputs), {}, "", [], {}, False)

    bad = cap("dev", "preview")
    bad = type(bad)(bad.stack, bad.mode, bad.region, bad.config, [
        reg("aws:ec2/internetGateway:InternetGateway", "igw"),
        reg("aws:ec2/natGateway:NatGateway", "nat"),
        reg("aws:ec2/eip:Eip", "eip"),
        reg("aws:ec2/route:Route", "default", destinationCidrBlock="0.0.0.0/0"),
        reg(TABLE, "inline", routes=[{"ipv6CidrBlock": "::/0"}]),
        reg(SUBNET, "public", mapPublicIpOnLaunch=True),
    ], {})
    assert len(graph.internet_paths(bad)) == 6


def test_vpc_resolves_private_dns(dev: Capture) -> None:
    (vpc,) = dev.of_type(VPC)
    assert vpc.inputs["enableDnsSupport"] is True
    assert vpc.inputs["enableDnsHostnames"] is True
    assert vpc.inputs["cidrBlock"] == "10.40.0.0/16"


def test_one_isolated_subnet_per_az_each_with_its_own_route_table(dev: Capture) -> None:
    subnets = dev.of_type(SUBNET)
    assert len(subnets) >= 2
    assert len({s.inputs["availabilityZone"] for s in subnets}) == len(subnets)
    for subnet in subnets:
        assert subnet.inputs["mapPublicIpOnLaunch"] is False
    by_urn = dev.by_urn()
    pairs = set()
    for assoc in dev.of_type(ASSOCIATION):
        (subnet,) = assoc.property_dependencies["subnetId"]
        (table,) = assoc.property_dependencies["routeTableId"]
        assert by_urn[subnet].type == SUBNET and by_urn[table].type == TABLE
        pairs.add((subnet, table))
    assert {s for s, _ in pairs} == {s.urn for s in subnets}
    assert len({t for _, t in pairs}) == len(subnets), "two subnets share a route table"


def test_default_security_group_is_adopted_and_left_empty(dev: Capture) -> None:
    (default,) = dev.of_type("aws:ec2/defaultSecurityGroup:DefaultSecurityGroup")
    assert not default.inputs.get("ingress") and not default.inputs.get("egress")
    (vpc,) = dev.of_type(VPC)
    assert default.property_dependencies["vpcId"] == [vpc.urn]


def test_every_security_group_has_zero_inline_rules(dev: Capture) -> None:
    groups = dev.of_type(graph.SG)
    assert groups
    assert graph.inline_rules(dev) == []
    for group in groups:
        assert "ingress" not in group.inputs and "egress" not in group.inputs, group.name
        assert group.inputs["description"]


@pytest.mark.parametrize("zones", [2, 3])
def test_subnet_count_follows_az_count(cap, zones: int) -> None:
    assert len(cap("dev", "preview", azCount=zones).of_type(SUBNET)) == zones
