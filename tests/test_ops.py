"""`python -m ops`: the port-forwarding CLI, against moto's ECS, ECR and STS, at the process boundary for `aws ssm`,
and against a registry on 127.0.0.1 for the image copy.

moto keeps the real state (cluster, service, desired count, tasks, repositories, layers). It does not model three
things ECS does, so the tests add them with botocore event hooks, and only them: the scheduler starting a task when
the desired count rises, a container's runtimeId and ExecuteCommandAgent status, and describe-services'
enableExecuteCommand field.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests
from fake_ops import COLLEAGUE, FakeSessions
from moto import mock_aws

from ops import __main__ as cli
from ops.bastion import ForwardOptions, forward, park
from ops.errors import OpsError
from ops.outputs import DatabaseInfo, Stack, Target, load_outputs, read_stack

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


def test_forward_unparks_waits_and_starts_the_port_forwarding_session(ecs, tools: Path) -> None:
    session, fake = ecs
    assert go(session) == 0
    assert fake.client.list_tasks(cluster=CLUSTER)["taskArns"]  # unparked for the session
    assert desired(fake) == 0  # and parked again: airgap:bastion says parked
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
    park(STACK, session, say=lambda _: None, sessions=FakeSessions())
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
        forward(STACK, session, ForwardOptions(timeout=1, poll=0.01), say=lambda _: None, port_free=lambda _: True,
                which=lambda name: None if name == "session-manager-plugin" else "/bin/" + name)
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
    endpoint = exports["databaseEndpoint"]
    assert stack == Stack("dev", REGION, exports["bastionCluster"], exports["bastionService"],
                          (Target("ssm-host", exports["ssmHostPrivateIp"], (8080,)),
                           Target("database", endpoint, (5432,))),
                          exports["bastionImage"], "public.ecr.aws/amazonlinux/amazonlinux:2023", "linux/arm64",
                          "parked", DatabaseInfo(endpoint, 5432, "app", "airgap_admin", exports["databaseSecretArn"]))
    assert exports["databaseSecretArn"].startswith("arn:aws:secretsmanager:ap-northeast-1:123456789012:secret:rds!")
    assert all(type(p) is int for t in stack.targets for p in t.ports)  # str(port) goes into the parameters


# --- the bastion's image: copied in from outside the VPC, never pulled by the task from the internet -------------

from fake_registry import FakeRegistry, digest_of  # noqa: E402

from airgap.image_reference import Reference  # noqa: E402
from ops.image import ImageError, TargetRepository, copy_image  # noqa: E402

MiB = 1024 * 1024
SIZES = {"linux/arm64": [12 * MiB + 321, 4096], "linux/amd64": [3 * MiB, 100]}


@pytest.fixture
def registry() -> Iterator[FakeRegistry]:
    fake = FakeRegistry()
    server = fake.start()
    yield fake
    server.shutdown()


@pytest.fixture
def ecr_parts(ecs) -> list[tuple[str, int, int, int]]:
    """Every UploadLayerPart as (uploadId, first, last, len(blob)), to hold the copy to ECR's part-size rules."""
    session, _ = ecs
    parts: list[tuple[str, int, int, int]] = []

    def record(params: dict[str, Any], **_: Any) -> None:
        parts.append((params["uploadId"], params["partFirstByte"], params["partLastByte"],
                      len(params["layerPartBlob"])))

    session._session.register("provide-client-params.ecr.UploadLayerPart", record)
    return parts


def empty_repository(session: boto3.Session) -> TargetRepository:
    ecr = session.client("ecr")
    ecr.batch_delete_image(repositoryName=REPOSITORY, imageIds=[{"imageTag": "2023"}])
    return TargetRepository(ecr, REPOSITORY, ACCOUNT)


def quiet(_: str) -> None:
    pass


