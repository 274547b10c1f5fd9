"""One command to a port-forwarded session through the Fargate bastion, and one to park it again.

forward: read the stack's outputs; check the AWS CLI, the Session Manager plugin and credentials (before anything
costs money); unpark the service if it is parked (desired count 1); wait until a task is RUNNING with its
ExecuteCommandAgent RUNNING; build `ecs:<cluster>_<taskId>_<runtimeId>`; run
`aws ssm start-session --document-name AWS-StartPortForwardingSessionToRemoteHost`.
park: desired count 0.

A later `pulumi up` sets the desired count back to what airgap:bastion says: config stays the source of truth; this
tool only moves a stack between its configured state and a session.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

CONTAINER = "bastion"
DOCUMENT = "AWS-StartPortForwardingSessionToRemoteHost"
PLUGIN_DOCS = "https://docs.aws.amazon.com/systems-manager/latest/userguide/session-manager-working-with-install-plugin.html"


class OpsError(Exception):
    """Something the operator can fix; the message says what and how."""


@dataclass(frozen=True)
class Stack:
    name: str
    region: str
    cluster: str
    service: str
    host: str | None
    ports: tuple[int, ...]


def load_outputs(stack: str, outputs_file: Path | None, run: Callable[..., Any] = subprocess.run) -> dict[str, Any]:
    """The stack's outputs: from a file saved with `pulumi stack output --json`, or from the pulumi CLI."""
    if outputs_file is not None:
        try:
            return json.loads(outputs_file.read_text())
        except (OSError, ValueError) as err:
            raise OpsError(f"cannot read stack outputs from {outputs_file}: {err}") from err
    try:
        done = run(["pulumi", "stack", "output", "--json", "--stack", stack], capture_output=True, text=True)
    except FileNotFoundError as err:
        raise OpsError("the pulumi CLI is not installed: install it, or save the outputs elsewhere with "
                       "`pulumi stack output --json > outputs.json` and pass --outputs outputs.json") from err
    if done.returncode != 0:
        raise OpsError(f"`pulumi stack output --stack {stack}` failed: {done.stderr.strip() or done.stdout.strip()}")
    return json.loads(done.stdout or "{}")


def read_stack(name: str, outputs: Mapping[str, Any]) -> Stack:
    missing = [k for k in ("region", "bastionCluster", "bastionService") if not outputs.get(k)]
    if missing:
        raise OpsError(f"stack output {', '.join(repr(m) for m in missing)} missing from stack '{name}': the bastion "
                       "is off there (airgap:bastion=off) or the stack was never deployed. Fix: "
                       f"`pulumi config set airgap:bastion parked --stack {name} && pulumi up --stack {name}`")
    return Stack(name, outputs["region"], outputs["bastionCluster"], outputs["bastionService"],
                 outputs.get("ssmHostPrivateIp"), tuple(int(p) for p in outputs.get("bastionForwardPorts") or ()))


def check_tools(which: Callable[[str], str | None] = shutil.which) -> None:
    if which("aws") is None:
        raise OpsError("the AWS CLI (`aws`) is not on PATH: install AWS CLI v2")
    if which("session-manager-plugin") is None:
        raise OpsError(f"the Session Manager plugin for the AWS CLI is not installed: see {PLUGIN_DOCS}")


def check_credentials(session: boto3.Session) -> str:
    try:
        return session.client("sts").get_caller_identity()["Arn"]
    except NoCredentialsError as err:
        raise OpsError("no AWS credentials: run `aws configure sso` / `aws sso login`, or export a profile "
                       "(AWS_PROFILE) for the stack's account") from err
    except (ClientError, BotoCoreError) as err:
        raise OpsError(f"AWS refused the credentials: {err}") from err


def describe_service(ecs: Any, stack: Stack) -> dict[str, Any]:
    found = ecs.describe_services(cluster=stack.cluster, services=[stack.service])["services"]
    if not found or found[0].get("status") == "INACTIVE":
        raise OpsError(f"service {stack.service} not found in cluster {stack.cluster}: run `pulumi up --stack "
                       f"{stack.name}`")
    return found[0]


def set_desired(ecs: Any, stack: Stack, count: int) -> None:
    ecs.update_service(cluster=stack.cluster, service=stack.service, desiredCount=count)


