"""One command to a port-forwarded session through the Fargate bastion, one to park it, one to fill its image.

forward, in this order, so that nothing costs money before everything that can be checked has been:
1. read the stack's outputs; check --host/--port against what the bastion may reach, --local-port is free;
2. check the AWS CLI, the Session Manager plugin, the profile and the credentials;
3. make sure the bastion's image is in the stack's repository (copy it in, or say exactly what to run) — a task
   whose image is missing would stop with CannotPullContainerError, and the session would time out;
4. unpark the service if it is parked (desired count 1); wait until a task is RUNNING with its ExecuteCommandAgent
   RUNNING; build `ecs:<cluster>_<taskId>_<runtimeId>`;
5. run `aws ssm start-session --document-name AWS-StartPortForwardingSessionToRemoteHost`, retrying for
   `CONNECT_RETRY_SECONDS` while Session Manager still answers TargetNotConnected: an agent reported RUNNING has
   started, but needs a few more seconds to register its channel (aws/amazon-ecs-agent #4562,
   aws-containers/amazon-ecs-exec-checker #43);
6. when the session ends — also after an error or Ctrl-C — park a bastion that is parked by config (or any, with
   --park-after), unless Session Manager lists another operator's session on its tasks: then the last one parks it.

A desired count changed here is a change Pulumi does not know of: a plain `pulumi up` compares the program with its
recorded state, not with AWS, so it leaves the count as this tool set it; `pulumi up --refresh` reads AWS first and
puts the count back to what airgap:bastion says.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import boto3
import requests
from botocore.config import Config

from airgap.image_reference import EcrImage, Reference
from airgap.naming import BASTION_CONTAINER
from airgap.operator_access import PORT_FORWARD_DOCUMENT
from ops.aws import check_credentials, check_tools
from ops.errors import OpsError
from ops.image import ImageError, TargetRepository, copy_image, registry_session
from ops.leases import ActiveSession, AwsSessions, SessionLister, Targets, holders, listed, own_sessions
from ops.outputs import DatabaseInfo, Stack

# TargetNotConnected right after the agent reports RUNNING: AWS documents no figure for how long the agent takes to
# register its channel (ECS Exec's own readiness check, amazon-ecs-exec-checker, has none either); users report
# seconds to a minute (aws/amazon-ecs-agent #4562, amazon-ecs-exec-checker #43). 90 s covers a cold agent.
CONNECT_RETRY_SECONDS = 90.0
CONNECT_RETRY_PAUSE = 3.0

# The layer upload is many calls: standard retry mode backs off on throttling and transient errors.
ECR_RETRIES = Config(retries={"mode": "standard", "max_attempts": 8})


@dataclass(frozen=True)
class Route:
    host: str
    port: int
    local_port: int
    name: str = ""  # the target's name: "ssm-host", "database"


def choose_route(stack: Stack, host: str | None, port: int | None, local_port: int | None,
                 port_free: Callable[[int], bool]) -> Route:
    """Check --host, --port and --local-port against what the bastion may reach, before anything costs money."""
    reachable = "; ".join(f"{t.name} ({t.address}) on {', '.join(map(str, t.ports))}" for t in stack.targets) \
        or "nothing: no forwarding target is configured (airgap:bastionForwardPorts is empty, no database)"
    if not stack.targets:
        raise OpsError(f"the bastion may reach {reachable}. Fix: `pulumi config set --path "
                       f"'airgap:bastionForwardPorts[0]' 8080 --stack {stack.name} && pulumi up --stack {stack.name}`")
    if host is None:
        target = stack.targets[0]
    else:
        found = [t for t in stack.targets if host in (t.address, t.name)]
        if not found:
            raise OpsError(f"--to {host}: not something the bastion may forward to; its security group may reach only "
                           f"{reachable}")
        target = found[0]
    chosen = target.ports[0] if port is None else port
    if chosen not in target.ports:
        allowed = ", ".join(map(str, target.ports))
        raise OpsError(f"--port {chosen}: the bastion may reach {target.name} only on {allowed} "
                       "(airgap:bastionForwardPorts for the SSM host; 22 and 3389 are never allowed — Session Manager "
                       "replaces SSH and RDP)")
    local = chosen if local_port is None else local_port
    if not 1 <= local <= 65535:
        raise OpsError(f"--local-port {local}: expected a TCP port from 1 to 65535 on this machine")
    if not port_free(local):
        raise OpsError(f"--local-port {local}: something on this machine already listens there; pass another "
                       "--local-port")
    return Route(target.address, chosen, local, target.name)


def local_port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def describe_service(ecs: Any, stack: Stack) -> dict[str, Any]:
    found = ecs.describe_services(cluster=stack.cluster, services=[stack.service])["services"]
    if not found or found[0].get("status") == "INACTIVE":
        raise OpsError(f"service {stack.service} not found in cluster {stack.cluster}: run `pulumi up --stack "
                       f"{stack.name}`")
    return found[0]


def set_desired(ecs: Any, stack: Stack, count: int) -> None:
    ecs.update_service(cluster=stack.cluster, service=stack.service, desiredCount=count)


# --- the image -----------------------------------------------------------------------------------------------------

def ensure_image(stack: Stack, session: boto3.Session, *, fill: bool, http: requests.Session,
                 say: Callable[[str], None]) -> None:
    """Make sure the task's image is in its repository before a task is asked for: copy it in (from this
    machine, which has internet) or say exactly what to run."""
    if not stack.image:
        return
    image = EcrImage.parse(stack.image)
    if image is None:
        raise OpsError(f"stack output bastionImage {stack.image!r} is not a private ECR image URI: run `pulumi up "
                       f"--stack {stack.name}` with this version of the program")
    name = image.repository
    target = TargetRepository(session.client("ecr", config=ECR_RETRIES), name, image.account)
    try:
        present = target.has_digest(image.digest) if image.digest else target.tagged(image.image_id["imageTag"])
    except ImageError as err:
        raise OpsError(str(err)) from err
    if present:
        return
    if not stack.image_source:
        raise OpsError(f"the bastion's image {stack.image} is not in its registry, so a task would stop with "
                       "CannotPullContainerError: push it there first (it is airgap:bastionImage, maintained by you)")
    if not fill:
        raise OpsError(f"the bastion's image is not in {name} yet, so a task would stop with CannotPullContainerError "
                       f"and the session would time out. Fill it from this machine: `python3 dev.py bastion image "
                       f"--stack {stack.name}`")
    try:
        copy_image(Reference.parse(stack.image_source), target, http, platform=stack.image_platform, say=say)
    except ImageError as err:
        raise OpsError(f"could not copy the bastion's image: {err}") from err
    except requests.RequestException as err:
        raise OpsError(f"could not reach {stack.image_source} from this machine to copy the bastion's image: "
                       f"{err.__class__.__name__}: {err}") from err


def image(stack: Stack, session: boto3.Session, http: requests.Session, say: Callable[[str], None] = print) -> None:
    check_credentials(session)
    if not stack.image_source:
        raise OpsError(f"stack '{stack.name}' uses its own image ({stack.image}): nothing to copy")
    ensure_image(stack, session, fill=True, http=http, say=say)
    say(f"{stack.image} is in place")


# --- the session -------------------------------------------------------------------------------------------------

def _agent_status(task: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """(runtime id of the bastion container, status of its ExecuteCommandAgent)."""
    containers = task.get("containers") or []
    container = next((c for c in containers if c.get("name") == BASTION_CONTAINER), containers[0] if containers else {})
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


def session_command(target: str, stack: Stack, route: Route, profile: str | None) -> list[str]:
    parameters = {"host": [route.host], "portNumber": [str(route.port)], "localPortNumber": [str(route.local_port)]}
    return ["aws", "ssm", "start-session", "--region", stack.region, *(["--profile", profile] if profile else []),
            "--target", target, "--document-name", PORT_FORWARD_DOCUMENT, "--parameters", json.dumps(parameters)]


def _run_echoing_stderr(command: list[str], popen: Callable[..., Any]) -> tuple[int, str]:
    """Run with the terminal's stdin/stdout (the plugin prints its "Waiting for connections" there), and stderr
    passed through line by line while kept, so that a TargetNotConnected answer can be recognised."""
    process = popen(command, stderr=subprocess.PIPE, text=True)
    seen: list[str] = []

    def pump() -> None:
        for line in process.stderr:
            seen.append(line)
            sys.stderr.write(line)
            sys.stderr.flush()

    reader = threading.Thread(target=pump, daemon=True)
    reader.start()
    code = process.wait()
    reader.join(timeout=5)
    return code, "".join(seen)


def start_session(command: list[str], *, popen: Callable[..., Any] = subprocess.Popen,
                  clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep,
                  say: Callable[[str], None] = print) -> int:
    """Start the session, retrying while Session Manager says the just-started agent is not connected yet."""
    deadline = clock() + CONNECT_RETRY_SECONDS
    while True:
        code, errors = _run_echoing_stderr(command, popen)
        if code == 0 or "TargetNotConnected" not in errors:
            return code
        if clock() >= deadline:
            raise OpsError(f"Session Manager still answers TargetNotConnected {CONNECT_RETRY_SECONDS:g} s after the "
                           "ECS Exec agent reported RUNNING: the agent cannot reach ssmmessages (endpoint, 443 rules, "
                           "task role). `pulumi preview --policy-pack policy` checks all three")
        say(f"the agent is not connected yet; trying again in {CONNECT_RETRY_PAUSE:g} s")
        sleep(CONNECT_RETRY_PAUSE)


@dataclass(frozen=True)
class ForwardOptions:
    host: str | None = None
    port: int | None = None
    local_port: int | None = None
    timeout: float = 300
    poll: float = 5
    park_after: bool = False  # park whatever airgap:bastion says (an "on" bastion too)
    keep_unparked: bool = False  # leave it running for more sessions (--stay-awake)
    fill_image: bool = True
    profile: str | None = None


def forward(stack: Stack, session: boto3.Session, options: ForwardOptions, *, http: requests.Session | None = None,
            say: Callable[[str], None] = print, which: Callable[[str], str | None] = shutil.which,
            popen: Callable[..., Any] = subprocess.Popen,
            port_free: Callable[[int], bool] = local_port_free, sessions: SessionLister | None = None) -> int:
    route = choose_route(stack, options.host, options.port, options.local_port, port_free)
    check_tools(which)
    identity = check_credentials(session)
    started = datetime.now(UTC)
    ecs = session.client("ecs")
    service = describe_service(ecs, stack)
    if service.get("enableExecuteCommand") is False:
        raise OpsError(f"ECS Exec is disabled on {stack.service}, so the session would fail with TargetNotConnected: "
                       f"`pulumi up --stack {stack.name}` with this project enables it")
    ensure_image(stack, session, fill=options.fill_image, http=http or registry_session(), say=say)
    found = int(service.get("desiredCount", 0))
    try:
        if found == 0:
            say(f"unparking {stack.service} (desired count 1) as {identity}")
            set_desired(ecs, stack, 1)
        say(f"waiting for a task with a running ECS Exec agent (up to {options.timeout:g} s)")
        target = wait_ready(ecs, stack, options.timeout, options.poll)
        say(f"forwarding localhost:{route.local_port} -> {route.host}:{route.port} through {target}")
        if route.name == "database" and stack.database is not None:
            for line in connect_lines(stack, stack.database, route, options.profile):
                say(line)
        return start_session(session_command(target, stack, route, options.profile), popen=popen, say=say)
    finally:
        _after_session(stack, ecs, options, found, sessions or AwsSessions(session), own_sessions(identity, started),
                       say)


def _after_session(stack: Stack, ecs: Any, options: ForwardOptions, found: int, sessions: SessionLister,
                   mine: Callable[[ActiveSession], bool], say: Callable[[str], None]) -> None:
    """Park the bastion the session needed, unless someone else is still forwarding through it."""
    if options.keep_unparked or not (options.park_after or stack.mode == "parked"):
        if found == 0:
            say(f"{stack.service} stays unparked (desired count 1) and bills Fargate time until parked: "
                f"`python3 dev.py bastion park --stack {stack.name}`")
        return
    held = holders(sessions, Targets.bastion(stack.name, stack.cluster), mine)
    if held:
        say(f"{stack.service} stays unparked: {listed(held)}; the last session to end parks it")
        return
    say(f"parking {stack.service} (desired count 0; it was {found} before this command)")
    set_desired(ecs, stack, 0)


def park(stack: Stack, session: boto3.Session, say: Callable[[str], None] = print, *, force: bool = False,
         sessions: SessionLister | None = None) -> None:
    check_credentials(session)
    ecs = session.client("ecs")
    describe_service(ecs, stack)
    held = [] if force else holders(sessions or AwsSessions(session),
                                    Targets.bastion(stack.name, stack.cluster))
    if held:
        raise OpsError(f"{stack.service} not parked: {listed(held)} — parking would end it. `python3 dev.py bastion "
                       f"park --stack {stack.name} --force` parks it anyway")
    set_desired(ecs, stack, 0)
    say(f"parked {stack.service}: desired count 0 (a running task stops within a minute)")


def connect_lines(stack: Stack, db: DatabaseInfo, route: Route, profile: str | None) -> list[str]:
    """A ready `psql` line for a forwarded database, with the password from the secret RDS keeps, and the same
    with an IAM authentication token (signed for the database's own name and port, not for localhost)."""
    aws = f"aws --region {stack.region}" + (f" --profile {profile}" if profile else "")
    dsn = (f"host={db.endpoint} hostaddr=127.0.0.1 port={route.local_port} dbname={db.name} sslmode=require")
    password = (f"{aws} secretsmanager get-secret-value --secret-id {db.secret_arn} --query SecretString "
                "--output text | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"password\"])'")
    token = f"{aws} rds generate-db-auth-token --hostname {db.endpoint} --port {db.port} --username <user>"
    return [
        "the database resumes on the first connection: about 15 s, 30 s or more after a day paused",
        f'connect:  PGPASSWORD="$({password})" psql "{dsn} user={db.user}"',
        f'with IAM authentication (a user granted rds_iam):  PGPASSWORD="$({token})" psql "{dsn} user=<user>"',
        "(hostaddr sends the connection to the tunnel while host names the database; with the RDS CA bundle, "
        "sslmode=verify-full sslrootcert=global-bundle.pem checks its certificate too)",
    ]
