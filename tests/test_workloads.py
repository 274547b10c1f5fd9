"""The workloads: the EC2/EFS pair and the Fargate SSM bastion.

Every flow they need is allowed on both sides and nothing else is; roles hold only what they need. Each test runs
in both harness modes (first preview of a new stack, and update) unless it reads a value only AWS can assign.
"""

from __future__ import annotations

import json

import pytest

from offline import graph
from offline.harness import UNKNOWN, Capture

pytestmark = pytest.mark.program

SERVICE = "aws:ecs/service:Service"
TASK = "aws:ecs/taskDefinition:TaskDefinition"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
INSTANCE = "aws:ec2/instance:Instance"
FS = "aws:efs/fileSystem:FileSystem"

HOST_FLOWS = {
    ("ssm-host", "endpoints", "tcp/443"),
    ("ssm-host", "prefix list of s3", "tcp/443"),
    ("ssm-host", "file-share", "tcp/2049"),
}
BASTION_FLOWS = {
    ("bastion", "endpoints", "tcp/443"),
    ("bastion", "prefix list of s3", "tcp/443"),
    ("bastion", "ssm-host", "tcp/8080"),
}
EXPECTED_FLOWS = {"off": HOST_FLOWS, "parked": HOST_FLOWS | BASTION_FLOWS, "on": HOST_FLOWS | BASTION_FLOWS}


@pytest.fixture(params=["off", "parked", "on"])
def bastion_mode(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def stack(cap, mode: str, bastion_mode: str) -> Capture:
    return cap("dev", mode, bastion=bastion_mode, database=False)  # the database: tests/test_database.py


def policy_document(cap: Capture, name: str) -> dict:
    text = cap.named(ROLE_POLICY, name).inputs["policy"]
    assert text != UNKNOWN, f"{name}'s policy is unknown: the policy pack could not read it in a first preview"
    return json.loads(text)


def actions(document: dict) -> set[str]:
    return {a for s in document["Statement"] for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])}


# --- flows -----------------------------------------------------------------------------------------------------

def test_exactly_the_needed_flows_are_allowed_on_both_sides(stack: Capture, bastion_mode: str) -> None:
    flows = graph.flows(stack)
    assert {(f.source, f.target, f.port) for f in flows} == EXPECTED_FLOWS[bastion_mode]
    for flow in flows:
        assert flow.egress is not None, f"{flow.source} has no egress rule for {flow.target} {flow.port}"
        if not flow.target.startswith("prefix list"):
            assert flow.ingress is not None, f"{flow.target} does not admit {flow.source} {flow.port}"


def test_no_ingress_exists_beyond_those_flows(stack: Capture, bastion_mode: str) -> None:
    ingress = {(e.peer, e.group, e.port) for e in graph.rule_ends(stack, graph.INGRESS)}
    assert ingress == {f for f in EXPECTED_FLOWS[bastion_mode] if not f[1].startswith("prefix list")}
    # The bastion's own group admits nothing, whatever the mode.
    assert not [e for e in graph.rule_ends(stack, graph.INGRESS) if e.group == "bastion"]


def test_host_without_forward_ports_admits_nothing(cap, mode: str) -> None:
    run = cap("dev", mode, bastionForwardPorts=[])
    assert not [e for e in graph.rule_ends(run, graph.INGRESS) if e.group == "ssm-host"]


# --- SSM host and file share ----------------------------------------------------------------------------

def test_host_has_no_public_ip_no_key_pair_imdsv2_and_an_encrypted_root(dev: Capture) -> None:
    host = dev.named(INSTANCE, "ssm-host")
    assert host.inputs["associatePublicIpAddress"] is False
    assert "keyName" not in host.inputs
    assert host.inputs["metadataOptions"] == {"httpEndpoint": "enabled", "httpTokens": "required",
                                              "httpPutResponseHopLimit": 1}
    assert host.inputs["rootBlockDevice"]["encrypted"] is True
    assert host.inputs["rootBlockDevice"]["volumeType"] == "gp3"
    assert host.inputs["instanceType"] == "t4g.micro"
    # The AMI follows AWS's public parameter at creation, and is not chased afterwards.
    assert "aws:ssm/getParameter:getParameter" in dev.invokes
    assert host.ignore_changes == ["ami"]