def test_the_copy_puts_exactly_the_arm64_image_into_the_stacks_repository(ecs, registry: FakeRegistry,
                                                                          ecr_parts: list) -> None:
    session, _ = ecs
    platforms = registry.add_image("amazonlinux/amazonlinux", "2023", SIZES)
    target = empty_repository(session)
    done = copy_image(Reference.parse(f"{registry.address}/amazonlinux/amazonlinux:2023"), target,
                      requests.Session(), platform="linux/arm64", say=quiet)
    arm = platforms["linux/arm64"]
    assert done.digest == arm.digest and done.copied_blobs == 3 and not done.already_there
    ecr = session.client("ecr")
    (stored,) = ecr.batch_get_image(repositoryName=REPOSITORY, imageIds=[{"imageTag": "2023"}])["images"]
    # Byte for byte: what ECR holds hashes to the digest the registry published.
    assert digest_of(stored["imageManifest"].encode()) == arm.digest
    assert stored["imageId"]["imageDigest"] == arm.digest
    layers = ecr.batch_check_layer_availability(repositoryName=REPOSITORY, layerDigests=[
        *arm.blobs, *platforms["linux/amd64"].blobs])
    assert {x["layerDigest"] for x in layers["layers"]} == set(arm.blobs)  # config included, amd64 left out
    # The anonymous token was asked for this repository's pull scope, and never sent to the blob host.
    assert registry.token_requests[0] == {"service": "fake.registry",
                                          "scope": "repository:amazonlinux/amazonlinux:pull"}
    assert registry.storage_authorization and set(registry.storage_authorization) == {None}
    # ECR's part rules: at most 20 MiB a part, every part but an upload's last at least 5 MB, contiguous.
    by_upload: dict[str, list[tuple[int, int, int]]] = {}
    for upload, first, last, size in ecr_parts:
        by_upload.setdefault(upload, []).append((first, last, size))
    assert max(len(p) for p in by_upload.values()) == 2  # the 12 MiB layer went up in two parts
    for uploaded in by_upload.values():
        assert all(size <= 20_971_520 and last - first + 1 == size for first, last, size in uploaded)
        assert all(size >= 5_000_000 for _, _, size in uploaded[:-1])
        assert [first for first, _, _ in uploaded] == [0, *[last + 1 for _, last, _ in uploaded[:-1]]]


def test_a_second_copy_pushes_nothing(ecs, registry: FakeRegistry, ecr_parts: list) -> None:
    session, _ = ecs
    registry.add_image("amazonlinux/amazonlinux", "2023", SIZES)
    target = empty_repository(session)
    source = Reference.parse(f"{registry.address}/amazonlinux/amazonlinux:2023")
    first = copy_image(source, target, requests.Session(), platform="linux/arm64", say=quiet)
    uploads = len(ecr_parts)
    again = copy_image(source, target, requests.Session(), platform="linux/arm64", say=quiet)
    assert again.already_there and again.digest == first.digest and len(ecr_parts) == uploads


def test_a_digest_pinned_source_is_checked_against_what_the_registry_sends(ecs, registry: FakeRegistry) -> None:
    session, _ = ecs
    registry.add_image("amazonlinux/amazonlinux", "2023", SIZES)
    target = empty_repository(session)
    wrong = "sha256:" + "1" * 64
    registry.manifests[("amazonlinux/amazonlinux", wrong)] = registry.manifests[("amazonlinux/amazonlinux", "2023")]
    with pytest.raises(ImageError, match="digest is sha256:"):
        copy_image(Reference.parse(f"{registry.address}/amazonlinux/amazonlinux@{wrong}"), target, requests.Session(),
                   platform="linux/arm64", say=quiet)
    assert target.tagged(f"sha256-{'1' * 64}") is None


def test_a_blob_that_arrives_corrupted_stops_the_copy_before_anything_is_tagged(ecs, registry: FakeRegistry) -> None:
    session, _ = ecs
    arm = registry.add_image("amazonlinux/amazonlinux", "2023", SIZES)["linux/arm64"]
    registry.corrupt.add(next(d for d, b in arm.blobs.items() if len(b) > MiB))
    target = empty_repository(session)
    with pytest.raises(ImageError, match="arrived corrupted"):
        copy_image(Reference.parse(f"{registry.address}/amazonlinux/amazonlinux:2023"), target, requests.Session(),
                   platform="linux/arm64", say=quiet)
    assert target.tagged("2023") is None


