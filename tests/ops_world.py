"""The ops tests' world: moto's ECS and ECR with what moto does not model, a fake `aws` CLI on PATH, and the
dev stack's outputs. conftest.py makes its fixtures available to every test."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from fake_ops import FakeSessions
from moto import mock_aws

from ops.bastion import ForwardOptions, forward
from ops.outputs import Stack, read_stack

REGION = "ap-northeast-1"
ACCOUNT = "123456789012"  # moto's account
CLUSTER, SERVICE = "airgap-dev-bastion", "airgap-dev-bastion"
REPOSITORY = "airgap-dev/bastion"
IMAGE = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/{REPOSITORY}:2023"
OUTPUTS = {"region": REGION, "bastionCluster": CLUSTER, "bastionService": SERVICE,
           "ssmHostPrivateIp": "10.40.0.25", "bastionForwardPorts": [8080],
           "bastionTargets": [{"name": "ssm-host", "address": "10.40.0.25", "ports": [8080]}],
           "bastionImage": IMAGE, "bastionImageSource": "public.ecr.aws/amazonlinux/amazonlinux:2023",
           "bastionImagePlatform": "linux/arm64"}


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
        # What `pulumi up` creates, with the image already filled (tests of the fill empty it again).
        ecr = session.client("ecr")
        ecr.create_repository(repositoryName=REPOSITORY, imageTagMutability="IMMUTABLE")
        ecr.put_image(repositoryName=REPOSITORY, imageTag="2023", imageManifest=json.dumps(
            {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
             "config": {"digest": "sha256:" + "0" * 64, "size": 2}, "layers": []}))
        yield session, fake
        state_manager.unset_transition(model_name="ecs::task")


@pytest.fixture
def tools(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fake `aws` and `session-manager-plugin` on PATH; `aws` records its arguments."""
    record = tmp_path / "aws-args.json"
    fake_cli(tmp_path, monkeypatch, "#!/usr/bin/env python3\nimport json, sys\n"
             f"json.dump(sys.argv[1:], open({str(record)!r}, 'w'))\nsys.exit(0)\n")
    return record


def fake_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, aws: str) -> None:
    """`aws` (the given script) and a `session-manager-plugin` that does nothing, first on PATH."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    for name, body in (("aws", aws), ("session-manager-plugin", "#!/bin/sh\nexit 0\n")):
        (bin_dir / name).write_text(body)
        (bin_dir / name).chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")


def desired(fake: Ecs) -> int:
    return fake.client.describe_services(cluster=CLUSTER, services=[SERVICE])["services"][0]["desiredCount"]


STACK = read_stack("dev", OUTPUTS)


def go(session: boto3.Session, park_after: bool = False, timeout: float = 1, stack: Stack = STACK,
       sessions: FakeSessions | None = None, said: list[str] | None = None, **kw: Any) -> int:
    options = ForwardOptions(timeout=timeout, poll=0.01, park_after=park_after, **kw)
    return forward(stack, session, options, say=said.append if said is not None else lambda _: None,
                   port_free=lambda _: True, sessions=sessions or FakeSessions())


def quiet(_: str) -> None:
    pass
