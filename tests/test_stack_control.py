"""sleep, wake, and sessions that wake what they need: driven through Pulumi's Automation API against a fake
`pulumi` CLI (tests/fake_pulumi.py) at the process boundary — the commands, the environment each `up` gets, the
engine events streamed back, the interrupts, drift and locks.

Session Manager's side is a small fake (GetConnectionStatus and DescribeSessions, which moto does not implement):
the host is "connected" when the fake world has it running with its ssm and ssmmessages endpoints.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fake_ops import (
    ASLEEP_WORLD,
    AWAKE_WORLD,
    Fake,
    FakeAws,
    awake,
    operator,
    session_body,
    use_fakes,
)

from ops import stack_control
from ops.__main__ import main
from ops.errors import OpsError
from ops.host import host_session
from ops.on_demand import hold
from program.contract import StackState

pytestmark = pytest.mark.cli


def test_wake_and_sleep_are_pulumi_ups_that_carry_the_move_and_write_no_config(fake: Fake,
                                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """The state lives with the deployed stack: a move is asked for in the environment of one `pulumi up`, never
    written into this clone's Pulumi.<stack>.yaml (where no other clone or CI job would see it)."""
    use_fakes(monkeypatch, fake)
    assert main(["wake", "--stack", "dev"]) == 0
    assert fake.deployed_state() == "awake" and fake.world() == AWAKE_WORLD
    assert main(["sleep", "--stack", "dev"]) == 0
    assert fake.deployed_state() == "asleep" and fake.world() == ASLEEP_WORLD
    assert fake.moves() == [("dev", "awake"), ("dev", "asleep")]
    wake, sleep = fake.ups()
    assert "--yes" in wake and "--skip-preview" in wake and "--refresh" not in wake
    assert "--refresh" in sleep  # sleep also stops what was started outside Pulumi
    assert wake[wake.index("--event-log") + 1].startswith("tcp://")  # CLIs after 3.205 stream events over gRPC
    assert not [c for c in fake.calls() if c["args"][:2] == ["config", "set"]]
    assert fake.config() == {"aws:region": "ap-northeast-1", "airgap:bastion": "parked"}


def test_a_plain_up_from_any_clone_keeps_the_deployed_state(fake: Fake, monkeypatch: pytest.MonkeyPatch) -> None:
    """What the nightly job did is what every clone sees: an up without a move (a colleague's `pulumi up`, deploy.yml)
    leaves an asleep stack asleep."""
    use_fakes(monkeypatch, fake)
    assert main(["sleep", "--stack", "dev"]) == 0
    stack_control.open_stack("dev").up(color="never")
    assert fake.moves()[-1] == ("dev", None)
    assert fake.deployed_state() == "asleep" and fake.world() == ASLEEP_WORLD