def test_a_platform_the_image_lacks_is_named(ecs, registry: FakeRegistry) -> None:
    session, _ = ecs
    registry.add_image("tools/only-amd64", "1", {"linux/amd64": [100]})
    with pytest.raises(ImageError, match=r"no linux/arm64 variant \(it offers linux/amd64\)"):
        copy_image(Reference.parse(f"{registry.address}/tools/only-amd64:1"), empty_repository(session),
                   requests.Session(), platform="linux/arm64", say=quiet)


def test_an_empty_blob_is_refused_before_ecr_is_asked(ecs, tmp_path: Path) -> None:
    session, _ = ecs
    empty = tmp_path / "empty"
    empty.write_bytes(b"")
    with pytest.raises(ImageError, match="is empty, and ECR accepts no empty layer upload"):
        empty_repository(session).upload(digest_of(b""), empty)


def with_source(registry: FakeRegistry) -> Stack:
    registry.add_image("amazonlinux/amazonlinux", "2023", SIZES)
    return read_stack("dev", {**OUTPUTS, "bastionImageSource": f"{registry.address}/amazonlinux/amazonlinux:2023"})


def test_forward_fills_a_missing_image_before_it_unparks(ecs, tools: Path, registry: FakeRegistry) -> None:
    session, _ = ecs
    stack = with_source(registry)
    target = empty_repository(session)
    present_at_unpark = []
    session._session.register("before-call.ecs.UpdateService",
                              lambda **_: present_at_unpark.append(target.tagged("2023")))
    assert go(session, stack=stack) == 0
    assert present_at_unpark and present_at_unpark[0] is not None


def test_forward_with_no_fill_names_the_command_and_leaves_the_service_parked(ecs, tools: Path,
                                                                             registry: FakeRegistry) -> None:
    session, fake = ecs
    stack = with_source(registry)
    empty_repository(session)
    with pytest.raises(OpsError, match=r"not in airgap-dev/bastion yet.*`python3 dev.py bastion image --stack dev`"):
        go(session, stack=stack, fill_image=False)
    assert desired(fake) == 0 and not tools.exists()


def test_a_missing_custom_image_is_reported_and_nothing_is_unparked(ecs, tools: Path) -> None:
    session, fake = ecs
    empty_repository(session)
    stack = read_stack("dev", {**OUTPUTS, "bastionImageSource": ""})
    with pytest.raises(OpsError, match=r"not in its registry.*airgap:bastionImage"):
        go(session, stack=stack)
    assert desired(fake) == 0


