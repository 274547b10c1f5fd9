"""A stand-in for the `pulumi` CLI, at the process boundary the Automation API drives: the commands it runs
(version, stack select, config, up, stack output, stack history), their arguments, output and exit codes, and the
engine events `up` streams (to an `--event-log` file, or over gRPC to `tcp://…` as CLIs after 3.205 do).

Per stack it keeps what the backend records (`recorded`: the resources as Pulumi last saw them, and the outputs,
`state` among them) apart from what AWS has (`world`), so a change made outside Pulumi (a bastion unparked, a host
started by hand) is drift that only `up --refresh` sees. `up` moves both to what the program would declare: the state
is AIRGAP_MOVE_TO when set, else the recorded one (as program/config.py reads it back), one step at a time in the
engine's order. A stack with a `lock` fails `up` at once with the self-managed backend's lock message. Knobs, from
the environment:

    FAKE_PULUMI_STATE       the JSON file holding stacks, config, world, and every call made
    FAKE_PULUMI_VERSION     what `pulumi version` prints (default 3.272.0, which streams events over gRPC)
    FAKE_PULUMI_INTERRUPT   "N:K": during the N-th `up`, after K steps, send SIGINT to the parent — a Ctrl-C
    FAKE_PULUMI_FAIL        "N:K": the N-th `up` fails at step K+1 with an AWS error

On SIGINT `up` does what the real CLI does on the first Ctrl-C: it finishes the step in flight, records it, and
exits non-zero with "update canceled".
"""

from __future__ import annotations

import contextlib
import copy
import fcntl
import functools
import json
import os
import queue
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

STATE = Path(os.environ["FAKE_PULUMI_STATE"])
PROJECT = "airgap"


def _interfaces(needs: Any, but: tuple[str, ...] = ()) -> list[str]:
    """A workload's interface endpoints, in catalogue order, as the program derives them."""
    from airgap.catalog import ENDPOINT_SERVICES

    return [n for n, s in ENDPOINT_SERVICES.items()
            if s.kind == "Interface" and n in needs.endpoints and n not in but]


@functools.cache
def _workload_endpoints() -> tuple[list[str], list[str]]:
    """(the host's, the bastion's extra) interface endpoints; asked only by `up`, so other commands start fast."""
    from airgap import FargateBastion, SsmHost

    host = _interfaces(SsmHost.needs())
    return host, _interfaces(FargateBastion.needs(), but=tuple(host))


MOVE = "AIRGAP_MOVE_TO"
LOCKED = ("error: the stack is currently locked by 1 lock(s). Either wait for the other process(es) to end or "
          "delete the lock file with `pulumi cancel`.\n  file:///backend/.pulumi/locks/{stack}/1.json: created by "
          "{holder}")


@contextlib.contextmanager
def transaction() -> Iterator[dict[str, Any]]:
    """The state file, read and written under an exclusive lock: several fake CLIs may run at once."""
    with open(f"{STATE}.lock", "a") as guard:
        fcntl.flock(guard, fcntl.LOCK_EX)
        state = json.loads(STATE.read_text())
        yield state
        STATE.write_text(json.dumps(state, indent=1))


def mutate(change: Callable[[dict[str, Any]], Any]) -> Any:
    with transaction() as state:
        return change(state)


def option(args: list[str], name: str) -> str | None:
    return args[args.index(name) + 1] if name in args else None


def recorded(entry: dict[str, Any]) -> dict[str, Any]:
    """What the backend records of the stack's resources: AWS as it was at the last up (or refresh)."""
    return entry.setdefault("recorded", copy.deepcopy(entry["world"]))


def wanted_world(config: dict[str, str], state: str) -> dict[str, Any]:
    asleep = state == "asleep"
    bastion = config.get("airgap:bastion", "parked")
    role = config.get("airgap:role", "all")
    host, bastion_extra = _workload_endpoints()
    endpoints = [] if asleep or role == "workloads" else host + (bastion_extra if bastion != "off" else [])
    if role == "network":
        return {"endpoints": endpoints, "host": None, "bastion": None}
    return {"endpoints": endpoints, "host": "stopped" if asleep else "running",
            "bastion": None if bastion == "off" else (1 if bastion == "on" and not asleep else 0)}