def test_host_role_carries_ssm_core_through_its_instance_profile(dev: Capture) -> None:
    by_urn = dev.by_urn()
    host = dev.named(INSTANCE, "ssm-host")
    (profile,) = [by_urn[u] for u in host.property_dependencies["iamInstanceProfile"]]
    (role,) = [by_urn[u] for u in profile.property_dependencies["role"]]
    attachments = [a for a in dev.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
                   if a.property_dependencies["role"] == [role.urn]]
    assert [a.inputs["policyArn"] for a in attachments] == ["arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"]
    trust = json.loads(role.inputs["assumeRolePolicy"])
    assert trust["Statement"][0]["Principal"] == {"Service": "ec2.amazonaws.com"}


def test_host_mounts_the_share_over_tls_through_the_access_point_at_boot(cap) -> None:
    run = cap("dev", "update")  # user data embeds the file system id: known only once it exists
    script = run.named(INSTANCE, "ssm-host").inputs["userData"]
    fs = run.named(FS, "file-share").id
    ap = run.named("aws:efs/accessPoint:AccessPoint", "file-share").id
    assert "dnf install -y amazon-efs-utils" in script
    assert f'"{fs}:/ $SHARE efs _netdev,noresvport,tls,iam,accesspoint={ap} 0 0"' in script
    assert "\nSHARE=/mnt/share\n" in script
    host = run.named(INSTANCE, "ssm-host")
    mount_targets = {m.urn for m in run.of_type("aws:efs/mountTarget:MountTarget")}
    assert mount_targets <= set(host.dependencies), "the host could boot before a mount target exists"


def test_file_share_is_encrypted_backed_up_and_in_every_isolated_subnet(dev: Capture) -> None:
    fs = dev.named(FS, "file-share")
    assert fs.inputs["encrypted"] is True
    assert fs.inputs["throughputMode"] == "elastic"
    assert {"transitionToIa": "AFTER_30_DAYS"} in fs.inputs["lifecyclePolicies"]
    (backup,) = dev.of_type("aws:efs/backupPolicy:BackupPolicy")
    assert backup.inputs["backupPolicy"] == {"status": "ENABLED"}
    share_group = dev.named(graph.SG, "file-share")
    targets = dev.of_type("aws:efs/mountTarget:MountTarget")
    subnets = {s.urn for s in dev.of_type("aws:ec2/subnet:Subnet")}
    assert {t.property_dependencies["subnetId"][0] for t in targets} == subnets
    for target in targets:
        assert target.property_dependencies["securityGroups"] == [share_group.urn]
    (ap,) = dev.of_type("aws:efs/accessPoint:AccessPoint")
    assert ap.inputs["posixUser"] == {"uid": 1000, "gid": 1000}
    assert ap.inputs["rootDirectory"]["path"] == "/share"


def test_file_share_policy_denies_plain_nfs_and_grants_only_the_host_role(cap) -> None:
    run = cap("dev", "update")
    policy = json.loads(run.named("aws:efs/fileSystemPolicy:FileSystemPolicy", "file-share").inputs["policy"])
    deny, allow = policy["Statement"]
    assert deny["Effect"] == "Deny" and deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    host_role = run.named(ROLE, "ssm-host").state["arn"]
    assert allow["Principal"] == {"AWS": [host_role]}
    assert sorted(allow["Action"]) == ["elasticfilesystem:ClientMount", "elasticfilesystem:ClientWrite"]


