"""Asleep and awake (the state a stack was deployed in): what sleeping removes, what it keeps, that waking restores
exactly what was there, that the pack accepts a sleeping stack but not a half-asleep one, and what each state costs
in the plan."""

from __future__ import annotations

import re

import pytest
from conftest import captured
from mutate import remove, set_prop

from offline import cost
from offline.guard_run import analyze
from offline.harness import Capture

from guard.prices import PRICES  # isort: skip
from guard.types import ENDPOINT, INSTANCE_STATE  # isort: skip

pytestmark = pytest.mark.program

SERVICE = "aws:ecs/service:Service"
INTERFACE = "Interface"


def interface_endpoints(cap: Capture) -> list[str]:
    return sorted(r.name.removeprefix("endpoints-") for r in cap.of_type(ENDPOINT)
                  if r.inputs.get("vpcEndpointType") == INTERFACE)


@pytest.mark.parametrize("bastion", ["parked", "on"])
def test_asleep_removes_every_interface_endpoint_stops_the_host_and_runs_no_task(mode: str, bastion: str) -> None:
    cap = captured("dev", mode, state="asleep", bastion=bastion)
    assert interface_endpoints(cap) == []
    (state,) = cap.of_type(INSTANCE_STATE)
    assert state.inputs["state"] == "stopped"
    assert state.property_dependencies["instanceId"] == [cap.named("aws:ec2/instance:Instance", "ssm-host").urn]
    assert cap.named(SERVICE, "bastion").inputs["desiredCount"] == 0
    assert cap.exports["state"] == "asleep"


def test_asleep_keeps_the_data_the_s3_gateway_the_groups_and_their_rules(mode: str) -> None:
    awake, asleep = captured("dev", mode), captured("dev", mode, state="asleep")
    kept = ["aws:efs/fileSystem:FileSystem", "aws:efs/mountTarget:MountTarget", "aws:ec2/instance:Instance",
            "aws:cloudwatch/logGroup:LogGroup", "aws:ecr/repository:Repository", "aws:ec2/flowLog:FlowLog",
            "aws:s3/bucket:Bucket", "aws:ec2/securityGroup:SecurityGroup",
            "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
            "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"]
    for type_ in kept:
        assert sorted(r.urn for r in asleep.of_type(type_)) == sorted(r.urn for r in awake.of_type(type_)), type_
    (gateway,) = [r for r in asleep.of_type(ENDPOINT) if r.inputs.get("vpcEndpointType") == "Gateway"]
    assert gateway.inputs["serviceName"].endswith(".s3")


def test_waking_restores_exactly_what_was_there() -> None:
    """Sleep then wake = the same resources with the same inputs: only the interface endpoints come and go, and only
    the host's state and the service's task count change in place."""
    awake, asleep = captured("dev", "update"), captured("dev", "update", state="asleep")
    before, after = awake.by_urn(), asleep.by_urn()
    assert set(after) <= set(before)
    removed = {before[u].name.removeprefix("endpoints-") for u in set(before) - set(after)}
    assert removed == set(interface_endpoints(awake)) == {"ssm", "ssmmessages", "ecr-api", "ecr-dkr", "logs", "kms"}
    changed = {(after[u].type, k) for u in after for k in {*after[u].inputs, *before[u].inputs}
               if after[u].inputs.get(k) != before[u].inputs.get(k)}
    assert changed == {(INSTANCE_STATE, "state")}  # dev's bastion is parked: its count is 0 either way
    on = captured("dev", "update", bastion="on")
    on_asleep = captured("dev", "update", bastion="on", state="asleep")
    assert on.named(SERVICE, "bastion").inputs["desiredCount"] == 1
    assert on_asleep.named(SERVICE, "bastion").inputs["desiredCount"] == 0


def test_a_new_stack_created_awake_has_a_running_host() -> None:
    (state,) = captured("dev", "preview").of_type(INSTANCE_STATE)
    assert state.inputs["state"] == "running"


def test_the_pack_accepts_a_sleeping_stack(mode: str) -> None:
    report = analyze(captured("dev", mode, state="asleep"))
    assert report.mandatory == []


def test_the_pack_refuses_a_host_left_running_without_its_endpoints(mode: str) -> None:
    """Half asleep: the endpoints removed but the host still running — its agent has nothing to reach."""
    cap = set_prop(captured("dev", mode, state="asleep"), INSTANCE_STATE, "ssm-host", "state", "running")
    found = analyze(cap).by_policy("required-endpoints")
    assert {s for f in found if "Instance 'ssm-host'" in f.message for s in re.findall(r"needs (\S+) for", f.message)} \
        == {"ssm", "ssmmessages"}


def test_the_pack_refuses_a_task_running_without_its_endpoints(mode: str) -> None:
    cap = set_prop(captured("dev", mode, state="asleep"), SERVICE, "bastion", "desiredCount", 1)
    found = [f for f in analyze(cap).by_policy("required-endpoints") if "Service 'bastion'" in f.message]
    needed = {s for f in found for s in re.findall(r"needs (\S+) for", f.message)}
    assert needed == {"ssmmessages", "ecr.api", "ecr.dkr", "logs"}  # s3 it still has: the gateway stays


def test_a_parked_bastion_in_an_awake_vpc_still_needs_every_endpoint(mode: str) -> None:
    """Parked is not asleep: it is unparked outside Pulumi (UpdateService), so its endpoints must be there."""
    cap = remove(captured("dev", mode), ENDPOINT, "endpoints-ecr-api")
    assert captured("dev", mode).named(SERVICE, "bastion").inputs["desiredCount"] == 0
    found = [f for f in analyze(cap).by_policy("required-endpoints") if "Service 'bastion'" in f.message]
    assert [f.message for f in found if "needs ecr.api" in f.message]


def test_dev_asleep_costs_at_most_3_dollars_a_month_in_the_plans_figures_besides_its_data_and_key() -> None:
    """Asleep, what bills is data: the host's disk, the share, the flow-log bucket — and the database's storage and
    its secret, which keep the data for the next session (tests/test_database.py) — and the key the shells and their
    logs are encrypted with, which KMS bills by the month whether it is used or not."""
    asleep = cost.estimate(captured("dev", "preview", state="asleep", database=False))
    assert asleep.endpoint_azs == 0
    assert asleep.by_component["sessions"] == PRICES["ap-northeast-1"].kms_key_month
    assert asleep.total - asleep.by_component["sessions"] <= 3.0
    assert asleep.by_component.get("bastion", 0) == 0
    # The host bills only its 8 GiB volume while stopped.
    assert asleep.by_component["ssm-host"] == pytest.approx(8 * PRICES["ap-northeast-1"].gp3_gb_month)


def test_a_working_month_lies_between_asleep_and_awake_weighted_by_the_awake_hours() -> None:
    asleep = cost.estimate(captured("dev", "preview", state="asleep", database=False))
    on = cost.estimate(captured("dev", "preview", bastion="on", database=False))
    assumptions = cost.Assumptions(awake_hours=73)
    month = cost.working_month(asleep, on, assumptions)
    assert month.total == pytest.approx(asleep.total * 0.9 + on.total * 0.1)
    assert asleep.total < month.total < on.total