def outputs(stack: str, entry: dict[str, Any]) -> dict[str, Any]:
    config, seen = entry["config"], recorded(entry)
    role = config.get("airgap:role", "all")
    out: dict[str, Any] = {"region": config.get("aws:region", "ap-northeast-1"), "role": role,
                           "state": entry.get("state", "awake"), "endpointServices": seen["endpoints"]}
    if role != "workloads":
        out["vpcId"] = f"vpc-{stack}"
    if seen["host"] is not None:
        out.update({"ssmHostInstanceId": f"i-{stack}", "ssmHostPrivateIp": "10.40.0.10"})
    if seen["bastion"] is not None:
        out.update({"bastionCluster": f"{PROJECT}-{stack}-bastion", "bastionService": f"{PROJECT}-{stack}-bastion",
                    "bastionMode": config.get("airgap:bastion", "parked"),
                    "bastionTargets": [{"name": "ssm-host", "address": "10.40.0.10", "ports": [8080]}]})
    return out


def steps(world: dict[str, Any], wanted: dict[str, Any]) -> list[tuple[str, str, str, Any]]:
    """(op, type, name, change) in the engine's order: creates, then the host and the service, deletes last."""
    plan: list[tuple[str, str, str, Any]] = []
    if world["bastion"] is None and wanted["bastion"] is not None:
        plan.append(("create", "aws:ecs/service:Service", "bastion", ("bastion", wanted["bastion"])))
    plan += [("create", "aws:ec2/vpcEndpoint:VpcEndpoint", e, ("endpoint+", e))
             for e in wanted["endpoints"] if e not in world["endpoints"]]
    if world["host"] != wanted["host"]:
        plan.append(("update", "aws:ec2transitgateway/instanceState:InstanceState", "ssm-host",
                     ("host", wanted["host"])))
    if world["bastion"] is not None and wanted["bastion"] is not None and world["bastion"] != wanted["bastion"]:
        plan.append(("update", "aws:ecs/service:Service", "bastion", ("bastion", wanted["bastion"])))
    plan += [("delete", "aws:ec2/vpcEndpoint:VpcEndpoint", e, ("endpoint-", e))
             for e in world["endpoints"] if e not in wanted["endpoints"]]
    if world["bastion"] is not None and wanted["bastion"] is None:
        plan.append(("delete", "aws:ecs/service:Service", "bastion", ("bastion", None)))
    return plan


def apply(world: dict[str, Any], change: tuple[str, Any]) -> None:
    kind, value = change
    if kind == "endpoint+":
        world["endpoints"].append(value)
    elif kind == "endpoint-":
        world["endpoints"].remove(value)
    elif kind == "host":
        world["host"] = value
    elif kind == "bastion":
        world["bastion"] = value


class Events:
    """Engine events, as they happen: appended to the event-log file, or streamed over gRPC (pulumirpc.Events)."""

    def __init__(self, target: str | None) -> None:
        self.target, self.sequence = target, 0
        self.queue: queue.Queue[str | None] = queue.Queue()
        self.stream: threading.Thread | None = None
        if target and target.startswith("tcp://"):
            self.stream = threading.Thread(target=self._stream, daemon=True)
            self.stream.start()

    def _stream(self) -> None:
        import grpc
        from pulumi.runtime.proto import events_pb2, events_pb2_grpc

        def requests() -> Iterator[Any]:
            while (line := self.queue.get()) is not None:
                yield events_pb2.EventRequest(event=line)

        assert self.target is not None
        with grpc.insecure_channel(self.target[len("tcp://"):]) as channel:
            events_pb2_grpc.EventsStub(channel).StreamEvents(requests())

    def send(self, body: dict[str, Any]) -> None:
        self.sequence += 1
        line = json.dumps({"sequence": self.sequence, "timestamp": int(time.time()), **body})
        if self.stream is not None:
            self.queue.put(line)
        elif self.target:
            with open(self.target, "a", encoding="utf-8") as f:
                f.write(line + "\n")

    def close(self) -> None:
        if self.stream is not None:
            self.queue.put(None)
            self.stream.join(timeout=10)


class Cancel:
    requested = False

    @classmethod
    def on_sigint(cls, *_: Any) -> None:
        cls.requested = True