@pytest.mark.parametrize(("production", "protected"), [(False, False), (True, True)])
def test_only_production_protects_the_file_share(cap, production: bool, protected: bool) -> None:
    run = cap("dev", "preview", production=production)
    assert run.named(FS, "file-share").protect is protected
    assert sorted(r.name for r in run if r.protect) == (["database", "file-share"] if protected else [])


# --- Fargate bastion ----------------------------------------------------------------------------------------

@pytest.mark.parametrize(("bastion", "desired"), [("parked", 0), ("on", 1)])
def test_bastion_service_runs_exec_in_private_subnets(cap, mode: str, bastion: str, desired: int) -> None:
    """A service without enableExecuteCommand never connects (TargetNotConnected)."""
    run = cap("dev", mode, bastion=bastion)
    (service,) = run.of_type(SERVICE)
    assert service.inputs["enableExecuteCommand"] is True
    assert service.inputs["desiredCount"] == desired
    assert service.inputs["launchType"] == "FARGATE" and service.inputs["platformVersion"] == "LATEST"
    network = service.inputs["networkConfiguration"]
    assert network["assignPublicIp"] is False
    subnets = {s.urn for s in run.of_type("aws:ec2/subnet:Subnet")}
    assert set(service.property_dependencies["networkConfiguration"]) >= subnets
    assert service.property_dependencies["taskDefinition"] == [run.named(TASK, "bastion").urn]


def test_task_definition_runs_a_long_lived_container_with_init_and_stack_owned_logs(cap, mode: str) -> None:
    run = cap("dev", mode)
    task = run.named(TASK, "bastion")
    assert task.inputs["requiresCompatibilities"] == ["FARGATE"] and task.inputs["networkMode"] == "awsvpc"
    assert (task.inputs["cpu"], task.inputs["memory"]) == ("256", "512")
    assert task.inputs["family"] == "airgap-dev-bastion"
    # Known even in a first preview: the policy pack reads it then.
    (container,) = json.loads(task.inputs["containerDefinitions"])
    assert container["linuxParameters"] == {"initProcessEnabled": True}
    assert container["command"] == ["sleep", "infinity"]
    options = container["logConfiguration"]["options"]
    assert options["awslogs-group"] == "/airgap-dev/bastion" and "awslogs-create-group" not in options


# Keys ECS's defaults cover and the provider does not normalise (terraform-provider-aws
# internal/service/ecs/task_definition_equivalency.go normalises only essential, hostPort and ordering): written
# explicitly, ECS's answer on read lacks them and every `pulumi up` would replace the task definition.
DROPPED_ON_READ = {"privileged": False, "readonlyRootFilesystem": False, "interactive": False,
                   "pseudoTerminal": False, "disableNetworking": False}


def test_container_definitions_carry_no_default_that_ecs_drops_on_read(cap, mode: str) -> None:
    (container,) = json.loads(cap("dev", mode).named(TASK, "bastion").inputs["containerDefinitions"])
    written = {k: v for k, v in container.items() if DROPPED_ON_READ.get(k, object()) == v}
    assert written == {}, f"explicit defaults would replace the task definition on every up: {written}"


def test_the_image_comes_from_the_stacks_own_immutable_repository(cap, mode: str) -> None:
    """A private VPC cannot fill a pull-through cache on first pull (that needs NAT): the stack owns a repository
    that the operator fills from outside, and the task pulls only from there."""
    run = cap("dev", mode)
    assert not run.of_type("aws:ecr/pullThroughCacheRule:PullThroughCacheRule")
    (repository,) = run.of_type("aws:ecr/repository:Repository")
    assert repository.inputs["name"] == "airgap-dev/bastion"
    assert repository.inputs["imageTagMutability"] == "IMMUTABLE"
    assert repository.inputs["forceDelete"] is True  # destroy leaves nothing behind
    task = run.named(TASK, "bastion")
    (container,) = json.loads(task.inputs["containerDefinitions"])
    assert container["image"] == "123456789012.dkr.ecr.ap-northeast-1.amazonaws.com/airgap-dev/bastion:2023"
    assert repository.urn in task.dependencies
    assert task.inputs["runtimePlatform"]["cpuArchitecture"] == "ARM64"
    execution = policy_document(run, "bastion-execution")
    (pull,) = [s for s in execution["Statement"] if s["Sid"] == "PullImage"]
    assert pull["Resource"] == ["arn:aws:ecr:ap-northeast-1:123456789012:repository/airgap-dev/bastion"]


