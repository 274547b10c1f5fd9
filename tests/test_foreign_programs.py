"""airgap-guard on programs it never saw, written for the purpose: several VPCs, a VPC it cannot trace, AWS's
defaults left unset, ordinary ECS services. A finding must be true for the program in front of it: endpoints,
consumers and groups are paired only within one VPC; what the pack cannot see is stated as not applicable."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import run_program
from programs import (
    DEFAULT_VPC,
    ECS_SERVICES,
    GATEWAY_BY_DEFAULT,
    HUB_AND_SPOKES,
    ORDINARY_VPC_WITH_NAT,
    OTHER_SHAPES,
    UNTRACEABLE_VPC,
)

from offline.guard_run import Report, analyze
from offline.harness import MODES

pytestmark = pytest.mark.program

FOREIGN = "foreign"  # the project these programs belong to: not airgap's, so not private-only unless configured


def run(source: str, tmp_path: Path, mode: str, config: dict | None = None) -> Report:
    report = analyze(run_program(source, tmp_path, mode, project=FOREIGN), config)
    assert report.skipped == [], [f.message for f in report.skipped]
    return report


def messages(report: Report, policy: str) -> list[str]:
    return [f.message for f in report.by_policy(policy)]


@pytest.mark.parametrize("mode", MODES)
def test_spokes_are_judged_each_in_its_own_vpc(tmp_path: Path, mode: str) -> None:
    report = run(HUB_AND_SPOKES, tmp_path, mode)
    found = messages(report, "required-endpoints")
    assert found and all("Instance 'host-b'" in m for m in found), found  # b's deleted endpoints are not excused
    assert {s for m in found for s in re.findall(r"needs (\S+) for", m)} == {"ssm", "ssmmessages"}
    # Neither host is told to open 443 to the other spoke's endpoint group.
    assert not [m for m in messages(report, "endpoint-reachability") if "spoke-a-endpoints" in m and "host-b" in m]
    assert messages(report, "endpoint-reachability") == []


@pytest.mark.parametrize("mode", MODES)
def test_a_vpc_the_pack_cannot_trace_is_not_applicable_not_paired_with_another(tmp_path: Path, mode: str) -> None:
    report = run(UNTRACEABLE_VPC, tmp_path, mode)
    assert not [m for m in messages(report, "required-endpoints") if "host-elsewhere" in m]
    # Not told to open 443 to the endpoint group of a VPC it is not in.
    assert not [m for m in messages(report, "endpoint-reachability") if "host-elsewhere" in m]
    reasons = dict(report.not_applicable)
    assert "Instance 'host-elsewhere'" in reasons["required-endpoints"]
    assert "cannot be traced" in reasons["required-endpoints"]
    assert "Instance 'host-elsewhere'" in reasons["endpoint-reachability"]


@pytest.mark.parametrize("mode", MODES)
def test_an_endpoint_without_a_type_is_a_gateway_as_aws_makes_it(tmp_path: Path, mode: str) -> None:
    report = run(GATEWAY_BY_DEFAULT, tmp_path, mode)
    assert messages(report, "s3-gateway-endpoint") == []  # not taken for an interface endpoint
    assert messages(report, "interface-endpoint-private-dns") == []
    assert messages(report, "endpoint-reachability") == []  # its egress to the gateway's prefix list counts
    assert messages(report, "required-endpoints") == []


@pytest.mark.parametrize("mode", MODES)
def test_ecs_exec_is_judged_only_on_services_meant_for_it(tmp_path: Path, mode: str) -> None:
    report = run(ECS_SERVICES, tmp_path, mode)
    enabled = messages(report, "ecs-exec-enabled")
    assert len(enabled) == 1 and "Service 'tools'" in enabled[0] and "its cluster 'tools' configures ECS Exec" in \
        enabled[0]
    assert messages(report, "ecs-exec-expected") == []  # no ssmmessages endpoint: nothing suggests sessions
    assert messages(report, "ecs-exec-init-process") == []  # no service has exec on
    assert not [m for m in messages(report, "ecs-task-roles-distinct") if "'web'" in m]


PROJECT_TERMS = ("allow_from", "allow_to", "airgap:", "FileShare", "VpcEndpoints", "Connections", "dev.py")


@pytest.mark.parametrize("source", [HUB_AND_SPOKES, UNTRACEABLE_VPC, GATEWAY_BY_DEFAULT, ECS_SERVICES],
                         ids=["hub-and-spokes", "untraceable-vpc", "gateway-by-default", "ecs-services"])
def test_messages_on_a_foreign_program_speak_the_providers_terms_only(tmp_path: Path, source: str) -> None:
    report = run(source, tmp_path, "update")
    assert report.violations, "these programs have true findings to word"
    leaking = [f.message for f in report.violations if any(term in f.message for term in PROJECT_TERMS)]
    assert leaking == []
    assert all("Fix: " in f.message for f in report.violations)


def test_messages_on_airgaps_own_resources_also_name_airgaps_way(cap) -> None:
    from mutate import remove

    cut = remove(cap("dev", "update"), "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
                 "endpoints-allows-tcp443-from-ssm-host")
    (finding,) = [f for f in analyze(cut).by_policy("endpoint-reachability") if "ssm-host" in f.message]
    assert "aws.vpc.SecurityGroupIngressRule for tcp/443" in finding.message
    assert "(in airgap: endpoints.allow_from(<its Connections>))" in finding.message


@pytest.mark.parametrize("mode", MODES)
def test_a_host_that_routes_to_a_nat_needs_no_interface_endpoint(tmp_path: Path, mode: str) -> None:
    report = run(ORDINARY_VPC_WITH_NAT, tmp_path, mode)
    assert messages(report, "required-endpoints") == []
    # An ordinary stack is not told its NAT route breaks a posture it never declared.
    assert messages(report, "no-default-route") == []


@pytest.mark.parametrize("mode", MODES)
def test_a_stack_declared_private_only_is_told_what_makes_it_not(tmp_path: Path, mode: str) -> None:
    report = run(ORDINARY_VPC_WITH_NAT, tmp_path, mode, {"no-default-route": {"privateOnly": True}})
    (found,) = messages(report, "no-default-route")
    assert "Route 'to-nat': a default route (0.0.0.0/0)" in found and "private-only" in found


# Every program, and exactly the findings it must produce (policy, resource) — in both harness modes. Anything more
# is a false finding; anything less a missed one. Not applicable: the policies that must say they could not judge.
BASICS = {("default-security-group-managed", "Vpc 'vpc'"), ("vpc-flow-logs", "Vpc 'vpc'")}
EXPECTED: dict[str, tuple[str, set[tuple[str, str]], set[str]]] = {
    "hub-and-spokes": (HUB_AND_SPOKES, {
        ("required-endpoints", "Instance 'host-b'"), ("endpoint-policy-restricts", "VpcEndpoint 'spoke-a-ssm'"),
        ("default-security-group-managed", "Vpc 'spoke-a'"), ("default-security-group-managed", "Vpc 'spoke-b'"),
        ("vpc-flow-logs", "Vpc 'spoke-a'"), ("vpc-flow-logs", "Vpc 'spoke-b'")}, set()),
    "vpc-from-elsewhere": (UNTRACEABLE_VPC, {
        ("endpoint-policy-restricts", "VpcEndpoint 'own-ssm'"), ("default-security-group-managed", "Vpc 'own'"),
        ("vpc-flow-logs", "Vpc 'own'")}, {"required-endpoints", "endpoint-reachability"}),
    "gateway-by-default": (GATEWAY_BY_DEFAULT, BASICS | {
        ("endpoint-policy-restricts", "VpcEndpoint 's3'"), ("endpoint-policy-restricts", "VpcEndpoint 'vpc-ssm'")},
        set()),
    "ecs-services": (ECS_SERVICES, BASICS | {
        ("ecs-exec-enabled", "Service 'tools'"), ("ecs-task-roles-distinct", "TaskDefinition 'tools'"),
        ("ecs-read-only-root", "TaskDefinition 'web'"),
        ("required-endpoints", "Service 'tools'"), ("required-endpoints", "Service 'web'")}, set()),
    "default-vpc": (DEFAULT_VPC, {("ingress-by-group-reference", "SecurityGroupIngressRule 'web-https'")},
                    {"required-endpoints", "endpoint-reachability"}),
    "other-shapes": (OTHER_SHAPES, BASICS | {("endpoint-policy-restricts", "VpcEndpoint 'vpc-ssm'")}, set()),
    "ordinary-vpc-with-nat": (ORDINARY_VPC_WITH_NAT, BASICS, set()),
}


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("program", list(EXPECTED))
def test_each_program_gets_exactly_its_findings(tmp_path: Path, program: str, mode: str) -> None:
    source, findings, not_applicable = EXPECTED[program]
    report = run(source, tmp_path, mode)  # no exception, nothing skipped
    got = {(f.policy, f.message.split("\n")[-1].split(":", 1)[0].split(" (")[0]) for f in report.violations}
    assert got == findings
    assert {name for name, _ in report.not_applicable} == not_applicable
