"""airgap-guard, run through pulumi_policy's own analyzer over the harness graph, in both modes.

- The shipped stacks (and every config a user would ship) produce no mandatory violation and no skipped policy.
- Every policy has a bad variant that it catches with a message naming the resource and the fix.
- Each classic mistake of private VPCs, written as a real program would write it, is caught before anything is
  created.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Callable
from pathlib import Path

import mutate
import pytest
from conftest import ROOT, captured, run_program

from offline.guard_run import Report, analyze
from offline.harness import MODES, Capture
from offline.stack_files import stacks

from guard import POLICIES  # isort: skip

SG = "aws:ec2/securityGroup:SecurityGroup"
INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
EGRESS = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
ENDPOINT = "aws:ec2/vpcEndpoint:VpcEndpoint"
INSTANCE = "aws:ec2/instance:Instance"
TASK = "aws:ecs/taskDefinition:TaskDefinition"
SERVICE = "aws:ecs/service:Service"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
SUBNET = "aws:ec2/subnet:Subnet"
TABLE = "aws:ec2/routeTable:RouteTable"

COVERED: set[str] = set()  # policies some variant below has shown firing


def run(cap: Capture, config: dict | None = None) -> Report:
    report = analyze(cap, config)
    assert report.skipped == [], [f.message for f in report.skipped]
    return report


def fires(report: Report, policy: str, *phrases: str) -> None:
    found = report.by_policy(policy)
    assert found, f"{policy} did not fire; fired: {sorted({f.policy for f in report.violations})}"
    for f in found:
        assert "Fix: " in f.message, f.message
    text = "\n".join(f.message for f in found)
    for phrase in phrases:
        assert phrase in text, text
    COVERED.add(policy)


# --- the pack itself ---------------------------------------------------------------------------------------------

def test_every_policy_is_described_levelled_and_unique() -> None:
    names = [p.name for p in POLICIES]
    assert len(names) == len(set(names)) >= 35
    for p in POLICIES:
        assert p.description.endswith(".") and p.enforcement_level is not None and p.severity is not None, p.name


def test_the_pack_is_what_the_cli_runs() -> None:
    from offline.stack_files import load_yaml

    meta = load_yaml((ROOT / "policy" / "PulumiPolicy.yaml").read_text())
    assert meta["runtime"]["name"] == "python" and meta["version"]
    source = (ROOT / "policy" / "__main__.py").read_text()
    calls = [n for n in ast.walk(ast.parse(source)) if isinstance(n, ast.Call) and getattr(n.func, "id", "") ==
             "PolicyPack"]
    assert len(calls) == 1
    assert {k.arg for k in calls[0].keywords} >= {"name", "policies"}
    requirements = (ROOT / "policy" / "requirements.txt").read_text()
    assert "pulumi-policy==" in requirements and "pulumi==" in requirements


# --- shipped stacks ----------------------------------------------------------------------------------------------

SHIPPED_CONFIGS = [{}, {"bastion": "off", "database": False}, {"bastion": "on"}, {"execKms": True},
                   {"endpointPlacement": "every-az"},
                   {"includeEc2Messages": True}, {"production": True}, {"bastionForwardPorts": []},
                   {"bastionImage": "123456789012.dkr.ecr.ap-northeast-1.amazonaws.com/tools:1"}]


@pytest.mark.parametrize("stack", stacks())
@pytest.mark.parametrize("mode", MODES)
def test_shipped_stacks_pass_with_nothing_skipped(stack: str, mode: str) -> None:
    report = run(captured(stack, mode))
    assert report.mandatory == [], [f.message for f in report.mandatory]
    stated = []
    if mode == "preview" and captured(stack, mode).of_type("aws:efs/fileSystem:FileSystem"):
        # Stated, not skipped: the documents that name an ARN AWS has not assigned yet.
        stated.append(("efs-policy-enforces-tls", "the policy names the file system's ARN, unknown until it exists; "
                       "checked during update"))
    assert report.not_applicable == stated


@pytest.mark.parametrize("overrides", SHIPPED_CONFIGS, ids=[json.dumps(c) for c in SHIPPED_CONFIGS])
@pytest.mark.parametrize("mode", MODES)
def test_every_supported_config_passes(overrides: dict, mode: str) -> None:
    report = run(captured("dev", mode, **overrides))
    assert report.mandatory == [], [f.message for f in report.mandatory]


# --- one bad variant per policy -----------------------------------------------------------------------------------

def dev_variant(mode: str, change: Callable[[Capture], Capture]) -> Report:
    return run(change(captured("dev", mode)))


def container(cap: Capture, **changes: object) -> Capture:
    task = cap.named(TASK, "bastion")
    (c,) = json.loads(task.inputs["containerDefinitions"])
    for key, value in changes.items():
        if value is None:
            c.pop(key, None)
        else:
            c[key] = value
    return mutate.set_prop(cap, TASK, "bastion", "containerDefinitions", json.dumps([c]))


def add_rule(cap: Capture, kind: str, name: str, on: str, **inputs: object) -> Capture:
    group = cap.named(SG, on)
    return mutate.add(cap, kind, name, {"securityGroupId": "sg-x", **inputs}, {"securityGroupId": [group]})


UNENCRYPTED_SHELLS = {"schemaVersion": "1.0", "sessionType": "Standard_Stream", "inputs": {
    "cloudWatchLogGroupName": "/airgap-dev/sessions", "cloudWatchEncryptionEnabled": True, "kmsKeyId": ""}}
EVERY_SHELL = {"Version": "2012-10-17", "Statement": [
    {"Sid": "Wide", "Effect": "Allow", "Action": "ssm:StartSession", "Resource": "*"}]}

VARIANTS: list[tuple[str, Callable[[Capture], Capture], tuple[str, ...]]] = [
    ("session-document-secure", lambda c: mutate.set_prop(c, "aws:ssm/document:Document", "sessions", "content",
                                                          json.dumps(UNENCRYPTED_SHELLS)),
     ("Document 'sessions'", "not encrypted with a KMS key of yours")),
    ("iam-sessions-scoped", lambda c: mutate.set_prop(c, "aws:iam/policy:Policy", "operators", "policy",
                                                      json.dumps(EVERY_SHELL)),
     ("Policy 'operators'", "allows ssm:StartSession on every resource")),
    ("endpoint-budget", lambda c: mutate.set_prop(c, ENDPOINT, "endpoints-ssm", "subnetIds", ["a", "b", "c", "d"]),
     ("over the $75 budget",)),
    ("database-reachability", lambda c: mutate.remove(c, INGRESS, "database-allows-tcp5432-from-bastion"),
     ("SecurityGroup 'bastion': may send 5432 to Cluster 'database'",)),
    ("rds-managed-master-password", lambda c: mutate.set_prop(mutate.set_prop(
        c, "aws:rds/cluster:Cluster", "database", "manageMasterUserPassword", None),
        "aws:rds/cluster:Cluster", "database", "masterPassword", "in-the-program"),
     ("Cluster 'database': sets its master password in the program",)),
    ("no-internet-gateway", lambda c: mutate.add(c, "aws:ec2/internetGateway:InternetGateway", "igw", {}),
     ("opens a path to the internet",)),
    ("no-default-route", lambda c: mutate.add(c, "aws:ec2/route:Route", "to-nat", {
        "destinationCidrBlock": "0.0.0.0/0", "natGatewayId": "nat-1"},
        {"routeTableId": [c.named(TABLE, "network-isolated-ap-northeast-1a")]}), ("a default route (0.0.0.0/0)",)),
    ("no-default-route", lambda c: mutate.set_prop(c, TABLE, "network-isolated-ap-northeast-1c", "routes",
                                                   [{"ipv6CidrBlock": "::/0", "gatewayId": "igw-1"}]),
     ("inline default route (::/0)",)),
    ("subnet-no-public-ip", lambda c: mutate.set_prop(c, SUBNET, "network-isolated-ap-northeast-1a",
                                                      "mapPublicIpOnLaunch", True),
     ("Subnet 'network-isolated-ap-northeast-1a'",)),
    ("efs-mount-targets-isolated", lambda c: mutate.set_prop(c, SUBNET, "network-isolated-ap-northeast-1c",
                                                             "mapPublicIpOnLaunch", True), ("maps public IPs",)),
    ("efs-mount-targets-isolated", lambda c: mutate.add(c, "aws:ec2/route:Route", "default", {
        "destinationCidrBlock": "0.0.0.0/0"}, {"routeTableId": [c.named(TABLE, "network-isolated-ap-northeast-1a")]}),
     ("has a default route",)),
    ("vpc-dns-enabled", lambda c: mutate.set_prop(c, "aws:ec2/vpc:Vpc", "network", "enableDnsHostnames", False),
     ("enable_dns_hostnames=True",)),
    ("default-security-group-empty", lambda c: mutate.set_prop(
        c, "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup", "network-default-group", "ingress",
        [{"protocol": "-1", "fromPort": 0, "toPort": 0, "self": True}]), ("keeps rules",)),
    ("default-security-group-managed", lambda c: mutate.remove(
        c, "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup", "network-default-group"),
     ("aws.ec2.DefaultSecurityGroup",)),
    ("security-group-description", lambda c: mutate.set_prop(c, SG, "bastion", "description", "Managed by Pulumi"),
     ("SecurityGroup 'bastion'",)),
    ("no-ingress-from-anywhere", lambda c: add_rule(c, INGRESS, "open", "endpoints", ipProtocol="tcp",
                                                    fromPort=443, toPort=443, cidrIpv4="0.0.0.0/0"),
     ("whole internet",)),
    ("endpoint-group-ingress-by-reference", lambda c: add_rule(c, INGRESS, "vpc-wide", "endpoints",
                                                               ipProtocol="tcp", fromPort=443, toPort=443,
                                                               cidrIpv4="10.40.0.0/16"), ("from 10.40.0.0/16",)),
    ("ingress-by-group-reference", lambda c: add_rule(c, INGRESS, "by-cidr", "ssm-host", ipProtocol="tcp",
                                                      fromPort=8080, toPort=8080, cidrIpv4="10.40.0.0/16"),
     ("whatever runs there", "referenced_security_group_id")),
    ("no-admin-port-ingress", lambda c: add_rule(c, INGRESS, "ssh", "ssm-host", ipProtocol="tcp", fromPort=20,
                                                 toPort=25, referencedSecurityGroupId="sg-b"), ("port 22",)),
    ("no-all-protocol-rules", lambda c: add_rule(c, EGRESS, "everything", "bastion", ipProtocol="-1",
                                                 referencedSecurityGroupId="sg-h"), ("all-protocol egress",)),
    ("no-open-egress", lambda c: add_rule(c, EGRESS, "anywhere", "ssm-host", ipProtocol="tcp", fromPort=443,
                                          toPort=443, cidrIpv4="0.0.0.0/0"), ("egress to 0.0.0.0/0",)),
    ("interface-endpoint-private-dns", lambda c: mutate.set_prop(c, ENDPOINT, "endpoints-ssm", "privateDnsEnabled",
                                                                 False),
     ("private DNS is off",)),
    ("interface-endpoint-private-dns", lambda c: mutate.set_prop(c, ENDPOINT, "endpoints-logs", "securityGroupIds", []),
     ("no security group",)),
    ("endpoint-in-stack-region", lambda c: mutate.set_prop(c, ENDPOINT, "endpoints-ssm", "serviceName",
                                                           "com.amazonaws.us-east-1.ssm"),
     ("com.amazonaws.ap-northeast-1.<service>",)),
    ("s3-gateway-endpoint", lambda c: mutate.set_prop(c, ENDPOINT, "endpoints-s3", "vpcEndpointType", "Interface"),
     ("Gateway",)),
    ("endpoint-policy-restricts", lambda c: mutate.set_prop(c, ENDPOINT, "endpoints-s3", "policy", None),
     ("VpcEndpoint 'endpoints-s3' (com.amazonaws.ap-northeast-1.s3): no endpoint policy",
      "every bucket of every account")),
    ("endpoint-policy-restricts", lambda c: mutate.set_prop(c, ENDPOINT, "endpoints-ecr-dkr", "policy", json.dumps(
        {"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}]})),
     ("allows every resource to every principal", "every account's registry", "aws:PrincipalAccount")),
    ("endpoint-policy-restricts", lambda c: mutate.set_prop(c, ENDPOINT, "endpoints-s3", "policy", json.dumps(
        {"Statement": [{"Sid": "Wide", "Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "s3:GetObject",
                        "Resource": "arn:aws:s3:::*/*"}]})), ("statement 'Wide'", "every bucket of every account")),
    ("vpc-flow-logs", lambda c: mutate.remove(c, "aws:ec2/flowLog:FlowLog", "flow-logs"),
     ("Vpc 'network': the VPC records no flow logs", "traffic_type REJECT or ALL")),
    ("vpc-flow-logs", lambda c: mutate.set_prop(c, "aws:ec2/flowLog:FlowLog", "flow-logs", "trafficType", "ACCEPT"),
     ("only accepted traffic",)),
    ("ec2-no-public-ip", lambda c: mutate.set_prop(c, INSTANCE, "ssm-host", "associatePublicIpAddress", True),
     ("public IP",)),
    ("ec2-imdsv2", lambda c: mutate.set_prop(c, INSTANCE, "ssm-host", "metadataOptions.httpTokens", "optional"),
     ("IMDSv1",)),
    ("ec2-encrypted-root", lambda c: mutate.set_prop(c, INSTANCE, "ssm-host", "rootBlockDevice.encrypted", False),
     ("root volume is not encrypted",)),
    ("ec2-no-key-pair", lambda c: mutate.set_prop(c, INSTANCE, "ssm-host", "keyName", "ops"), ("remove key_name",)),
    ("ec2-ssm-managed", lambda c: mutate.remove(c, "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
                                                "ssm-host-core"), ("AmazonSSMManagedInstanceCore",)),
    ("ecs-no-public-ip", lambda c: mutate.set_prop(c, SERVICE, "bastion", "networkConfiguration.assignPublicIp",
                                                   True), ("public IPs",)),
    ("ecs-exec-enabled", lambda c: mutate.set_prop(c, SERVICE, "bastion", "enableExecuteCommand", False),
     ("TargetNotConnected",)),
    ("ecs-no-privileged-containers", lambda c: container(c, privileged=True), ("is privileged",)),
    ("ecs-container-logging", lambda c: container(c, logConfiguration=None), ("sends its logs nowhere",)),
    ("ecs-container-logging", lambda c: container(c, logConfiguration={"logDriver": "awslogs", "options": {
        "awslogs-group": "/x", "awslogs-create-group": "true"}}), ("never expires",)),
    ("ecs-exec-init-process", lambda c: container(c, linuxParameters=None), ("init process",)),
    ("ecs-task-roles-distinct", lambda c: mutate.redirect(c, TASK, "bastion", "taskRoleArn",
                                                          c.named(ROLE, "bastion-execution")), ("two roles",)),
    ("ecs-task-roles-distinct", lambda c: mutate.remove(mutate.set_prop(c, TASK, "bastion", "taskRoleArn", None),
                                                        ROLE, "bastion-task"), ("no task role",)),
    ("efs-encrypted", lambda c: mutate.set_prop(c, "aws:efs/fileSystem:FileSystem", "file-share", "encrypted",
                                                False), ("encrypted=True",)),
    ("efs-has-tls-policy", lambda c: mutate.remove(c, "aws:efs/fileSystemPolicy:FileSystemPolicy", "file-share"),
     ("grant_mount",)),
    ("log-group-retention", lambda c: mutate.set_prop(c, "aws:cloudwatch/logGroup:LogGroup", "bastion-exec",
                                                      "retentionInDays", None), ("never expires",)),
    ("iam-no-wildcard-actions", lambda c: mutate.set_prop(c, ROLE_POLICY, "bastion-task", "policy", json.dumps({
        "Version": "2012-10-17", "Statement": [{"Sid": "Lazy", "Effect": "Allow", "Action": "ssm:*",
                                                "Resource": "*"}]})), ("allows ssm:*",)),
    ("iam-no-passrole-on-wildcard", lambda c: mutate.set_prop(c, ROLE_POLICY, "bastion-task", "policy", json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["ssm:CreateActivation",
                                                                            "ssm:DeleteActivation", "iam:PassRole"],
                                                "Resource": "*"}]})), ("any role, admin included",)),
    ("endpoint-reachability", lambda c: mutate.remove(c, EGRESS, "ssm-host-sends-tcp443-to-endpoints"),
     ("Instance 'ssm-host': cannot send 443", "calls to AWS time out")),
    ("endpoint-reachability", lambda c: mutate.remove(c, INGRESS, "endpoints-allows-tcp443-from-bastion"),
     ("SecurityGroup 'endpoints': the endpoint group does not admit 443 from Service 'bastion'",
      "never registers")),
    ("endpoint-reachability", lambda c: mutate.remove(c, EGRESS, "bastion-sends-tcp443-to-s3-prefix-list"),
     ("cannot reach S3",)),
    ("efs-reachability", lambda c: mutate.remove(c, INGRESS, "file-share-allows-tcp2049-from-ssm-host"),
     ("does not admit 2049 from SecurityGroup 'ssm-host'",)),
    ("efs-reachability", lambda c: mutate.remove(mutate.remove(c, INGRESS, "file-share-allows-tcp2049-from-ssm-host"),
                                                 EGRESS, "ssm-host-sends-tcp2049-to-file-share"),
     ("Instance 'ssm-host': may mount", "does not admit 2049 from Instance 'ssm-host'")),
]


@pytest.mark.parametrize(("policy", "change", "phrases"), VARIANTS,
                         ids=[f"{v[0]}-{i}" for i, v in enumerate(VARIANTS)])
@pytest.mark.parametrize("mode", MODES)
def test_each_policy_catches_its_bad_variant(mode: str, policy: str, change: Callable, phrases: tuple) -> None:
    fires(dev_variant(mode, change), policy, *phrases)


def test_the_file_share_policy_content_is_checked_once_known() -> None:
    bad = mutate.set_prop(captured("dev", "update"), "aws:efs/fileSystemPolicy:FileSystemPolicy", "file-share",
                          "policy", json.dumps({"Version": "2012-10-17", "Statement": [
                              {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "*"}]}))
    fires(run(bad), "efs-policy-enforces-tls", "aws:SecureTransport")


@pytest.mark.parametrize("mode", MODES)
def test_missing_endpoints_are_named_with_the_workload_that_needs_them(mode: str) -> None:
    # The program's config refuses such an endpoint list; a program written otherwise is what the pack is for.
    dev = captured("dev", mode)
    for name in ("ssmmessages", "ecr-api", "ecr-dkr", "logs"):
        dev = mutate.remove(dev, ENDPOINT, f"endpoints-{name}")
    report = run(dev)
    fires(report, "required-endpoints", "Instance 'ssm-host': needs ssmmessages for Session Manager sessions",
          "needs ecr.api", "needs logs for the awslogs driver")
    # One finding per workload, naming every endpoint it lacks: one root cause, one finding.
    by_consumer = {f.message.split("\n")[-1].split(":", 1)[0]: f.message
                   for f in report.by_policy("required-endpoints")}
    assert set(by_consumer) == {"Instance 'ssm-host'", "Service 'bastion'"}
    assert re.findall(r"needs (\S+) for", by_consumer["Service 'bastion'"]) == ["ssmmessages", "ecr.api", "ecr.dkr",
                                                                               "logs"]
    kms = run(mutate.remove(captured("dev", mode, execKms=True), ENDPOINT, "endpoints-kms"))
    fires(kms, "required-endpoints", "needs kms for decrypting its KMS-encrypted exec channel")


def test_ec2messages_is_required_only_when_configured() -> None:
    cap = captured("dev", "preview")
    assert not run(cap).by_policy("required-endpoints")
    fires(run(cap, {"required-endpoints": {"ec2messages": True}}), "required-endpoints", "needs ec2messages")
    assert not run(captured("dev", "preview", includeEc2Messages=True),
                   {"required-endpoints": {"ec2messages": True}}).by_policy("required-endpoints")


def test_budget_is_advisory_and_priced_from_the_table() -> None:
    report = run(captured("dev", "preview", endpointPlacement="every-az", azCount=3))
    fires(report, "endpoint-budget", "$184/month", "18 endpoint-AZs", "ecr.api x3 AZ", "over the $75 budget")
    assert all(f.level == "advisory" for f in report.by_policy("endpoint-budget"))
    assert not run(captured("dev", "preview", endpointPlacement="every-az", azCount=3),
                   {"endpoint-budget": {"monthlyBudgetUsd": 200}}).by_policy("endpoint-budget")


def test_groups_naming_each_other_inline_are_a_cycle() -> None:
    """The EC2/EFS pair's classic shape: each group's inline rules reference the other."""
    cap = captured("dev", "preview")
    host, share = cap.named(SG, "ssm-host"), cap.named(SG, "file-share")
    rule = [{"protocol": "tcp", "fromPort": 2049, "toPort": 2049, "securityGroups": ["sg-x"]}]
    bad = mutate.set_prop(mutate.set_prop(cap, SG, "ssm-host", "egress", rule), SG, "file-share", "ingress", rule)
    bad.named(SG, "ssm-host").property_dependencies["egress"] = [share.urn]
    bad.named(SG, "file-share").property_dependencies["ingress"] = [host.urn]
    report = run(bad)
    fires(report, "no-security-group-cycles", "Circular dependency", "'ssm-host'", "'file-share'")
    fires(report, "no-inline-security-group-rules", "Circular dependency between resources")


# --- the classic mistakes, written as real programs write them ----------------------------------------------

PLAIN_NETWORK = '''
import json
import pulumi
import pulumi_aws as aws

vpc = aws.ec2.Vpc("vpc", cidr_block="172.31.0.0/24", enable_dns_support=True, enable_dns_hostnames=True)
subnet = aws.ec2.Subnet("private-az1", vpc_id=vpc.id, cidr_block="172.31.0.0/28", availability_zone="ap-northeast-1a")
table = aws.ec2.RouteTable("private-az1", vpc_id=vpc.id)
aws.ec2.RouteTableAssociation("private-az1", subnet_id=subnet.id, route_table_id=table.id)
'''

EXEC_NEVER_ENABLED = PLAIN_NETWORK + '''
# A Fargate service behind seven endpoints whose group is open to the world, without ECS Exec.
endpoint_group = aws.ec2.SecurityGroup("endpoint", vpc_id=vpc.id, description="Allow https access",
    ingress=[{"protocol": "tcp", "from_port": 443, "to_port": 443, "cidr_blocks": ["0.0.0.0/0"]}],
    egress=[{"protocol": "-1", "from_port": 0, "to_port": 0, "cidr_blocks": ["0.0.0.0/0"]}])
aws.ec2.VpcEndpoint("s3", vpc_id=vpc.id, service_name="com.amazonaws.ap-northeast-1.s3",
                    vpc_endpoint_type="Gateway", route_table_ids=[table.id])
for service in ("ecr.api", "ecr.dkr", "logs", "ssm", "ec2messages", "ssmmessages"):
    aws.ec2.VpcEndpoint(service.replace(".", "-"), vpc_id=vpc.id,
                        service_name=f"com.amazonaws.ap-northeast-1.{service}", vpc_endpoint_type="Interface",
                        private_dns_enabled=True, subnet_ids=[subnet.id], security_group_ids=[endpoint_group.id])
cluster = aws.ecs.Cluster("demo")
# One console-made role for both jobs, by ARN.
role = "arn:aws:iam::123456789012:role/demoExecutionRole"
task = aws.ecs.TaskDefinition("demo", family="demo-ecs-task", network_mode="awsvpc",
    requires_compatibilities=["FARGATE"], cpu="1024", memory="3072",
    execution_role_arn=role, task_role_arn=role,
    container_definitions=json.dumps([{"name": "nginx-demo", "essential": True,
        "image": "123456789012.dkr.ecr.ap-northeast-1.amazonaws.com/nginx-demo",
        "portMappings": [{"containerPort": 80}, {"containerPort": 443}],
        "logConfiguration": {"logDriver": "awslogs", "options": {"awslogs-create-group": "true",
            "awslogs-group": "/ecs/nginx-demo-task", "awslogs-region": "ap-northeast-1",
            "awslogs-stream-prefix": "ecs"}}}]))
private = aws.ec2.SecurityGroup("private", vpc_id=vpc.id, description="Allow access all",
    ingress=[{"protocol": "-1", "from_port": 0, "to_port": 0, "cidr_blocks": ["0.0.0.0/0"]}],
    egress=[{"protocol": "-1", "from_port": 0, "to_port": 0, "cidr_blocks": ["0.0.0.0/0"]}])
aws.ecs.Service("demo", cluster=cluster.name, task_definition=task.arn, launch_type="FARGATE",
    network_configuration={"subnets": [subnet.id], "assign_public_ip": False, "security_groups": [private.id]})
# The hybrid-activation workaround: iam:PassRole on every role for the task.
task_role = aws.iam.Role("ecs-task", assume_role_policy=json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}]}))
aws.iam.RolePolicy("ssm-activation", role=task_role.id, policy=json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": ["ssm:CreateActivation", "ssm:DeleteActivation", "iam:PassRole"],
     "Resource": "*"}]}))
'''

ENDPOINT_GROUP_ADMITS_NOTHING = PLAIN_NETWORK + '''
# An SSM host whose endpoint group admits nothing (the root cause), with an unencrypted disk.
endpoint_group = aws.ec2.SecurityGroup("endpoint", vpc_id=vpc.id, description="PWork VPC Endpoint SecurityGroup")
aws.ec2.DefaultSecurityGroup("default", vpc_id=vpc.id)
for service in ("ssm", "ssmmessages"):
    aws.ec2.VpcEndpoint(service, vpc_id=vpc.id, service_name=f"com.amazonaws.ap-northeast-1.{service}",
                        vpc_endpoint_type="Interface", private_dns_enabled=True, subnet_ids=[subnet.id],
                        security_group_ids=[endpoint_group.id])
host_group = aws.ec2.SecurityGroup("instance", vpc_id=vpc.id, description="PWork Instance SSM OutPut SecurityGroup")
aws.vpc.SecurityGroupEgressRule("to-endpoints", security_group_id=host_group.id, ip_protocol="tcp",
                                from_port=443, to_port=443, referenced_security_group_id=endpoint_group.id)
role = aws.iam.Role("ssm", assume_role_policy=json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]}))
aws.iam.RolePolicyAttachment("core", role=role.name,
                             policy_arn="arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore")
profile = aws.iam.InstanceProfile("ssm", role=role.name)
aws.ec2.Instance("pwork", ami="ami-09cd9fdbf26acc6b4", instance_type="t2.micro", subnet_id=subnet.id,
                 vpc_security_group_ids=[host_group.id], iam_instance_profile=profile.name,
                 metadata_options={"http_tokens": "required"},
                 root_block_device={"encrypted": False, "volume_type": "gp3", "volume_size": 8})
'''

GROUPS_NAMING_EACH_OTHER = PLAIN_NETWORK + '''
# EC2 and EFS groups naming each other inline, as far as Python lets it be written. (The reverse reference
# cannot even be expressed here: the other group does not exist yet. CDK's lazy tokens allowed it, hence the cycle.)
ec2_group = aws.ec2.SecurityGroup("sg-ec2", vpc_id=vpc.id, description="Security Group for EC2")
aws.ec2.SecurityGroup("sg-efs", vpc_id=vpc.id, description="Security Group for EFS",
    ingress=[{"protocol": "tcp", "from_port": 2049, "to_port": 2049, "security_groups": [ec2_group.id]}],
    egress=[{"protocol": "tcp", "from_port": 2049, "to_port": 2049, "security_groups": [ec2_group.id]}])
'''


@pytest.mark.parametrize("mode", MODES)
def test_a_service_without_exec_behind_open_groups_is_caught_before_anything_is_created(tmp_path: Path,
                                                                                        mode: str) -> None:
    report = run(run_program(EXEC_NEVER_ENABLED, tmp_path, mode))
    # Nothing in the program says the service is meant for ECS Exec but the ssmmessages endpoint beside it: advisory.
    fires(report, "ecs-exec-expected", "Service 'demo'", "TargetNotConnected")
    fires(report, "no-ingress-from-anywhere", "SecurityGroup 'endpoint'", "SecurityGroup 'private'")
    fires(report, "no-inline-security-group-rules", "SecurityGroup 'private'")
    fires(report, "endpoint-group-ingress-by-reference", "from 0.0.0.0/0")
    fires(report, "no-all-protocol-rules")
    fires(report, "no-open-egress")
    fires(report, "ecs-task-roles-distinct", "same role")
    fires(report, "ecs-container-logging", "awslogs-create-group")
    fires(report, "iam-no-passrole-on-wildcard", "RolePolicy 'ssm-activation'")
    fires(report, "default-security-group-managed")


@pytest.mark.parametrize("mode", MODES)
def test_an_endpoint_group_without_inbound_443_is_named_as_the_root_cause(tmp_path: Path, mode: str) -> None:
    report = run(run_program(ENDPOINT_GROUP_ADMITS_NOTHING, tmp_path, mode))
    fires(report, "endpoint-reachability", "SecurityGroup 'endpoint': the endpoint group does not admit 443 from "
          "Instance 'pwork'", "never registers")
    fires(report, "ec2-encrypted-root", "Instance 'pwork'")
    # The host itself is otherwise right: ssm + ssmmessages, SSM core through its profile, egress to the endpoints.
    assert not report.by_policy("required-endpoints") and not report.by_policy("ec2-ssm-managed")
    assert all("cannot send 443" not in f.message for f in report.by_policy("endpoint-reachability"))


@pytest.mark.parametrize("mode", MODES)
def test_groups_naming_each_other_inline_are_stopped(tmp_path: Path, mode: str) -> None:
    report = run(run_program(GROUPS_NAMING_EACH_OTHER, tmp_path, mode))
    fires(report, "no-inline-security-group-rules", "SecurityGroup 'sg-efs'", "Circular dependency")


# --- wider coverage: the same intent on resources airgap itself never creates ---------------------------------------

WIDER_BAD = PLAIN_NETWORK + '''
# Everything here is a way in, or wider than it needs to be.
template = aws.ec2.LaunchTemplate("web", image_id="ami-0123456789abcdef0", instance_type="t4g.micro",
    key_name="ops", network_interfaces=[{"associate_public_ip_address": "true", "subnet_id": subnet.id}])
aws.autoscaling.Group("web", min_size=1, max_size=2, vpc_zone_identifiers=[subnet.id],
                      launch_template={"id": template.id, "version": "$Latest"})
aws.ec2.LaunchConfiguration("legacy", image_id="ami-0123456789abcdef0", instance_type="t3.micro",
                            associate_public_ip_address=True, key_name="ops")
aws.lb.LoadBalancer("front", load_balancer_type="application", subnets=[subnet.id])
aws.rds.Instance("db", engine="postgres", instance_class="db.t4g.micro", allocated_storage=20, username="app",
                 manage_master_user_password=True, publicly_accessible=True)
aws.rds.Cluster("aurora", engine="aurora-postgresql", master_username="app", manage_master_user_password=True)
acl = aws.ec2.NetworkAcl("acl", vpc_id=vpc.id)
aws.ec2.NetworkAclRule("open", network_acl_id=acl.id, rule_number=100, egress=False, protocol="-1",
                       rule_action="allow", cidr_block="0.0.0.0/0")
role = aws.iam.Role("app", assume_role_policy=json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]}),
    managed_policy_arns=["arn:aws:iam::aws:policy/AdministratorAccess"],
    inline_policies=[{"name": "all-s3", "policy": json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]})}])
aws.iam.RolePolicyAttachment("power", role=role.name, policy_arn="arn:aws:iam::aws:policy/PowerUserAccess")
'''

WIDER_GOOD = PLAIN_NETWORK + '''
# The same resources, private and least-privilege.
template = aws.ec2.LaunchTemplate("web", image_id="ami-0123456789abcdef0", instance_type="t4g.micro",
    metadata_options={"http_tokens": "required"},
    network_interfaces=[{"associate_public_ip_address": "false", "subnet_id": subnet.id}])
aws.autoscaling.Group("web", min_size=1, max_size=2, vpc_zone_identifiers=[subnet.id],
                      launch_template={"id": template.id, "version": "$Latest"})
aws.ec2.LaunchConfiguration("legacy", image_id="ami-0123456789abcdef0", instance_type="t3.micro",
                            metadata_options={"http_tokens": "required"})
aws.lb.LoadBalancer("front", load_balancer_type="application", internal=True, subnets=[subnet.id])
aws.rds.Instance("db", engine="postgres", instance_class="db.t4g.micro", allocated_storage=20, username="app",
                 manage_master_user_password=True, storage_encrypted=True)
aws.rds.Cluster("aurora", engine="aurora-postgresql", master_username="app", manage_master_user_password=True,
                storage_encrypted=True)
acl = aws.ec2.NetworkAcl("acl", vpc_id=vpc.id)
aws.ec2.NetworkAclRule("vpc-only", network_acl_id=acl.id, rule_number=100, egress=False, protocol="tcp",
                       from_port=443, to_port=443, rule_action="allow", cidr_block="172.31.0.0/24")
role = aws.iam.Role("app", assume_role_policy=json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]}),
    managed_policy_arns=["arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"],
    inline_policies=[{"name": "read-one-bucket", "policy": json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::app-data/*"}]})}])
'''
WIDER_POLICIES = ("ec2-imdsv2", "ec2-no-public-ip", "ec2-no-key-pair", "lb-internal", "rds-not-public",
                  "rds-encrypted", "nacl-no-open-ingress", "iam-no-admin-managed-policies", "iam-no-wildcard-actions")


@pytest.mark.parametrize("mode", MODES)
def test_wider_coverage_catches_each_way_in_and_each_broad_grant(tmp_path: Path, mode: str) -> None:
    report = run(run_program(WIDER_BAD, tmp_path, mode))
    fires(report, "ec2-imdsv2", "LaunchTemplate 'web'", "LaunchConfiguration 'legacy'")
    fires(report, "ec2-no-public-ip", "LaunchTemplate 'web': network interface 0",
          "LaunchConfiguration 'legacy': every instance launched from it gets a public IP")
    fires(report, "ec2-no-key-pair", "LaunchTemplate 'web'", "LaunchConfiguration 'legacy'")
    fires(report, "lb-internal", "LoadBalancer 'front'", "internet-facing")
    fires(report, "rds-not-public", "Instance 'db'", "publicly_accessible")
    fires(report, "rds-encrypted", "Instance 'db'", "Cluster 'aurora'")
    fires(report, "nacl-no-open-ingress", "NetworkAclRule 'open'", "from anywhere")
    fires(report, "iam-no-admin-managed-policies", "Role 'app': it attaches AdministratorAccess",
          "RolePolicyAttachment 'power': it attaches PowerUserAccess")
    fires(report, "iam-no-wildcard-actions", "Role 'app'", "allows s3:*")


@pytest.mark.parametrize("mode", MODES)
def test_wider_coverage_passes_the_private_least_privilege_variant(tmp_path: Path, mode: str) -> None:
    report = run(run_program(WIDER_GOOD, tmp_path, mode))
    found = [f.message for f in report.violations if f.policy in WIDER_POLICIES]
    assert found == []


def test_every_policy_has_a_variant_that_fires() -> None:
    # Runs last in this module (pytest keeps file order): every test above added what it saw firing.
    missing = sorted({p.name for p in POLICIES} - COVERED)
    assert missing == [], f"no bad variant shows these policies firing: {missing}"


def test_private_only_names_real_policies() -> None:
    from guard import PRIVATE_ONLY

    assert {p.name for p in POLICIES} >= PRIVATE_ONLY


def test_readme_lists_every_policy() -> None:
    from offline.policy_table import rows

    readme = (ROOT / "README.md").read_text()
    stale = [row for row in rows() if row not in readme]
    assert stale == [], f"README's policy table is stale (paste `python -m offline.policy_table`): {stale}"


def test_rules_read_back_into_an_existing_group_are_not_taken_for_inline_rules() -> None:
    """After the first `pulumi up`, the provider reads every rule on a group into its state, standalone ones
    included. Those read-backs must not look like inline rules to the stack policies — but a rule that is not a
    read-back of a standalone one (added in the console, say) must still be caught."""
    update = captured("dev", "update")
    group = update.named(SG, "endpoints")
    assert len(group.state["ingress"]) == 2 and not group.inputs.get("ingress")
    assert run(update).mandatory == []
    extra = mutate.clone(update)
    extra.named(SG, "endpoints").state["ingress"].append(
        {"protocol": "tcp", "fromPort": 443, "toPort": 443, "cidrBlocks": ["0.0.0.0/0"], "securityGroups": []})
    fires(run(extra), "endpoint-group-ingress-by-reference", "from 0.0.0.0/0")


# --- where the pack runs: region per resource, never assumed ------------------------------------------------------

def test_a_provider_without_a_region_in_config_gives_no_false_missing_endpoints(mode: str) -> None:
    """Region from the environment (AWS_REGION): the default provider's config has none. The pack takes each
    endpoint's region from its service name and matches consumers to the endpoints of their VPC."""
    dev = mutate.clone(captured("dev", mode))
    dev.config = {k: v for k, v in dev.config.items() if k != "aws:region"}
    report = run(dev)
    assert report.mandatory == [] and report.skipped == [], [f.message for f in report.mandatory]
    assert ("endpoint-in-stack-region", "the endpoint's provider names no region in its config (it comes from the "
            "environment), so there is nothing to compare its service name with") in report.not_applicable