def test_outputs_say_where_the_image_comes_from_and_how_to_fill_it(cap) -> None:
    exports = cap("dev", "update").exports
    assert exports["bastionImageSource"] == "public.ecr.aws/amazonlinux/amazonlinux:2023"
    assert exports["bastionImage"].endswith("/airgap-dev/bastion:2023")
    assert exports["bastionImagePlatform"] == "linux/arm64"
    assert exports["bastionImageFill"] == "python3 dev.py bastion image --stack dev"


def test_a_digest_pinned_source_gets_a_tag_spelt_from_its_digest(cap) -> None:
    digest = "sha256:" + "ab" * 32
    run = cap("dev", "preview", bastionImageSource=f"public.ecr.aws/amazonlinux/amazonlinux@{digest}")
    (container,) = json.loads(run.named(TASK, "bastion").inputs["containerDefinitions"])
    assert container["image"].endswith(f"/airgap-dev/bastion:sha256-{'ab' * 32}")


def test_physical_names_carry_project_and_stack(cap, mode: str) -> None:
    run = cap("dev", mode, execKms=True)
    named = {r.type.rsplit(":", 1)[-1]: r.inputs.get("name") for r in run
             if r.type in ("aws:ecs/cluster:Cluster", "aws:ecs/service:Service", "aws:ecr/repository:Repository")}
    assert named == {"Cluster": "airgap-dev-bastion", "Service": "airgap-dev-bastion",
                     "Repository": "airgap-dev/bastion"}
    assert {a.inputs["name"] for a in run.of_type("aws:kms/alias:Alias")} == \
           {"alias/airgap-dev-bastion-exec", "alias/airgap-dev-sessions"}
    assert {g.inputs["name"] for g in run.of_type("aws:cloudwatch/logGroup:LogGroup")} == \
           {"/airgap-dev/bastion", "/airgap-dev/bastion-exec", "/airgap-dev/sessions"}


def test_task_and_execution_roles_are_distinct_and_least_privilege(cap, mode: str) -> None:
    run = cap("dev", mode)
    task = run.named(TASK, "bastion")
    assert task.property_dependencies["taskRoleArn"] != task.property_dependencies["executionRoleArn"]
    assert actions(policy_document(run, "bastion-task")) == {
        "ssmmessages:CreateControlChannel", "ssmmessages:CreateDataChannel", "ssmmessages:OpenControlChannel",
        "ssmmessages:OpenDataChannel", "logs:DescribeLogGroups", "logs:CreateLogStream", "logs:DescribeLogStreams",
        "logs:PutLogEvents"}
    assert actions(policy_document(run, "bastion-execution")) == {
        "ecr:GetAuthorizationToken", "ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer",
        "ecr:BatchGetImage", "logs:CreateLogStream", "logs:PutLogEvents"}


def test_no_policy_grants_a_wildcard_action_or_pass_role(stack: Capture) -> None:
    """The hybrid-activation workaround grants iam:PassRole on * (and ssm:CreateActivation): ECS Exec needs neither."""
    for policy in stack.of_type(ROLE_POLICY):
        for granted in actions(policy_document(stack, policy.name)):
            assert "*" not in granted and granted != "iam:PassRole", (policy.name, granted)
            assert not granted.startswith("ssm:CreateActivation"), (policy.name, granted)


