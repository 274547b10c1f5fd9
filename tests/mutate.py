"""Bad variants of a captured stack, for proving each policy fires: edit a copy as if the program had been written
differently. Inputs and engine state are edited together, as they would both change."""

from __future__ import annotations

import copy
from typing import Any

from offline.harness import Capture, Registration


def clone(cap: Capture) -> Capture:
    return copy.deepcopy(cap)


def _set(target: dict, path: str, value: Any) -> None:
    *parents, last = path.split(".")
    for part in parents:
        target = target[int(part)] if isinstance(target, list) else target.setdefault(part, {})
    if value is None:
        target.pop(last, None)
    elif isinstance(target, list):
        target[int(last)] = value
    else:
        target[last] = value


def set_prop(cap: Capture, type_: str, name: str, path: str, value: Any) -> Capture:
    """Set (or with None, remove) a property of one resource."""
    out = clone(cap)
    r = out.named(type_, name)
    _set(r.inputs, path, copy.deepcopy(value))
    if r.custom:
        _set(r.state, path, copy.deepcopy(value))
    return out


def add(cap: Capture, type_: str, name: str, inputs: dict[str, Any],
        feeds: dict[str, list[Registration]] | None = None) -> Capture:
    """Add a resource whose properties are fed by the given resources (as property dependencies)."""
    out = clone(cap)
    deps = {k: [r.urn for r in v] for k, v in (feeds or {}).items()}
    out.resources.append(Registration(
        urn=f"urn:pulumi:{cap.stack}::airgap::{type_}::{name}", type=type_, name=name, parent=None, custom=True,
        inputs=copy.deepcopy(inputs), state=copy.deepcopy(inputs), id="", dependencies=sorted({u for v in deps.values()
                                                                                           for u in v}),
        property_dependencies=deps, protect=False))
    return out


def remove(cap: Capture, type_: str, name: str) -> Capture:
    out = clone(cap)
    gone = out.named(type_, name)
    out.resources = [r for r in out.resources if r.urn != gone.urn]
    for r in out.resources:
        r.dependencies = [d for d in r.dependencies if d != gone.urn]
        r.property_dependencies = {k: [u for u in v if u != gone.urn] for k, v in r.property_dependencies.items()}
    return out


def redirect(cap: Capture, type_: str, name: str, prop: str, to: Registration) -> Capture:
    """Make `prop` of a resource be fed by another resource instead."""
    out = clone(cap)
    out.named(type_, name).property_dependencies[prop] = [to.urn]
    return out
