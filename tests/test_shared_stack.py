"""Many operators on one stack: sessions that do not end each other's, and a nightly sleep that skips a stack someone
is working on — against the fake `pulumi` CLI and a fake Session Manager (DescribeSessions)."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from fake_ops import (
    ASLEEP_WORLD,
    AWAKE_WORLD,
    COLLEAGUE,
    ME,
    Fake,
    FakeSessions,
    awake,
    operator,
    session_body,
    use_fakes,
)

from ops import stack_control
from ops.__main__ import main
from ops.on_demand import hold

pytestmark = pytest.mark.cli


def test_two_operators_sessions_the_second_to_end_puts_the_stack_to_sleep(fake: Fake) -> None:
    """Alice wakes the asleep stack and connects; Bob finds it awake for sessions, connects, and leaves first: the
    stack stays awake for Alice, and Bob's tool says she holds it. When Alice leaves, it goes back to sleep."""
    sessions = FakeSessions()
    alice_in, alice_may_leave = threading.Event(), threading.Event()
    said: dict[str, list[str]] = {"alice": [], "bob": []}
    results: dict[str, Any] = {}

    def session_of(who: str, owner: str, stay: threading.Event | None) -> Any:
        def body(outputs: dict[str, Any]) -> int:
            mine = sessions.start(owner, outputs["ssmHostInstanceId"])
            if stay is not None:
                alice_in.set()
                stay.wait(timeout=60)
            sessions.end(mine)
            return 0
        return body

    def alice() -> None:
        results["alice"] = hold(stack_control.open_stack("dev"), session_of("alice", ME, alice_may_leave),
                                operator(sessions, ME), say=said["alice"].append)

    thread = threading.Thread(target=alice)
    thread.start()
    assert alice_in.wait(timeout=120)
    bob = hold(stack_control.open_stack("dev"), session_of("bob", COLLEAGUE, None), operator(sessions, COLLEAGUE),
               say=said["bob"].append)
    assert bob == 0
    assert fake.deployed_state() == "awake-on-demand" and fake.world() == AWAKE_WORLD
    assert said["bob"][-1].startswith("stack dev stays awake for sessions: session alice-00 by alice "
                                      "(assumed-role/Operators) on i-dev since ")
    assert said["bob"][-1].endswith("; the last session to end puts it back to sleep")
    alice_may_leave.set()
    thread.join(timeout=120)
    assert results["alice"] == 0
    assert fake.moves() == [("dev", "awake-on-demand"), ("dev", "asleep")]  # one wake, one sleep: no trampling
    assert fake.world() == ASLEEP_WORLD
    assert said["alice"][-1] == "stack dev is asleep, as it was found"


def test_a_stack_woken_for_good_is_not_put_to_sleep_by_a_session(fake: Fake) -> None:
    awake(fake)  # `dev.py wake`: awake until someone runs sleep
    assert hold(stack_control.open_stack("dev"), session_body(fake, [], []), operator()) == 0
    assert fake.ups() == [] and fake.deployed_state() == "awake"


def test_the_last_session_out_of_a_stack_someone_else_woke_puts_it_to_sleep(fake: Fake) -> None:
    awake(fake, state="awake-on-demand")  # a colleague's session woke it and has since ended
    said: list[str] = []
    assert hold(stack_control.open_stack("dev"), session_body(fake, said, []), operator(), say=said.append) == 0
    assert fake.moves() == [("dev", "asleep")] and fake.world() == ASLEEP_WORLD
    assert said[-1] == "stack dev is asleep: the last session has ended (stopped the SSM host; removed 5 interface " \
                       "endpoints)"


def test_sleep_skips_a_stack_someone_is_connected_to_and_says_who(fake: Fake, monkeypatch: pytest.MonkeyPatch,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    awake(fake)
    sessions = use_fakes(monkeypatch, fake)
    sessions.start(COLLEAGUE, "ecs:airgap-dev-bastion_0123abcd_0123abcd-1", "bob-0abc")
    assert main(["sleep", "--stack", "dev"]) == 0
    out = capsys.readouterr().out
    assert "stack dev stays awake: session bob-0abc by bob (assumed-role/Operators) on " \
           "ecs:airgap-dev-bastion_0123abcd_0123abcd-1" in out
    assert "`python3 dev.py sleep --stack dev --force` does so anyway" in out
    assert fake.ups() == [] and fake.world() == AWAKE_WORLD
    assert main(["sleep", "--stack", "dev", "--force"]) == 0
    assert fake.world() == ASLEEP_WORLD


def _three_stacks(fake: Fake) -> None:
    """dev (all in one), and app running on net: all awake at the end of the day."""
    awake(fake)
    fake.edit("net", config={"aws:region": "ap-northeast-1", "airgap:role": "network"}, state="awake",
              world={"endpoints": list(AWAKE_WORLD["endpoints"]), "host": None, "bastion": None})
    fake.edit("app", config={"aws:region": "ap-northeast-1", "airgap:role": "workloads",
                             "airgap:networkStack": "net"}, state="awake",
              world={"endpoints": [], "host": "running", "bastion": 0})


def test_the_nightly_sleep_skips_the_stacks_in_use_and_reports_them(fake: Fake, monkeypatch: pytest.MonkeyPatch,
                                                                    capsys: pytest.CaptureFixture[str],
                                                                    tmp_path: Any) -> None:
    """Someone works late on app: app stays up, and so does net (the session is in its VPC); dev goes to sleep.
    Workload stacks go before the network whatever order the variable lists them in."""
    _three_stacks(fake)
    sessions = use_fakes(monkeypatch, fake, FakeSessions(vpcs={"i-app": "vpc-net"}))
    sessions.start(COLLEAGUE, "i-app", "bob-0late")
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    assert main(["sleep", "--stack", "net", "dev", "app"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[-1] == "asleep: dev; skipped, sessions active: app, net; failed: none"
    assert fake.world("dev") == ASLEEP_WORLD
    assert fake.world("app")["host"] == "running" and fake.world("net")["endpoints"]
    assert [line for line in lines if line.startswith("stack app stays awake") or line.startswith(
        "stack net stays awake")] == [
        f"stack {s} stays awake: session bob-0late by bob (assumed-role/Operators) on i-app since "
        f"{sessions.sessions[0].started:%Y-%m-%d %H:%M} UTC — putting it to sleep would end it. `python3 dev.py sleep "
        f"--stack {s} --force` does so anyway" for s in ("app", "net")]
    assert "skipped, sessions active: app, net" in summary.read_text()
    assert main(["sleep", "--stack", "net", "dev", "app", "--force"]) == 0
    # Workloads first, then the all-in-one, then their network (dev was asleep already: an up makes sure of it).
    assert fake.moves()[-3:] == [("app", "asleep"), ("dev", "asleep"), ("net", "asleep")]
    assert fake.world("net")["endpoints"] == [] and fake.world("app")["host"] == "stopped"


def test_a_failure_on_one_stack_does_not_stop_the_others_and_fails_the_job(fake: Fake,
                                                                         monkeypatch: pytest.MonkeyPatch,
                                                                         capsys: pytest.CaptureFixture[str]) -> None:
    _three_stacks(fake)
    use_fakes(monkeypatch, fake)
    monkeypatch.setenv("FAKE_PULUMI_FAIL", "1:0")  # the first up (app's) fails
    assert main(["sleep", "--stack", "dev", "app", "net"]) == 1
    assert capsys.readouterr().out.splitlines()[-1] == "asleep: dev, net; skipped, sessions active: none; failed: app"
