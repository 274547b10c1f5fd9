"""examples/: the components used as another program would use them. Each example runs offline in both harness
modes (first preview of a new stack, and update), through the policy pack, with no mandatory finding."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from offline import graph
from offline.guard_run import analyze
from offline.harness import MODES, Capture, capture

pytestmark = pytest.mark.program

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
EXISTING = {"airgap-existing-vpc:endpointGroupId": "sg-0123456789abcdef0",
            "airgap-existing-vpc:s3PrefixListId": "pl-61a54008"}
CASES = {"minimal": {}, "existing-vpc": {}, "existing-vpc-with-endpoints": EXISTING, "two-environments": {}}


def run(example: str, mode: str, **overrides: object) -> Capture:
    root = EXAMPLES / example
    return capture("example", mode, overrides, program=root / "__main__.py", root=root)  # type: ignore[arg-type]


def test_every_example_directory_is_tested() -> None:
    assert {p.name for p in EXAMPLES.iterdir() if (p / "__main__.py").exists()} \
        == {case.removesuffix("-with-endpoints") for case in CASES}


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("case", list(CASES))
def test_each_example_passes_the_pack(case: str, mode: str) -> None:
    cap = run(case.removesuffix("-with-endpoints"), mode, **CASES[case])
    report = analyze(cap)
    assert report.mandatory == [], [f.message for f in report.mandatory]
    assert report.skipped == [], "a policy could not run on an unknown value"


def test_the_minimal_example_is_a_vpc_its_endpoints_and_one_host() -> None:
    cap = run("minimal", "preview")
    assert len(cap.of_type("aws:ec2/vpc:Vpc")) == 1 and len(cap.of_type("aws:ec2/instance:Instance")) == 1
    assert sorted(r.inputs["serviceName"].rsplit(".", 1)[1] for r in cap.of_type(graph.ENDPOINT)) \
        == ["s3", "ssm", "ssmmessages"]
    assert {(f.source, f.target, f.port) for f in graph.flows(cap)} \
        == {("host", "endpoints", "tcp/443"), ("host", "prefix list of s3", "tcp/443")}


@pytest.mark.parametrize("mode", MODES)
def test_existing_vpc_attaches_by_id_and_creates_no_network(mode: str) -> None:
    config = json.loads(json.dumps(run("existing-vpc", mode).config))
    cap = run("existing-vpc", mode)
    vpc = config["airgap-existing-vpc:vpcId"]
    subnets = json.loads(config["airgap-existing-vpc:subnetIdsByZone"])
    for type_ in ("aws:ec2/vpc:Vpc", "aws:ec2/subnet:Subnet", "aws:ec2/routeTable:RouteTable"):
        assert cap.of_type(type_) == []
    assert {r.inputs["vpcId"] for r in cap.of_type("aws:ec2/securityGroup:SecurityGroup")} == {vpc}
    assert cap.named("aws:ec2/instance:Instance", "host").inputs["subnetId"] == subnets["ap-northeast-1a"]
    assert sorted(r.inputs["subnetId"] for r in cap.of_type("aws:efs/mountTarget:MountTarget")) \
        == sorted(subnets.values())
    gateway = [r for r in cap.of_type(graph.ENDPOINT) if r.inputs["vpcEndpointType"] == "Gateway"]
    assert gateway[0].inputs["routeTableIds"] == json.loads(config["airgap-existing-vpc:routeTableIds"])


@pytest.mark.parametrize("mode", MODES)
def test_existing_endpoints_are_used_through_their_group(mode: str) -> None:
    """The VPC already has endpoints: none is created; the host and the bastion get 443 into that group (rules on
    it, made here) and 443 out to it and to S3's prefix list."""
    cap = run("existing-vpc", mode, **EXISTING)
    assert cap.of_type(graph.ENDPOINT) == []
    into = [r for r in cap.of_type(graph.INGRESS) if r.inputs["securityGroupId"] == "sg-0123456789abcdef0"]
    assert sorted(r.name for r in into) == ["endpoints-allows-tcp443-from-bastion", "endpoints-allows-tcp443-from-host"]
    out = {(r.name, r.inputs.get("referencedSecurityGroupId") or r.inputs.get("prefixListId"))
           for r in cap.of_type(graph.EGRESS) if r.inputs["fromPort"] == 443}
    assert out == {("host-sends-tcp443-to-endpoints", "sg-0123456789abcdef0"),
                   ("bastion-sends-tcp443-to-endpoints", "sg-0123456789abcdef0"),
                   ("host-sends-tcp443-to-s3-prefix-list", "pl-61a54008"),
                   ("bastion-sends-tcp443-to-s3-prefix-list", "pl-61a54008")}


PHYSICAL = {"aws:ecs/cluster:Cluster": "name", "aws:ecs/service:Service": "name",
            "aws:ecs/taskDefinition:TaskDefinition": "family", "aws:cloudwatch/logGroup:LogGroup": "name",
            "aws:ecr/repository:Repository": "name", "aws:s3/bucket:Bucket": "bucketPrefix",
            "aws:kms/alias:Alias": "name"}


@pytest.mark.parametrize("mode", MODES)
def test_two_environments_share_no_urn_and_no_physical_name(mode: str) -> None:
    cap = run("two-environments", mode)  # the harness refuses a duplicate URN, as the engine does
    for type_, key in PHYSICAL.items():
        names = [r.inputs[key] for r in cap.of_type(type_) if key in r.inputs]
        assert len(names) == len(set(names)), (type_, names)
        assert all("blue-" in name or "green-" in name for name in names), (type_, names)
    assert len(cap.of_type("aws:ec2/vpc:Vpc")) == 2
    for kind in ("SsmHost", "FileShare", "FargateBastion", "VpcEndpoints"):
        assert len([r for r in cap if r.type.endswith(f":{kind}")]) == 2


def test_an_explicit_provider_builds_its_own_regions_names() -> None:
    """Green's components run on a provider for eu-west-1: their endpoint service names, log ARNs and image URIs
    are eu-west-1's, read from that provider (GetRegion with parent=component), not from the stack's config."""
    cap = run("two-environments", "update")
    provider = cap.named("pulumi:providers:aws", "other-region")
    for r in cap.of_type(graph.ENDPOINT):
        region = "eu-west-1" if r.name.startswith("green-") else "ap-northeast-1"
        assert r.inputs["serviceName"].startswith(f"com.amazonaws.{region}."), r.name
        assert (r.provider == provider.urn) == (region == "eu-west-1"), r.name
    task = cap.named("aws:ecs/taskDefinition:TaskDefinition", "green-bastion")
    (container,) = json.loads(task.inputs["containerDefinitions"])
    assert ".dkr.ecr.eu-west-1.amazonaws.com/" in container["image"]
    assert container["logConfiguration"]["options"]["awslogs-region"] == "eu-west-1"
    execution = cap.named("aws:iam/rolePolicy:RolePolicy", "green-bastion-execution").inputs["policy"]
    assert ":logs:eu-west-1:" in execution and "ap-northeast-1" not in execution
