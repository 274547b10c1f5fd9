"""Asleep, awake, and awake just for a session: a stack's state changed through Pulumi's Automation API.

A stack is in one of these states, each set by config and reached by an ordinary `pulumi up` (so `pulumi preview`
shows every change first):

    asleep              airgap:asleep=true   no interface endpoint, host stopped, bastion at 0 tasks
    awake, bastion off    asleep=false, bastion=off      endpoints for the host only
    awake, bastion parked asleep=false, bastion=parked   all endpoints; the service at 0, unparked for sessions
    awake, bastion on     asleep=false, bastion=on       all endpoints; one task all the time

`sleep` and `wake` move a stack between asleep and awake. `session` and `bastion forward` move it to what the
session needs (awake; for forward, a bastion at least parked), run the session, and move it back to the state they
found — unless told to stay awake. Each move is one `pulumi up` of the project directory's program with the changed
config, its progress streamed with the elapsed time.

Ctrl-C: the `pulumi` process runs in a session of its own, so the terminal's Ctrl-C reaches only this process, which
passes exactly one interrupt on. Pulumi then cancels gracefully — operations in flight finish and are recorded, none
is abandoned half-done — and the state file stays consistent. A second Ctrl-C is not passed on (Pulumi would then
terminate at once and could leave pending operations for `pulumi refresh` to sort out). After an interrupted wake,
or a session that ends, the stack is moved back; whatever happens, the last line says which state it is in and, if
it is between states, the one command that finishes the move.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, ClassVar, Protocol

from ops.bastion import OpsError

ROOT = Path(__file__).resolve().parent.parent
ASLEEP = "airgap:asleep"
BASTION = "airgap:bastion"


@dataclass(frozen=True)
class State:
    asleep: bool
    bastion: str  # off | parked | on

    @classmethod
    def from_config(cls, config: Mapping[str, str]) -> State:
        return cls(asleep=str(config.get(ASLEEP, "false")).lower() == "true",
                   bastion=str(config.get(BASTION, "parked")))

    def config(self) -> dict[str, str]:
        return {ASLEEP: "true" if self.asleep else "false", BASTION: self.bastion}

    def __str__(self) -> str:
        return "asleep" if self.asleep else f"awake, bastion {self.bastion}"


def for_host_session(found: State) -> State:
    """What a session on the SSM host needs: the stack awake (the bastion as it was)."""
    return replace(found, asleep=False)


def for_forward(found: State) -> State:
    """What a forward through the bastion needs: awake, with a bastion service (parked is enough: forward unparks)."""
    return State(asleep=False, bastion="parked" if found.bastion == "off" else found.bastion)


class Stack(Protocol):
    """What this module uses of `pulumi.automation.Stack`."""

    name: str

    def get_all_config(self) -> Mapping[str, Any]: ...
    def set_config(self, key: str, value: Any, *, path: bool = False) -> None: ...
    def up(self, **kwargs: Any) -> Any: ...
    def outputs(self) -> Mapping[str, Any]: ...


def _graceful_command() -> Any:
    """A `PulumiCommand` whose `pulumi` runs in its own session, with Ctrl-C passed on once (see the module doc)."""
    from pulumi.automation import CommandResult, PulumiCommand
    from pulumi.automation.errors import create_command_error

    class GracefulCommand(PulumiCommand):
        def run(self, args: list[str], cwd: str, additional_env: Mapping[str, str],
                on_output: Callable[[str], Any] | None = None,
                on_error: Callable[[str], Any] | None = None) -> CommandResult:
            if "--non-interactive" not in args:
                args = ["--non-interactive", *args]
            env = {**os.environ, **additional_env, "PULUMI_AUTOMATION_API": "true"}
            process = subprocess.Popen([self.command, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                       cwd=cwd, env=env, encoding="utf-8", start_new_session=True)
            chunks: dict[str, list[str]] = {"out": [], "err": []}

            def pump(stream: Any, key: str, callback: Callable[[str], Any] | None) -> None:
                for line in iter(stream.readline, ""):
                    chunks[key].append(line.rstrip())
                    if callback:
                        callback(line.rstrip())
                stream.close()

            readers = [threading.Thread(target=pump, args=(process.stdout, "out", on_output), daemon=True),
                       threading.Thread(target=pump, args=(process.stderr, "err", on_error), daemon=True)]
            for reader in readers:
                reader.start()
            interrupted = False
            while True:
                try:
                    process.wait()
                    break
                except KeyboardInterrupt:
                    if not interrupted:
                        interrupted = True
                        process.send_signal(signal.SIGINT)
                        print("airgap: Ctrl-C: pulumi is cancelling — operations in flight finish and are recorded",
                              flush=True)
                    else:
                        print("airgap: still waiting for pulumi to finish cancelling (a second interrupt is not "
                              "passed on: it could leave operations half-done)", flush=True)
            for reader in readers:
                reader.join()
            result = CommandResult(stdout="\n".join(chunks["out"]), stderr="\n".join(chunks["err"]),
                                   code=process.returncode)
            if interrupted:
                raise KeyboardInterrupt
            if process.returncode != 0:
                raise create_command_error(result)
            return result

    return GracefulCommand()


def open_stack(name: str, work_dir: Path = ROOT) -> Stack:
    """Select `name` in the project directory's Pulumi project (Pulumi.yaml there), with its own backend login."""
    from pulumi import automation

    try:
        command = _graceful_command()
    except FileNotFoundError as err:
        raise OpsError("the pulumi CLI is not installed (https://www.pulumi.com/docs/install/): sleep, wake and "
                       "on-demand sessions drive `pulumi up`") from err
    try:
        return automation.select_stack(stack_name=name, work_dir=str(work_dir),
                                       opts=automation.LocalWorkspaceOptions(pulumi_command=command))
    except automation.errors.StackNotFoundError as err:
        raise OpsError(f"no stack {name!r} in this project's backend: `pulumi stack ls` lists them") from err
    except automation.errors.CommandError as err:
        raise OpsError(f"pulumi could not select stack {name!r}: {_first_error(err)}") from err


