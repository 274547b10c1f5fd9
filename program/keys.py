"""Config keys: each declared once, in the section of the component it configures (program/sections), with its type,
default and description. Pulumi.yaml's `config:` block is written from these declarations (`python3 dev.py
config-schema`), and a test keeps the file in step, so the CLI and the program always agree.

Reading turns the engine's string values into the key's type and records every problem — each bad element of a list
too — as one line naming the key, the value and the form expected.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

PROJECT = "airgap"
KeyKind = Literal["string", "integer", "boolean", "string-list", "integer-list"]


@dataclass(frozen=True)
class Key:
    name: str
    kind: KeyKind
    default: Any
    description: str

    @property
    def full(self) -> str:
        return f"{PROJECT}:{self.name}"

    def declaration(self) -> dict[str, Any]:
        """The key as Pulumi.yaml's `config:` block declares it."""
        kind = {"string": "string", "integer": "integer", "boolean": "boolean"}.get(self.kind, "array")
        out: dict[str, Any] = {"type": kind}
        if kind == "array":
            out["items"] = {"type": "string" if self.kind == "string-list" else "integer"}
        return {**out, "description": self.description, "default": self.default}


def shown(value: Any) -> str:
    return json.dumps(value) if not isinstance(value, str) else f'"{value}"'


class Problems:
    """Every problem found, each one line; raised together, once, as a ConfigError."""

    def __init__(self) -> None:
        self.items: list[str] = []

    def bad(self, key: str, value: Any, expected: str) -> None:
        self.items.append(f"{key} = {shown(value)}: expected {expected}")

    def say(self, line: str) -> None:
        self.items.append(line)


NOT_READ = object()  # a value that could not be read; its problem is already recorded


class Values:
    """A section's keys read into their types: `v["bastionCpu"]` (NOT_READ where unreadable), `ok("bastionCpu")`."""

    def __init__(self, keys: Iterable[Key], raw: Mapping[str, str | None], problems: Problems) -> None:
        self.keys = {k.name: k for k in keys}
        self.values = {name: read(key, raw.get(name), problems) for name, key in self.keys.items()}

    def __getitem__(self, name: str) -> Any:
        return self.values[name]

    def ok(self, name: str) -> bool:
        return self.values[name] is not NOT_READ

    def get(self, name: str, fallback: Any) -> Any:
        """The value, or `fallback` where it could not be read (its problem is recorded already)."""
        return self.values[name] if self.ok(name) else fallback

    def default(self, name: str) -> Any:
        return self.keys[name].default


def read(key: Key, text: str | None, problems: Problems) -> Any:
    """Turn the engine's string value (or the default) into the key's type, or record why not."""
    if text is None:
        return key.default
    if key.kind == "string":
        return text
    if key.kind == "integer":
        if re.fullmatch(r"-?\d+", text.strip()):
            return int(text)
        problems.bad(key.full, text, "a whole number")
        return NOT_READ
    if key.kind == "boolean":
        if text.lower() in ("true", "false"):
            return text.lower() == "true"
        problems.bad(key.full, text, "true or false")
        return NOT_READ
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        value = None
    example = '["ap-northeast-1a", "ap-northeast-1c"]' if key.kind == "string-list" else "[8080, 5432]"
    if not isinstance(value, list):
        problems.bad(key.full, text, f"a YAML list such as {example}")
        return NOT_READ
    item_type, item_form = (str, "a string") if key.kind == "string-list" else (int, "a whole number")
    good = True
    for i, item in enumerate(value):
        if type(item) is not item_type:
            problems.bad(f"{key.full}[{i}]", item, item_form)
            good = False
    return value if good else NOT_READ
