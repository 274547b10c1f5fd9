"""Asleep, awake, and awake for a session: a stack's state, kept with the deployed stack, changed through Pulumi's
Automation API.

The state is the stack's `state` output, in its backend: program/config.py reads it back on every run, so every
clone, CI job and the nightly workflow see one answer, and a plain `pulumi up` or `preview` keeps it. A move is one
`pulumi up` with AIRGAP_MOVE_TO set for that run only (so `pulumi preview` shows what a move would do):

    asleep            no interface endpoint, host stopped, bastion at 0 tasks; data kept
    awake             as airgap:bastion says, until someone runs `sleep`
    awake-on-demand   woken by a session: the last session to end (or the nightly sleep) puts it back to sleep

Before a stack goes back to sleep, Session Manager is asked who else is connected (ops/leases.py): while another
session is active the stack stays awake, and the tool says who holds it. A stack locked by another update (another
operator's move, a `pulumi up`) is waited on with progress, for at most LOCK_WAIT_SECONDS. Ctrl-C reaches `pulumi`
once (ops/graceful.py); the last line always says which state the stack is in and, if it is between states, the one
command that finishes the move.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar, Protocol, cast

from ops.backend import passphrase_problem
from ops.errors import OpsError
from program.contract import MOVE_VARIABLE, Out, StackState

ROOT = Path(__file__).resolve().parent.parent
# A wake's worst case by the provider's limits (an endpoint's create, then the host's start: 10 min each,
# terraform-provider-aws vpc_endpoint.go and ec2_instance_state.go): a lock held longer is not a move.
LOCK_WAIT_SECONDS = 1200.0
LOCK_POLL_SECONDS = 15.0


class Stack(Protocol):
    """What this module uses of `pulumi.automation.Stack`."""

    name: str
    workspace: Any

    def get_all_config(self) -> Mapping[str, Any]: ...
    def up(self, **kwargs: Any) -> Any: ...
    def outputs(self) -> Mapping[str, Any]: ...


def open_stack(name: str, work_dir: Path | None = None, profile: str | None = None,
               env: Mapping[str, str] = os.environ) -> Stack:
    """Select `name` in the project directory's Pulumi project, with the backend the CLI is logged in to. With a
    profile, every `pulumi` run gets AWS_PROFILE, so the provider uses the same credentials as the AWS calls."""
    from pulumi import automation

    from ops.graceful import graceful_command

    work_dir = work_dir or ROOT
    problem = passphrase_problem(name, work_dir, env)
    if problem is not None:
        raise OpsError(problem)
    try:
        command = graceful_command()
    except FileNotFoundError as err:
        raise OpsError("the pulumi CLI is not installed (https://www.pulumi.com/docs/install/): sleep, wake and "
                       "on-demand sessions drive `pulumi up`") from err
    options = automation.LocalWorkspaceOptions(pulumi_command=command,
                                               env_vars={"AWS_PROFILE": profile} if profile else {})
    try:
        return cast(Stack, automation.select_stack(stack_name=name, work_dir=str(work_dir), opts=options))
    except automation.errors.StackNotFoundError as err:
        raise OpsError(f"no stack {name!r} in this project's backend: `pulumi stack ls` lists them") from err
    except automation.errors.CommandError as err:
        raise OpsError(f"pulumi could not select stack {name!r}: {first_error(err)}") from err


def first_error(err: Exception) -> str:
    """The CLI's own error line, out of a CommandError's " code: / stdout: / stderr:" text."""
    lines = [line.strip().removeprefix("stderr:").strip() for line in str(err).splitlines()]
    lines = [line for line in lines if line]
    errors = [line for line in lines if line.lower().startswith("error")]
    return (errors or lines or ["(no output)"])[-1]


def config(stack: Stack) -> dict[str, str]:
    """The stack's config as plain strings (the Automation API wraps each value in a ConfigValue)."""
    return {k: str(getattr(v, "value", v)) for k, v in stack.get_all_config().items()}


def region(stack: Stack) -> str | None:
    return config(stack).get("aws:region") or None


class HasOutputs(Protocol):
    def outputs(self) -> Mapping[str, Any]: ...


def plain_outputs(stack: HasOutputs) -> dict[str, Any]:
    """The outputs as values: the Automation API wraps each in an OutputValue."""
    return {k: getattr(v, "value", v) for k, v in stack.outputs().items()}


def deployed(stack: Stack) -> tuple[StackState, dict[str, Any]]:
    """The state the stack is in, as its backend records it, and its outputs."""
    outputs = plain_outputs(stack)
    found = outputs.get(Out.STATE)
    if found is None:
        raise OpsError(f"stack {stack.name} has no deployment yet (no `{Out.STATE}` output): `pulumi up --stack "
                       f"{stack.name}` first")
    try:
        return StackState(str(found)), outputs
    except ValueError:
        raise OpsError(f"stack {stack.name} reports state {found!r}, not one of {StackState.forms()}: `pulumi up "
                       f"--stack {stack.name}` with this version of the program") from None