def _begin(stack: str, args: list[str]) -> tuple[int, list[tuple[str, str, str, Any]]] | str:
    """Take the stack's lock and plan the steps; or the lock holder, when another update has it."""
    def begin(state: dict[str, Any]) -> tuple[int, list[tuple[str, str, str, Any]]] | str:
        entry = state["stacks"][stack]
        if entry.get("lock"):
            return str(entry["lock"])
        state["ups"] = state.get("ups", 0) + 1
        entry["lock"] = f"fake-up-{state['ups']}@host (pid {os.getpid()})"
        if "--refresh" in args:  # read AWS first: drift becomes what Pulumi knows
            entry["recorded"] = copy.deepcopy(entry["world"])
        entry["state"] = os.environ.get(MOVE) or entry.get("state", "awake")
        return state["ups"], steps(recorded(entry), wanted_world(entry["config"], entry["state"]))
    return mutate(begin)


def up(stack: str, args: list[str]) -> int:
    signal.signal(signal.SIGINT, Cancel.on_sigint)
    begun = _begin(stack, args)
    if isinstance(begun, str):
        print(LOCKED.format(stack=stack, holder=begun), file=sys.stderr)
        return 255
    number, plan = begun
    interrupt = os.environ.get("FAKE_PULUMI_INTERRUPT", "")
    fail = os.environ.get("FAKE_PULUMI_FAIL", "")
    events = Events(option(args, "--event-log"))
    events.send({"preludeEvent": {"config": {}}})
    done = 0

    def finish(result: str) -> None:
        def end(state: dict[str, Any]) -> None:
            state["stacks"][stack].pop("lock", None)
            state["stacks"][stack]["last"] = result
        mutate(end)

    for op, type_, name, change in plan:
        if fail and fail.split(":")[0] == str(number) and done == int(fail.split(":")[1]):
            events.send({"diagnosticEvent": {"severity": "error", "message": f"creating {name}: "
                                             "operation error EC2: CreateVpcEndpoint, api error Throttling"}})
            events.close()
            finish("failed")
            print(f"error: update failed: creating {name}: api error Throttling", file=sys.stderr)
            return 255
        urn = f"urn:pulumi:{stack}::{PROJECT}::{type_}::{name}"
        meta = {"op": op, "urn": urn, "type": type_, "provider": ""}
        events.send({"resourcePreEvent": {"metadata": meta}})
        mutate(lambda state, c=change: [apply(state["stacks"][stack][k], c) for k in ("world", "recorded")])
        events.send({"resOutputsEvent": {"metadata": meta}})
        done += 1
        if interrupt and interrupt.split(":")[0] == str(number) and done == int(interrupt.split(":")[1]):
            os.kill(os.getppid(), signal.SIGINT)  # the operator's Ctrl-C, reaching the driving process
            for _ in range(200):  # the driver passes it on
                if Cancel.requested:
                    break
                time.sleep(0.01)
        if Cancel.requested:
            break
    events.send({"summaryEvent": {"resourceChanges": {"update": done}, "durationSeconds": 1}})
    events.close()
    finish("canceled" if Cancel.requested else "succeeded")
    if Cancel.requested:
        print("error: update canceled", file=sys.stderr)
        return 255
    print(f"Resources: {done} changed")
    return 0


def main(argv: list[str]) -> int:
    args = [a for a in argv if a != "--non-interactive"]
    mutate(lambda state: state.setdefault("calls", []).append(
        {"args": args, "env": {k: os.environ[k] for k in (MOVE, "AWS_PROFILE") if k in os.environ}}))
    if args[:1] == ["version"]:
        print("v" + os.environ.get("FAKE_PULUMI_VERSION", "3.272.0"))
        return 0
    stack = option(args, "--stack")
    stacks = mutate(lambda state: state["stacks"])
    if stack not in stacks:
        print(f"error: no stack named '{stack}' found", file=sys.stderr)
        return 255
    entry = stacks[stack]
    if args[:2] == ["stack", "select"]:
        return 0
    if args[:1] == ["config"] and "--json" in args:
        print(json.dumps({k: {"value": v, "secret": False} for k, v in entry["config"].items()}))
        return 0
    if args[:1] == ["up"]:
        return up(stack, args)
    if args[:2] == ["stack", "output"]:
        print(json.dumps(outputs(stack, entry) if "state" in entry or "recorded" in entry else {}))
        return 0
    if args[:2] == ["stack", "history"]:
        now = time.strftime("%Y-%m-%dT%H:%M:%S.000000Z", time.gmtime())
        print(json.dumps([{"kind": "update", "startTime": now, "endTime": now, "message": "", "environment": {},
                           "config": {}, "result": entry.get("last", "succeeded"),
                           "version": mutate(lambda s: s.get("ups", 0))}]))
        return 0
    print(f"fake pulumi: unsupported command {args}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