def _agent_status(task: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """(runtime id of the bastion container, status of its ExecuteCommandAgent)."""
    containers = task.get("containers") or []
    container = next((c for c in containers if c.get("name") == CONTAINER), containers[0] if containers else {})
    agents = [a for a in container.get("managedAgents") or [] if a.get("name") == "ExecuteCommandAgent"]
    return container.get("runtimeId"), agents[0].get("lastStatus") if agents else None


def wait_ready(ecs: Any, stack: Stack, timeout: float, poll: float,
               clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep) -> str:
    """Wait for a RUNNING task whose ExecuteCommandAgent is RUNNING; return the Session Manager target."""
    deadline = clock() + timeout
    seen_running = False
    while True:
        arns = ecs.list_tasks(cluster=stack.cluster, serviceName=stack.service, desiredStatus="RUNNING")["taskArns"]
        tasks = ecs.describe_tasks(cluster=stack.cluster, tasks=arns)["tasks"] if arns else []
        for task in tasks:
            if task.get("lastStatus") != "RUNNING":
                continue
            seen_running = True
            runtime_id, agent = _agent_status(task)
            if agent == "RUNNING" and runtime_id:
                return f"ecs:{stack.cluster}_{task['taskArn'].rsplit('/', 1)[-1]}_{runtime_id}"
        if clock() >= deadline:
            raise OpsError(_why_not_ready(ecs, stack, timeout, seen_running))
        sleep(poll)


def _why_not_ready(ecs: Any, stack: Stack, timeout: float, seen_running: bool) -> str:
    if seen_running:
        return (f"a task is RUNNING but its ECS Exec agent did not start within {timeout:g} s. Likely causes: the "
                "ssmmessages endpoint is missing or the task cannot reach it on 443 (endpoint group ingress, task "
                "egress), or the task role lacks ssmmessages:CreateControlChannel/CreateDataChannel/"
                "OpenControlChannel/OpenDataChannel. `python3 dev.py plan --stack "
                f"{stack.name}` shows both; `pulumi preview --policy-pack policy` checks them")
    stopped = ecs.list_tasks(cluster=stack.cluster, serviceName=stack.service, desiredStatus="STOPPED")["taskArns"]
    reasons = [t.get("stoppedReason", "") for t in
               (ecs.describe_tasks(cluster=stack.cluster, tasks=stopped[:5])["tasks"] if stopped else [])]
    reasons = [r for r in reasons if r]
    if any("CannotPull" in r or "ResourceInitializationError" in r for r in reasons):
        return (f"tasks stopped before running: {reasons[0]}. Likely cause: the image cannot be pulled — the "
                "ecr.api, ecr.dkr or logs endpoints are missing, or the task lacks 443 egress to the S3 prefix list")
    if reasons:
        return f"tasks stopped before running: {reasons[0]}"
    return (f"no task reached RUNNING within {timeout:g} s: check the service's events with `aws ecs "
            f"describe-services --cluster {stack.cluster} --services {stack.service}`")


def start_session(target: str, stack: Stack, host: str, port: int, local_port: int,
                  run: Callable[..., Any] = subprocess.run) -> int:
    parameters = {"host": [host], "portNumber": [str(port)], "localPortNumber": [str(local_port)]}
    command = ["aws", "ssm", "start-session", "--region", stack.region, "--target", target,
               "--document-name", DOCUMENT, "--parameters", json.dumps(parameters)]
    return run(command).returncode


def forward(stack: Stack, session: boto3.Session, *, host: str | None, port: int | None, local_port: int | None,
            timeout: float, poll: float, park_after: bool, say: Callable[[str], None] = print,
            which: Callable[[str], str | None] = shutil.which, run: Callable[..., Any] = subprocess.run) -> int:
    host = host or stack.host
    port = port or (stack.ports[0] if stack.ports else None)
    if not host:
        raise OpsError("no host to forward to: pass --host, or run the SSM host (airgap:ssmHost=true)")
    if not port:
        raise OpsError("no port to forward: pass --port, or set airgap:bastionForwardPorts (and pulumi up)")
    check_tools(which)
    identity = check_credentials(session)
    ecs = session.client("ecs")
    service = describe_service(ecs, stack)
    if service.get("enableExecuteCommand") is False:
        raise OpsError(f"ECS Exec is disabled on {stack.service} (seed 001's TargetNotConnected): `pulumi up "
                       f"--stack {stack.name}` with this project enables it")
    unparked = False
    if service.get("desiredCount", 0) == 0:
        say(f"unparking {stack.service} (desired count 1) as {identity}")
        set_desired(ecs, stack, 1)
        unparked = True
    try:
        say(f"waiting for a task with a running ECS Exec agent (up to {timeout:g} s)")
        target = wait_ready(ecs, stack, timeout, poll)
        say(f"forwarding localhost:{local_port or port} -> {host}:{port} through {target}")
        return start_session(target, stack, host, port, local_port or port, run)
    finally:
        if park_after and unparked:
            say(f"parking {stack.service} again (desired count 0)")
            set_desired(ecs, stack, 0)


def park(stack: Stack, session: boto3.Session, say: Callable[[str], None] = print) -> None:
    check_credentials(session)
    ecs = session.client("ecs")
    describe_service(ecs, stack)
    set_desired(ecs, stack, 0)
    say(f"parked {stack.service}: desired count 0 (a running task stops within a minute)")
