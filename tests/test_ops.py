"""`python -m ops`: the port-forwarding CLI, against moto's ECS and STS, and at the process boundary for `aws ssm`.

moto keeps the real state (cluster, service, desired count, tasks). It does not model three things ECS does, so the
tests add them with botocore event hooks, and only them: the scheduler starting a task when the desired count rises,
a container's runtimeId and ExecuteCommandAgent status, and describe-services' enableExecuteCommand field.
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from ops import __main__ as cli
from ops.bastion import OpsError, Stack, forward, load_outputs, park, read_stack

REGION = "ap-northeast-1"
CLUSTER, SERVICE = "airgap-dev-bastion", "bastion-1234567"
OUTPUTS = {"region": REGION, "bastionCluster": CLUSTER, "bastionService": SERVICE,
           "ssmHostPrivateIp": "10.40.0.25", "bastionForwardPorts": [8080]}


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                       "AWS_SESSION_TOKEN": "testing", "AWS_DEFAULT_REGION": REGION}.items():
        monkeypatch.setenv(key, value)


class Ecs:
    """What moto does not do: start a task when the service asks for one; report the exec agent."""

    def __init__(self, session: boto3.Session) -> None:
        self.agent = "RUNNING"
        self.exec_enabled: bool | None = True
        self.start_tasks = True
        self.stop_reason: str | None = None
        self.client = session.client("ecs")
        ec2 = session.client("ec2")
        vpc = ec2.create_vpc(CidrBlock="10.40.0.0/16")["Vpc"]["VpcId"]
        self.subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.40.0.0/24")["Subnet"]["SubnetId"]
        self.group = ec2.create_security_group(GroupName="bastion", Description="bastion", VpcId=vpc)["GroupId"]

        events = session._session  # the botocore session every client of this boto3 session shares
        events.register("after-call.ecs.UpdateService", self._schedule)
        events.register("after-call.ecs.DescribeTasks", self._agents)
        events.register("after-call.ecs.DescribeServices", self._exec_flag)

    def _schedule(self, parsed: dict[str, Any], **_: Any) -> None:
        if parsed["service"]["desiredCount"] >= 1 and self.start_tasks:
            self.client.run_task(cluster=CLUSTER, taskDefinition="airgap-dev-bastion", launchType="FARGATE",
                                 startedBy="ecs-svc/1", networkConfiguration={"awsvpcConfiguration": {
                                     "subnets": [self.subnet], "securityGroups": [self.group]}})
            if self.stop_reason:
                for arn in self.client.list_tasks(cluster=CLUSTER)["taskArns"]:
                    self.client.stop_task(cluster=CLUSTER, task=arn, reason=self.stop_reason)

    def _agents(self, parsed: dict[str, Any], **_: Any) -> None:
        for task in parsed.get("tasks", []):
            for container in task.get("containers", []):
                container["runtimeId"] = f"{task['taskArn'].rsplit('/', 1)[-1]}-3402393958"
                container["managedAgents"] = [{"name": "ExecuteCommandAgent", "lastStatus": self.agent}]

    def _exec_flag(self, parsed: dict[str, Any], **_: Any) -> None:
        for service in parsed.get("services", []):
            service["enableExecuteCommand"] = self.exec_enabled


@pytest.fixture
def moto_eni_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    """moto 5.2.5 cannot start an awsvpc Fargate task: its ENI lacks the private_dns_name the task attachment reads.
    Supply that one attribute (test-only; remove when moto fixes it)."""
    from moto.ec2.models.elastic_network_interfaces import NetworkInterface

    if not hasattr(NetworkInterface, "private_dns_name"):
        monkeypatch.setattr(NetworkInterface, "private_dns_name",
                            property(lambda eni: f"ip-{eni.private_ip_address.replace('.', '-')}.internal"),
                            raising=False)


@pytest.fixture
def ecs(aws_env: None, moto_eni_fix: None) -> Iterator[tuple[boto3.Session, Ecs]]:
    from moto.moto_api import state_manager

    with mock_aws():
        # moto advances a task's status on every read by default; a real task stays RUNNING until stopped.
        state_manager.set_transition(model_name="ecs::task", transition={"progression": "manual", "times": 10**6})
        session = boto3.Session(region_name=REGION)
        fake = Ecs(session)
        fake.client.create_cluster(clusterName=CLUSTER)
        fake.client.register_task_definition(
            family="airgap-dev-bastion", requiresCompatibilities=["FARGATE"], networkMode="awsvpc", cpu="256",
            memory="512",
            containerDefinitions=[{"name": "bastion", "image": "x", "memory": 512, "command": ["sleep", "infinity"]}])
        fake.client.create_service(cluster=CLUSTER, serviceName=SERVICE, taskDefinition="airgap-dev-bastion",
                                   desiredCount=0, launchType="FARGATE", enableExecuteCommand=True)
        yield session, fake
        state_manager.unset_transition(model_name="ecs::task")


@pytest.fixture
def tools(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fake `aws` and `session-manager-plugin` on PATH; `aws` records its arguments."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    record = tmp_path / "aws-args.json"
    script = bin_dir / "aws"
    script.write_text(f"#!/usr/bin/env python3\nimport json, sys\njson.dump(sys.argv[1:], open({str(record)!r}, 'w'))\n"
                      "sys.exit(0)\n")
    plugin = bin_dir / "session-manager-plugin"
    plugin.write_text("#!/bin/sh\nexit 0\n")
    for f in (script, plugin):
        f.chmod(f.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    return record


def desired(fake: Ecs) -> int:
    return fake.client.describe_services(cluster=CLUSTER, services=[SERVICE])["services"][0]["desiredCount"]


STACK = read_stack("dev", OUTPUTS)


def go(session: boto3.Session, park_after: bool = False, timeout: float = 1) -> int:
    return forward(STACK, session, host=None, port=None, local_port=None, timeout=timeout, poll=0.01,
                   park_after=park_after, say=lambda _: None)


def test_forward_unparks_waits_and_starts_the_port_forwarding_session(ecs, tools: Path) -> None:
    session, fake = ecs
    assert go(session) == 0
    assert desired(fake) == 1
    args = json.loads(tools.read_text())
    (task_arn,) = fake.client.list_tasks(cluster=CLUSTER)["taskArns"]
    task_id = task_arn.rsplit("/", 1)[-1]
    assert args[:6] == ["ssm", "start-session", "--region", REGION, "--target",
                        f"ecs:{CLUSTER}_{task_id}_{task_id}-3402393958"]
    assert args[6:8] == ["--document-name", "AWS-StartPortForwardingSessionToRemoteHost"]
    assert json.loads(args[9]) == {"host": ["10.40.0.25"], "portNumber": ["8080"], "localPortNumber": ["8080"]}


def test_park_after_returns_the_service_to_zero(ecs, tools: Path) -> None:
    session, fake = ecs
    go(session, park_after=True)
    assert desired(fake) == 0


def test_park_sets_the_desired_count_to_zero(ecs) -> None:
    session, fake = ecs
    fake.client.update_service(cluster=CLUSTER, service=SERVICE, desiredCount=1)
    park(STACK, session, say=lambda _: None)
    assert desired(fake) == 0


def test_an_agent_that_never_starts_names_the_likely_causes(ecs, tools: Path) -> None:
    session, fake = ecs
    fake.agent = "PENDING"
    with pytest.raises(OpsError, match=r"ssmmessages endpoint is missing.*task role lacks ssmmessages"):
        go(session, timeout=0.05)
    assert not tools.exists()


def test_a_task_that_cannot_pull_its_image_points_at_the_ecr_endpoints(ecs, tools: Path) -> None:
    session, fake = ecs
    fake.stop_reason = "CannotPullContainerError: pull image manifest has been retried 5 time(s)"
    with pytest.raises(OpsError, match=r"ecr\.api, ecr\.dkr or logs endpoints are missing"):
        go(session, timeout=0.05)


def test_a_service_that_never_starts_a_task_says_where_to_look(ecs, tools: Path) -> None:
    session, fake = ecs
    fake.start_tasks = False
    with pytest.raises(OpsError, match=r"no task reached RUNNING.*describe-services"):
        go(session, timeout=0.05)


def test_exec_disabled_is_reported_before_anything_is_unparked(ecs, tools: Path) -> None:
    session, fake = ecs
    fake.exec_enabled = False
    with pytest.raises(OpsError, match=r"ECS Exec is disabled.*TargetNotConnected"):
        go(session)
    assert desired(fake) == 0


def test_missing_session_manager_plugin_is_reported_before_anything_costs_money(ecs, tools: Path) -> None:
    session, fake = ecs
    (tools.parent / "bin" / "session-manager-plugin").unlink()
    with pytest.raises(OpsError, match=r"Session Manager plugin for the AWS CLI is not installed"):
        forward(STACK, session, host=None, port=None, local_port=None, timeout=1, poll=0.01, park_after=False,
                say=lambda _: None, which=lambda name: None if name == "session-manager-plugin" else "/bin/" + name)
    assert desired(fake) == 0


def test_no_credentials_is_one_clear_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, tools: Path) -> None:
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
                "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
                "AWS_WEB_IDENTITY_TOKEN_FILE"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")  # never ask an instance metadata service
    with pytest.raises(OpsError, match=r"no AWS credentials"):
        go(boto3.Session(region_name=REGION))


def test_missing_stack_output_names_the_output_and_the_fix() -> None:
    with pytest.raises(OpsError, match=r"'bastionCluster', 'bastionService' missing from stack 'dev'.*airgap:bastion"):
        read_stack("dev", {"region": REGION})


def test_outputs_come_from_the_pulumi_cli_or_a_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    saved = tmp_path / "outputs.json"
    saved.write_text(json.dumps(OUTPUTS))
    assert load_outputs("dev", saved) == OUTPUTS

    class Done:
        returncode, stdout, stderr = 0, json.dumps(OUTPUTS), ""

    calls = []
    assert load_outputs("dev", None, run=lambda cmd, **kw: calls.append(cmd) or Done()) == OUTPUTS
    assert calls == [["pulumi", "stack", "output", "--json", "--stack", "dev"]]

    def missing(*_: object, **__: object) -> None:
        raise FileNotFoundError

    with pytest.raises(OpsError, match=r"pulumi CLI is not installed.*--outputs"):
        load_outputs("dev", None, run=missing)


def test_the_command_line_reports_errors_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    saved = tmp_path / "outputs.json"
    saved.write_text(json.dumps({"region": REGION}))
    assert cli.main(["park", "--stack", "dev", "--outputs", str(saved)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("airgap: stack output") and "Traceback" not in err


def test_stack_outputs_the_program_exports_are_what_the_cli_reads(cap) -> None:
    exports = cap("dev", "update").exports
    stack = read_stack("dev", exports)
    assert all(type(p) is int for p in stack.ports)  # str(port) goes into the session parameters
    assert stack == Stack("dev", REGION, exports["bastionCluster"], exports["bastionService"],
                          exports["ssmHostPrivateIp"], (8080,))
