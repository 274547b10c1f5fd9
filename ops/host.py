"""A Session Manager shell on the SSM host, once Session Manager says the host can take one.

"Connected" is AWS's own answer: ssm:GetConnectionStatus "retrieves the Session Manager connection status for a
managed node to determine whether it is running and ready to receive Session Manager connections" (AWS Systems
Manager API Reference, GetConnectionStatus). After a start its agent needs the ssm and ssmmessages endpoints and
a minute or two to register again.
"""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import time
from collections.abc import Callable, Mapping
from typing import Any

import boto3

from ops.aws import check_credentials, check_tools
from ops.errors import OpsError
from program.contract import Out


def wait_connected(ssm: Any, instance_id: str, timeout: float, poll: float = 5,
                   clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep,
                   say: Callable[[str], None] = print) -> None:
    deadline = clock() + timeout
    said = False
    while True:
        status = ssm.get_connection_status(Target=instance_id).get("Status")
        if status == "connected":
            return
        if clock() >= deadline:
            raise OpsError(f"Session Manager still says {instance_id} is {status} after {timeout:g} s. Likely causes: "
                           "the ssm or ssmmessages endpoint is missing, the endpoint group does not admit 443 from the "
                           "host, or the host's role lacks AmazonSSMManagedInstanceCore — `pulumi preview "
                           "--policy-pack policy` checks all three. First boot's log: the stack output ssmHostBootLog")
        if not said:
            say(f"waiting for {instance_id} to connect to Session Manager (up to {timeout:g} s)")
            said = True
        sleep(poll)


# Runs one command in a session and ends it: an AWS-owned Session document (parameter `command`).
COMMAND_DOCUMENT = "AWS-StartNonInteractiveCommand"


def session_command(region: str, instance_id: str, profile: str | None, command: str | None = None,
                    document: str | None = None) -> list[str]:
    """A shell under the stack's own preferences document (logged, encrypted, run as its user), or one command."""
    if command:
        how = ["--document-name", COMMAND_DOCUMENT, "--parameters", json.dumps({"command": [command]})]
    else:
        how = ["--document-name", document] if document else []
    return ["aws", "ssm", "start-session", "--region", region, *(["--profile", profile] if profile else []),
            "--target", instance_id, *how]


def run_interactive(command: list[str], popen: Callable[..., Any] = subprocess.Popen) -> int:
    """An interactive shell: the plugin puts the terminal in raw mode and sends Ctrl-C to the remote shell. Should
    a SIGINT reach this process anyway, it must not end the session under the user, so it is ignored until the
    session ends (set after the child started, so the child keeps the default)."""
    process = popen(command)
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        return process.wait()
    finally:
        signal.signal(signal.SIGINT, previous)


def require_host(outputs: Mapping[str, Any], stack: str) -> str:
    """The SSM host's instance id, or the error that says how to get one."""
    instance_id = outputs.get(Out.SSM_HOST_INSTANCE_ID)
    if not instance_id:
        raise OpsError(f"stack {stack} has no SSM host (stack output {Out.SSM_HOST_INSTANCE_ID}): `pulumi config set "
                       f"airgap:ssmHost true --stack {stack}`")
    return str(instance_id)


def host_session(outputs: Mapping[str, Any], session: boto3.Session, *, stack: str, profile: str | None = None,
                 timeout: float = 600, command: str | None = None, say: Callable[[str], None] = print,
                 which: Callable[[str], str | None] = shutil.which,
                 run: Callable[[list[str]], int] = run_interactive,
                 clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep) -> int:
    instance_id = require_host(outputs, stack)
    check_tools(which)
    check_credentials(session)
    wait_connected(session.client("ssm"), instance_id, timeout, clock=clock, sleep=sleep, say=say)
    say(f"running `{command}` on {instance_id}" if command else f"session on {instance_id} (exit the shell to end it)")
    document = str(outputs.get(Out.SESSION_DOCUMENT) or "") or None
    return run(session_command(str(outputs[Out.REGION]), instance_id, profile, command, document))
