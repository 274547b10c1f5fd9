"""VPC endpoints: private DNS, their own group, S3 as a free gateway on every route table, and 443 opened only
from the groups that use them (not the world, and never missing the inbound 443)."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import run_program

from offline import graph
from offline.harness import Capture

TABLE = "aws:ec2/routeTable:RouteTable"
SUBNET = "aws:ec2/subnet:Subnet"


def endpoints(cap: Capture, kind: str) -> dict[str, object]:
    return {r.name: r for r in cap.of_type(graph.ENDPOINT) if r.inputs["vpcEndpointType"] == kind}


def test_interface_endpoints_have_private_dns_and_only_the_endpoint_group(dev: Capture) -> None:
    group = dev.named(graph.SG, "endpoint-group")
    interfaces = endpoints(dev, "Interface")
    assert set(interfaces) == {"ssm", "ssmmessages", "ecr-api", "ecr-dkr", "logs"}
    for endpoint in interfaces.values():
        assert endpoint.inputs["privateDnsEnabled"] is True, endpoint.name
        assert endpoint.property_dependencies["securityGroupIds"] == [group.urn], endpoint.name
        assert len(endpoint.inputs["securityGroupIds"]) == 1


def test_service_names_are_in_the_stack_region(dev: Capture) -> None:
    for endpoint in dev.of_type(graph.ENDPOINT):
        assert endpoint.inputs["serviceName"].startswith(f"com.amazonaws.{dev.region}."), endpoint.name


def test_s3_is_a_gateway_on_every_route_table(dev: Capture) -> None:
    (s3,) = endpoints(dev, "Gateway").values()
    assert s3.inputs["serviceName"].endswith(".s3")
    assert sorted(s3.property_dependencies["routeTableIds"]) == sorted(t.urn for t in dev.of_type(TABLE))


@pytest.mark.parametrize(("placement", "zones"), [("single-az", 1), ("every-az", 2)])
def test_placement_decides_how_many_azs_each_interface_endpoint_occupies(cap, placement: str, zones: int) -> None:
    run = cap("dev", "preview", endpointPlacement=placement)
    subnets = {s.urn: s.inputs["availabilityZone"] for s in run.of_type(SUBNET)}
    for endpoint in endpoints(run, "Interface").values():
        used = endpoint.property_dependencies["subnetIds"]
        assert len(endpoint.inputs["subnetIds"]) == zones
        assert len({subnets[u] for u in used}) == zones


def test_dev_places_endpoints_in_one_az_to_save_cost(dev: Capture) -> None:
    for endpoint in endpoints(dev, "Interface").values():
        assert len(endpoint.inputs["subnetIds"]) == 1


def test_endpoint_set_is_config(cap) -> None:
    run = cap("dev", "preview", endpoints=["ssm", "ssmmessages", "ec2messages", "s3"])
    assert {r.name for r in run.of_type(graph.ENDPOINT)} == {"ssm", "ssmmessages", "ec2messages", "s3"}


CONSUMERS = '''
from components import config
from components.connections import Connections, security_group
from components.endpoints import VpcEndpoints, VpcEndpointsArgs
from components.network import PrivateNetwork, PrivateNetworkArgs

settings = config.load()
network = PrivateNetwork("network", PrivateNetworkArgs(settings.vpc_cidr,
                         {{z: settings.subnet_cidr(z) for z in settings.availability_zones}}))
endpoints = VpcEndpoints("endpoints", VpcEndpointsArgs(network, settings.region, settings.endpoints,
                         settings.endpoint_zones))
app = Connections("app", security_group("app", vpc_id=network.vpc.id, description="app", parent=network), network)
worker = Connections("worker", security_group("worker", vpc_id=network.vpc.id, description="w", parent=network),
                     network)
endpoints.allow_from({consumers})
'''


@pytest.mark.parametrize("mode", ["preview", "update"])
def test_allow_from_opens_443_both_ways_and_443_to_s3(tmp_path: Path, mode: str) -> None:
    cap = run_program(CONSUMERS.format(consumers="app, worker"), tmp_path, mode)
    found = {(f.source, f.target, f.port, f.egress is not None, f.ingress is not None) for f in graph.flows(cap)}
    assert found == {
        ("app", "endpoint-group", "tcp/443", True, True),
        ("worker", "endpoint-group", "tcp/443", True, True),
        ("app", "prefix list of s3", "tcp/443", True, False),
        ("worker", "prefix list of s3", "tcp/443", True, False),
    }
    # The S3 egress names the gateway endpoint's prefix list by dependency, even while its id is unknown.
    s3 = cap.named(graph.ENDPOINT, "s3")
    for rule in cap.of_type(graph.EGRESS):
        if "prefixListId" in rule.inputs:
            assert rule.property_dependencies["prefixListId"] == [s3.urn]


def test_endpoint_group_admits_only_443_from_referenced_groups(tmp_path: Path) -> None:
    cap = run_program(CONSUMERS.format(consumers="app, worker"), tmp_path)
    group = cap.named(graph.SG, "endpoint-group")
    ingress = [r for r in cap.of_type(graph.INGRESS) if r.property_dependencies["securityGroupId"] == [group.urn]]
    assert len(ingress) == 2
    for rule in ingress:
        assert (rule.inputs["ipProtocol"], rule.inputs["fromPort"], rule.inputs["toPort"]) == ("tcp", 443, 443)
        assert rule.property_dependencies["referencedSecurityGroupId"], rule.name
        assert not {"cidrIpv4", "cidrIpv6", "prefixListId"} & set(rule.inputs), rule.name
    assert not [r for r in cap.of_type(graph.EGRESS) if r.property_dependencies["securityGroupId"] == [group.urn]]


def test_without_consumers_the_endpoint_group_admits_nothing(cap) -> None:
    run = cap("dev", "preview", ssmHost=False, fileShare=False, bastion="off", bastionForwardPorts=[],
              endpoints=["ssm"])
    assert run.of_type(graph.INGRESS) == [] and run.of_type(graph.EGRESS) == []


def test_interface_endpoints_go_only_to_zones_that_offer_them(monkeypatch: pytest.MonkeyPatch) -> None:
    """CreateVpcEndpoint rejects a subnet in an AZ where the service has no endpoint; the program asks AWS
    (get_vpc_endpoint_service) and leaves such zones out."""
    from offline import aws_model
    from offline.harness import capture

    monkeypatch.setitem(aws_model.NOT_OFFERED_IN, ("ap-northeast-1", "ecr.dkr"), {"a"})
    run = capture("dev", "preview", {"endpointPlacement": "every-az"})
    subnets = {s.urn: s.inputs["availabilityZone"] for s in run.of_type("aws:ec2/subnet:Subnet")}
    zones = {e.name: sorted(subnets[u] for u in e.property_dependencies["subnetIds"])
             for e in run.of_type(graph.ENDPOINT) if e.inputs["vpcEndpointType"] == "Interface"}
    assert zones["ecr-dkr"] == ["ap-northeast-1c"]
    assert zones["ssm"] == ["ap-northeast-1a", "ap-northeast-1c"]
    assert "aws:ec2/getVpcEndpointService:getVpcEndpointService" in run.invokes


def test_a_needed_endpoint_offered_in_none_of_the_zones_stops_the_program(monkeypatch: pytest.MonkeyPatch) -> None:
    from components.config import ConfigError
    from offline import aws_model
    from offline.harness import capture

    monkeypatch.setitem(aws_model.NOT_OFFERED_IN, ("ap-northeast-1", "ssmmessages"), {"a", "c"})
    registered: list = []
    with pytest.raises(ConfigError, match=r"airgap:availabilityZones .* where AWS offers the ssmmessages endpoint "
                                          r"\(ap-northeast-1d\)"):
        capture("dev", "preview", sink=registered)
    assert [r for r in registered if r.custom] == []
