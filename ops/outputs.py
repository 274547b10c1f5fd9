"""A deployed stack's outputs, as the ops commands read them: from the pulumi CLI or a file saved from it."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ops.errors import OpsError
from program.contract import Out


@dataclass(frozen=True)
class Target:
    """A host the bastion's security group may connect to, and on which ports."""

    name: str
    address: str
    ports: tuple[int, ...]


@dataclass(frozen=True)
class DatabaseInfo:
    """How to log in to the stack's database once a port is forwarded to it."""

    endpoint: str
    port: int
    name: str
    user: str
    secret_arn: str


@dataclass(frozen=True)
class Stack:
    name: str
    region: str
    cluster: str
    service: str
    targets: tuple[Target, ...] = ()
    image: str | None = None
    image_source: str | None = None
    image_platform: str = "linux/arm64"
    mode: str = "parked"  # airgap:bastion as deployed: parked services are parked again after sessions
    database: DatabaseInfo | None = None


def load_outputs(stack: str, outputs_file: Path | None, run: Callable[..., Any] = subprocess.run) -> dict[str, Any]:
    """The stack's outputs: from a file saved with `pulumi stack output --json`, or from the pulumi CLI."""
    if outputs_file is not None:
        try:
            text = outputs_file.read_text()
        except OSError as err:
            raise OpsError(f"cannot read stack outputs from {outputs_file}: {err.strerror or err}") from err
        return _outputs_json(text, f"{outputs_file}", "save them with `pulumi stack output --json > outputs.json`")
    try:
        done = run(["pulumi", "stack", "output", "--json", "--stack", stack], capture_output=True, text=True)
    except FileNotFoundError as err:
        raise OpsError("the pulumi CLI is not installed: install it, or save the outputs elsewhere with "
                       "`pulumi stack output --json > outputs.json` and pass --outputs outputs.json") from err
    if done.returncode != 0:
        first = (done.stderr.strip() or done.stdout.strip() or f"exit code {done.returncode}").splitlines()[0]
        raise OpsError(f"`pulumi stack output --stack {stack}` failed: {first}")
    return _outputs_json(done.stdout or "{}", f"`pulumi stack output --json --stack {stack}`",
                         "check that the Pulumi CLI prints JSON (no banner or plugin messages on stdout)")


def _outputs_json(text: str, where: str, fix: str) -> dict[str, Any]:
    try:
        outputs = json.loads(text)
    except json.JSONDecodeError as err:
        raise OpsError(f"the stack outputs from {where} are not JSON ({err.msg} at line {err.lineno}): {fix}") \
            from err
    if not isinstance(outputs, dict):
        raise OpsError(f"the stack outputs from {where} are not a JSON object: {fix}")
    return outputs


def read_stack(name: str, outputs: Mapping[str, Any]) -> Stack:
    missing = [k for k in ("region", "bastionCluster", "bastionService") if not outputs.get(k)]
    if missing:
        raise OpsError(f"stack output {', '.join(repr(m) for m in missing)} missing from stack '{name}': the bastion "
                       "is off there (airgap:bastion=off) or the stack was never deployed. Fix: "
                       f"`pulumi config set airgap:bastion parked --stack {name} && pulumi up --stack {name}`")
    try:
        targets = tuple(Target(str(t["name"]), str(t["address"]), tuple(int(p) for p in t["ports"]))
                        for t in outputs.get(Out.BASTION_TARGETS) or [])
    except (KeyError, TypeError, ValueError) as err:
        raise OpsError(f"stack output 'bastionTargets' of stack '{name}' is malformed ({err!r}): run `pulumi up "
                       f"--stack {name}` with this version of the program") from err
    database = None
    if outputs.get(Out.DATABASE_ENDPOINT):
        database = DatabaseInfo(str(outputs[Out.DATABASE_ENDPOINT]), int(outputs.get(Out.DATABASE_PORT) or 5432),
                                str(outputs.get(Out.DATABASE_NAME) or ""), str(outputs.get(Out.DATABASE_USER) or ""),
                                str(outputs.get(Out.DATABASE_SECRET_ARN) or ""))
    return Stack(name, outputs[Out.REGION], outputs[Out.BASTION_CLUSTER], outputs[Out.BASTION_SERVICE], targets,
                 outputs.get(Out.BASTION_IMAGE) or None, outputs.get(Out.BASTION_IMAGE_SOURCE) or None,
                 outputs.get(Out.BASTION_IMAGE_PLATFORM) or "linux/arm64",
                 str(outputs.get(Out.BASTION_MODE) or "parked"), database)


