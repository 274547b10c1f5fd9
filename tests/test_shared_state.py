"""One truth for a stack a team shares, as the program sees it: the state it was last deployed in (read back from the
backend on every run, whichever clone runs it), a move asked for one run only, and an account that never used ECS.
"""

from __future__ import annotations

import pytest
from conftest import captured

from guard.types import CLUSTER, ENDPOINT, INSTANCE_STATE, SERVICE, SERVICE_LINKED_ROLE  # isort: skip
from offline import aws_model
from offline.guard_run import analyze
from offline.harness import Registration, capture
from program.config import ConfigError

pytestmark = pytest.mark.program


def interfaces(run: object) -> list[Registration]:
    return [r for r in run.of_type(ENDPOINT) if r.inputs.get("vpcEndpointType") == "Interface"]  # type: ignore[attr-defined]


@pytest.mark.parametrize("mode", ["preview", "update"])
def test_a_plain_up_keeps_the_state_the_stack_was_deployed_in(mode: str) -> None:
    """The nightly job put dev to sleep; a colleague's `pulumi up` (or deploy.yml) from another clone, whose stack
    file knows nothing of it, plans dev asleep — nothing wakes silently."""
    run = capture("dev", mode, deployed={"state": "asleep"})
    assert run.exports["state"] == "asleep" and interfaces(run) == []
    (power,) = run.of_type(INSTANCE_STATE)
    assert power.inputs["state"] == "stopped"


@pytest.mark.parametrize(("deployed", "move", "state", "host"), [
    ({"state": "asleep"}, "awake", "awake", "running"),
    ({"state": "awake"}, "asleep", "asleep", "stopped"),
    ({"state": "asleep"}, "awake-on-demand", "awake-on-demand", "running"),
    ({"state": "awake-on-demand"}, None, "awake-on-demand", "running"),
    (None, None, "awake", "running"),  # a new stack starts awake
])
def test_only_a_move_changes_the_state(deployed: dict | None, move: str | None, state: str, host: str) -> None:
    run = capture("dev", "update", deployed=deployed, move=move)
    assert run.exports["state"] == state
    assert run.of_type(INSTANCE_STATE)[0].inputs["state"] == host
    assert bool(interfaces(run)) == (state != "asleep")


def test_a_move_that_is_not_a_state_is_one_clear_error_before_anything_registers() -> None:
    sink: list[Registration] = []
    with pytest.raises(ConfigError) as err:
        capture("dev", "preview", move="sleepy", sink=sink)
    assert 'AIRGAP_MOVE_TO = "sleepy": expected one of "awake", "asleep", "awake-on-demand"' in str(err.value)
    assert sink == []


def test_the_retired_asleep_key_says_where_the_state_lives_now() -> None:
    sink: list[Registration] = []
    with pytest.raises(ConfigError) as err:
        capture("dev", "preview", {"asleep": True}, sink=sink)
    (problem,) = err.value.problems
    assert problem.startswith('airgap:asleep = "true": expected no such key: whether a stack is asleep lives with '
                              "the deployed stack")
    assert "pulumi config rm airgap:asleep" in problem and sink == []


# --- an account that never used ECS ---------------------------------------------------------------------------------

@pytest.fixture
def fresh_account(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(aws_model, "MISSING_ROLES", {"AWSServiceRoleForECS"})


@pytest.mark.parametrize("mode", ["preview", "update"])
def test_on_a_fresh_account_the_program_creates_ecs_service_linked_role_before_the_bastion(
        fresh_account: None, mode: str) -> None:
    """"Unable to assume the service linked role" on the first CreateCluster/CreateService of an account: the role
    is created first, the cluster and the service wait for it, and `pulumi destroy` leaves it to the account."""
    run = capture("dev", mode)
    (role,) = run.of_type(SERVICE_LINKED_ROLE)
    assert role.inputs["awsServiceName"] == "ecs.amazonaws.com"
    assert role.retain_on_delete  # account-wide: other ECS users of the account need it after this stack is gone
    for waits in (run.named(CLUSTER, "bastion"), run.named(SERVICE, "bastion")):
        assert role.urn in waits.dependencies, waits.type
    assert run.exports["ecsServiceLinkedRole"] == "created"
    assert analyze(run).mandatory == []


def test_once_created_the_role_stays_declared_so_the_next_plan_changes_nothing() -> None:
    """The second `pulumi up` finds the role (the stack made it): it stays in the plan rather than being dropped."""
    run = capture("dev", "update", deployed={"state": "awake", "ecsServiceLinkedRole": "created"})
    assert len(run.of_type(SERVICE_LINKED_ROLE)) == 1


@pytest.mark.parametrize(("stack", "overrides"), [
    ("dev", {}), ("dev", {"bastion": "off", "database": False}), ("net", {})])
def test_an_account_that_has_the_role_gets_none_and_so_does_a_stack_without_a_bastion(
        stack: str, overrides: dict) -> None:
    assert captured(stack, "update", **overrides).of_type(SERVICE_LINKED_ROLE) == []


def test_without_a_bastion_a_fresh_account_needs_no_role(fresh_account: None) -> None:
    assert capture("dev", "update", {"bastion": "off", "database": False}).of_type(SERVICE_LINKED_ROLE) == []
