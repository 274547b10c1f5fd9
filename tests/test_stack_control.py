"""sleep, wake, and sessions that wake what they need: driven through Pulumi's Automation API against a fake
`pulumi` CLI (tests/fake_pulumi.py) at the process boundary — the commands, the config it is given, the `up`s, the
engine events streamed back, and the interrupts.

Session Manager's side is a small fake (GetConnectionStatus, which moto does not implement): the host is
"connected" when the fake world has it running with its ssm and ssmmessages endpoints.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from ops import stack_control
from ops.__main__ import main, run
from ops.bastion import OpsError
from ops.host import host_session
from ops.stack_control import State, hold

FAKE = Path(__file__).with_name("fake_pulumi.py")
ASLEEP_WORLD = {"endpoints": [], "host": "stopped", "bastion": 0}
AWAKE_WORLD = {"endpoints": ["ssm", "ssmmessages", "ecr.api", "ecr.dkr", "logs"], "host": "running", "bastion": 0}


class Fake:
    def __init__(self, path: Path) -> None:
        self.path = path

    @property
    def state(self) -> dict[str, Any]:
        return json.loads(self.path.read_text())

    def world(self, stack: str = "dev") -> dict[str, Any]:
        return self.state["stacks"][stack]["world"]

    def config(self, stack: str = "dev") -> dict[str, str]:
        return self.state["stacks"][stack]["config"]

    def ups(self) -> list[list[str]]:
        return [c for c in self.state["calls"] if c[:1] == ["up"]]


@pytest.fixture
def fake(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Fake:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "pulumi"
    script.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{FAKE}" "$@"\n')
    script.chmod(0o755)
    for tool in ("aws", "session-manager-plugin"):  # present: `before` checks only that they are installed
        (bin_dir / tool).write_text("#!/bin/sh\nexit 0\n")
        (bin_dir / tool).chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:/usr/bin:/bin")
    state = tmp_path / "pulumi-state.json"
    state.write_text(json.dumps({"stacks": {"dev": {
        "config": {"aws:region": "ap-northeast-1", "airgap:bastion": "parked", "airgap:asleep": "true"},
        "world": dict(ASLEEP_WORLD)}}, "calls": [], "ups": 0}))
    monkeypatch.setenv("FAKE_PULUMI_STATE", str(state))
    for knob in ("FAKE_PULUMI_INTERRUPT", "FAKE_PULUMI_FAIL", "FAKE_PULUMI_VERSION"):
        monkeypatch.delenv(knob, raising=False)
    return Fake(state)


def awake(fake: Fake) -> None:
    state = fake.state
    state["stacks"]["dev"]["config"]["airgap:asleep"] = "false"
    state["stacks"]["dev"]["world"] = dict(AWAKE_WORLD, endpoints=list(AWAKE_WORLD["endpoints"]))
    fake.path.write_text(json.dumps(state))


class FakeAws:
    """boto3.Session's clients as host_session uses them: sts for the identity, ssm for the connection status."""

    def __init__(self, fake: Fake, stack: str = "dev", network: str | None = None) -> None:
        self.fake, self.asked, self.stack, self.network = fake, 0, stack, network

    def client(self, name: str) -> Any:
        return self

    def get_caller_identity(self) -> dict[str, str]:
        return {"Arn": "arn:aws:iam::123456789012:user/operator"}

    def get_connection_status(self, Target: str) -> dict[str, str]:
        self.asked += 1
        world = self.fake.world(self.stack)
        endpoints = self.fake.world(self.network or self.stack)["endpoints"]
        up = world["host"] == "running" and {"ssm", "ssmmessages"} <= set(endpoints)
        return {"Target": Target, "Status": "connected" if up else "notconnected"}


def session_body(fake: Fake, said: list[str], ran: list[list[str]], result: int | type[BaseException] = 0) -> Any:
    def shell(command: list[str]) -> int:
        ran.append(command)
        if isinstance(result, type):
            raise result()
        return result

    return lambda outputs: host_session(outputs, FakeAws(fake), stack="dev", which=lambda _: "/usr/bin/true",
                                       run=shell, say=said.append, sleep=lambda _: None)


