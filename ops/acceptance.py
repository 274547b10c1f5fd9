"""The live acceptance run, on a real AWS account: what the offline suite cannot prove.

The main run: a fresh stack up (timed), a second preview that changes nothing, first boot `ok`, the fence seen from
inside (no route to the internet; a bucket outside the gateway policy refused), a file written to the share and read
back through the tool's own `session` and through `forward`, PostgreSQL answering through `forward --to database`,
the bastion parked again, flow logs delivered, a
sleep → wake cycle (each timed, and "asleep" checked in AWS), destroy, task definitions deleted, and every leftover
confirmed through its own service. The split run: a network stack, a workload stack on it, the nightly sleep of both,
and the workload stack's preview passing while its network sleeps.

Both need credentials, the Pulumi CLI, the AWS CLI and the Session Manager plugin, and cost money (`cost_per_run`):
tests/test_acceptance_live.py runs them only when AIRGAP_LIVE=1. Everything they talk to is passed in (`Stack`,
`Cloud`, `Tool`, `start_forward`, `fetch`, `probe`), so the order of the steps and the clean-up on every failure are
tested offline (tests/test_acceptance.py); ops/acceptance_aws.py is the real world.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from airgap.naming import BOOT_STATUS, SHARE_MOUNT_POINT, PhysicalNames
from ops.stack_control import plain_outputs
from program.contract import Out

TAG = "airgap-acceptance"
PORT = 8080
# A public object in a bucket the gateway policy does not name (the CloudWatch agent's, in every region: CloudWatch
# User Guide, "Download and configure the CloudWatch agent using the command line"). Through the gateway: 403.
FOREIGN_OBJECT = ("https://amazoncloudwatch-agent-{region}.s3.{region}.amazonaws.com/amazon_linux/arm64/latest/"
                  "amazon-cloudwatch-agent.rpm")


class AcceptanceError(Exception):
    pass


@dataclass(frozen=True)
class Run:
    run_id: str
    region: str
    local_port: int
    project: str = "airgap"
    role: str = ""  # "", or "net" / "app" for the split run's two stacks

    @property
    def stack(self) -> str:
        return f"acc-{self.run_id}" + (f"-{self.role}" if self.role else "")

    @property
    def names(self) -> PhysicalNames:
        return PhysicalNames(self.project, self.stack)

    @property
    def file_name(self) -> str:
        return f"acceptance-{self.run_id}.txt"

    @property
    def content(self) -> str:
        return f"airgap acceptance {self.run_id}\n"

    def part(self, role: str) -> Run:
        return Run(self.run_id, self.region, self.local_port, self.project, role)

    @classmethod
    def new(cls, region: str, local_port: int) -> Run:
        return cls(secrets.token_hex(4), region, local_port)


def config(run: Run) -> dict[str, str]:
    """The stack's config: dev's cheap shape, and a tag on everything so that leftovers can be found."""
    common = {"aws:region": run.region, f"aws:defaultTags.tags.{TAG}": run.run_id,
              "airgap:endpointPlacement": "single-az", "airgap:logRetentionDays": "1"}
    if run.role == "net":
        return {**common, "airgap:role": "network", "airgap:vpcCidr": "10.42.0.0/16"}
    workloads = {"airgap:bastion": "parked", "airgap:bastionForwardPorts[0]": str(PORT)}
    if run.role == "app":
        return {**common, **workloads, "airgap:role": "workloads", "airgap:networkStack": run.part("net").stack}
    return {**common, **workloads, "airgap:database": "true"}


class Stack(Protocol):
    """What the run uses of a Pulumi Automation API stack (pulumi.automation.Stack)."""

    def set_config(self, key: str, value: Any, *, path: bool = False) -> None: ...
    def up(self, *, on_output: Callable[[str], Any]) -> Any: ...
    def preview_changes(self) -> dict[str, int]: ...
    def outputs(self) -> Mapping[str, Any]: ...
    def destroy(self, *, on_output: Callable[[str], Any]) -> Any: ...
    def remove(self) -> None: ...


class Cloud(Protocol):
    def wait_host_ready(self, instance_id: str, timeout: float) -> None: ...
    def run_on_host(self, instance_id: str, script: str, timeout: float) -> str: ...
    def desired_count(self, cluster: str, service: str) -> int: ...
    def flow_log_problems(self, bucket: str, timeout: float) -> list[str]: ...
    def asleep_problems(self, outputs: Mapping[str, Any]) -> list[str]: ...
    def delete_task_definitions(self, run: Run) -> list[str]: ...
    def leftovers(self, run: Run, file_system_arn: str | None) -> list[str]: ...
    def delete_final_snapshot(self, name: str) -> list[str]: ...


class Tool(Protocol):
    """`python3 dev.py <command> ...` as an operator runs it: its exit code and what it printed."""

    def __call__(self, *args: str) -> tuple[int, str]: ...


class Forward(Protocol):
    def running(self) -> bool: ...
    def stop(self) -> int: ...
    def errors(self) -> str: ...


@dataclass
class Report:
    steps: list[str] = field(default_factory=list)
    leftovers: list[str] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)  # up, sleep, wake: as measured on the account


def host_script(run: Run) -> str:
    """Write the file to the share and serve the share on PORT, detached from the SSM command."""
    return (f"set -e; test \"$(cat {BOOT_STATUS})\" = ok; "
            f"printf '%s' '{run.content}' > {SHARE_MOUNT_POINT}/{run.file_name}; "
            f"setsid nohup python3 -m http.server {PORT} --directory {SHARE_MOUNT_POINT} >/dev/null 2>&1 < /dev/null & "
            f"echo served")


def fence_script(run: Run) -> str:
    """From the host: the internet (must not answer) and a bucket outside the gateway policy (must be refused)."""
    return ("curl -s -o /dev/null -m 10 -w '%{http_code}' https://checkip.amazonaws.com; echo \" internet=$?\"; "
            "curl -s -o /dev/null -m 20 -I -w 'foreign-bucket=%{http_code}' "
            + FOREIGN_OBJECT.format(region=run.region))


def fence_problems(answer: str) -> list[str]:
    found = dict(part.split("=", 1) for part in answer.split() if "=" in part)
    problems = []
    if found.get("internet", "0") == "0":
        problems.append(f"the host reached https://checkip.amazonaws.com: there is a route to the internet ({answer})")
    if found.get("foreign-bucket") != "403":
        problems.append(f"a bucket outside the gateway policy answered {found.get('foreign-bucket')!r}, not 403: "
                        "the S3 gateway lets more through than its policy names")
    return problems


class Steps:
    """Names each step as it starts, and times the ones asked for."""

    def __init__(self, run: Run, report: Report, say: Callable[[str], None], clock: Callable[[], float]) -> None:
        self.run, self.report, self.say, self.clock = run, report, say, clock

    def __call__(self, text: str) -> None:
        self.report.steps.append(text)
        self.say(f"[acceptance {self.run.stack}] {text}")

    def timed(self, name: str, action: Callable[[], Any]) -> Any:
        started = self.clock()
        result = action()
        self.report.seconds[name] = self.clock() - started
        self(f"{name} took {self.report.seconds[name]:.0f} s")
        return result


def _tool(tool: Tool, *args: str) -> str:
    code, output = tool(*args)
    if code != 0:
        raise AcceptanceError(f"`python3 dev.py {' '.join(args)}` ended with {code}: {output[-2000:]}")
    return output


def _up(stack: Stack, step: Steps) -> dict[str, Any]:
    step.timed("up", lambda: stack.up(on_output=step.say))
    changes = stack.preview_changes()
    if set(changes) - {"same"}:
        raise AcceptanceError(f"a second preview right after `up` wants changes: {changes} (the program does not "
                              "converge: a property AWS normalises differently, or an input that moves)")
    step("a second preview changes nothing")
    return plain_outputs(stack)


def _inside(run: Run, outputs: Mapping[str, Any], cloud: Cloud, tool: Tool, step: Steps) -> None:
    host = outputs[Out.SSM_HOST_INSTANCE_ID]
    step("wait for the SSM host to be managed and its first boot to finish")
    cloud.wait_host_ready(host, timeout=900)
    step("the fence from inside: no route to the internet; a bucket outside the gateway policy refused")
    problems = fence_problems(cloud.run_on_host(host, fence_script(run), timeout=120))
    if problems:
        raise AcceptanceError("; ".join(problems))
    step("write a file to the share and serve it from the host")
    if "served" not in cloud.run_on_host(host, host_script(run), timeout=300):
        raise AcceptanceError("the host did not start serving the share")
    step("read it back through `python3 dev.py session --command`")
    if run.content.strip() not in _tool(tool, "session", "--stack", run.stack, "--command",
                                        f"cat {SHARE_MOUNT_POINT}/{run.file_name}"):
        raise AcceptanceError("the session through the tool did not show the file")


def _through_forward(run: Run, outputs: Mapping[str, Any], cloud: Cloud,
                     start_forward: Callable[[Mapping[str, Any], Run], Forward], fetch: Callable[[str], bytes],
                     step: Steps, sleep: Callable[[float], None], fetch_timeout: float) -> None:
    step("forward (fills the image, unparks, waits for ECS Exec, port-forwards, parks after)")
    forward = start_forward(outputs, run)
    try:
        body = _fetch_through(forward, run, fetch, step.clock, sleep, fetch_timeout)
    finally:
        code = forward.stop()
    if body != run.content.encode():
        raise AcceptanceError(f"read {body!r} through the bastion, wrote {run.content!r}")
    step(f"read the file back through localhost:{run.local_port}; forward ended with {code}")
    if cloud.desired_count(outputs[Out.BASTION_CLUSTER], outputs[Out.BASTION_SERVICE]) != 0:
        raise AcceptanceError("the bastion is not parked after the last session through it ended")
    step("bastion parked")


def _database_through_forward(run: Run, outputs: Mapping[str, Any], cloud: Cloud,
                               start_forward: Callable[..., Forward], probe: Callable[[int], bytes], step: Steps,
                               sleep: Callable[[float], None], timeout: float) -> None:
    """PostgreSQL's own answer through the tunnel: its reply to an SSLRequest is one byte, S or N (PostgreSQL
    documentation, "Frontend/Backend Protocol", SSL Session Encryption); a paused cluster resumes for it."""
    step("forward --to database (a paused database resumes on the first connection)")
    forward = start_forward(outputs, run, "database")
    try:
        deadline = step.clock() + timeout
        while (answer := _probe_once(forward, run, probe)) not in (b"S", b"N"):
            if step.clock() >= deadline:
                raise AcceptanceError(f"no PostgreSQL answer on localhost:{run.local_port} within {timeout:g} s "
                                      f"(last: {answer!r})")
            sleep(5)
    finally:
        code = forward.stop()
    step(f"PostgreSQL answered {answer!r} through the bastion; forward ended with {code}")
    if cloud.desired_count(outputs[Out.BASTION_CLUSTER], outputs[Out.BASTION_SERVICE]) != 0:
        raise AcceptanceError("the bastion is not parked after the database session ended")


def _probe_once(forward: Forward, run: Run, probe: Callable[[int], bytes]) -> bytes:
    if not forward.running():
        raise AcceptanceError(f"forward --to database ended early: {forward.errors()[-2000:]}")
    try:
        return probe(run.local_port)
    except OSError as err:
        return str(err).encode()


def _sleep_and_wake(run: Run, outputs: Mapping[str, Any], cloud: Cloud, tool: Tool, step: Steps) -> None:
    step.timed("sleep", lambda: _tool(tool, "sleep", "--stack", run.stack))
    problems = cloud.asleep_problems(outputs)
    if problems:
        raise AcceptanceError("asleep, but: " + "; ".join(problems))
    step("asleep: host stopped, no interface endpoint, no task")
    step.timed("wake", lambda: _tool(tool, "wake", "--stack", run.stack))
    step.timed("agent back", lambda: cloud.wait_host_ready(outputs[Out.SSM_HOST_INSTANCE_ID], timeout=900))


def _fetch_through(forward: Forward, run: Run, fetch: Callable[[str], bytes], clock: Callable[[], float],
                   sleep: Callable[[float], None], timeout: float) -> bytes:
    url = f"http://127.0.0.1:{run.local_port}/{run.file_name}"
    deadline = clock() + timeout
    while True:
        if not forward.running():
            raise AcceptanceError(f"forward ended before the file could be read: {forward.errors()[-2000:]}")
        try:
            return fetch(url)
        except OSError:
            if clock() >= deadline:
                raise AcceptanceError(f"nothing answered on {url} within {timeout:g} s") from None
            sleep(5)


def _destroy(runs: list[tuple[Run, Stack]], cloud: Cloud, report: Report, step: Steps,
             file_system_arns: dict[str, str | None], snapshots: dict[str, str] | None = None) -> None:
    """Destroy (the last stack first), delete the task definitions `destroy` only deregisters, and ask each
    service what is left — whatever happened before."""
    try:
        for run, stack in reversed(runs):
            step(f"destroy {run.stack}")
            stack.destroy(on_output=step.say)
            stack.remove()
    finally:
        for run, _ in runs:
            deleted = cloud.delete_task_definitions(run)
            if deleted:
                step(f"deleted task definitions {', '.join(deleted)} (destroy only deregisters them)")
            if (snapshots or {}).get(run.stack):
                report.leftovers += cloud.delete_final_snapshot((snapshots or {})[run.stack])
            report.leftovers += cloud.leftovers(run, file_system_arns.get(run.stack))
        step("leftovers: " + ("none" if not report.leftovers else "; ".join(report.leftovers)))


def acceptance(run: Run, stack: Stack, cloud: Cloud, tool: Tool,
               start_forward: Callable[..., Forward], fetch: Callable[[str], bytes], *,
               probe: Callable[[int], bytes], say: Callable[[str], None] = print,
               clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep,
               fetch_timeout: float = 900) -> Report:
    """The main run, every step in order; destroy and the leftover check run whatever happened before them."""
    report = Report()
    step = Steps(run, report, say, clock)
    arns: dict[str, str | None] = {}
    snapshots: dict[str, str] = {}
    failure: BaseException | None = None
    try:
        step("configure")
        for key, value in config(run).items():
            stack.set_config(key, value, path="." in key or "[" in key)
        outputs = _up(stack, step)
        arns[run.stack] = outputs.get(Out.FILE_SHARE_ARN)
        snapshots[run.stack] = str(outputs.get(Out.DATABASE_FINAL_SNAPSHOT) or "")
        _inside(run, outputs, cloud, tool, step)
        _through_forward(run, outputs, cloud, start_forward, fetch, step, sleep, fetch_timeout)
        _database_through_forward(run, outputs, cloud, start_forward, probe, step, sleep, fetch_timeout)
        step("flow logs delivered, and the bucket policy as the stack wrote it")
        problems = cloud.flow_log_problems(outputs[Out.FLOW_LOG_BUCKET], timeout=1200)
        if problems:
            raise AcceptanceError("; ".join(problems))
        _sleep_and_wake(run, outputs, cloud, tool, step)
    except BaseException as err:  # KeyboardInterrupt included: destroy must still run
        failure = err
    finally:
        _destroy([(run, stack)], cloud, report, step, arns, snapshots)
    return _verdict(report, failure)


def split_acceptance(run: Run, net: Stack, app: Stack, cloud: Cloud, tool: Tool, *, say: Callable[[str], None] = print,
                     clock: Callable[[], float] = time.monotonic) -> Report:
    """A network stack and a workload stack on it: the workload's host registers through the network's endpoints;
    the nightly sleep puts both to sleep (workloads first); the workload stack's preview passes while its network
    sleeps."""
    report = Report()
    step = Steps(run.part("app"), report, say, clock)
    made: list[tuple[Run, Stack]] = []
    failure: BaseException | None = None
    try:
        for part, stack in ((run.part("net"), net), (run.part("app"), app)):
            step(f"configure and up {part.stack}")
            made.append((part, stack))
            for key, value in config(part).items():
                stack.set_config(key, value, path="." in key or "[" in key)
            outputs = _up(stack, step)
        step("the workload stack's host registers through the network stack's endpoints")
        cloud.wait_host_ready(outputs[Out.SSM_HOST_INSTANCE_ID], timeout=900)
        step.timed("nightly sleep of both", lambda: _tool(tool, "sleep", "--stack", run.part("net").stack,
                                                          run.part("app").stack))
        changes = app.preview_changes()
        if set(changes) - {"same"}:
            raise AcceptanceError(f"the workload stack's preview while its network sleeps wants changes: {changes}")
        step("the workload stack previews cleanly while its network sleeps")
    except BaseException as err:
        failure = err
    finally:
        _destroy(made, cloud, report, step, {})
    return _verdict(report, failure)


def _verdict(report: Report, failure: BaseException | None) -> Report:
    if failure is not None:
        raise failure
    if report.leftovers:
        raise AcceptanceError(f"left behind after destroy: {'; '.join(report.leftovers)}")
    return report


def cost_per_run() -> tuple[float, str]:
    """(USD, how), from the plan's own price table and resource lists. The main run keeps dev parked about an hour,
    with the bastion task running most of it, and creates its endpoints twice (up, then wake): a partial
    endpoint-hour bills as a whole one (AWS PrivateLink pricing), so each endpoint bills two hours. The split run
    keeps net and app (parked) for an hour."""
    from offline.cost import Assumptions, estimate
    from offline.harness import capture

    quiet = Assumptions(session_hours=0, endpoint_gb=0, efs_standard_gb=0, logs_gb=0)
    dev = estimate(capture("dev", "update", {"bastion": "parked"}), quiet)
    on = estimate(capture("dev", "update", {"bastion": "on"}), quiet)
    net, app = estimate(capture("net", "update"), quiet), estimate(capture("app", "update"), quiet)
    hour = 1 / 730
    endpoints = dev.by_component.get("endpoints", 0) * hour
    # The database runs (0.5 ACU) from its creation until it pauses, and again for the probe: an hour at most.
    database = dev.per_session_hour.get("database", 0)
    main = dev.total * hour + endpoints + on.by_component.get("bastion", 0) * hour + database
    split = (net.total + app.total) * hour
    usd = main + split
    return usd, (f"main run ${main:.2f} (dev parked 1 h, its endpoints billed 2 h, the bastion task and the database "
                 f"1 h) + split run ${split:.2f} (net and app 1 h), at {dev.priced_as} list prices")
