"""airgap-guard on programs it never saw, written for the purpose: several VPCs, a VPC it cannot trace, AWS's
defaults left unset, ordinary ECS services. A finding must be true for the program in front of it: endpoints,
consumers and groups are paired only within one VPC; what the pack cannot see is stated as not applicable."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import run_program

from offline.guard_run import Report, analyze
from offline.harness import MODES

HEADER = '''
import json
import pulumi
import pulumi_aws as aws

REGION = "ap-northeast-1"


def spoke(name, cidr, services):
    vpc = aws.ec2.Vpc(name, cidr_block=cidr, enable_dns_support=True, enable_dns_hostnames=True)
    subnet = aws.ec2.Subnet(f"{name}-a", vpc_id=vpc.id, cidr_block=cidr.replace("/24", "/26"),
                            availability_zone=f"{REGION}a")
    endpoints = aws.ec2.SecurityGroup(f"{name}-endpoints", vpc_id=vpc.id, description="endpoints of " + name)
    host = aws.ec2.SecurityGroup(f"{name}-host", vpc_id=vpc.id, description="host of " + name)
    aws.vpc.SecurityGroupEgressRule(f"{name}-host-out", security_group_id=host.id, ip_protocol="tcp",
                                    from_port=443, to_port=443, referenced_security_group_id=endpoints.id)
    aws.vpc.SecurityGroupIngressRule(f"{name}-endpoints-in", security_group_id=endpoints.id, ip_protocol="tcp",
                                     from_port=443, to_port=443, referenced_security_group_id=host.id)
    for service in services:
        aws.ec2.VpcEndpoint(f"{name}-{service}", vpc_id=vpc.id, service_name=f"com.amazonaws.{REGION}.{service}",
                            vpc_endpoint_type="Interface", private_dns_enabled=True, subnet_ids=[subnet.id],
                            security_group_ids=[endpoints.id])
    return vpc, subnet, host


def host(name, subnet_id, group_id):
    role = aws.iam.Role(name, assume_role_policy=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]}))
    aws.iam.RolePolicyAttachment(name, role=role.name,
                                 policy_arn="arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore")
    profile = aws.iam.InstanceProfile(name, role=role.name)
    return aws.ec2.Instance(name, ami="ami-0123456789abcdef0", instance_type="t4g.micro", subnet_id=subnet_id,
                            vpc_security_group_ids=[group_id], iam_instance_profile=profile.name,
                            metadata_options={"http_tokens": "required"},
                            root_block_device={"encrypted": True, "volume_size": 8})
'''

HUB_AND_SPOKES = HEADER + '''
# Two spokes: a has its Session Manager endpoints, b's were deleted. Each has a host.
vpc_a, subnet_a, group_a = spoke("spoke-a", "10.1.0.0/24", ["ssm", "ssmmessages"])
vpc_b, subnet_b, group_b = spoke("spoke-b", "10.2.0.0/24", [])
host("host-a", subnet_a.id, group_a.id)
host("host-b", subnet_b.id, group_b.id)
'''

UNTRACEABLE_VPC = HEADER + '''
# A host on a network this stack does not own (ids from elsewhere), next to a VPC of its own that has endpoints.
vpc_a, subnet_a, group_a = spoke("own", "10.1.0.0/24", ["ssm", "ssmmessages"])
elsewhere = aws.ec2.SecurityGroup("elsewhere-host", vpc_id="vpc-0aaaabbbbccccdddd", description="host elsewhere")
host("host-elsewhere", "subnet-0aaaabbbbccccdddd", elsewhere.id)
'''

GATEWAY_BY_DEFAULT = HEADER + '''
vpc, subnet, group = spoke("vpc", "10.1.0.0/24", ["ssm", "ssmmessages"])
table = aws.ec2.RouteTable("table", vpc_id=vpc.id)
# No vpc_endpoint_type: AWS and the provider make it a Gateway endpoint.
s3 = aws.ec2.VpcEndpoint("s3", vpc_id=vpc.id, service_name=f"com.amazonaws.{REGION}.s3", route_table_ids=[table.id])
aws.vpc.SecurityGroupEgressRule("host-to-s3", security_group_id=group.id, ip_protocol="tcp", from_port=443,
                                to_port=443, prefix_list_id=s3.prefix_list_id)
host("host", subnet.id, group.id)
'''

ECS_SERVICES = HEADER + '''
vpc, subnet, group = spoke("vpc", "10.1.0.0/24", [])
execution = aws.iam.Role("execution", assume_role_policy=json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}]}))
plain_cluster = aws.ecs.Cluster("web")
exec_cluster = aws.ecs.Cluster("tools", configuration={"execute_command_configuration": {"logging": "DEFAULT"}})


def service(name, cluster):
    task = aws.ecs.TaskDefinition(name, family=name, network_mode="awsvpc", requires_compatibilities=["FARGATE"],
        cpu="256", memory="512", execution_role_arn=execution.arn,
        container_definitions=json.dumps([{"name": name, "image": "public.ecr.aws/nginx/nginx:1", "essential": True,
            "logConfiguration": {"logDriver": "awslogs", "options": {"awslogs-group": "/ecs/" + name,
                "awslogs-region": REGION, "awslogs-stream-prefix": name}}}]))
    return aws.ecs.Service(name, cluster=cluster.arn, task_definition=task.arn, launch_type="FARGATE",
        network_configuration={"subnets": [subnet.id], "assign_public_ip": False, "security_groups": [group.id]})


service("web", plain_cluster)  # an ordinary service: nobody opens a shell in it
service("tools", exec_cluster)  # its cluster is set up for ECS Exec, the service forgot to enable it
'''

DEFAULT_VPC = HEADER + '''
# The default VPC, adopted, and an instance launched into it without naming a subnet.
default = aws.ec2.DefaultVpc("default")
group = aws.ec2.SecurityGroup("web", vpc_id=default.id, description="web server")
aws.vpc.SecurityGroupIngressRule("web-https", security_group_id=group.id, ip_protocol="tcp", from_port=443,
                                 to_port=443, cidr_ipv4="10.0.0.0/8")
host("web", None, group.id)
'''

OTHER_SHAPES = HEADER + '''
# Resources the pack has no policy for, next to legacy aws.ec2.SecurityGroupRule rules.
vpc, subnet, group = spoke("vpc", "10.1.0.0/24", ["ssm", "ssmmessages"])
queue = aws.sqs.Queue("jobs", sqs_managed_sse_enabled=True)
db = aws.ec2.SecurityGroup("db", vpc_id=vpc.id, description="database")
aws.ec2.SecurityGroupRule("db-from-host", type="ingress", security_group_id=db.id, protocol="tcp", from_port=5432,
                          to_port=5432, source_security_group_id=group.id)
aws.ec2.SecurityGroupRule("host-to-db", type="egress", security_group_id=group.id, protocol="tcp", from_port=5432,
                          to_port=5432, source_security_group_id=db.id)
host("host", subnet.id, group.id)
# A host placed in a group this stack does not own, by its id string: its rules cannot be seen from here.
host("host-shared-group", subnet.id, "sg-0aaaabbbbccccdddd")
'''


def run(source: str, tmp_path: Path, mode: str) -> Report:
    report = analyze(run_program(source, tmp_path, mode))
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


ORDINARY_VPC_WITH_NAT = HEADER + '''
# An ordinary VPC: the host's subnet routes to a NAT gateway, so it reaches AWS's public endpoints that way.
vpc, subnet, group = spoke("vpc", "10.1.0.0/24", [])
table = aws.ec2.RouteTable("private", vpc_id=vpc.id)
aws.ec2.RouteTableAssociation("private", subnet_id=subnet.id, route_table_id=table.id)
aws.ec2.Route("to-nat", route_table_id=table.id, destination_cidr_block="0.0.0.0/0", nat_gateway_id="nat-0abc")
host("host", subnet.id, group.id)
'''


@pytest.mark.parametrize("mode", MODES)
def test_a_host_that_routes_to_a_nat_needs_no_interface_endpoint(tmp_path: Path, mode: str) -> None:
    report = run(ORDINARY_VPC_WITH_NAT, tmp_path, mode)
    assert messages(report, "required-endpoints") == []
    # The private-only policies still say what makes it not private-only.
    assert messages(report, "no-default-route")


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
        ("required-endpoints", "Service 'tools'"), ("required-endpoints", "Service 'web'")}, set()),
    "default-vpc": (DEFAULT_VPC, {("ingress-by-group-reference", "SecurityGroupIngressRule 'web-https'")},
                    {"required-endpoints", "endpoint-reachability"}),
    "other-shapes": (OTHER_SHAPES, BASICS | {("endpoint-policy-restricts", "VpcEndpoint 'vpc-ssm'")}, set()),
    "ordinary-vpc-with-nat": (ORDINARY_VPC_WITH_NAT, BASICS | {("no-default-route", "Route 'to-nat'")}, set()),
}


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("program", list(EXPECTED))
def test_each_program_gets_exactly_its_findings(tmp_path: Path, program: str, mode: str) -> None:
    source, findings, not_applicable = EXPECTED[program]
    report = run(source, tmp_path, mode)  # no exception, nothing skipped
    got = {(f.policy, f.message.split("\n")[-1].split(":", 1)[0].split(" (")[0]) for f in report.violations}
    assert got == findings
    assert {name for name, _ in report.not_applicable} == not_applicable
