"""One rule, one function: wrap a check into a pulumi_policy policy with its name, description, level and severity.

A resource check receives the validation args and yields violation messages; a stack check receives a `StackGraph`
and the args and yields (message, urn). A check that cannot decide because a value is truly unknown calls
`args.not_applicable(reason)` — explicit, unlike an unknown read, which pulumi_policy would turn into a silent skip.
"""

from __future__ import annotations

import atexit
import threading
from collections.abc import Callable, Iterable
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
    StackValidationArgs,
    StackValidationPolicy,
)

from guard.graph import StackGraph

MANDATORY = EnforcementLevel.MANDATORY
ADVISORY = EnforcementLevel.ADVISORY

ResourceCheck = Callable[[ResourceValidationArgs], Iterable[str]]
StackCheck = Callable[[StackGraph, StackValidationArgs], Iterable[tuple[str, str]]]


class _Analysis(threading.local):
    """The graph of the AnalyzeStack call in progress on this thread, and the stack policies that have used it."""

    graph: StackGraph | None = None
    tags: object = None
    urns: tuple[str, ...] = ()
    used: frozenset[str] = frozenset()


_analysis = _Analysis()


@atexit.register
def _release() -> None:
    """Drop the last graph before the interpreter tears modules down: its resources hold protobuf containers of the
    engine's request, which must not outlive the protobuf runtime (a crash at exit otherwise)."""
    _analysis.graph, _analysis.tags, _analysis.urns, _analysis.used = None, None, (), frozenset()


def shared_graph(policy: str, args: StackValidationArgs) -> StackGraph:
    """One graph per AnalyzeStack, shared by its stack policies. pulumi_policy hands each stack policy its own copy of
    the resources and no handle on the request, so a request is told apart by what the API does give: the servicer's
    stack-tags mapping (one object per servicer, kept alive here so its identity cannot be reused), the stack's URNs,
    and that no policy runs twice in one request. Anything else builds a new graph."""
    urns = tuple(r.urn for r in args.resources)
    a = _analysis
    if a.graph is None or a.tags is not args.stack_tags or policy in a.used or a.urns != urns:
        a.graph, a.tags, a.urns, a.used = StackGraph(args.resources), args.stack_tags, urns, frozenset()
    a.used = a.used | {policy}
    return a.graph


def config(args: ResourceValidationArgs | StackValidationArgs, key: str, default: Any) -> Any:
    """A policy config value, or its default (the CLI fills schema defaults; tests may not)."""
    values = args.get_config() or {}
    return values.get(key, default)


def resource_policy(
    name: str,
    description: str,
    types: Iterable[str],
    check: ResourceCheck,
    *,
    level: EnforcementLevel = MANDATORY,
    severity: Severity = Severity.HIGH,
    schema: PolicyConfigSchema | None = None,
) -> ResourceValidationPolicy:
    wanted = frozenset(types)

    def validate(args: ResourceValidationArgs, report: ReportViolation) -> None:
        if args.resource_type not in wanted:
            return
        for message in check(args):
            report(message)

    return ResourceValidationPolicy(name=name, description=description, validate=validate,
                                    enforcement_level=level, severity=severity, config_schema=schema)


def stack_policy(
    name: str,
    description: str,
    check: StackCheck,
    *,
    level: EnforcementLevel = MANDATORY,
    severity: Severity = Severity.HIGH,
    schema: PolicyConfigSchema | None = None,
) -> StackValidationPolicy:
    def validate(args: StackValidationArgs, report: ReportViolation) -> None:
        for message, urn in check(shared_graph(name, args), args):
            report(message, urn)

    return StackValidationPolicy(name=name, description=description, validate=validate,
                                 enforcement_level=level, severity=severity, config_schema=schema)
