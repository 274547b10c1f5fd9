"""Whether `pulumi` can run this stack without a terminal: a passphrase-protected stack needs its passphrase in the
environment before any Pulumi call.

The Automation API runs the CLI with `--non-interactive`; the passphrase secrets manager then refuses with
"passphrase must be set with PULUMI_CONFIG_PASSPHRASE or PULUMI_CONFIG_PASSPHRASE_FILE environment variables"
(pulumi/pulumi, pkg/secrets/passphrase/manager.go), for every `pulumi up`, secrets in the config or not
(pkg/cmd/pulumi: the stack's secrets manager is built for each update). A stack uses that manager when its stack file
says `secretsprovider: passphrase` or holds an `encryptionsalt`, and by default on a self-managed backend
(file://, s3://, gs://, azblob://) — pulumi/pulumi, pkg/cmd/pulumi/stack/secrets.go and pkg/backend/diy.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

PASSPHRASE = "PULUMI_CONFIG_PASSPHRASE"
PASSPHRASE_FILE = "PULUMI_CONFIG_PASSPHRASE_FILE"
SELF_MANAGED = ("file://", "s3://", "gs://", "azblob://")


def _yaml(path: Path) -> dict[str, Any]:
    try:
        found = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError):
        return {}
    return found if isinstance(found, dict) else {}


def backend_url(work_dir: Path, env: Mapping[str, str]) -> str | None:
    """The backend the CLI will use: PULUMI_BACKEND_URL, else the project's `backend.url`, else the login in
    ~/.pulumi/credentials.json (`current`), as the CLI resolves it."""
    if env.get("PULUMI_BACKEND_URL"):
        return env["PULUMI_BACKEND_URL"]
    backend = _yaml(work_dir / "Pulumi.yaml").get("backend")
    if isinstance(backend, dict) and backend.get("url"):
        return str(backend["url"])
    home = Path(env.get("PULUMI_HOME") or Path.home() / ".pulumi")
    try:
        current = json.loads((home / "credentials.json").read_text()).get("current")
    except (OSError, ValueError, AttributeError):
        return None
    return str(current) if current else None


def passphrase_problem(stack: str, work_dir: Path, env: Mapping[str, str] = os.environ) -> str | None:
    """One line saying what to set, when this stack keeps its secrets with a passphrase and none is given."""
    if PASSPHRASE in env or PASSPHRASE_FILE in env:  # an empty passphrase is a passphrase (os.LookupEnv)
        return None
    settings = _yaml(work_dir / f"Pulumi.{stack.rsplit('/', 1)[-1]}.yaml")
    provider = str(settings.get("secretsprovider") or "")
    if provider not in ("", "passphrase", "default"):
        return None  # a cloud KMS or Vault key: no passphrase
    url = backend_url(work_dir, env) or ""
    if provider == "passphrase" or settings.get("encryptionsalt"):
        why = "its stack file says it keeps secrets with a passphrase"
    elif url.startswith(SELF_MANAGED):
        why = f"it is on a self-managed backend ({url}), whose stacks keep secrets with a passphrase by default"
    else:
        return None
    return (f"stack {stack}: {why}, and pulumi asks for it non-interactively: set {PASSPHRASE} (or "
            f"{PASSPHRASE_FILE}, a file holding it) to the passphrase given at `pulumi stack init`, then run this "
            "again — e.g. `export PULUMI_CONFIG_PASSPHRASE_FILE=~/.config/airgap/passphrase`")