def test_wake_and_sleep_are_pulumi_ups_of_the_project_with_the_config_changed(fake: Fake) -> None:
    assert main(["wake", "--stack", "dev"]) == 0
    assert fake.config()["airgap:asleep"] == "false"
    assert fake.world() == AWAKE_WORLD
    assert main(["sleep", "--stack", "dev"]) == 0
    assert fake.config()["airgap:asleep"] == "true"
    assert fake.world() == ASLEEP_WORLD
    wake, sleep = fake.ups()
    assert sleep[sleep.index("--stack") + 1] == "dev"
    assert "--yes" in wake and "--skip-preview" in wake and wake[wake.index("--stack") + 1] == "dev"
    assert wake[wake.index("--event-log") + 1].startswith("tcp://")  # CLIs after 3.205 stream events over gRPC
    assert ["config", "set", "airgap:asleep", "--plaintext", "--stack", "dev", "--", "false"] in fake.state["calls"]


@pytest.mark.parametrize("version", ["3.272.0", "3.200.0"])
def test_progress_is_streamed_step_by_step_with_the_elapsed_time(fake: Fake, version: str,
                                                                 monkeypatch: pytest.MonkeyPatch,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("FAKE_PULUMI_VERSION", version)  # 3.200: an event-log file instead of gRPC
    assert main(["wake", "--stack", "dev"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "stack dev: asleep -> awake, bastion parked: pulumi up" in lines
    steps = [line for line in lines if line.startswith("[0:")]
    assert any(line.endswith("created VpcEndpoint ssmmessages") for line in steps)
    assert any(line.endswith("updated InstanceState ssm-host") for line in steps)
    assert steps[-1].endswith("stack dev is awake, bastion parked (6 changes)")


def test_a_session_wakes_an_asleep_stack_waits_for_the_host_and_puts_it_back_to_sleep(fake: Fake) -> None:
    said: list[str] = []
    ran: list[list[str]] = []
    code = hold(stack_control.open_stack("dev"), stack_control.for_host_session, session_body(fake, said, ran),
                say=said.append)
    assert code == 0
    assert ran == [["aws", "ssm", "start-session", "--region", "ap-northeast-1", "--target", "i-0123456789abcdef0"]]
    assert len(fake.ups()) == 2
    assert fake.world() == ASLEEP_WORLD and fake.config()["airgap:asleep"] == "true"
    assert said[-1] == "stack dev is asleep, as it was found"


def test_the_session_starts_only_once_session_manager_says_connected(fake: Fake) -> None:
    awake(fake)
    state = fake.state
    state["stacks"]["dev"]["world"]["host"] = "stopped"  # the agent not yet registered
    fake.path.write_text(json.dumps(state))
    said: list[str] = []
    aws = FakeAws(fake)
    with pytest.raises(OpsError, match="still says i-0123456789abcdef0 is notconnected after 0 s"):
        host_session({"region": "ap-northeast-1", "ssmHostInstanceId": "i-0123456789abcdef0"}, aws, stack="dev",
                     which=lambda _: "/usr/bin/true", run=lambda c: 0, say=said.append, timeout=0,
                     sleep=lambda _: None)
    assert aws.asked == 1


def test_stay_awake_leaves_the_stack_awake_and_says_how_to_sleep(fake: Fake) -> None:
    said: list[str] = []
    code = hold(stack_control.open_stack("dev"), stack_control.for_host_session, session_body(fake, said, []),
                stay_awake=True, say=said.append)
    assert code == 0 and len(fake.ups()) == 1
    assert fake.world() == AWAKE_WORLD
    assert "stays awake, bastion parked (--stay-awake)" in said[-1] and "dev.py sleep --stack dev" in said[-1]


def test_a_session_on_an_awake_stack_changes_nothing(fake: Fake) -> None:
    awake(fake)
    said: list[str] = []
    ran: list[list[str]] = []
    assert hold(stack_control.open_stack("dev"), stack_control.for_host_session, session_body(fake, said, ran),
                say=said.append) == 0
    assert fake.ups() == [] and len(ran) == 1
    assert said[-1] == "stack dev is awake, bastion parked, as it was found"


def test_ctrl_c_during_the_wake_cancels_pulumi_gracefully_and_puts_the_stack_back(fake: Fake,
                                                                                 monkeypatch: pytest.MonkeyPatch,
                                                                                 capsys: pytest.CaptureFixture[str]
                                                                                 ) -> None:
    monkeypatch.setenv("FAKE_PULUMI_INTERRUPT", "1:2")  # Ctrl-C after two endpoints were created
    said: list[str] = []
    ran: list[list[str]] = []
    code = hold(stack_control.open_stack("dev"), stack_control.for_host_session, session_body(fake, said, ran),
                say=said.append)
    assert code == 130 and ran == []
    assert "pulumi is cancelling" in capsys.readouterr().out
    assert fake.state["stacks"]["dev"]["world"] == ASLEEP_WORLD  # the two created endpoints were removed again
    assert len(fake.ups()) == 2
    assert said[-1] == "stack dev is asleep, as it was found"


def test_ctrl_c_while_putting_it_back_says_it_is_between_states_and_sleep_finishes(fake: Fake,
                                                                                   monkeypatch: pytest.MonkeyPatch
                                                                                   ) -> None:
    monkeypatch.setenv("FAKE_PULUMI_INTERRUPT", "2:1")  # Ctrl-C one step into the return to sleep
    said: list[str] = []
    code = hold(stack_control.open_stack("dev"), stack_control.for_host_session, session_body(fake, said, []),
                say=said.append)
    assert code == 130
    assert said[-1] == ("stack dev is between states: its config says asleep, but the last pulumi up was "
                        "interrupted. `python3 dev.py sleep --stack dev` finishes it")
    assert fake.config()["airgap:asleep"] == "true" and fake.world() != ASLEEP_WORLD
    monkeypatch.delenv("FAKE_PULUMI_INTERRUPT")
    assert main(["sleep", "--stack", "dev"]) == 0
    assert fake.world() == ASLEEP_WORLD


def test_ctrl_c_during_the_session_puts_the_stack_back(fake: Fake) -> None:
    said: list[str] = []
    ran: list[list[str]] = []
    code = hold(stack_control.open_stack("dev"), stack_control.for_host_session,
                session_body(fake, said, ran, KeyboardInterrupt), say=said.append)
    assert code == 130 and len(ran) == 1
    assert fake.world() == ASLEEP_WORLD
    assert said[-1] == "stack dev is asleep, as it was found"


def test_a_failed_wake_is_reported_and_the_stack_put_back(fake: Fake, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAKE_PULUMI_FAIL", "1:1")
    said: list[str] = []
    with pytest.raises(OpsError, match=r"`pulumi up --stack dev` failed after 0:0\d: error: update failed: "
                                       "creating ssmmessages: api error Throttling"):
        hold(stack_control.open_stack("dev"), stack_control.for_host_session, session_body(fake, said, []),
             say=said.append)
    assert fake.world() == ASLEEP_WORLD
    assert said[-1] == "stack dev is asleep, as it was found"


def test_forward_wakes_an_off_bastion_as_parked_and_parks_it_before_returning_it(fake: Fake,
                                                                                monkeypatch: pytest.MonkeyPatch
                                                                                ) -> None:
    awake(fake)
    state = fake.state
    state["stacks"]["dev"]["config"]["airgap:bastion"] = "off"
    state["stacks"]["dev"]["world"] = {"endpoints": ["ssm", "ssmmessages"], "host": "running", "bastion": None}
    fake.path.write_text(json.dumps(state))
    seen: dict[str, Any] = {}

    def forward(args: Any, outputs: dict, park_after: bool) -> int:
        seen.update(outputs=outputs, park_after=park_after, world=fake.world())
        return 0

    monkeypatch.setattr("ops.__main__._forward", forward)
    monkeypatch.setattr("ops.__main__.aws_session", lambda profile, region: FakeAws(fake))
    from ops.__main__ import parser

    assert run(parser().parse_args(["forward", "--stack", "dev"])) == 0
    assert seen["outputs"]["bastionCluster"] == "airgap-dev-bastion"
    assert seen["world"]["bastion"] == 0 and {"ecr.api", "ecr.dkr", "logs"} <= set(seen["world"]["endpoints"])
    assert seen["park_after"] is True  # a task forward started must stop before the bastion goes away
    assert fake.config()["airgap:bastion"] == "off" and fake.world()["bastion"] is None


def test_forward_on_a_stack_that_needs_nothing_keeps_the_old_park_behaviour(fake: Fake,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    awake(fake)
    seen: dict[str, Any] = {}
    monkeypatch.setattr("ops.__main__._forward", lambda args, outputs, park_after: seen.update(p=park_after) or 0)
    monkeypatch.setattr("ops.__main__.aws_session", lambda profile, region: FakeAws(fake))
    from ops.__main__ import parser

    assert run(parser().parse_args(["forward", "--stack", "dev"])) == 0
    assert seen["p"] is False and fake.ups() == []


def test_states_read_from_config_with_the_programs_defaults() -> None:
    assert State.from_config({}) == State(asleep=False, bastion="parked")
    assert str(State(True, "on")) == "asleep"
    assert stack_control.for_forward(State(True, "off")) == State(False, "parked")
    assert stack_control.for_host_session(State(True, "on")) == State(False, "on")


def test_a_missing_pulumi_cli_is_one_clear_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    assert main(["wake", "--stack", "dev"]) == 2
    assert "the pulumi CLI is not installed" in capsys.readouterr().err


def test_an_unknown_stack_is_one_clear_error(fake: Fake, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sleep", "--stack", "prod"]) == 2
    assert "no stack 'prod'" in capsys.readouterr().err


def test_a_workload_stack_wakes_its_network_first_and_both_go_back_to_sleep(fake: Fake,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    state = fake.state
    state["stacks"] = {
        "net": {"config": {"aws:region": "ap-northeast-1", "airgap:role": "network", "airgap:asleep": "true"},
                "world": {"endpoints": [], "host": None, "bastion": None}},
        "app": {"config": {"aws:region": "ap-northeast-1", "airgap:role": "workloads", "airgap:networkStack": "net",
                           "airgap:asleep": "true"},
                "world": {"endpoints": [], "host": "stopped", "bastion": 0}}}
    fake.path.write_text(json.dumps(state))
    said: list[str] = []
    ran: list[list[str]] = []
    fakes = FakeAws(fake, "app", "net")
    monkeypatch.setattr("ops.__main__.aws_session", lambda profile, region: fakes)
    monkeypatch.setattr("ops.__main__.host_session",
                        lambda outputs, session, **kw: host_session(outputs, session, which=lambda _: "/usr/bin/true",
                                                                    run=lambda c: ran.append(c) or 0,
                                                                    say=said.append, sleep=lambda _: None,
                                                                    stack=kw["stack"]))
    from ops.__main__ import parser

    assert run(parser().parse_args(["session", "--stack", "app"])) == 0
    assert len(ran) == 1 and fakes.asked >= 1
    order = [(c[c.index("--stack") + 1]) for c in fake.ups()]
    assert order == ["net", "app", "app", "net"]  # wake the network, then the workloads; back in reverse
    assert fake.world("net")["endpoints"] == [] and fake.world("app")["host"] == "stopped"
    assert main(["wake", "--stack", "app"]) == 0
    assert [c[c.index("--stack") + 1] for c in fake.ups()][4:] == ["net", "app"]
    assert fake.world("net")["endpoints"] == ["ssm", "ssmmessages", "ecr.api", "ecr.dkr", "logs"]
    assert main(["sleep", "--stack", "app"]) == 0  # the network may serve other workload stacks: left awake
    assert fake.world("app")["host"] == "stopped" and fake.world("net")["endpoints"]


def test_nothing_is_woken_before_the_tools_and_credentials_are_known_good(fake: Fake, tmp_path: Path,
                                                                          capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "bin" / "session-manager-plugin").unlink()
    assert main(["session", "--stack", "dev"]) == 2
    assert "Session Manager plugin for the AWS CLI is not installed" in capsys.readouterr().err
    assert fake.ups() == [] and fake.world() == ASLEEP_WORLD