def test_the_image_command_copies_and_reports(ecs, registry: FakeRegistry, tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    session, _ = ecs
    empty_repository(session)
    saved = tmp_path / "outputs.json"
    saved.write_text(json.dumps({**OUTPUTS, "bastionImageSource": f"{registry.address}/amazonlinux/amazonlinux:2023"}))
    registry.add_image("amazonlinux/amazonlinux", "2023", SIZES)
    assert cli.main(["image", "--stack", "dev", "--outputs", str(saved)]) == 0
    assert f"{IMAGE} is in place" in capsys.readouterr().out


# --- the operator CLI refuses what cannot work, before anything costs money ------------------------------------

class Untouchable:
    """A boto3 session that fails the test if anything asks AWS."""

    def client(self, name: str) -> Any:
        raise AssertionError(f"AWS ({name}) was called before the arguments were checked")


@pytest.mark.parametrize(("options", "message"), [
    ({"host": "8.8.8.8"}, r"--to 8\.8\.8\.8: not something the bastion may forward to; its security group may "
                          r"reach only ssm-host \(10\.40\.0\.25\) on 8080"),
    ({"port": 22}, r"--port 22: the bastion may reach ssm-host only on 8080 .*22 and 3389 are never allowed"),
    ({"port": 3389}, r"--port 3389"),
    ({"host": "ssm-host", "port": 5432}, r"--port 5432"),
    ({"local_port": 0}, r"--local-port 0: expected a TCP port from 1 to 65535"),
])
def test_a_route_the_bastion_cannot_take_is_refused_before_aws_is_asked(options: dict, message: str) -> None:
    with pytest.raises(OpsError, match=message):
        forward(STACK, Untouchable(), ForwardOptions(**options), say=quiet, port_free=lambda _: True)  # type: ignore


def test_a_busy_local_port_is_refused_before_aws_is_asked() -> None:
    with pytest.raises(OpsError, match=r"--local-port 8080: something on this machine already listens"):
        forward(STACK, Untouchable(), ForwardOptions(), say=quiet, port_free=lambda port: port != 8080)  # type: ignore


def test_no_forwarding_target_says_how_to_configure_one() -> None:
    stack = read_stack("dev", {**OUTPUTS, "bastionTargets": []})
    with pytest.raises(OpsError, match=r"bastionForwardPorts\[0\]' 8080"):
        forward(stack, Untouchable(), ForwardOptions(), say=quiet, port_free=lambda _: True)  # type: ignore


def test_a_real_busy_port_is_detected() -> None:
    import socket

    from ops.bastion import local_port_free

    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        assert local_port_free(held.getsockname()[1]) is False


@pytest.mark.parametrize("argv", [["--port", "70000"], ["--port", "http"], ["--local-port", "-1"]])
def test_out_of_range_ports_stop_at_the_command_line(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        cli.main(["forward", *argv])
    assert exit_.value.code == 2
    assert "is not a port number (1-65535)" in capsys.readouterr().err


def test_profile_reaches_the_session_command_too(ecs, tools: Path) -> None:
    session, _ = ecs
    assert go(session, profile="ops-admin") == 0
    args = json.loads(tools.read_text())
    assert args[args.index("--profile") + 1] == "ops-admin"
    assert args.index("--profile") < args.index("--target")


def run_cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = cli.main(argv)
    return code, capsys.readouterr().err


def test_an_unknown_profile_is_one_line_and_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    saved = tmp_path / "outputs.json"
    saved.write_text(json.dumps(OUTPUTS))
    code, err = run_cli(["park", "--outputs", str(saved), "--profile", "nosuch"], capsys)
    assert code == 2 and err.count("\n") == 1 and "--profile nosuch: no such profile" in err


@pytest.mark.parametrize("text", ["{not json", "[1, 2]", ""])
def test_malformed_outputs_are_one_line_and_exit_2(text: str, tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    saved = tmp_path / "outputs.json"
    saved.write_text(text)
    code, err = run_cli(["forward", "--outputs", str(saved)], capsys)
    assert code == 2 and err.count("\n") == 1 and "are not" in err and "Traceback" not in err


def test_a_pulumi_reply_that_is_not_json_is_one_clear_error() -> None:
    class Done:
        returncode, stdout, stderr = 0, "warning: A new version of Pulumi is available\n{}", ""

    with pytest.raises(OpsError, match=r"are not JSON .*no banner or plugin messages on stdout"):
        load_outputs("dev", None, run=lambda *a, **k: Done())


# --- TargetNotConnected right after the agent reports RUNNING: retried, for a while --------------------------------

@pytest.fixture
def flaky_aws(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[[int], Path]:
    """A fake `aws` that answers TargetNotConnected the first `n` times, as Session Manager does while a just-started
    agent registers its channel, then starts the session."""

    def make(n: int) -> Path:
        calls = tmp_path / "calls"
        fake_cli(tmp_path, monkeypatch,
            "#!/usr/bin/env python3\nimport sys, pathlib\n"
            f"p = pathlib.Path({str(calls)!r}); n = int(p.read_text()) if p.exists() else 0; p.write_text(str(n + 1))\n"
            f"if n < {n}:\n"
            "    target = sys.argv[sys.argv.index('--target') + 1]\n"
            "    sys.stderr.write('\\nAn error occurred (TargetNotConnected) when calling the StartSession '\n"
            "                     f'operation: {target} is not connected.\\n')\n"
            "    sys.exit(254)\n"
            "print('Starting session with SessionId: ops-0123'); sys.exit(0)\n")
        return calls

    return make


def test_target_not_connected_is_retried_until_the_agent_registers(ecs, flaky_aws, monkeypatch) -> None:
    session, _ = ecs
    calls = flaky_aws(2)
    monkeypatch.setattr("ops.bastion.CONNECT_RETRY_PAUSE", 0.01)
    assert go(session) == 0
    assert calls.read_text() == "3"


def test_target_not_connected_for_too_long_names_the_causes(flaky_aws) -> None:
    from ops.bastion import CONNECT_RETRY_SECONDS, start_session

    calls = flaky_aws(10**6)
    ticks = iter(range(0, 1000, 10))

    def clock() -> float:  # each attempt takes 10 s of the retry window
        return float(next(ticks))

    with pytest.raises(OpsError, match=r"still answers TargetNotConnected 90 s after .*ssmmessages"):
        start_session(["aws", "ssm", "start-session", "--target", "ecs:c_t_r"], clock=clock, sleep=lambda _: None,
                      say=quiet)
    assert CONNECT_RETRY_SECONDS == 90  # long enough for a cold agent
    assert calls.read_text() == "9"  # attempts at 0, 10, ... 80 s; at 90 s it gives up


def test_forward_parks_after_giving_up_on_a_target_that_never_connects(ecs, flaky_aws, monkeypatch) -> None:
    session, fake = ecs
    flaky_aws(10**6)
    monkeypatch.setattr("ops.bastion.CONNECT_RETRY_SECONDS", 0)
    with pytest.raises(OpsError, match="still answers TargetNotConnected"):
        go(session, park_after=True)
    assert desired(fake) == 0


def test_other_session_errors_are_not_retried(ecs, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    session, _ = ecs
    fake_cli(tmp_path, monkeypatch, "#!/bin/sh\necho 'An error occurred (AccessDeniedException)' >&2\nexit 254\n")
    assert go(session) == 254


# --- --park-after: desired count 0 at the end, in every starting state and however the session ends ------------

@pytest.mark.parametrize("start", [0, 1])
def test_park_after_parks_whatever_the_starting_count(ecs, tools: Path, start: int) -> None:
    session, fake = ecs
    # A client made after the fake's hooks, so that the fake scheduler starts the task as ECS would.
    session.client("ecs").update_service(cluster=CLUSTER, service=SERVICE, desiredCount=start)
    assert go(session, park_after=True) == 0
    assert desired(fake) == 0


def test_park_after_parks_when_the_task_never_gets_ready(ecs, tools: Path) -> None:
    session, fake = ecs
    fake.agent = "PENDING"
    with pytest.raises(OpsError):
        go(session, park_after=True, timeout=0.05)
    assert desired(fake) == 0


def test_park_after_parks_on_ctrl_c_during_the_session(ecs, tools: Path) -> None:
    session, fake = ecs

    def interrupted(*_: Any, **__: Any) -> Any:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        forward(STACK, session, ForwardOptions(poll=0.01, timeout=1, park_after=True), say=quiet,
                port_free=lambda _: True, popen=interrupted, sessions=FakeSessions())
    assert desired(fake) == 0


def test_stay_awake_keeps_the_bastion_unparked_and_says_it_keeps_billing(ecs, tools: Path) -> None:
    session, fake = ecs
    said: list[str] = []
    go(session, said=said, keep_unparked=True)
    assert desired(fake) == 1
    assert "stays unparked" in said[-1] and "dev.py bastion park --stack dev" in said[-1]


def test_an_on_bastion_stays_on_after_a_session_unless_park_after(ecs, tools: Path) -> None:
    session, fake = ecs
    on = read_stack("dev", {**OUTPUTS, "bastionMode": "on"})
    session.client("ecs").update_service(cluster=CLUSTER, service=SERVICE, desiredCount=1)
    go(session, stack=on)
    assert desired(fake) == 1
    go(session, stack=on, park_after=True)
    assert desired(fake) == 0


def test_a_colleagues_session_keeps_the_bastion_unparked_and_names_them(ecs, tools: Path) -> None:
    """Two operators forward through one bastion: the first to leave must not park it under the second."""
    session, fake = ecs
    sessions = FakeSessions()
    sessions.start(COLLEAGUE, f"ecs:{CLUSTER}_0a1b2c_0a1b2c-77", "bob-0fwd")
    said: list[str] = []
    assert go(session, sessions=sessions, said=said, park_after=True) == 0
    assert desired(fake) == 1
    assert said[-1].startswith(f"{SERVICE} stays unparked: session bob-0fwd by bob (assumed-role/Operators) on "
                               f"ecs:{CLUSTER}_0a1b2c_0a1b2c-77")
    assert said[-1].endswith("the last session to end parks it")
    sessions.sessions.clear()  # bob leaves; the next one out parks it
    go(session, sessions=sessions)
    assert desired(fake) == 0


def test_park_refuses_while_a_session_is_active_unless_forced(ecs) -> None:
    session, fake = ecs
    session.client("ecs").update_service(cluster=CLUSTER, service=SERVICE, desiredCount=1)
    sessions = FakeSessions()
    sessions.start(COLLEAGUE, f"ecs:{CLUSTER}_0a1b2c_0a1b2c-77", "bob-0fwd")
    with pytest.raises(OpsError, match=r"not parked: session bob-0fwd by bob .* --force` parks it anyway"):
        park(STACK, session, say=quiet, sessions=sessions)
    assert desired(fake) == 1
    park(STACK, session, say=quiet, sessions=sessions, force=True)
    assert desired(fake) == 0


# --- the database, through the bastion ------------------------------------------------------------------------------

DB_ENDPOINT = "airgap-dev-database.cluster-abc.ap-northeast-1.rds.amazonaws.com"
DB_SECRET = "arn:aws:secretsmanager:ap-northeast-1:123456789012:secret:rds!cluster-1-AbCdEf"
WITH_DATABASE = read_stack("dev", {
    **OUTPUTS, "bastionTargets": [*OUTPUTS["bastionTargets"], {"name": "database", "address": DB_ENDPOINT,
                                                              "ports": [5432]}],
    "databaseEndpoint": DB_ENDPOINT, "databasePort": 5432, "databaseName": "app", "databaseUser": "airgap_admin",
    "databaseSecretArn": DB_SECRET})


def test_forward_to_the_database_prints_a_ready_psql_line(ecs, tools: Path) -> None:
    """One command to a psql prompt: the tunnel to the cluster's endpoint on 5432, the password fetched from the
    secret RDS keeps, or an IAM token signed for the cluster's own name and port (not localhost)."""
    session, fake = ecs
    said: list[str] = []
    assert go(session, stack=WITH_DATABASE, host="database", said=said, profile="sandbox") == 0
    args = json.loads(tools.read_text())
    assert json.loads(args[args.index("--parameters") + 1]) == {
        "host": [DB_ENDPOINT], "portNumber": ["5432"], "localPortNumber": ["5432"]}
    (connect,) = [s for s in said if s.startswith("connect:")]
    assert f"--secret-id {DB_SECRET}" in connect and "aws --region ap-northeast-1 --profile sandbox" in connect
    assert f'psql "host={DB_ENDPOINT} hostaddr=127.0.0.1 port=5432 dbname=app sslmode=require user=airgap_admin"' \
        in connect
    (iam,) = [s for s in said if s.startswith("with IAM authentication")]
    assert f"generate-db-auth-token --hostname {DB_ENDPOINT} --port 5432" in iam
    assert any("resumes on the first connection" in s for s in said)
    assert desired(fake) == 0  # parked again when the session ended


def test_a_local_port_for_the_database_keeps_the_token_signed_for_its_real_port(ecs, tools: Path) -> None:
    session, _ = ecs
    said: list[str] = []
    go(session, stack=WITH_DATABASE, host="database", said=said, local_port=15432)
    (iam,) = [s for s in said if s.startswith("with IAM authentication")]
    assert "--port 5432 " in iam and "port=15432" in iam