TWO_REGIONS = '''
import json
import pulumi
import pulumi_aws as aws

def environment(name, region, zone, opts, endpoint_region=None):
    o = lambda: pulumi.ResourceOptions(provider=opts) if opts else None
    vpc = aws.ec2.Vpc(f"{name}-vpc", cidr_block="10.50.0.0/16", enable_dns_support=True, enable_dns_hostnames=True,
                      opts=o())
    subnet = aws.ec2.Subnet(f"{name}-subnet", vpc_id=vpc.id, cidr_block="10.50.0.0/24", availability_zone=zone,
                            opts=o())
    group = aws.ec2.SecurityGroup(f"{name}-endpoints", vpc_id=vpc.id, description="endpoints", opts=o())
    for service in ("ssm", "ssmmessages"):
        aws.ec2.VpcEndpoint(f"{name}-{service}", vpc_id=vpc.id, vpc_endpoint_type="Interface",
                            service_name=f"com.amazonaws.{endpoint_region or region}.{service}",
                            private_dns_enabled=True, subnet_ids=[subnet.id], security_group_ids=[group.id], opts=o())
    role = aws.iam.Role(f"{name}-host", assume_role_policy=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]}), opts=o())
    aws.iam.RolePolicyAttachment(f"{name}-core", role=role.name,
                                 policy_arn="arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore", opts=o())
    profile = aws.iam.InstanceProfile(f"{name}-host", role=role.name, opts=o())
    aws.ec2.Instance(f"{name}-host", ami="ami-0123456789abcdef0", instance_type="t4g.micro", subnet_id=subnet.id,
                     iam_instance_profile=profile.name, opts=o())

environment("tokyo", "ap-northeast-1", "ap-northeast-1a", None)
environment("virginia", "us-east-1", "us-east-1a", aws.Provider("virginia", region="us-east-1"),
            endpoint_region={endpoint_region})
'''


def test_several_regions_are_judged_region_by_region(tmp_path: Path, mode: str) -> None:
    report = run(run_program(TWO_REGIONS.replace("{endpoint_region}", "None"), tmp_path, mode))
    assert not report.by_policy("required-endpoints"), [f.message for f in report.by_policy("required-endpoints")]
    assert not report.by_policy("endpoint-in-stack-region")


def test_endpoints_named_for_another_region_serve_nobody_there(tmp_path: Path, mode: str) -> None:
    report = run(run_program(TWO_REGIONS.replace("{endpoint_region}", '"ap-northeast-1"'), tmp_path, mode))
    fires(report, "endpoint-in-stack-region", "VpcEndpoint 'virginia-ssm' (com.amazonaws.ap-northeast-1.ssm)",
          "use com.amazonaws.us-east-1.<service>")
    fires(report, "required-endpoints", "Instance 'virginia-host': needs ssm",
          "only an endpoint for ap-northeast-1, and the consumer is in us-east-1")
    assert all("tokyo" not in f.message for f in report.by_policy("required-endpoints"))
