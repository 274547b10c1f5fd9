"""`python -m ops`: the port-forwarding CLI, against moto's ECS, ECR and STS, at the process boundary for `aws ssm`,
and against a registry on 127.0.0.1 for the image copy.

moto keeps the real state (cluster, service, desired count, tasks, repositories, layers). It does not model three
things ECS does, so the tests add them with botocore event hooks, and only them: the scheduler starting a task when
the desired count rises, a container's runtimeId and ExecuteCommandAgent status, and describe-services'
enableExecuteCommand field.
"""


from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest
from fake_ops import FakeSessions
from ops_world import CLUSTER, OUTPUTS, REGION, SERVICE, STACK, desired, go, quiet

from ops import __main__ as cli
from ops.bastion import ForwardOptions, forward, park
from ops.errors import OpsError
from ops.outputs import DatabaseInfo, Stack, Target, load_outputs, read_stack

pytestmark = pytest.mark.cli


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