def _first_error(err: Exception) -> str:
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


def network_stack(stack: Stack) -> str | None:
    """The network stack a workload stack runs on (airgap:networkStack), if any."""
    return config(stack).get("airgap:networkStack") or None


def current_state(stack: Stack) -> State:
    return State.from_config(config(stack))


def plain_outputs(stack: Stack) -> dict[str, Any]:
    return {k: getattr(v, "value", v) for k, v in stack.outputs().items()}


class Progress:
    """Engine events as one line per resource step, with the time since the `up` began."""

    VERBS: ClassVar[dict[str, tuple[str, str]]] = {
        "create": ("creating", "created"), "delete": ("deleting", "deleted"), "update": ("updating", "updated"),
        "replace": ("replacing", "replaced")}

    def __init__(self, say: Callable[[str], None], clock: Callable[[], float] = time.monotonic) -> None:
        self.say, self.clock, self.started = say, clock, clock()
        self.done = 0

    def stamp(self) -> str:
        seconds = int(self.clock() - self.started)
        return f"[{seconds // 60}:{seconds % 60:02d}]"

    def __call__(self, event: Any) -> None:
        pre, out = getattr(event, "resource_pre_event", None), getattr(event, "res_outputs_event", None)
        step = (pre or out).metadata if (pre or out) else None
        if step is not None:
            op = getattr(step.op, "value", str(step.op))
            if op in self.VERBS:
                what = f"{step.type.rsplit(':', 1)[-1]} {step.urn.rsplit('::', 1)[-1]}"
                if out is not None:
                    self.done += 1
                self.say(f"{self.stamp()} {self.VERBS[op][1 if out is not None else 0]} {what}")
        diagnostic = getattr(event, "diagnostic_event", None)
        if diagnostic is not None and diagnostic.severity == "error":
            self.say(f"{self.stamp()} error: {diagnostic.message.strip()}")


def move(stack: Stack, found: State, wanted: State, say: Callable[[str], None],
         clock: Callable[[], float] = time.monotonic) -> None:
    """Set the config keys that differ and run one `pulumi up`. Raises OpsError if the up fails and lets a
    KeyboardInterrupt through once pulumi has stopped."""
    from pulumi.automation import ConfigValue
    from pulumi.automation.errors import CommandError

    for key, value in wanted.config().items():
        if found.config()[key] != value:
            stack.set_config(key, ConfigValue(value=value))
    progress = Progress(say, clock)
    say(f"stack {stack.name}: {found} -> {wanted}: pulumi up")
    try:
        stack.up(on_event=progress, color="never")
    except CommandError as err:
        raise OpsError(f"`pulumi up --stack {stack.name}` failed after {progress.stamp()[1:-1]}: "
                       f"{_first_error(err)}") from err
    say(f"{progress.stamp()} stack {stack.name} is {wanted} ({progress.done} changes)")


def settle(stack: Stack, target: State, say: Callable[[str], None],
           clock: Callable[[], float] = time.monotonic) -> int:
    """`sleep` / `wake`: move the stack to `target` (asleep or awake with its bastion mode) from wherever it is."""
    found = current_state(stack)
    if found == target:
        # Still an up: a previous interrupted move may have left resources between states.
        say(f"stack {stack.name} is set to {found}; running pulumi up to make sure nothing is left between states")
    try:
        move(stack, found, target, say, clock)
    except KeyboardInterrupt:
        say(between(stack.name, target))
        return 130
    return 0


def between(name: str, target: State) -> str:
    verb = "sleep" if target.asleep else "wake"
    return (f"stack {name} is between states: its config says {target}, but the last pulumi up was interrupted. "
            f"`python3 dev.py {verb} --stack {name}` finishes it")


def hold(stack: Stack, need: Callable[[State], State], body: Callable[[dict[str, Any]], int], *,
         stay_awake: bool = False, say: Callable[[str], None] = print,
         clock: Callable[[], float] = time.monotonic, before: Callable[[], None] | None = None) -> int:
    """Move the stack to what `body` needs, run it with the stack's outputs, and move it back to the state it was
    found in (unless `stay_awake`, and only if the move there completed). Ctrl-C anywhere ends here too.
    `before` checks what can be checked without AWS resources (tools, credentials) before anything is woken."""
    if before is not None:
        before()
    found = current_state(stack)
    wanted = need(found)
    now: State | None = found  # None: between states
    target = found
    code, error = 1, None
    try:
        if wanted != found:
            target, now = wanted, None
            move(stack, found, wanted, say, clock)
            now = wanted
        code = body(plain_outputs(stack))
    except KeyboardInterrupt:
        say("airgap: interrupted")
        code = 130
    except Exception as err:  # an OpsError or an AWS error: the stack goes back all the same
        error = err
    if now != found and (now is None or not stay_awake):
        target = found
        try:
            move(stack, now or wanted, found, say, clock)
            now = found
        except KeyboardInterrupt:
            now, code = None, 130
        except Exception as err:
            now, error = None, error or err
    if now is None:
        say(between(stack.name, target))
    elif now == found:
        say(f"stack {stack.name} is {now}, as it was found")
    else:
        say(f"stack {stack.name} stays {now} (--stay-awake): `python3 dev.py sleep --stack {stack.name}` when done "
            "— awake, its endpoints bill every hour")
    if error is not None:
        raise error
    return code