class Progress:
    """Engine events as one line per resource step, with the time since the move began; what changed, for the
    last line."""

    VERBS: ClassVar[dict[str, tuple[str, str]]] = {
        "create": ("creating", "created"), "delete": ("deleting", "deleted"), "update": ("updating", "updated"),
        "replace": ("replacing", "replaced")}

    def __init__(self, say: Callable[[str], None], clock: Callable[[], float] = time.monotonic) -> None:
        self.say, self.clock, self.started = say, clock, clock()
        self.done: list[tuple[str, str]] = []  # (op, type token)
        self.lock_noticed: float | None = None  # when the wait for a lock was last reported

    def stamp(self) -> str:
        seconds = int(self.clock() - self.started)
        return f"[{seconds // 60}:{seconds % 60:02d}]"

    def __call__(self, event: Any) -> None:
        pre, out = getattr(event, "resource_pre_event", None), getattr(event, "res_outputs_event", None)
        found = pre or out
        step = found.metadata if found is not None else None
        if step is not None:
            op = getattr(step.op, "value", str(step.op))
            if op in self.VERBS:
                what = f"{step.type.rsplit(':', 1)[-1]} {step.urn.rsplit('::', 1)[-1]}"
                if out is not None:
                    self.done.append((op, step.type))
                self.say(f"{self.stamp()} {self.VERBS[op][1 if out is not None else 0]} {what}")
        diagnostic = getattr(event, "diagnostic_event", None)
        if diagnostic is not None and diagnostic.severity == "error":
            self.say(f"{self.stamp()} error: {diagnostic.message.strip()}")

    def stopped(self) -> str:
        """What a move to sleep stopped or removed, in words."""
        kinds = {t.rsplit(":", 1)[-1] for op, t in self.done if op == "update"}
        endpoints = sum(1 for op, t in self.done if op == "delete" and t.endswith(":VpcEndpoint"))
        parts = [*(["the SSM host"] if "InstanceState" in kinds else []),
                 *(["the bastion's tasks"] if "Service" in kinds else [])]
        words = [f"stopped {' and '.join(parts)}"] if parts else []
        words += [f"removed {endpoints} interface endpoint{'s' * (endpoints != 1)}"] if endpoints else []
        return "; ".join(words) or "nothing was running"


def move(stack: Stack, to: StackState, say: Callable[[str], None], *, found: StackState | None = None,
         refresh: bool = False, clock: Callable[[], float] = time.monotonic,
         sleep: Callable[[float], None] = time.sleep) -> Progress:
    """One `pulumi up` that moves the stack to `to` (refreshed first: a move to sleep must also stop what was
    started outside Pulumi, which a plain up would not see). Raises OpsError if the up fails, and lets a
    KeyboardInterrupt through once pulumi has stopped."""
    from pulumi.automation.errors import CommandError, ConcurrentUpdateError

    progress = Progress(say, clock)
    say(f"stack {stack.name}: {found.words + ' -> ' if found else ''}{to.words}: pulumi up"
        + (" --refresh" if refresh else ""))
    env = stack.workspace.env_vars
    env[MOVE_VARIABLE] = to.value
    try:
        while True:
            try:
                stack.up(on_event=progress, color="never", refresh=refresh)
                break
            except ConcurrentUpdateError as err:
                _wait_for_lock(stack.name, err, progress, clock, sleep)
            except CommandError as err:
                raise OpsError(f"`pulumi up --stack {stack.name}` failed after {progress.stamp()[1:-1]}: "
                               f"{first_error(err)}") from err
    finally:
        env.pop(MOVE_VARIABLE, None)
    say(f"{progress.stamp()} stack {stack.name} is {to.words} ({len(progress.done)} changes)")
    return progress


def _wait_for_lock(name: str, err: Exception, progress: Progress, clock: Callable[[], float],
                   sleep: Callable[[float], None]) -> None:
    """Another update holds the stack (pulumi fails at once rather than wait: pkg/backend/diy/lock.go, and a 409 from
    Pulumi Cloud). Wait for it, saying so, up to LOCK_WAIT_SECONDS from the start of this move."""
    lines = [line.strip() for line in str(err).splitlines()]
    holder = next((line.split(": ", 1)[-1] for line in lines if "created by" in line), "another update")
    waited = clock() - progress.started
    if waited >= LOCK_WAIT_SECONDS:
        raise OpsError(f"stack {name} is still locked after {LOCK_WAIT_SECONDS / 60:g} min ({holder}). If no update is "
                       f"running any more (a crashed one leaves its lock), `pulumi cancel --stack {name}` removes it")
    if progress.lock_noticed is None or clock() - progress.lock_noticed >= 60:
        progress.lock_noticed = clock()
        progress.say(f"{progress.stamp()} stack {name} is locked by another update ({holder}); waiting, up to "
                     f"{LOCK_WAIT_SECONDS / 60:g} min")
    sleep(LOCK_POLL_SECONDS)


def between(name: str, target: StackState) -> str:
    verb = "sleep" if target.asleep else "wake"
    return (f"stack {name} is between states: the last pulumi up towards {target.words} was interrupted. "
            f"`python3 dev.py {verb} --stack {name}` finishes it")


def now_utc() -> datetime:
    return datetime.now(UTC)
