"""Moves that respect other operators: `sleep` and `wake`, sessions that wake what they need, and the nightly sleep.

A session on an asleep stack wakes it "on demand" and, when it ends, puts it back to sleep — unless Session Manager
still lists another operator's session on the stack's targets: then the stack stays awake and the last session to
end puts it to sleep. `sleep` (and the nightly job) skip a stack someone is connected to, say who, and go ahead only
with `--force`.

Known window: an operator who has woken a stack but whose session has not started yet is not listed by Session
Manager; a `sleep` in that minute is not stopped by it (the waiting session then fails with the host not connected,
and says so).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from botocore.exceptions import BotoCoreError, ClientError

from ops.aws import refused
from ops.errors import OpsError
from ops.leases import ActiveSession, SessionLister, Targets, holders, listed, own_sessions
from ops.stack_control import Stack, between, deployed, move, now_utc, plain_outputs
from program.contract import Out, StackState

Outcome = Literal["moved", "skipped", "interrupted"]


@dataclass(frozen=True)
class Operator:
    """Who runs the command (the caller's ARN) and how to ask Session Manager who else is connected."""

    identity: str
    sessions: SessionLister


def others(operator: Operator, targets: Targets, since: datetime | None = None) -> list[ActiveSession]:
    """Active sessions on the targets other than this command's own (its caller's, started since `since`)."""
    mine = own_sessions(operator.identity, since) if since is not None else (lambda s: False)
    try:
        return holders(operator.sessions, targets, mine)
    except (ClientError, BotoCoreError) as err:
        why = refused(err) if isinstance(err, ClientError) else None
        raise OpsError(f"cannot ask Session Manager who is connected to stack {targets.stack}: "
                       f"{why or f'AWS said: {err}'}") from err


def settle(stack: Stack, to: StackState, operator: Operator, *, force: bool = False,
           say: Callable[[str], None] = print, clock: Callable[[], float] = time.monotonic,
           sleep: Callable[[float], None] = time.sleep) -> Outcome:
    """`sleep` / `wake`: move the stack to `to` from wherever it is. A move to sleep refreshes first, so it also
    stops a host started by hand or bastion tasks started for sessions, and skips a stack someone is connected to."""
    found, outputs = deployed(stack)
    if to.asleep and not force:
        held = others(operator, Targets.of(stack.name, outputs))
        if held:
            say(f"stack {stack.name} stays {found.words}: {listed(held)} — putting it to sleep would end "
                f"{'it' if len(held) == 1 else 'them'}. `python3 dev.py sleep --stack {stack.name} --force` does so "
                "anyway")
            return "skipped"
    if found == to:
        say(f"stack {stack.name} is {found.words}; running pulumi up to make sure nothing is left between states")
    try:
        progress = move(stack, to, say, found=found, refresh=to.asleep, clock=clock, sleep=sleep)
    except KeyboardInterrupt:
        say(between(stack.name, to))
        return "interrupted"
    if to.asleep:
        say(f"stack {stack.name} is asleep: {progress.stopped()}")
    return "moved"


def hold(stack: Stack, body: Callable[[dict[str, Any]], int], operator: Operator, *, stay_awake: bool = False,
         say: Callable[[str], None] = print, clock: Callable[[], float] = time.monotonic,
         sleep: Callable[[float], None] = time.sleep, check: Callable[[dict[str, Any]], None] | None = None) -> int:
    """Wake the stack for `body` if it is asleep, run `body` with the stack's outputs, and put it back to sleep if it
    is awake only for sessions and no other session holds it. `check` sees the outputs before anything moves."""
    found, outputs = deployed(stack)
    if check is not None:
        check(outputs)
    since = now_utc()
    now: StackState | None = found  # None: between states
    code, error = 1, None  # type: tuple[int, BaseException | None]
    try:
        if found.asleep:
            now = None
            move(stack, StackState.ON_DEMAND, say, found=found, clock=clock, sleep=sleep)
            now = StackState.ON_DEMAND
            outputs = plain_outputs(stack)
        code = body(outputs)
    except KeyboardInterrupt:
        say("airgap: interrupted")
        code = 130
    except Exception as err:  # an OpsError or an AWS error: the stack goes back all the same
        error = err
    last, now, code, error = _put_back(stack, found, now, outputs, operator, since, stay_awake, code, error,
                                       say=say, clock=clock, sleep=sleep)
    say(last)
    if error is not None:
        raise error
    return code


def _put_back(stack: Stack, found: StackState, now: StackState | None, outputs: dict[str, Any], operator: Operator,
              since: datetime, stay_awake: bool, code: int, error: BaseException | None, *,
              say: Callable[[str], None], clock: Callable[[], float],
              sleep: Callable[[float], None]) -> tuple[str, StackState | None, int, BaseException | None]:
    """After the session: (the last line, the state now, the exit code, the error to raise)."""
    name = stack.name
    if now is StackState.ON_DEMAND and stay_awake:
        return (f"stack {name} stays awake for sessions (--stay-awake): the next session to end, or the nightly "
                f"sleep, puts it back to sleep; `python3 dev.py sleep --stack {name}` when done — awake, its "
                "endpoints bill every hour"), now, code, error
    if now is not None and now is not StackState.ON_DEMAND:
        return f"stack {name} is {now.words}, as it was found", now, code, error
    try:
        held = others(operator, Targets.of(name, outputs), since)
    except OpsError as err:
        return f"{err}: stack {name} stays awake; `python3 dev.py sleep --stack {name}` puts it to sleep", now, \
            code, error or err
    if held:
        return (f"stack {name} stays awake for sessions: {listed(held)}; the last session to end puts it back to "
                "sleep"), now, code, error
    try:
        progress = move(stack, StackState.ASLEEP, say, found=now, refresh=True, clock=clock, sleep=sleep)
    except KeyboardInterrupt:
        return between(name, StackState.ASLEEP), None, 130, error
    except Exception as err:
        return between(name, StackState.ASLEEP), None, code, error or err
    if found.asleep:
        return f"stack {name} is asleep, as it was found", StackState.ASLEEP, code, error
    return (f"stack {name} is asleep: the last session has ended ({progress.stopped()})", StackState.ASLEEP, code,
            error)


def sleep_stacks(names: Sequence[str], open_stack: Callable[[str], Stack], operator: Operator, *, force: bool = False,
                 say: Callable[[str], None] = print) -> int:
    """The nightly sleep: workload stacks before the network stacks they run on; a stack someone is connected to is
    skipped and reported (written to the GitHub job summary too, when run there)."""
    stacks = [open_stack(n) for n in names]
    roles = {s.name: str(deployed(s)[1].get(Out.ROLE) or "all") for s in stacks}
    order = sorted(stacks, key=lambda s: {"workloads": 0, "all": 1, "network": 2}.get(roles[s.name], 1))
    done: dict[Outcome | Literal["failed"], list[str]] = {"moved": [], "skipped": [], "interrupted": [], "failed": []}
    for stack in order:
        try:
            done[settle(stack, StackState.ASLEEP, operator, force=force, say=say)].append(stack.name)
        except OpsError as err:
            say(f"airgap: {err}")
            done["failed"].append(stack.name)
        if done["interrupted"]:
            break
    summary = (f"asleep: {', '.join(done['moved']) or 'none'}; skipped, sessions active: "
               f"{', '.join(done['skipped']) or 'none'}; failed: {', '.join(done['failed']) or 'none'}")
    if len(order) > 1:
        say(summary)
    if os.environ.get("GITHUB_STEP_SUMMARY"):
        with Path(os.environ["GITHUB_STEP_SUMMARY"]).open("a", encoding="utf-8") as out:
            out.write(f"### Nightly sleep\n\n{summary}\n")
    return 130 if done["interrupted"] else 1 if done["failed"] else 0
