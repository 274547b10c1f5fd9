"""Sessions through the bastion: TargetNotConnected retried, --park-after in every state, colleagues' sessions
kept, and the database reached with a ready psql line."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fake_ops import COLLEAGUE, FakeSessions
from ops_world import CLUSTER, OUTPUTS, SERVICE, STACK, desired, fake_cli, go, quiet

from ops.bastion import ForwardOptions, forward, park
from ops.errors import OpsError
from ops.outputs import read_stack

pytestmark = pytest.mark.cli

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
