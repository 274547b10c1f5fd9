"""Whether a stack is meant to be private-only: no way to or from the internet, AWS reached through VPC endpoints,
operators through Session Manager.

The pack's config says it, per policy that depends on it (`privateOnly`: true, false, or "auto", the default; the
pack's own settings set it for all of them at once, see settings.py). "auto" is on for airgap's own stacks — the
`airgap` project, and anything built by airgap's components — and off elsewhere: a stack that never said it is
private-only is not judged, or spoken to, as if it were. It is not inferred from the resources: a stack meant to be
private-only that gains an internet gateway by mistake must still be told.
"""

from __future__ import annotations

from typing import Any

from guard.graph import StackGraph
from guard.values import ours

KEY = "privateOnly"
AIRGAP_PROJECT = "airgap"
SCHEMA: dict[str, dict[str, Any]] = {KEY: {
    "enum": ["auto", True, False], "default": "auto",
    "description": "whether the stack is meant to be private-only (no internet path; AWS through VPC endpoints, "
                   "operators through Session Manager); auto: on for the airgap project and for resources built by "
                   "airgap's components, off elsewhere"}}


def built_by_airgap(urn: str | None) -> bool:
    """The airgap project's resources, or resources inside one of airgap's components."""
    if not urn or "::" not in urn:
        return False
    return urn.split("::")[1] == AIRGAP_PROJECT or ours(urn)


def declared(args: Any) -> bool | None:
    """The config's answer: True or False when the stack says so, None for "auto"."""
    value = (args.get_config() or {}).get(KEY, "auto")
    return value if isinstance(value, bool) else None


def resource_private_only(args: Any) -> bool:
    """For a resource policy: as configured, or (auto) whether this resource is airgap's."""
    said = declared(args)
    return said if said is not None else built_by_airgap(args.urn)


class _Airgap:
    def __init__(self, graph: StackGraph) -> None:
        self.any = any(built_by_airgap(r.urn) for r in graph.resources)


def stack_private_only(graph: StackGraph, args: Any) -> bool:
    """For a stack policy: as configured, or (auto) whether any resource of the stack is airgap's."""
    said = declared(args)
    return said if said is not None else graph.shared(_Airgap).any
