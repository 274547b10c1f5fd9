"""The live acceptance run's orchestration, offline: every step in order, and destroy plus the leftover check
whatever fails and wherever (the live run itself is tests/test_acceptance_live.py)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest
from conftest import ROOT

from ops.acceptance import (
    AcceptanceError,
    Run,
    acceptance,
    config,
    cost_per_run,
    fence_problems,
    fence_script,
    host_script,
    split_acceptance,
)

pytestmark = pytest.mark.cli

RUN = Run("0badcafe", "ap-northeast-1", 18080)
OUTPUTS = {"ssmHostInstanceId": "i-0123", "bastionCluster": "airgap-acc-0badcafe-bastion",
           "bastionService": "airgap-acc-0badcafe-bastion", "vpcId": "vpc-0123",
           "fileShareArn": "arn:aws:elasticfilesystem:ap-northeast-1:123456789012:file-system/fs-1",
           "flowLogBucket": "airgap-acc-0badcafe-flow-logs-0123",
           "databaseFinalSnapshot": "airgap-acc-0badcafe-database-final"}
FENCED = "000 internet=28 foreign-bucket=403"


class World:
    """Fakes for the stack, the cloud, the ops CLI and the forward process, recording what happens in one list."""

    def __init__(self, fail_at: str | None = None, served: bytes = RUN.content.encode(), parked: bool = True,
                 left: list[str] | None = None, fence: str = FENCED, changes: dict[str, int] | None = None,
                 database: bytes = b"S", snapshot_left: list[str] | None = None) -> None:
        self.events: list[str] = []
        self.fail_at, self.served, self.parked, self.left = fail_at, served, parked, left or []
        self.fence, self.changes = fence, changes or {"same": 40}
        self.database, self.snapshot_left = database, snapshot_left or []
        self.forward_to: list[str] = []
        self.flow_problems: list[str] = []
        self.asleep: list[str] = []
        self.config: dict[str, str] = {}

    def _maybe_fail(self, event: str) -> None:
        self.events.append(event)
        if self.fail_at == event:
            raise (KeyboardInterrupt() if event == "forward-fetch-interrupt" else AcceptanceError(f"{event} failed"))

    # Stack
    def set_config(self, key: str, value: Any, *, path: bool = False) -> None:
        self.config[key] = value

    def up(self, *, on_output: Any) -> None:
        self._maybe_fail("up")

    def preview_changes(self) -> dict[str, int]:
        self.events.append("preview")
        return self.changes

    def outputs(self) -> dict[str, Any]:
        return OUTPUTS

    def destroy(self, *, on_output: Any) -> None:
        self._maybe_fail("destroy")

    def remove(self) -> None:
        self.events.append("remove")

    # Cloud
    def wait_host_ready(self, instance_id: str, timeout: float) -> None:
        self._maybe_fail("host-ready")

    def run_on_host(self, instance_id: str, script: str, timeout: float) -> str:
        if "checkip" in script:
            self._maybe_fail("fence")
            return self.fence
        self._maybe_fail("write-file")
        return "served\n"

    def desired_count(self, cluster: str, service: str) -> int:
        self.events.append("check-parked")
        return 0 if self.parked else 1

    def flow_log_problems(self, bucket: str, timeout: float) -> list[str]:
        self.events.append("flow-logs")
        return self.flow_problems

    def asleep_problems(self, outputs: Mapping[str, Any]) -> list[str]:
        self.events.append("check-asleep")
        return self.asleep

    def delete_task_definitions(self, run: Run) -> list[str]:
        self.events.append("delete-task-definitions")
        return []

    def delete_final_snapshot(self, name: str) -> list[str]:
        self.events.append(f"delete-final-snapshot:{name}")
        return self.snapshot_left

    def leftovers(self, run: Run, file_system_arn: str | None) -> list[str]:
        self.events.append(f"leftovers:{file_system_arn}")
        return self.left

    # The ops CLI
    def tool(self, *args: str) -> tuple[int, str]:
        self._maybe_fail(f"tool-{args[0]}")
        return 0, RUN.content if args[0] == "session" else ""

    # Forward
    def start_forward(self, outputs: Mapping[str, Any], run: Run, to: str = "ssm-host") -> World:
        assert outputs["bastionCluster"] == OUTPUTS["bastionCluster"]
        self.forward_to.append(to)
        self._maybe_fail("forward-start" if to == "ssm-host" else f"forward-start:{to}")
        return self

    def running(self) -> bool:
        return True

    def stop(self) -> int:
        self.events.append("forward-stop")
        return 130

    def errors(self) -> str:
        return ""

    def probe(self, port: int) -> bytes:
        assert port == RUN.local_port
        self._maybe_fail("database-probe")
        return self.database

    def fetch(self, url: str) -> bytes:
        assert url == f"http://127.0.0.1:{RUN.local_port}/{RUN.file_name}"
        self._maybe_fail("forward-fetch")
        self._maybe_fail("forward-fetch-interrupt")
        return self.served


def go(world: World) -> Any:
    return acceptance(RUN, world, world, world.tool, world.start_forward, world.fetch, probe=world.probe,
                      say=lambda _: None, sleep=lambda _: None, clock=iter(range(0, 10**6, 60)).__next__)


MAIN = ["up", "preview", "host-ready", "fence", "write-file", "tool-session", "forward-start", "forward-fetch",
        "forward-fetch-interrupt", "forward-stop", "check-parked", "forward-start:database", "database-probe",
        "forward-stop", "check-parked", "flow-logs", "tool-sleep", "check-asleep", "tool-wake", "host-ready",
        "destroy", "remove", "delete-task-definitions", f"delete-final-snapshot:{OUTPUTS['databaseFinalSnapshot']}",
        f"leftovers:{OUTPUTS['fileShareArn']}"]


def test_a_clean_run_does_every_step_in_order_and_finds_nothing_left() -> None:
    world = World()
    report = go(world)
    assert world.events == MAIN
    assert report.leftovers == []
    assert set(report.seconds) == {"up", "sleep", "wake", "agent back"}  # measured on the account, reported
    assert world.config["airgap:bastion"] == "parked"
    assert world.config["aws:defaultTags.tags.airgap-acceptance"] == RUN.run_id  # leftovers are found by this tag


@pytest.mark.parametrize("fail_at", ["up", "host-ready", "fence", "write-file", "tool-session", "forward-start",
                                     "forward-fetch", "forward-fetch-interrupt", "forward-start:database",
                                     "database-probe", "tool-sleep", "tool-wake"])
def test_destroy_and_the_leftover_check_run_whatever_fails(fail_at: str) -> None:
    world = World(fail_at=fail_at)
    with pytest.raises((AcceptanceError, KeyboardInterrupt)):
        go(world)
    end = world.events[world.events.index("destroy"):]
    assert end[:3] == ["destroy", "remove", "delete-task-definitions"] and end[-1].startswith("leftovers:")
    if fail_at.startswith("forward-fetch"):
        assert "forward-stop" in world.events  # the session is ended (and parks) before destroy


def test_a_failed_destroy_still_asks_what_is_left() -> None:
    world = World(fail_at="destroy", left=["ECR repository airgap-acc-0badcafe/bastion"])
    with pytest.raises(AcceptanceError, match="destroy failed"):
        go(world)
    assert world.events[-1].startswith("leftovers:")


def test_wrong_content_through_the_bastion_fails_the_run() -> None:
    with pytest.raises(AcceptanceError, match="read b'nope' through the bastion"):
        go(World(served=b"nope"))


def test_a_bastion_left_running_fails_the_run() -> None:
    with pytest.raises(AcceptanceError, match="not parked"):
        go(World(parked=False))


def test_a_second_preview_that_wants_changes_fails_the_run() -> None:
    with pytest.raises(AcceptanceError, match=r"a second preview right after `up` wants changes: .*update"):
        go(World(changes={"same": 39, "update": 1}))


@pytest.mark.parametrize(("fence", "problem"), [
    ("200 internet=0 foreign-bucket=403", "there is a route to the internet"),
    ("000 internet=28 foreign-bucket=200", "a bucket outside the gateway policy answered '200', not 403"),
])
def test_a_hole_in_the_fence_fails_the_run(fence: str, problem: str) -> None:
    with pytest.raises(AcceptanceError, match=problem):
        go(World(fence=fence))
    assert fence_problems(FENCED) == []


def test_the_fence_script_asks_the_internet_and_a_bucket_the_gateway_does_not_name() -> None:
    script = fence_script(RUN)
    assert "https://checkip.amazonaws.com" in script
    assert "amazoncloudwatch-agent-ap-northeast-1.s3.ap-northeast-1.amazonaws.com" in script


def test_a_stack_that_does_not_sleep_in_aws_fails_the_run() -> None:
    world = World()
    world.asleep = ["the SSM host is running"]
    with pytest.raises(AcceptanceError, match="asleep, but: the SSM host is running"):
        go(world)
    assert "destroy" in world.events


def test_flow_logs_that_never_arrive_fail_the_run_and_still_destroy() -> None:
    world = World()
    world.flow_problems = ["no flow log records reached s3://b/AWSLogs/ within 1200 s"]
    with pytest.raises(AcceptanceError, match="no flow log records"):
        go(world)
    assert "destroy" in world.events


def test_the_split_run_puts_both_to_sleep_previews_the_workloads_and_destroys_workloads_first() -> None:
    net, app = World(), World()
    cloud = World()
    split_acceptance(RUN, net, app, cloud, cloud.tool, say=lambda _: None)
    assert net.events == ["up", "preview", "destroy", "remove"]
    assert app.events == ["up", "preview", "preview", "destroy", "remove"]  # the last preview: net asleep
    assert cloud.events[:2] == ["host-ready", "tool-sleep"]
    assert app.config["airgap:networkStack"] == "acc-0badcafe-net" and net.config["airgap:role"] == "network"
    assert cloud.events.count("delete-task-definitions") == 2


def test_anything_left_after_destroy_fails_the_run() -> None:
    with pytest.raises(AcceptanceError, match="left behind after destroy: log group /airgap-acc-0badcafe/bastion"):
        go(World(left=["log group /airgap-acc-0badcafe/bastion"]))


def test_the_run_config_is_a_valid_stack_for_the_program(cap) -> None:
    """The acceptance stack's name and config pass the program's own validation (a bad one would fail on AWS)."""
    from airgap.naming import NAME_PATTERN

    assert NAME_PATTERN.fullmatch(RUN.stack)
    overrides = {k.split(":", 1)[1]: v for k, v in config(RUN).items()
                 if k.startswith("airgap:") and "[" not in k}
    run = cap("dev", "preview", **overrides, bastionForwardPorts=[8080])
    assert run.of_type("aws:ecs/service:Service")


def test_the_host_script_refuses_to_serve_before_first_boot_finished() -> None:
    script = host_script(RUN)
    assert script.startswith('set -e; test "$(cat /var/lib/airgap/first-boot)" = ok;')
    assert f"/mnt/share/{RUN.file_name}" in script and "http.server 8080 --directory /mnt/share" in script


def test_the_readme_states_the_cost_per_run_the_price_table_gives() -> None:
    usd, how = cost_per_run()
    readme = (ROOT / "README.md").read_text()
    assert f"about ${usd:.2f} per run" in readme, (usd, how)


def test_the_main_run_has_the_database_and_reaches_it_through_the_bastion() -> None:
    world = World()
    go(world)
    assert world.config["airgap:database"] == "true"
    assert world.forward_to == ["ssm-host", "database"]
    assert "airgap:database" not in config(RUN.part("net")) and "airgap:database" not in config(RUN.part("app"))


def test_no_postgresql_answer_through_the_tunnel_fails_the_run_and_still_parks_and_destroys() -> None:
    world = World(database=b"")
    with pytest.raises(AcceptanceError, match="no PostgreSQL answer on localhost:18080"):
        go(world)
    after = world.events[world.events.index("forward-start:database"):]
    assert "forward-stop" in after and "destroy" in after


def test_a_final_snapshot_that_cannot_be_deleted_is_a_leftover() -> None:
    with pytest.raises(AcceptanceError, match="left behind after destroy: the database's final snapshot"):
        go(World(snapshot_left=["the database's final snapshot airgap-acc-0badcafe-database-final (Boom)"]))
