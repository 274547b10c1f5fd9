"""The stack's config, one section per part of the stack: its keys (declared once, with type, default and
description), their checks, and — for the parts that are built — how config becomes the component's args.

A section is a module here with `NAME`, `ORDER`, `KEYS` and `parse(values, context, problems) -> model`. Sections are
found by listing this package, so a new one is one new file. A workload section's model also has `enabled`,
`needs()`, `build(settings, built)` and `export(settings, component)`; the program builds them in `ORDER`, so a
section may read the models of those before it (`context.sections`).
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from types import ModuleType
from typing import Any, Protocol, runtime_checkable

from airgap.workload import Needs
from program.keys import Key


@dataclass
class Context:
    """What a section's checks may know: the stack, its region, and the sections read before it."""

    project: str
    stack: str
    region: str | None
    region_ok: bool
    sections: dict[str, Any] = field(default_factory=dict)


@dataclass
class Built:
    """What the program has made so far: the network, its endpoints, and each section's component by name."""

    network: Any
    endpoints: Any
    components: dict[str, Any] = field(default_factory=dict)


@runtime_checkable
class WorkloadSection(Protocol):
    """A section that builds a component. One that sessions reach (`workload = True`) also has `switch`: the config
    that turns it off and on, for messages ("airgap:ssmHost = false", "airgap:ssmHost to true")."""

    enabled: bool
    workload: bool

    def needs(self) -> Needs: ...
    def build(self, settings: Any, built: Built) -> Any: ...
    def export(self, settings: Any, built: Built) -> None: ...


@cache
def modules() -> tuple[ModuleType, ...]:
    found = [importlib.import_module(f"{__name__}.{m.name}") for m in pkgutil.iter_modules(__path__)]
    return tuple(sorted(found, key=lambda m: m.ORDER))


def all_keys() -> dict[str, Key]:
    """Every declared key, by name, in section order."""
    return {k.name: k for m in modules() for k in m.KEYS}


def workloads(sections: Mapping[str, Any]) -> list[Any]:
    """The workload sections' models, in build order."""
    return [model for model in sections.values() if isinstance(model, WorkloadSection)]


def needs_of(sections: Mapping[str, Any]) -> Needs:
    """What the enabled workloads need, together: the endpoints and gateway buckets the network must offer."""
    return Needs.union(w.needs() for w in workloads(sections) if w.enabled)


def build_workloads(settings: Any, built: Built) -> None:
    """Build each section's component (workloads, the session preferences, the operator access), in order, into
    `built.components` by section name."""
    for name, model in settings.sections.items():
        if isinstance(model, WorkloadSection):
            component = model.build(settings, built)
            if component is not None:
                built.components[name] = component
