"""The pack's settings in one object, the way AWSGuard takes them: `all` sets every policy's enforcement level, a
policy's own entry overrides it (a level, "disabled", or an object with `enforcementLevel` and the policy's knobs), and
`privateOnly` says whether the stacks are meant to be private-only (true, false, or "auto": see posture.py).

They become the pack's initial config (`PolicyPack(initial_config=...)`); the Pulumi CLI applies a stack's
`--policy-pack-config` file, or a policy group's config in Pulumi Cloud, on top, in the same shape:

    {"all": "mandatory", "no-admin-port-ingress": "disabled", "endpoint-budget": {"monthlyBudgetUsd": 100}}

The pack's name and version live here too; the version is read from PulumiPolicy.yaml, where the CLI reads it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pulumi_policy import EnforcementLevel

from guard import posture

PACK_NAME = "airgap-guard"
_PULUMI_POLICY_YAML = Path(__file__).resolve().parent.parent / "PulumiPolicy.yaml"
LEVELS = {level.value: level for level in EnforcementLevel}


def pack_version(path: Path = _PULUMI_POLICY_YAML) -> str:
    """`version:` of PulumiPolicy.yaml (a plain scalar, so no YAML parser is needed in the pack's virtualenv)."""
    found = re.search(r"^version:\s*['\"]?([^'\"\s#]+)", path.read_text(), re.MULTILINE)
    if found is None:
        raise ValueError(f"{path} has no version: the CLI needs one to publish the pack")
    return found.group(1)


@dataclass(frozen=True)
class Settings:
    all: str | None = None  # every policy's level; None keeps each policy's own
    private_only: bool | str = "auto"
    policies: Mapping[str, str | Mapping[str, Any]] = field(default_factory=dict)


# The pack as published: each policy at its own level, the posture inferred. An organisation that runs its own copy
# of the pack changes this one object, e.g. Settings(all="advisory", private_only=True, policies={...}).
SETTINGS = Settings()


def _level(where: str, value: Any) -> EnforcementLevel:
    if value not in LEVELS:
        raise ValueError(f"{where}: {value!r} is not an enforcement level (one of {', '.join(LEVELS)})")
    return LEVELS[value]


def initial_config(settings: Settings, policies: Mapping[str, bool]) -> dict[str, Any]:
    """The PolicyPack initial config for `settings`; `policies` maps each policy name to whether it reads the
    posture (gets `privateOnly`). Unknown policy names and levels are refused, naming them."""
    config: dict[str, Any] = {}
    if settings.all is not None:
        config["all"] = _level("all", settings.all)
    if settings.private_only != "auto":
        if not isinstance(settings.private_only, bool):
            raise ValueError(f"privateOnly: {settings.private_only!r} is not true, false or \"auto\"")
        config.update({name: {posture.KEY: settings.private_only} for name, knob in policies.items() if knob})
    for name, value in settings.policies.items():
        if name not in policies:
            raise ValueError(f"{name!r} is not a policy of {PACK_NAME}")
        if isinstance(value, str):
            entry: dict[str, Any] = {"enforcementLevel": _level(name, value)}
        else:
            entry = dict(value)
            if "enforcementLevel" in entry:
                entry["enforcementLevel"] = _level(name, entry["enforcementLevel"])
        config[name] = {**config.get(name, {}), **entry}
    # pulumi_policy takes a bare level or an object whose enforcementLevel is one.
    return {name: value["enforcementLevel"] if isinstance(value, dict) and list(value) == ["enforcementLevel"]
            else value for name, value in config.items()}