def test_wildcard_resources_only_where_aws_offers_no_resource(stack: Capture) -> None:
    unscoped = {"ecr:GetAuthorizationToken", "logs:DescribeLogGroups", "ssmmessages:CreateControlChannel",
                "ssmmessages:CreateDataChannel", "ssmmessages:OpenControlChannel", "ssmmessages:OpenDataChannel"}
    for policy in stack.of_type(ROLE_POLICY):
        for s in policy_document(stack, policy.name)["Statement"]:
            if "*" in s["Resource"]:
                assert set(s["Action"]) <= unscoped, (policy.name, s["Sid"])


def test_log_groups_have_retention_and_exec_sessions_are_logged(cap, mode: str) -> None:
    run = cap("dev", mode)
    groups = {g.name: g for g in run.of_type("aws:cloudwatch/logGroup:LogGroup")}
    assert set(groups) == {"bastion-task", "bastion-exec", "sessions"}  # the host's shells log to their own
    assert all(g.inputs["retentionInDays"] == 14 for g in groups.values())
    (cluster,) = run.of_type("aws:ecs/cluster:Cluster")
    exec_config = cluster.inputs["configuration"]["executeCommandConfiguration"]
    assert exec_config["logging"] == "OVERRIDE"
    assert cluster.property_dependencies["configuration"] == [groups["bastion-exec"].urn]


def test_kms_encrypts_the_exec_channel_and_brings_its_endpoint_and_grant(cap, mode: str) -> None:
    run = cap("dev", mode, execKms=True)
    assert "kms" in {e.name.removeprefix("endpoints-") for e in run.of_type(graph.ENDPOINT)}
    key = run.named("aws:kms/key:Key", "bastion-exec")
    assert key.inputs["enableKeyRotation"] is True
    (cluster,) = run.of_type("aws:ecs/cluster:Cluster")
    assert key.urn in cluster.property_dependencies["configuration"]
    task_policy = policy_document(run, "bastion-task")
    (decrypt,) = [s for s in task_policy["Statement"] if s["Sid"] == "DecryptExecChannel"]
    assert decrypt["Action"] == ["kms:Decrypt"]
    alias = "alias/airgap-dev-bastion-exec"
    assert decrypt["Condition"] == {"ForAnyValue:StringEquals": {"kms:ResourceAliases": alias}}
    assert {g.property_dependencies["kmsKeyId"][0] for g in run.of_type("aws:cloudwatch/logGroup:LogGroup")
            if g.name.startswith("bastion")} == {key.urn}


def test_a_custom_private_ecr_image_is_used_as_it_is(cap, mode: str) -> None:
    image = "123456789012.dkr.ecr.ap-northeast-1.amazonaws.com/tools/bastion:1.4"
    run = cap("dev", mode, bastionImage=image)
    assert not run.of_type("aws:ecr/repository:Repository")
    assert "bastionImageFill" not in run.exports
    (container,) = json.loads(run.named(TASK, "bastion").inputs["containerDefinitions"])
    assert container["image"] == image
    execution = policy_document(run, "bastion-execution")
    (pull,) = [s for s in execution["Statement"] if s["Sid"] == "PullImage"]
    assert pull["Resource"] == ["arn:aws:ecr:ap-northeast-1:123456789012:repository/tools/bastion"]
    assert "ecr:CreateRepository" not in actions(execution)


# --- bastion modes and the endpoints that follow them -------------------------------------------------------------

# The host's shells always bring kms and logs (the stack's session key and log group).
@pytest.mark.parametrize(("bastion", "endpoints"), [
    ("off", {"ssm", "ssmmessages", "logs", "kms", "s3"}),
    ("parked", {"ssm", "ssmmessages", "ecr-api", "ecr-dkr", "logs", "kms", "s3"}),
    ("on", {"ssm", "ssmmessages", "ecr-api", "ecr-dkr", "logs", "kms", "s3"}),
])
def test_endpoints_follow_the_bastion_mode(cap, mode: str, bastion: str, endpoints: set[str]) -> None:
    run = cap("dev", mode, bastion=bastion, database=False)
    assert {e.name.removeprefix("endpoints-") for e in run.of_type(graph.ENDPOINT)} == endpoints
    assert bool(run.of_type(SERVICE)) is (bastion != "off")
    assert bool([r for r in run if r.type == "airgap:compute:FargateBastion"]) is (bastion != "off")


