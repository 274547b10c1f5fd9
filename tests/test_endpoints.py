"""VPC endpoints: private DNS, their own group, S3 as a free gateway on every route table, and 443 opened only
from the groups that use them (not the world, and never missing the inbound 443)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import run_program

from offline import graph
from offline.harness import UNKNOWN, Capture

pytestmark = pytest.mark.program

TABLE = "aws:ec2/routeTable:RouteTable"
SUBNET = "aws:ec2/subnet:Subnet"


def endpoints(cap: Capture, kind: str) -> dict[str, object]:
    return {r.name.removeprefix("endpoints-"): r for r in cap.of_type(graph.ENDPOINT)
            if r.inputs["vpcEndpointType"] == kind}


def test_interface_endpoints_have_private_dns_and_only_the_endpoint_group(dev: Capture) -> None:
    group = dev.named(graph.SG, "endpoints")
    interfaces = endpoints(dev, "Interface")
    assert set(interfaces) == {"ssm", "ssmmessages", "ecr-api", "ecr-dkr", "logs", "kms"}
    for endpoint in interfaces.values():
        assert endpoint.inputs["privateDnsEnabled"] is True, endpoint.name
        assert endpoint.property_dependencies["securityGroupIds"] == [group.urn], endpoint.name
        assert len(endpoint.inputs["securityGroupIds"]) == 1


def test_an_interface_endpoint_is_replaced_delete_first_so_its_private_dns_name_is_free(dev: Capture) -> None:
    """Create-before-delete would ask for a second endpoint with the same private DNS name while the first exists,
    which CreateVpcEndpoint refuses; the gateway has no DNS name and keeps Pulumi's default order."""
    for endpoint in endpoints(dev, "Interface").values():
        assert endpoint.delete_before_replace, endpoint.name
    assert not any(e.delete_before_replace for e in endpoints(dev, "Gateway").values())


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
    chosen = ["ssm", "ssmmessages", "ec2messages", "logs", "kms", "s3"]
    run = cap("dev", "preview", bastion="off", database=False, endpoints=chosen)
    assert {r.name.removeprefix("endpoints-") for r in run.of_type(graph.ENDPOINT)} == set(chosen)