@pytest.mark.parametrize("version", ["3.272.0", "3.200.0"])
def test_progress_is_streamed_step_by_step_with_the_elapsed_time(fake: Fake, version: str,
                                                                 monkeypatch: pytest.MonkeyPatch,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("FAKE_PULUMI_VERSION", version)  # 3.200: an event-log file instead of gRPC
    use_fakes(monkeypatch, fake)
    assert main(["wake", "--stack", "dev"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "stack dev: asleep -> awake: pulumi up" in lines
    steps = [line for line in lines if line.startswith("[0:")]
    assert any(line.endswith("created VpcEndpoint ssmmessages") for line in steps)
    assert any(line.endswith("updated InstanceState ssm-host") for line in steps)
    assert steps[-1].endswith("stack dev is awake (6 changes)")


def test_sleep_stops_what_was_started_outside_pulumi_and_says_so(fake: Fake, monkeypatch: pytest.MonkeyPatch,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    """A bastion unparked by a forward and a host started by hand: Pulumi's record says stopped, AWS says running.
    A plain up would compare with the record and leave both running all night; sleep refreshes first."""
    use_fakes(monkeypatch, fake)
    fake.edit(world={"endpoints": [], "host": "running", "bastion": 1}, recorded=dict(ASLEEP_WORLD))
    assert main(["sleep", "--stack", "dev"]) == 0
    assert fake.world() == ASLEEP_WORLD
    last = capsys.readouterr().out.splitlines()[-1]
    assert last == "stack dev is asleep: stopped the SSM host and the bastion's tasks"


def test_a_session_wakes_an_asleep_stack_on_demand_and_puts_it_back_to_sleep(fake: Fake) -> None:
    said: list[str] = []
    ran: list[list[str]] = []
    code = hold(stack_control.open_stack("dev"), session_body(fake, said, ran), operator(), say=said.append)
    assert code == 0
    assert ran == [["aws", "ssm", "start-session", "--region", "ap-northeast-1", "--target", "i-dev"]]
    assert fake.moves() == [("dev", "awake-on-demand"), ("dev", "asleep")]
    assert fake.world() == ASLEEP_WORLD and fake.deployed_state() == "asleep"
    assert said[-1] == "stack dev is asleep, as it was found"


def test_the_session_starts_only_once_session_manager_says_connected(fake: Fake) -> None:
    awake(fake)
    fake.edit(world=dict(AWAKE_WORLD, host="stopped"))  # the agent not yet registered
    said: list[str] = []
    aws = FakeAws(fake)
    with pytest.raises(OpsError, match="still says i-0123456789abcdef0 is notconnected after 0 s"):
        host_session({"region": "ap-northeast-1", "ssmHostInstanceId": "i-0123456789abcdef0"}, aws, stack="dev",
                     which=lambda _: "/usr/bin/true", run=lambda c: 0, say=said.append, timeout=0,
                     sleep=lambda _: None)
    assert aws.asked == 1


def test_stay_awake_leaves_the_stack_awake_for_sessions_and_says_how_to_sleep(fake: Fake) -> None:
    said: list[str] = []
    code = hold(stack_control.open_stack("dev"), session_body(fake, said, []), operator(), stay_awake=True,
                say=said.append)
    assert code == 0 and fake.moves() == [("dev", "awake-on-demand")]
    assert fake.world() == AWAKE_WORLD and fake.deployed_state() == "awake-on-demand"
    assert "stays awake for sessions (--stay-awake)" in said[-1] and "dev.py sleep --stack dev" in said[-1]


def test_a_session_on_an_awake_stack_changes_nothing(fake: Fake) -> None:
    awake(fake)
    said: list[str] = []
    ran: list[list[str]] = []
    assert hold(stack_control.open_stack("dev"), session_body(fake, said, ran), operator(), say=said.append) == 0
    assert fake.ups() == [] and len(ran) == 1
    assert said[-1] == "stack dev is awake, as it was found"


def test_ctrl_c_during_the_wake_cancels_pulumi_gracefully_and_puts_the_stack_back(
        fake: Fake, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("FAKE_PULUMI_INTERRUPT", "1:2")  # Ctrl-C after two endpoints were created
    said: list[str] = []
    ran: list[list[str]] = []
    code = hold(stack_control.open_stack("dev"), session_body(fake, said, ran), operator(), say=said.append)
    assert code == 130 and ran == []
    assert "pulumi is cancelling" in capsys.readouterr().out
    assert fake.world() == ASLEEP_WORLD  # the two created endpoints were removed again
    assert len(fake.ups()) == 2
    assert said[-1] == "stack dev is asleep, as it was found"


def test_ctrl_c_while_putting_it_back_says_it_is_between_states_and_sleep_finishes(
        fake: Fake, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAKE_PULUMI_INTERRUPT", "2:1")  # Ctrl-C one step into the return to sleep
    said: list[str] = []
    code = hold(stack_control.open_stack("dev"), session_body(fake, said, []), operator(), say=said.append)
    assert code == 130
    assert said[-1] == ("stack dev is between states: the last pulumi up towards asleep was interrupted. "
                        "`python3 dev.py sleep --stack dev` finishes it")
    assert fake.world() != ASLEEP_WORLD
    monkeypatch.delenv("FAKE_PULUMI_INTERRUPT")
    use_fakes(monkeypatch, fake)
    assert main(["sleep", "--stack", "dev"]) == 0
    assert fake.world() == ASLEEP_WORLD


def test_ctrl_c_during_the_session_puts_the_stack_back(fake: Fake) -> None:
    said: list[str] = []
    ran: list[list[str]] = []
    code = hold(stack_control.open_stack("dev"), session_body(fake, said, ran, KeyboardInterrupt), operator(),
                say=said.append)
    assert code == 130 and len(ran) == 1
    assert fake.world() == ASLEEP_WORLD
    assert said[-1] == "stack dev is asleep, as it was found"


def test_a_failed_wake_is_reported_and_the_stack_put_back(fake: Fake, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAKE_PULUMI_FAIL", "1:1")
    said: list[str] = []
    with pytest.raises(OpsError, match=r"`pulumi up --stack dev` failed after 0:0\d: error: update failed: "
                                       "creating ssmmessages: api error Throttling"):
        hold(stack_control.open_stack("dev"), session_body(fake, said, []), operator(), say=said.append)
    assert fake.world() == ASLEEP_WORLD
    assert said[-1] == "stack dev is asleep, as it was found"


def test_forward_on_a_stack_without_a_bastion_is_refused_before_anything_wakes(
        fake: Fake, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """Turning the bastion on for one session would mean changing config in this clone only — the very thing a
    shared stack must not depend on. The stack says how to give it one."""
    fake.edit(config={"aws:region": "ap-northeast-1", "airgap:bastion": "off"},
              world={"endpoints": [], "host": "stopped", "bastion": None})
    use_fakes(monkeypatch, fake)
    assert main(["bastion", "forward", "--stack", "dev"][1:]) == 2
    assert "stack dev has no bastion (airgap:bastion is off)" in capsys.readouterr().err
    assert fake.ups() == []


@pytest.mark.parametrize(("argv", "message"), [
    (["forward", "--to", "nosuch"], "--to nosuch: not something the bastion may forward to"),
    (["forward", "--port", "22"], "--port 22: the bastion may reach ssm-host only on 8080"),
])
def test_a_route_the_bastion_cannot_take_is_refused_before_anything_wakes(
        argv: list[str], message: str, fake: Fake, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """A typo must not cost a wake and a sleep: the route is checked on the deployed outputs first."""
    use_fakes(monkeypatch, fake)
    assert main([*argv, "--stack", "dev"]) == 2
    assert message in capsys.readouterr().err
    assert fake.ups() == []


def test_a_workload_stacks_session_without_a_host_never_wakes_its_network(
        fake: Fake, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    fake.edit("net", config={"aws:region": "ap-northeast-1", "airgap:role": "network"}, state="asleep",
              world={"endpoints": [], "host": None, "bastion": None})
    fake.edit("app", config={"aws:region": "ap-northeast-1", "airgap:role": "workloads", "airgap:networkStack": "net",
                             "airgap:ssmHost": "false"}, state="asleep",
              world={"endpoints": [], "host": None, "bastion": 0})
    use_fakes(monkeypatch, fake, stack="app", network="net")
    assert main(["session", "--stack", "app"]) == 2
    assert "stack app has no SSM host" in capsys.readouterr().err
    assert fake.ups() == []


def test_a_missing_pulumi_cli_is_one_clear_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setenv("PULUMI_HOME", str(tmp_path))
    monkeypatch.delenv("PULUMI_BACKEND_URL", raising=False)
    assert main(["wake", "--stack", "dev"]) == 2
    assert "the pulumi CLI is not installed" in capsys.readouterr().err


def test_an_unknown_stack_is_one_clear_error(fake: Fake, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sleep", "--stack", "prod"]) == 2
    assert "no stack 'prod'" in capsys.readouterr().err


def test_a_stack_never_deployed_is_one_clear_error(fake: Fake, monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    state = fake.state
    del state["stacks"]["dev"]["state"]
    fake.path.write_text(json.dumps(state))
    use_fakes(monkeypatch, fake)
    assert main(["session", "--stack", "dev"]) == 2
    assert "stack dev has no deployment yet" in capsys.readouterr().err and fake.ups() == []


def test_a_workload_stack_wakes_its_network_first_and_both_go_back_to_sleep(fake: Fake,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    fake.edit("net", config={"aws:region": "ap-northeast-1", "airgap:role": "network"}, state="asleep",
              world={"endpoints": [], "host": None, "bastion": None})
    fake.edit("app", config={"aws:region": "ap-northeast-1", "airgap:role": "workloads",
                             "airgap:networkStack": "net"}, state="asleep",
              world={"endpoints": [], "host": "stopped", "bastion": 0})
    ran: list[list[str]] = []
    use_fakes(monkeypatch, fake, ran=ran, stack="app", network="net")
    assert main(["session", "--stack", "app"]) == 0
    assert len(ran) == 1
    assert fake.moves() == [("net", "awake-on-demand"), ("app", "awake-on-demand"), ("app", "asleep"),
                            ("net", "asleep")]  # wake the network, then the workloads; back in reverse
    assert fake.world("net")["endpoints"] == [] and fake.world("app")["host"] == "stopped"
    assert main(["wake", "--stack", "app"]) == 0
    assert fake.moves()[4:] == [("net", "awake"), ("app", "awake")]
    assert fake.world("net")["endpoints"] == ["ssm", "ssmmessages", "ecr.api", "ecr.dkr", "logs"]
    assert main(["sleep", "--stack", "app"]) == 0  # the network may serve other workload stacks: left awake
    assert fake.world("app")["host"] == "stopped" and fake.world("net")["endpoints"]


def test_session_with_a_command_runs_it_through_a_session_document(fake: Fake, monkeypatch: pytest.MonkeyPatch
                                                                    ) -> None:
    awake(fake)
    ran: list[list[str]] = []
    use_fakes(monkeypatch, fake, ran=ran)
    assert main(["session", "--stack", "dev", "--command", "df -h /mnt/share"]) == 0
    assert ran == [["aws", "ssm", "start-session", "--region", "ap-northeast-1", "--target", "i-dev",
                    "--document-name", "AWS-StartNonInteractiveCommand", "--parameters",
                    '{"command": ["df -h /mnt/share"]}']]


def test_a_network_stack_that_does_not_exist_names_airgap_network_stack(fake: Fake, monkeypatch: pytest.MonkeyPatch,
                                                                        capsys: pytest.CaptureFixture[str]) -> None:
    fake.edit(config={"aws:region": "ap-northeast-1", "airgap:role": "workloads", "airgap:networkStack": "nett"})
    use_fakes(monkeypatch, fake)
    assert main(["wake", "--stack", "dev"]) == 2
    err = capsys.readouterr().err
    assert "airgap:networkStack = 'nett' (stack dev): expected a deployed network stack" in err
    assert fake.ups() == []


def test_nothing_is_woken_before_the_tools_and_credentials_are_known_good(fake: Fake, tmp_path: Path,
                                                                          capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "bin" / "session-manager-plugin").unlink()
    assert main(["session", "--stack", "dev"]) == 2
    assert "Session Manager plugin for the AWS CLI is not installed" in capsys.readouterr().err
    assert fake.ups() == [] and fake.world() == ASLEEP_WORLD


def test_the_profile_reaches_every_pulumi_up(fake: Fake, monkeypatch: pytest.MonkeyPatch) -> None:
    """--profile was given to the AWS calls and start-session but not to the `pulumi up`s that woke the stack: the
    provider then deployed with whatever credentials the environment had."""
    use_fakes(monkeypatch, fake)
    assert main(["wake", "--stack", "dev", "--profile", "sandbox"]) == 0
    assert main(["sleep", "--stack", "dev", "--profile", "sandbox"]) == 0
    ups = [c for c in fake.calls() if c["args"][:1] == ["up"]]
    assert [c["env"].get("AWS_PROFILE") for c in ups] == ["sandbox", "sandbox"]


@pytest.mark.parametrize(("backend", "stack_file", "stops"), [
    ("file://~", "", True),  # a self-managed backend: passphrase by default
    ("s3://team-state", "", True),
    ("", "encryptionsalt: v1:abc:def\n", True),  # the stack file says so, whatever the backend
    ("file://~", "secretsprovider: awskms://alias/pulumi\n", False),  # a KMS key needs no passphrase
    ("https://api.pulumi.com", "", False),  # Pulumi Cloud keeps the secrets itself
])
def test_a_passphrase_stack_without_its_passphrase_stops_before_any_pulumi_call(
        fake: Fake, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path,
        backend: str, stack_file: str, stops: bool) -> None:
    """`pulumi login --local` (README step 3), then `dev.py sleep`: without the passphrase in the environment the CLI
    refuses non-interactively. The tool says so first, in one line, and runs nothing."""
    work = tmp_path / "project"
    work.mkdir()
    (work / "Pulumi.yaml").write_text("name: airgap\nruntime: python\n")
    (work / "Pulumi.dev.yaml").write_text(stack_file + "config:\n  aws:region: ap-northeast-1\n")
    monkeypatch.setattr(stack_control, "ROOT", work)
    for name in ("PULUMI_CONFIG_PASSPHRASE", "PULUMI_CONFIG_PASSPHRASE_FILE"):
        monkeypatch.delenv(name, raising=False)
    if backend:
        monkeypatch.setenv("PULUMI_BACKEND_URL", backend)
    use_fakes(monkeypatch, fake)
    code = main(["sleep", "--stack", "dev"])
    err = capsys.readouterr().err
    if stops:
        assert code == 2 and fake.calls() == []
        (line,) = err.strip().splitlines()
        assert "set PULUMI_CONFIG_PASSPHRASE (or PULUMI_CONFIG_PASSPHRASE_FILE" in line
    else:
        assert code == 0 and "PULUMI_CONFIG_PASSPHRASE" not in err
    monkeypatch.setenv("PULUMI_CONFIG_PASSPHRASE_FILE", str(tmp_path / "passphrase"))
    assert main(["wake", "--stack", "dev"]) == 0


def test_a_locked_stack_is_waited_on_with_progress_then_moved(fake: Fake) -> None:
    """A colleague's `pulumi up` (or the nightly job) holds the stack: pulumi fails at once; the tool waits."""
    fake.edit(lock="bob@laptop (pid 4242) at 2026-12-01T20:58:00Z")
    said: list[str] = []
    waits: list[float] = []

    def wait(seconds: float) -> None:
        waits.append(seconds)
        if len(waits) == 2:
            fake.edit(lock=None)  # the other update ends

    stack_control.move(stack_control.open_stack("dev"), StackState.AWAKE, said.append, sleep=wait)
    assert waits == [stack_control.LOCK_POLL_SECONDS] * 2
    assert any("stack dev is locked by another update (created by bob@laptop (pid 4242)" in s for s in said)
    assert fake.deployed_state() == "awake" and fake.world() == AWAKE_WORLD


def test_a_lock_held_past_the_limit_names_pulumi_cancel(fake: Fake) -> None:
    fake.edit(lock="a crashed update")
    ticks = iter(range(0, 100000, 600))
    with pytest.raises(OpsError, match=r"still locked after 20 min .*`pulumi cancel --stack dev` removes it"):
        stack_control.move(stack_control.open_stack("dev"), StackState.AWAKE, lambda _: None,
                           clock=lambda: float(next(ticks)), sleep=lambda _: None)
    assert fake.world() == ASLEEP_WORLD