def test_ec2messages_is_added_only_when_asked(cap) -> None:
    def endpoints(**config: object) -> set[str]:
        return {e.name.removeprefix("endpoints-") for e in cap("dev", "preview", **config).of_type(graph.ENDPOINT)}

    assert "ec2messages" not in endpoints()
    assert "ec2messages" in endpoints(includeEc2Messages=True)


def test_outputs_give_the_exact_session_commands(cap) -> None:
    run = cap("dev", "update")
    commands = run.exports["bastionCommands"]
    cluster = run.exports["bastionCluster"]
    assert f"--target ecs:{cluster}_<taskId>_<runtimeId>" in commands["portForward"]
    assert "--document-name AWS-StartPortForwardingSessionToRemoteHost" in commands["portForward"]
    assert "runtimeId" in commands["findRuntimeId"] and "list-tasks" in commands["findTask"]
    ip = run.named(INSTANCE, "ssm-host").state["privateIp"]
    assert f'"host":["{ip}"],"portNumber":["8080"],"localPortNumber":["8080"]' in run.exports["bastionForwardToSsmHost"]
    assert run.exports["ssmHostSession"].endswith(
        f"--target {run.exports['ssmHostInstanceId']} --document-name {run.exports['sessionDocument']}")


def test_resource_count_per_bastion_mode(cap) -> None:
    counts = {m: sum(r.custom for r in cap("dev", "preview", bastion=m, database=False))
              for m in ("off", "parked", "on")}
    # parked and on differ only in desired count; off drops the bastion and its three endpoints.
    assert counts["parked"] == counts["on"]
    assert counts["off"] < counts["parked"]


# --- first boot in order ---------------------------------------------------------------------------------------

def _after(run: Capture, resource, *needed) -> set[str]:
    """The needed resources' names that `resource` is NOT created after (empty: it waits for all of them)."""
    return {f"{n.type.rsplit(':', 1)[-1]} {n.name}" for n in needed if n.urn not in resource.dependencies}


def test_the_host_boots_after_its_endpoints_rules_share_and_grants(stack: Capture) -> None:
    """An agent started before its endpoints and 443 rules has nothing to register with; a mount before the mount
    targets, the 2049 rules and the file-system policy fails."""
    host = stack.named(INSTANCE, "ssm-host")
    rules = [r for r in stack.of_type(graph.EGRESS) + stack.of_type(graph.INGRESS)
             if r.name.startswith("ssm-host-") or r.name.endswith("-from-ssm-host")]
    assert {r.name for r in rules} >= {
        "ssm-host-sends-tcp443-to-endpoints", "ssm-host-sends-tcp443-to-s3-prefix-list",
        "endpoints-allows-tcp443-from-ssm-host", "file-share-allows-tcp2049-from-ssm-host",
        "ssm-host-sends-tcp2049-to-file-share"}
    needed = [*stack.of_type(graph.ENDPOINT), *[r for r in rules if "tcp8080" not in r.name],
              *stack.of_type("aws:efs/mountTarget:MountTarget"),
              *stack.of_type("aws:efs/fileSystemPolicy:FileSystemPolicy"),
              stack.named("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "ssm-host-core")]
    assert _after(stack, host, *needed) == set()


def test_the_bastion_service_starts_after_its_endpoints_and_rules(cap, mode: str) -> None:
    run = cap("dev", mode)
    service = run.named(SERVICE, "bastion")
    rules = [r for r in run.of_type(graph.EGRESS) if r.name.startswith("bastion-sends-tcp443")]
    rules += [run.named(graph.INGRESS, "endpoints-allows-tcp443-from-bastion")]
    assert len(rules) == 3
    assert _after(run, service, *run.of_type(graph.ENDPOINT), *rules) == set()