CONSUMERS = '''
from airgap.connections import Connections, security_group
from airgap.endpoints import VpcEndpoints, VpcEndpointsArgs
from airgap.network import PrivateNetwork, PrivateNetworkArgs
from program import config

settings = config.load()
network = PrivateNetwork("network", PrivateNetworkArgs(settings.vpc_cidr,
                         {{z: settings.subnet_cidr(z) for z in settings.availability_zones}}))
endpoints = VpcEndpoints("endpoints", VpcEndpointsArgs(network.vpc_id, network.subnet_ids_by_zone,
                         network.route_table_ids, settings.endpoints, settings.endpoint_zones,
                         settings.endpoint_policy_supported))
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
        ("app", "endpoints", "tcp/443", True, True),
        ("worker", "endpoints", "tcp/443", True, True),
        ("app", "prefix list of s3", "tcp/443", True, False),
        ("worker", "prefix list of s3", "tcp/443", True, False),
    }
    # The S3 egress names the gateway endpoint's prefix list by dependency, even while its id is unknown.
    s3 = cap.named(graph.ENDPOINT, "endpoints-s3")
    for rule in cap.of_type(graph.EGRESS):
        if "prefixListId" in rule.inputs:
            assert rule.property_dependencies["prefixListId"] == [s3.urn]


def test_endpoint_group_admits_only_443_from_referenced_groups(tmp_path: Path) -> None:
    cap = run_program(CONSUMERS.format(consumers="app, worker"), tmp_path)
    group = cap.named(graph.SG, "endpoints")
    ingress = [r for r in cap.of_type(graph.INGRESS) if r.property_dependencies["securityGroupId"] == [group.urn]]
    assert len(ingress) == 2
    for rule in ingress:
        assert (rule.inputs["ipProtocol"], rule.inputs["fromPort"], rule.inputs["toPort"]) == ("tcp", 443, 443)
        assert rule.property_dependencies["referencedSecurityGroupId"], rule.name
        assert not {"cidrIpv4", "cidrIpv6", "prefixListId"} & set(rule.inputs), rule.name
    assert not [r for r in cap.of_type(graph.EGRESS) if r.property_dependencies["securityGroupId"] == [group.urn]]


def test_without_consumers_the_endpoint_group_admits_nothing(tmp_path: Path) -> None:
    run = run_program(CONSUMERS.format(consumers=""), tmp_path)
    assert run.of_type(graph.INGRESS) == [] and run.of_type(graph.EGRESS) == []


def test_interface_endpoints_go_only_to_zones_that_offer_them(monkeypatch: pytest.MonkeyPatch) -> None:
    """CreateVpcEndpoint rejects a subnet in an AZ where the service has no endpoint; the program asks AWS
    (get_vpc_endpoint_service) and leaves such zones out."""
    from offline import aws_model
    from offline.harness import capture

    monkeypatch.setitem(aws_model.NOT_OFFERED_IN, ("ap-northeast-1", "ecr.dkr"), {"a"})
    run = capture("dev", "preview", {"endpointPlacement": "every-az"})
    subnets = {s.urn: s.inputs["availabilityZone"] for s in run.of_type("aws:ec2/subnet:Subnet")}
    zones = {e.name.removeprefix("endpoints-"): sorted(subnets[u] for u in e.property_dependencies["subnetIds"])
             for e in run.of_type(graph.ENDPOINT) if e.inputs["vpcEndpointType"] == "Interface"}
    assert zones["ecr-dkr"] == ["ap-northeast-1c"]
    assert zones["ssm"] == ["ap-northeast-1a", "ap-northeast-1c"]
    assert "aws:ec2/getVpcEndpointService:getVpcEndpointService" in run.invokes


def test_a_needed_endpoint_offered_in_none_of_the_zones_stops_the_program(monkeypatch: pytest.MonkeyPatch) -> None:
    from offline import aws_model
    from offline.harness import capture
    from program.config import ConfigError

    monkeypatch.setitem(aws_model.NOT_OFFERED_IN, ("ap-northeast-1", "ssmmessages"), {"a", "c"})
    registered: list = []
    with pytest.raises(ConfigError, match=r"airgap:availabilityZones .* where AWS offers the ssmmessages endpoint "
                                          r"\(ap-northeast-1d\)"):
        capture("dev", "preview", sink=registered)
    assert [r for r in registered if r.custom] == []


# --- what may cross the VPC's edge -------------------------------------------------------------------------------

def policy_of(run: Capture, name: str) -> dict:
    text = run.named(graph.ENDPOINT, f"endpoints-{name}").inputs["policy"]
    assert text != UNKNOWN, "the pack could not read this policy in a first preview"
    return json.loads(text)


def gateway_buckets(run: Capture) -> set[str]:
    return {arn for s in policy_of(run, "s3")["Statement"] for arn in s["Resource"]}


@pytest.mark.parametrize(("bastion", "buckets"), [
    ("parked", {"prod-ap-northeast-1-starport-layer-bucket", "al2023-repos-ap-northeast-1-de612dc2",
                "amazon-ssm-ap-northeast-1", "aws-ssm-ap-northeast-1", "patch-baseline-snapshot-ap-northeast-1",
                "ap-northeast-1-birdwatcher-prod", "aws-ssm-document-attachments-ap-northeast-1"}),
    ("off", {"al2023-repos-ap-northeast-1-de612dc2", "amazon-ssm-ap-northeast-1", "aws-ssm-ap-northeast-1",
             "patch-baseline-snapshot-ap-northeast-1", "ap-northeast-1-birdwatcher-prod",
             "aws-ssm-document-attachments-ap-northeast-1"}),
])
def test_the_s3_gateway_admits_exactly_the_aws_buckets_the_workloads_read(cap, mode: str, bastion: str,
                                                                         buckets: set[str]) -> None:
    run = cap("dev", mode, bastion=bastion, database=bastion != "off")
    (statement,) = policy_of(run, "s3")["Statement"]
    assert statement["Effect"] == "Allow" and statement["Action"] == ["s3:GetObject"]
    assert gateway_buckets(run) == {f"arn:aws:s3:::{b}/*" for b in buckets}


def test_buckets_the_user_names_must_be_the_accounts_own(cap) -> None:
    run = cap("dev", "preview", s3Buckets=["team-data"])
    own = [s for s in policy_of(run, "s3")["Statement"] if s["Sid"] == "TheAccountsOwnBucketsNamedInConfig"]
    assert own[0]["Resource"] == ["arn:aws:s3:::team-data", "arn:aws:s3:::team-data/*"]
    assert own[0]["Condition"] == {"StringEquals": {"aws:PrincipalAccount": "123456789012",
                                                    "aws:ResourceAccount": "123456789012"}}
    assert "s3:*" not in own[0]["Action"] and "s3:PutObject" in own[0]["Action"]


def test_ecr_endpoints_reach_only_the_accounts_own_registry(dev: Capture) -> None:
    for name in ("ecr-api", "ecr-dkr"):
        statements = {s["Sid"]: s for s in policy_of(dev, name)["Statement"]}
        pull = statements["PullFromTheAccountsOwnRepositories"]
        assert pull["Resource"] == ["arn:aws:ecr:ap-northeast-1:123456789012:repository/*"]
        assert "ecr:PutImage" not in pull["Action"] and "ecr:InitiateLayerUpload" not in pull["Action"]
        for statement in statements.values():
            assert statement["Condition"] == {"StringEquals": {"aws:PrincipalAccount": "123456789012"}}


def test_every_interface_endpoint_admits_only_the_accounts_own_principals(dev: Capture) -> None:
    for endpoint in dev.of_type(graph.ENDPOINT):
        if endpoint.inputs["vpcEndpointType"] == "Interface":
            for statement in policy_of(dev, endpoint.name.removeprefix("endpoints-"))["Statement"]:
                assert statement["Condition"]["StringEquals"]["aws:PrincipalAccount"] == "123456789012"


def test_a_service_that_accepts_no_policy_gets_none(monkeypatch: pytest.MonkeyPatch) -> None:
    """AWS answers VpcEndpointPolicySupported per service; a policy on a service without support would fail."""
    from dataclasses import replace

    from airgap.catalog import ENDPOINT_SERVICES
    from offline.harness import capture

    monkeypatch.setitem(ENDPOINT_SERVICES, "ssmmessages", replace(ENDPOINT_SERVICES["ssmmessages"],
                                                                   documented_policy=False))
    run = capture("dev", "preview")
    assert "policy" not in run.named(graph.ENDPOINT, "endpoints-ssmmessages").inputs
    assert "policy" in run.named(graph.ENDPOINT, "endpoints-ssm").inputs


def test_every_aws_bucket_cites_the_aws_page_that_names_it() -> None:
    from airgap.endpoint_policies import AWS_BUCKETS

    for bucket in AWS_BUCKETS:
        assert "Guide" in bucket.source or "aws-samples" in bucket.source, bucket.pattern


def test_regions_with_their_own_bucket_names_get_them() -> None:
    from airgap import SsmHost
    from airgap.endpoint_policies import allowed_buckets

    host = SsmHost.needs().buckets
    cape_town = {b.name for b in allowed_buckets("af-south-1", host, [])}
    assert "aws-ssm-distributor-file-af-south-1" in cape_town and "af-south-1-birdwatcher-prod" not in cape_town
    bahrain = {b.name for b in allowed_buckets("me-south-1", host, [])}
    assert "patch-baseline-snapshot-me-south-1-uduvl7q8" in bahrain


def test_the_host_may_read_the_ssm_agent_buckets_behind_the_endpoint(dev: Capture) -> None:
    document = json.loads(dev.named("aws:iam/rolePolicy:RolePolicy", "ssm-host-agent-buckets").inputs["policy"])
    (statement,) = document["Statement"]
    assert statement["Action"] == ["s3:GetObject"]
    assert "arn:aws:s3:::amazon-ssm-ap-northeast-1/*" in statement["Resource"]
    assert not any("starport" in r or "al2023" in r for r in statement["Resource"])


# --- flow logs --------------------------------------------------------------------------------------------------

def test_the_vpc_records_its_traffic_into_a_bucket_that_expires_it(dev: Capture) -> None:
    (flow,) = dev.of_type("aws:ec2/flowLog:FlowLog")
    vpc = dev.named("aws:ec2/vpc:Vpc", "network")
    assert flow.property_dependencies["vpcId"] == [vpc.urn]
    assert flow.inputs["trafficType"] == "ALL" and flow.inputs["logDestinationType"] == "s3"
    (bucket,) = dev.of_type("aws:s3/bucket:Bucket")
    assert flow.property_dependencies["logDestination"] == [bucket.urn]
    assert bucket.inputs["bucketPrefix"] == "airgap-dev-flow-logs-" and bucket.inputs["forceDestroy"] is True
    (lifecycle,) = dev.of_type("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration")
    assert lifecycle.inputs["rules"][0]["expiration"] == {"days": 14}
    (block,) = dev.of_type("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock")
    assert all(block.inputs[k] for k in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls",
                                         "restrictPublicBuckets"))
    policy = dev.named("aws:s3/bucketPolicy:BucketPolicy", "flow-logs")
    assert policy.urn in flow.dependencies  # ours is in place before AWS would write its own


def test_the_delivery_policy_is_awss_with_the_confused_deputy_conditions() -> None:
    from airgap.flow_logs import delivery_policy

    document = delivery_policy("arn:aws:s3:::b", "123456789012", "ap-northeast-1")
    write = document["Statement"][0]
    assert write["Principal"] == {"Service": "delivery.logs.amazonaws.com"}
    assert write["Resource"] == "arn:aws:s3:::b/AWSLogs/123456789012/*"
    assert write["Condition"]["StringEquals"]["aws:SourceAccount"] == "123456789012"
    assert write["Condition"]["ArnLike"]["aws:SourceArn"] == "arn:aws:logs:ap-northeast-1:123456789012:*"


def test_flow_logs_switch_off_and_production_keeps_them(cap) -> None:
    assert not cap("dev", "preview", flowLogs=False).of_type("aws:ec2/flowLog:FlowLog")
    run = cap("dev", "preview", production=True, flowLogTraffic="REJECT")
    (bucket,) = run.of_type("aws:s3/bucket:Bucket")
    assert bucket.inputs["forceDestroy"] is False
    assert run.named("aws:ec2/flowLog:FlowLog", "flow-logs").inputs["trafficType"] == "REJECT"


@pytest.mark.parametrize("mode", ["preview", "update"])
def test_a_new_endpoint_service_is_one_row_in_the_catalogue(monkeypatch: pytest.MonkeyPatch, mode: str) -> None:
    """CloudWatch metrics, say: one row, then it can be named in airgap:endpoints; the config accepts it, the offline
    model offers it, the endpoint gets the account-only policy, and the pack finds nothing to refuse."""
    from airgap.catalog import ENDPOINT_SERVICES, EndpointService
    from offline.guard_run import analyze
    from offline.harness import capture

    monkeypatch.setitem(ENDPOINT_SERVICES, "monitoring",
                        EndpointService("monitoring", "Interface", "CloudWatch metrics from the host"))
    wanted = ["ssm", "ssmmessages", "ecr.api", "ecr.dkr", "logs", "kms", "monitoring", "s3"]
    run = capture("dev", mode, {"endpoints": wanted})
    endpoint = run.named(graph.ENDPOINT, "endpoints-monitoring")
    assert endpoint.inputs["serviceName"] == "com.amazonaws.ap-northeast-1.monitoring"
    assert endpoint.inputs["privateDnsEnabled"] is True
    assert json.loads(endpoint.inputs["policy"])["Statement"][0]["Sid"] == "TheAccountsOwnPrincipalsOnly"
    assert analyze(run).mandatory == []
