"""`dev.py plan`'s arguments, each checked before anything runs: one line naming the argument, the value and the
form expected."""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any

from offline.harness import MODES, ROOT
from offline.stack_files import YamlError, load_yaml, project_name, stack_config, stacks
from program.config import ConfigError
from program.contract import StackState


class ArgumentError(ConfigError):
    FIX = "Fix the argument and run again."


def network_outputs(stack: str, overrides: dict[str, object], path: Path | None) -> dict[str, dict[str, Any]] | None:
    """--network-outputs FILE as the outputs of the network stack the config names; None: the sibling's plan."""
    if path is None:
        return None
    named = stack_config(stack, overrides).get("airgap:networkStack", "")
    if not named:
        raise ArgumentError([f"--network-outputs {path}: stack {stack} names no airgap:networkStack (expected with "
                           "airgap:role workloads)"])
    try:
        outputs = json.loads(path.read_text())
    except (OSError, ValueError) as err:
        raise ArgumentError([f"--network-outputs {path}: expected the JSON `pulumi stack output --json --stack "
                           f"{named}` prints ({err})"]) from err
    if not isinstance(outputs, dict):
        raise ArgumentError([f"--network-outputs {path}: expected a JSON object of stack outputs"])
    return {named: outputs}


def _diagram_dir(text: str) -> Path:
    """Where the diagram goes: a directory, or one that can be made; checked before anything runs."""
    path = Path(text)
    if path.exists() and not path.is_dir():
        raise argparse.ArgumentTypeError(f"{text} is a file: expected a directory for the diagram")
    existing = next((p for p in (path, *path.parents) if p.exists()), Path("."))
    if not os.access(existing, os.W_OK):
        raise argparse.ArgumentTypeError(f"{text}: {existing} is not writable: expected a directory you may write")
    return path


def stack_name(text: str, root: Path) -> str:
    """`dev`, or `<org>/<project>/dev` as `pulumi stack ls` prints it: the stack file is Pulumi.dev.yaml."""
    parts = text.split("/")
    if len(parts) > 3 or not all(parts) or (len(parts) > 1 and parts[-2] != project_name(root)):
        raise ArgumentError([f"--stack {text}: expected a stack of this project: <stack>, <project>/<stack> or "
                             f"<org>/<project>/<stack> with project {project_name(root)}"])
    return parts[-1]


def _program(text: str) -> Path:
    """A Pulumi Python program's directory: its Pulumi.yaml and __main__.py, checked before anything runs."""
    root = Path(text).resolve()
    missing = [f for f in ("Pulumi.yaml", "__main__.py") if not (root / f).is_file()]
    if missing:
        raise argparse.ArgumentTypeError(f"{text}: expected a Pulumi Python program's directory (it has no "
                                         f"{' and no '.join(missing)})")
    return root


def environment_note(stack: str, root: Path) -> str | None:
    """Pulumi ESC environments a stack file imports: their values reach a real preview, not this one."""
    try:
        document = load_yaml((root / f"Pulumi.{stack}.yaml").read_text()) or {}
    except (OSError, YamlError):
        return None
    imported = document.get("environment") if isinstance(document, dict) else None
    if not imported:
        return None
    return (f"Note: Pulumi.{stack}.yaml imports Pulumi ESC environments ({json.dumps(imported)}); offline their "
            "values are not seen, so this plan uses the stack file's own config only.")


def set_overrides(items: list[str]) -> dict[str, object]:
    overrides: dict[str, object] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ArgumentError([f"--set {item!r}: expected KEY=VALUE, e.g. --set bastion=off"])
        try:
            overrides[key] = load_yaml(value) if value else ""
        except YamlError as err:
            problem = getattr(err, "problem", None) or "not YAML"
            raise ArgumentError([f"--set {item}: the value is not valid YAML ({problem}); quote it, e.g. "
                                 f"--set '{key}=[\"a\", \"b\"]' for a list"]) from None
        if overrides[key] is None:  # `key= `, `key=~`: YAML's null would drop the key without a word
            raise ArgumentError([f"--set {item!r}: expected a value after '=' (to plan with the key's default, "
                                 "leave this --set out)"])
    return overrides


def parser(description: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="dev.py plan", description=description)
    parser.add_argument("program", nargs="?", type=_program, default=ROOT,
                        help="a Pulumi Python program's directory (default: airgap itself), e.g. examples/minimal "
                             "or your own program that uses the components")
    parser.add_argument("--stack", default=None,
                        help="stack whose Pulumi.<stack>.yaml to use (default dev, or the program's one stack file; "
                             "<org>/<project>/<stack> too)")
    parser.add_argument("--mode", choices=MODES, default="preview",
                        help="preview: first preview of a new stack (default); update: values known")
    parser.add_argument("--diagram-dir", type=_diagram_dir, default=ROOT / "out",
                        help="where to write <stack>-architecture.mmd, the Mermaid diagram (default out/)")
    parser.add_argument("--network-outputs", type=Path, metavar="FILE",
                        help="a workload stack's network stack outputs, saved with `pulumi stack output --json "
                             "--stack <network stack> > FILE` (default: the plan of the sibling stack that "
                             "airgap:networkStack names)")
    parser.add_argument("--state", choices=[s.value for s in StackState], default=None,
                        help="the state the stack was last deployed in, which a plain `pulumi up` keeps (default: a "
                             "new stack, awake); `python3 dev.py sleep|wake` change it on a real stack")
    parser.add_argument("--policy-pack-config", type=_policy_config, metavar="FILE",
                        help="the pack's config, as `pulumi preview --policy-pack-config FILE` takes it (e.g. "
                             '{"no-internet-gateway": {"privateOnly": true}} for a private-only program of your own)')
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="override a config key for this plan only, e.g. --set bastion=off (YAML value)")
    return parser


def _policy_config(text: str) -> dict[str, Any]:
    try:
        config = json.loads(Path(text).read_text())
    except (OSError, ValueError) as err:
        raise argparse.ArgumentTypeError(f"{text}: expected a JSON file of policy settings ({err})") from None
    if not isinstance(config, dict):
        raise argparse.ArgumentTypeError(f"{text}: expected a JSON object: policy name -> level or settings")
    return config


def default_stack(root: Path) -> str:
    found = stacks(root)
    return "dev" if root == ROOT or "dev" in found or len(found) != 1 else found[0]
