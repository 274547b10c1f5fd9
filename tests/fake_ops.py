"""What the ops tests stand in for: the `pulumi` CLI (fake_pulumi.py, at the process boundary), Session Manager's
GetConnectionStatus and DescribeSessions (which moto does not implement), and the operator."""

from __future__ import annotations

import json
import signal
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from ops.host import host_session
from ops.leases import ActiveSession
from ops.on_demand import Operator

FAKE = Path(__file__).with_name("fake_pulumi.py")
ASLEEP_WORLD = {"endpoints": [], "host": "stopped", "bastion": 0}
AWAKE_WORLD = {"endpoints": ["ssm", "ssmmessages", "ecr.api", "ecr.dkr", "logs"], "host": "running", "bastion": 0}
ME = "arn:aws:sts::123456789012:assumed-role/Operators/alice"
COLLEAGUE = "arn:aws:sts::123456789012:assumed-role/Operators/bob"


class Fake:
    def __init__(self, path: Path) -> None:
        self.path = path

    @property
    def state(self) -> dict[str, Any]:
        return json.loads(self.path.read_text())

    def edit(self, stack: str = "dev", **entry: Any) -> None:
        state = self.state
        state["stacks"].setdefault(stack, {}).update(entry)
        self.path.write_text(json.dumps(state))

    def world(self, stack: str = "dev") -> dict[str, Any]:
        return self.state["stacks"][stack]["world"]

    def deployed_state(self, stack: str = "dev") -> str:
        return self.state["stacks"][stack]["state"]

    def config(self, stack: str = "dev") -> dict[str, str]:
        return self.state["stacks"][stack]["config"]

    def calls(self) -> list[dict[str, Any]]:
        return self.state["calls"]

    def ups(self) -> list[list[str]]:
        return [c["args"] for c in self.calls() if c["args"][:1] == ["up"]]

    def moves(self) -> list[tuple[str, str | None]]:
        """(stack, AIRGAP_MOVE_TO) of every up, in order."""
        return [(c["args"][c["args"].index("--stack") + 1], c["env"].get("AIRGAP_MOVE_TO"))
                for c in self.calls() if c["args"][:1] == ["up"]]


@pytest.fixture
def fake(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Fake]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "pulumi"
    script.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{FAKE}" "$@"\n')
    script.chmod(0o755)
    for tool in ("aws", "session-manager-plugin"):  # present: the operator check looks only for them
        (bin_dir / tool).write_text("#!/bin/sh\nexit 0\n")
        (bin_dir / tool).chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:/usr/bin:/bin")
    state = tmp_path / "pulumi-state.json"
    state.write_text(json.dumps({"stacks": {"dev": {
        "config": {"aws:region": "ap-northeast-1", "airgap:bastion": "parked"},
        "state": "asleep", "world": dict(ASLEEP_WORLD)}}, "calls": [], "ups": 0}))
    monkeypatch.setenv("FAKE_PULUMI_STATE", str(state))
    for knob in ("FAKE_PULUMI_INTERRUPT", "FAKE_PULUMI_FAIL", "FAKE_PULUMI_VERSION", "PULUMI_BACKEND_URL",
                 "AWS_PROFILE", "AIRGAP_MOVE_TO"):
        monkeypatch.delenv(knob, raising=False)
    monkeypatch.setenv("PULUMI_HOME", str(tmp_path / "pulumi-home"))  # no login: not a self-managed backend
    # However the suite was started (nohup, a CI runner with SIGINT ignored), Ctrl-C means KeyboardInterrupt here.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield Fake(state)
    signal.signal(signal.SIGINT, previous)


def awake(fake: Fake, stack: str = "dev", state: str = "awake") -> None:
    fake.edit(stack, state=state, world=json.loads(json.dumps(AWAKE_WORLD)))


class FakeSessions:
    """DescribeSessions over a list the test controls; targets' VPCs by a map."""

    def __init__(self, vpcs: dict[str, str] | None = None) -> None:
        self.sessions: list[ActiveSession] = []
        self.vpcs = vpcs or {}
        self.asked = 0

    def start(self, owner: str, target: str, session_id: str | None = None) -> ActiveSession:
        session = ActiveSession(session_id or f"{owner.rsplit('/', 1)[-1]}-0{len(self.sessions)}", owner, target,
                                datetime.now(UTC))
        self.sessions.append(session)
        return session

    def end(self, session: ActiveSession) -> None:
        self.sessions.remove(session)

    def active(self) -> list[ActiveSession]:
        self.asked += 1
        return list(self.sessions)

    def vpc_of(self, target: str) -> str | None:
        return self.vpcs.get(target)


class FakeAws:
    """boto3.Session's clients as host_session uses them: sts for the identity, ssm for the connection status."""

    def __init__(self, fake: Fake, stack: str = "dev", network: str | None = None) -> None:
        self.fake, self.asked, self.stack, self.network = fake, 0, stack, network

    def client(self, name: str) -> Any:
        return self

    def get_caller_identity(self) -> dict[str, str]:
        return {"Arn": ME}

    def get_connection_status(self, Target: str) -> dict[str, str]:
        self.asked += 1
        world = self.fake.world(self.stack)
        endpoints = self.fake.world(self.network or self.stack)["endpoints"]
        up = world["host"] == "running" and {"ssm", "ssmmessages"} <= set(endpoints)
        return {"Target": Target, "Status": "connected" if up else "notconnected"}


def operator(sessions: FakeSessions | None = None, identity: str = ME) -> Operator:
    return Operator(identity, sessions or FakeSessions())


def use_fakes(monkeypatch: pytest.MonkeyPatch, fake: Fake, sessions: FakeSessions | None = None,
              ran: list[list[str]] | None = None, stack: str = "dev", network: str | None = None) -> FakeSessions:
    """The CLI's AWS side on fakes: the operator, the connection status, and a shell that records its command."""
    sessions = sessions or FakeSessions()
    monkeypatch.setattr("ops.__main__.operator", lambda profile, region, tools=False: operator(sessions))
    monkeypatch.setattr("ops.__main__.aws_session", lambda profile, region: FakeAws(fake, stack, network))
    record = ran if ran is not None else []
    monkeypatch.setattr("ops.__main__.host_session",
                        lambda outputs, session, **kw: host_session(
                            outputs, session, which=lambda _: "/usr/bin/true", run=lambda c: record.append(c) or 0,
                            say=lambda _: None, sleep=lambda _: None, stack=kw["stack"], profile=kw.get("profile"),
                            command=kw.get("command")))
    return sessions


def session_body(fake: Fake, said: list[str], ran: list[list[str]], result: int | type[BaseException] = 0) -> Any:
    def shell(command: list[str]) -> int:
        ran.append(command)
        if isinstance(result, type):
            raise result()
        return result

    return lambda outputs: host_session(outputs, FakeAws(fake), stack="dev", which=lambda _: "/usr/bin/true",
                                       run=shell, say=said.append, sleep=lambda _: None)
