"""The network in a stack of its own (airgap:role network) and workload stacks on it (role workloads): what each
creates, what a workload stack checks before registering anything, and what the pack makes of a stack reference."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT, captured
from mutate import remove, set_prop

from offline.guard_run import analyze
from offline.harness import Registration, capture
from program.config import ConfigError
from program.lookups import NetworkOffer

from guard.types import ENDPOINT, INGRESS, SG, STACK_REFERENCE, VPC  # isort: skip

pytestmark = pytest.mark.program

EGRESS = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
NETWORK_TYPES = {VPC, ENDPOINT, "aws:ec2/subnet:Subnet", "aws:ec2/routeTable:RouteTable", "aws:ec2/flowLog:FlowLog"}
WORKLOAD_TYPES = {"aws:ec2/instance:Instance", "aws:ecs/service:Service", "aws:efs/fileSystem:FileSystem"}


def net_outputs(**changes: Any) -> dict[str, Any]:
    return {**captured("net", "update").exports, **changes}


def test_the_network_stack_creates_only_the_network_and_exports_what_workload_stacks_read(mode: str) -> None:
    net = captured("net", mode)
    types = {r.type for r in net if r.custom}
    assert types >= NETWORK_TYPES and not types & WORKLOAD_TYPES
    assert sorted(r.name.removeprefix("endpoints-") for r in net.of_type(ENDPOINT)) \
        == ["ecr-api", "ecr-dkr", "kms", "logs", "s3", "ssm", "ssmmessages"]
    offer = NetworkOffer.read("net", captured("net", "update").exports)
    assert isinstance(offer, NetworkOffer)
    assert offer.endpoint_services == ("ssm", "ssmmessages", "ecr.api", "ecr.dkr", "logs", "kms", "s3")
    assert set(offer.subnets) == {"ap-northeast-1a", "ap-northeast-1c"}


def test_an_asleep_network_offers_only_the_gateway() -> None:
    offer = NetworkOffer.read("net", captured("net", "update", state="asleep").exports)
    assert isinstance(offer, NetworkOffer) and offer.endpoint_services == ("s3",) and offer.state == "asleep"


def test_a_workload_stack_creates_only_workloads_and_its_own_rules_on_the_networks_endpoint_group(mode: str) -> None:
    app, outputs = captured("app", mode), net_outputs()
    types = {r.type for r in app if r.custom}
    assert types >= WORKLOAD_TYPES and not types & NETWORK_TYPES
    (ref,) = app.of_type(STACK_REFERENCE)
    assert ref.name == "net" and ref.state["outputs"]["vpcId"] == outputs["vpcId"]
    shared_group = outputs["endpointGroupId"]
    admitted = {app.by_urn()[r.property_dependencies["referencedSecurityGroupId"][0]].name
                for r in app.of_type(INGRESS) if r.inputs["securityGroupId"] == shared_group}
    assert admitted == {"ssm-host", "bastion"}
    for rule in (r for r in app.of_type(INGRESS) if r.inputs["securityGroupId"] == shared_group):
        assert app.by_urn()[rule.parent].type == "airgap:network:SharedNetwork"  # destroyed with this stack
        assert (rule.inputs["ipProtocol"], rule.inputs["fromPort"]) == ("tcp", 443)
    out = {(app.by_urn()[r.property_dependencies["securityGroupId"][0]].name,
            r.inputs.get("referencedSecurityGroupId") or r.inputs.get("prefixListId"))
           for r in app.of_type(EGRESS) if r.inputs.get("fromPort") == 443}
    assert out == {(g, peer) for g in ("ssm-host", "bastion")
                   for peer in (shared_group, outputs["s3PrefixListId"])}
    for group in app.of_type(SG):
        assert group.inputs["vpcId"] == outputs["vpcId"]
    host = app.named("aws:ec2/instance:Instance", "ssm-host")
    assert host.inputs["subnetId"] == outputs["subnetIdsByZone"]["ap-northeast-1a"]


def test_several_workload_stacks_share_one_network(tmp_path: Path) -> None:
    for name in ("Pulumi.yaml", "Pulumi.net.yaml", "Pulumi.app.yaml"):
        shutil.copy(ROOT / name, tmp_path / name)
    shutil.copy(ROOT / "Pulumi.app.yaml", tmp_path / "Pulumi.team-b.yaml")
    outputs = {"net": net_outputs()}
    group = outputs["net"]["endpointGroupId"]
    stacks = [capture(s, "update", root=tmp_path, stack_outputs=outputs) for s in ("app", "team-b")]
    admitted = [{r.inputs["referencedSecurityGroupId"] for r in s.of_type(INGRESS)
                 if r.inputs["securityGroupId"] == group} for s in stacks]
    assert len(admitted[0]) == len(admitted[1]) == 2 and not admitted[0] & admitted[1]
    assert stacks[0].named("aws:ecs/service:Service", "bastion").inputs["name"] == "airgap-app-bastion"
    assert stacks[1].named("aws:ecs/service:Service", "bastion").inputs["name"] == "airgap-team-b-bastion"


def refused(outputs: dict[str, Any], **overrides: Any) -> tuple[str, list[Registration]]:
    sink: list[Registration] = []
    with pytest.raises(ConfigError) as raised:
        capture("app", "preview", overrides, sink=sink, stack_outputs=outputs)
    return str(raised.value), sink


@pytest.mark.parametrize(("outputs", "fragment"), [
    ({"net": net_outputs(endpointServices=["ssm", "ssmmessages", "s3"])},
     "it lacks ecr.api, ecr.dkr, logs, kms (add them to its airgap:endpoints"),
    ({"net": {}}, "its outputs lack region, vpcId, vpcCidr, subnetIdsByZone, endpointGroupId, s3PrefixListId, "
                  "endpointServices, state — it has no outputs at all: `pulumi up` it first"),
    ({"net": net_outputs(region="us-east-1")}, "a network in this stack's region ap-northeast-1 (it is in us-east-1)"),
    ({}, "a stack this backend has and you may read (Pulumi said: "),
])
def test_a_workload_stack_refuses_a_network_that_cannot_serve_it_before_registering_anything(
        outputs: dict[str, Any], fragment: str) -> None:
    message, registered = refused(outputs)
    assert fragment in message
    assert registered == []


def test_an_asleep_workload_stack_may_sit_on_an_asleep_network() -> None:
    app = capture("app", "update", deployed={"state": "asleep"},
                  stack_outputs={"net": net_outputs(endpointServices=["s3"], state="asleep")})
    assert app.named("aws:ecs/service:Service", "bastion").inputs["desiredCount"] == 0
    assert analyze(app).mandatory == []


@pytest.mark.parametrize("mode", ["preview", "update"])
def test_an_awake_workload_stack_previews_while_its_network_sleeps_and_says_network_asleep(mode: str) -> None:
    """The nightly job puts the network to sleep; a pull request's preview of the workload stack must not fail for
    it: the stack is planned as it is, and the preview says why its workloads cannot reach AWS tonight."""
    app = capture("app", mode, stack_outputs={"net": net_outputs(endpointServices=["s3"], state="asleep")})
    assert app.exports["state"] == "awake"
    assert [m for level, m in app.diagnostics if level == "WARNING"] == [
        "network asleep: network stack net is asleep, so this stack's workloads cannot reach AWS until it wakes "
        "(`python3 dev.py wake --stack app` wakes net first)"]
    assert analyze(app).mandatory == []


def test_the_pack_judges_a_workload_stack_by_what_its_network_stack_offers(mode: str) -> None:
    app = captured("app", mode)
    assert analyze(app).mandatory == []
    (ref,) = app.of_type(STACK_REFERENCE)
    lacking = set_prop(app, STACK_REFERENCE, ref.name, "outputs.endpointServices", ["ssm", "s3"])
    found = [f.message for f in analyze(lacking).by_policy("required-endpoints")]
    assert any("Instance 'ssm-host': " in m and "needs ssmmessages for" in m for m in found)
    assert any("Service 'bastion': " in m and "needs ecr.api for" in m for m in found)


def test_the_pack_refuses_a_workload_the_networks_endpoint_group_does_not_admit(mode: str) -> None:
    app = captured("app", mode)
    cut = remove(app, INGRESS, "network-endpoints-allows-tcp443-from-ssm-host")
    found = [f.message for f in analyze(cut).by_policy("endpoint-reachability")]
    assert any("Instance 'ssm-host'" in m and "does not admit 443" in m for m in found)
