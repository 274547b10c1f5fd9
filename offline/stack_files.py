"""A project's files as the Pulumi CLI reads them: Pulumi.yaml and Pulumi.<stack>.yaml, YAML 1.2, one config value
per key as the engine passes it to the program."""

from __future__ import annotations

import copy
import functools
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.constructor import DuplicateKeyError
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from program.config import ConfigError

ROOT = Path(__file__).resolve().parent.parent
PROJECT = "airgap"


# Stack files are YAML 1.2, as the Pulumi CLI reads them (`on`/`yes` are strings; a key written twice is refused):
# ruamel.yaml reads 1.2 and refuses duplicate keys.
YamlError = YAMLError


def load_yaml(text: str) -> Any:
    try:
        return YAML(typ="safe", pure=True).load(text)
    except DuplicateKeyError as err:
        key = str(err.problem or "").split('"')[1] if '"' in str(err.problem or "") else "?"
        second = err.problem_mark.line + 1 if err.problem_mark else 0
        # The first occurrence: the earlier line that writes the same key at the same indentation.
        lines = text.splitlines()
        indent = len(lines[second - 1]) - len(lines[second - 1].lstrip()) if 0 < second <= len(lines) else 0
        first = next((n for n, line in enumerate(lines[:second - 1], 1) if (indent == 0 or line[:indent].isspace())
                      and line[indent:].startswith(f"{key}:")), 0)
        raise MarkedYAMLError(problem=f"key {key!r} appears twice (lines {first} and {second})",
                              problem_mark=err.problem_mark) from None


class StackFileError(ConfigError):
    """A stack or project file the Pulumi CLI would refuse, said as the config error it is."""

    FIX = "Fix the file (the Pulumi CLI refuses it too) and run again."


def _read_yaml_file(path: Path) -> Any:
    """The file parsed, read once per call and parsed once per content (the harness asks for Pulumi.yaml on every
    capture; a deep copy keeps one caller's changes from reaching the next)."""
    try:
        text = path.read_text()
    except IsADirectoryError:
        raise StackFileError([f"{path.name} is a directory in {path.parent}: expected the YAML file the Pulumi CLI "
                              "reads"]) from None
    except FileNotFoundError:
        raise StackFileError([f"{path.name} does not exist in {path.parent}: run from the project's directory (the "
                              "one holding Pulumi.yaml)"]) from None
    return copy.deepcopy(_parsed(path.name, text))


@functools.lru_cache(maxsize=64)
def _parsed(name: str, text: str) -> Any:
    try:
        return load_yaml(text)
    except YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(err, "problem", None) or str(err)
        raise StackFileError([f"{name} is not valid YAML{where}: {problem}"]) from None


def _engine_string(value: Any) -> str:
    """Config values reach the program as strings; structured ones as JSON (what the CLI does)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, dict)):
        return json.dumps(value)
    return "" if value is None else str(value)  # `key:` with nothing after it is an empty value, not "None"


def stack_config(stack: str, overrides: Mapping[str, Any] | None = None, root: Path = ROOT) -> dict[str, str]:
    """The config the engine would hand the program: project defaults, then the stack file, then overrides.
    A stack file the CLI would refuse raises `StackFileError`, naming the file and what is wrong."""
    project = _read_yaml_file(root / "Pulumi.yaml") or {}
    name = str(project.get("name") or PROJECT)
    values: dict[str, Any] = {}
    for key, spec in (project.get("config") or {}).items():
        full = key if ":" in key else f"{name}:{key}"
        if isinstance(spec, dict) and "default" in spec:
            values[full] = spec["default"]
    stack_file = root / f"Pulumi.{stack}.yaml"
    if not stack_file.exists():
        present = ", ".join(stacks(root)) or "none"
        raise StackFileError([f"{stack_file.name} does not exist in {root}: no stack {stack!r} here (stacks with a "
                              f"file: {present}); create it with `pulumi stack init {stack}` and set aws:region"])
    document = _read_yaml_file(stack_file)
    if document is None:
        document = {}
    if not isinstance(document, dict) or not isinstance(document.get("config") or {}, dict):
        raise StackFileError([f"{stack_file.name}: expected a mapping with a `config:` mapping of `<namespace>:<key>: "
                              "<value>` entries"])
    problems = []
    for key, value in (document.get("config") or {}).items():
        if ":" not in str(key):
            problems.append(f"{stack_file.name}: config key {key!r} has no namespace; the Pulumi CLI reads only "
                            f"`<namespace>:<name>` keys in a stack file: write `{name}:{key}`")
        values[str(key)] = value
    if problems:
        raise StackFileError(problems)
    for key, value in (overrides or {}).items():
        full = key if ":" in key else f"{name}:{key}"
        if value is None:
            values.pop(full, None)
        else:
            values[full] = value
    # A secret reaches the program decrypted by the CLI; offline there is no key to decrypt it with.
    secrets = [f"{stack_file.name}: {k} is a secret (`secure:`), which only the Pulumi CLI can decrypt: to plan "
               f"offline, give its value for this plan with --set {k.removeprefix(name + ':')}=<value>"
               for k, v in values.items() if isinstance(v, dict) and set(v) == {"secure"}]
    if secrets:
        raise StackFileError(secrets)
    return {k: _engine_string(v) for k, v in values.items()}


def project_name(root: Path = ROOT) -> str:
    """The project's name (Pulumi.yaml `name`): the namespace of its config keys and part of every URN."""
    return str((_read_yaml_file(root / "Pulumi.yaml") or {}).get("name") or PROJECT)


def stacks(root: Path = ROOT) -> list[str]:
    """The stacks shipped with the project (one Pulumi.<stack>.yaml each)."""
    return sorted(p.name[len("Pulumi."):-len(".yaml")] for p in root.glob("Pulumi.*.yaml"))
