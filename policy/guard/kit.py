"""One rule, one function: wrap a check into a pulumi_policy policy with its name, description, level and severity,
and record what it reads, where it applies and the AWS Foundational Security Best Practices controls it rests on.

A resource check receives the validation args and yields violation messages; a stack check receives a `StackGraph`
and the args and yields (message, urn). A check that cannot decide because a value is truly unknown calls
`args.not_applicable(reason)` — explicit, unlike an unknown read, which pulumi_policy would turn into a silent skip.
A policy made with `applies=PRIVATE_ONLY` judges only stacks meant to be private-only (posture.py); one made with
`applies=WORDING` judges every stack and words its message by the posture.
"""

from __future__ import annotations

import atexit
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyComplianceFramework,
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
    StackValidationArgs,
    StackValidationPolicy,
)

from guard import posture
from guard.graph import StackGraph

MANDATORY = EnforcementLevel.MANDATORY
ADVISORY = EnforcementLevel.ADVISORY
FSBP = "AWS Foundational Security Best Practices"
FSBP_VERSION = "v1.0.0"
# Where a policy applies: every stack, or only stacks meant to be private-only (see posture.py).
ANY_STACK = "any stack"
PRIVATE_ONLY = "private-only stacks"
WORDING = "wording"  # every stack; the message depends on the posture

ResourceCheck = Callable[[ResourceValidationArgs], Iterable[str]]
StackCheck = Callable[[StackGraph, StackValidationArgs], Iterable[tuple[str, str]]]


@dataclass(frozen=True)
class About:
    """What the README's policy table says of a policy."""

    kind: str  # "resource" | "stack"
    reads: str  # the resources and properties it reads, in the provider's terms
    applies: str  # ANY_STACK, PRIVATE_ONLY, or a narrower scope in words
    controls: tuple[str, ...]  # FSBP control ids it rests on


ABOUT: dict[str, About] = {}


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


def where(args: ResourceValidationArgs) -> str:
    """The resource a finding is about, as the provider names its type: "SecurityGroup 'web'"."""
    return f"{args.resource_type.rsplit(':', 1)[-1]} '{args.name}'"


def _options(name: str, description: str, controls: tuple[str, ...], schema: PolicyConfigSchema | None,
             posture_knob: bool) -> dict[str, Any]:
    if controls:
        description = f"{description.rstrip('.')} (FSBP {', '.join(controls)})."
    properties = dict(schema.properties) if schema else {}
    if posture_knob:
        properties.update(posture.SCHEMA)
    framework = PolicyComplianceFramework(name=FSBP, version=FSBP_VERSION, reference=", ".join(controls)) \
        if controls else None
    return {"name": name, "description": description, "framework": framework,
            "config_schema": PolicyConfigSchema(properties=properties) if properties else None}


def resource_policy(
    name: str,
    description: str,
    types: Iterable[str],
    check: ResourceCheck,
    *,
    reads: str,
    controls: tuple[str, ...] = (),
    applies: str = ANY_STACK,
    level: EnforcementLevel = MANDATORY,
    severity: Severity = Severity.HIGH,
    schema: PolicyConfigSchema | None = None,
) -> ResourceValidationPolicy:
    wanted = frozenset(types)
    gated = applies == PRIVATE_ONLY

    def validate(args: ResourceValidationArgs, report: ReportViolation) -> None:
        if args.resource_type not in wanted or (gated and not posture.resource_private_only(args)):
            return
        for message in check(args):
            report(message)

    ABOUT[name] = About("resource", reads, ANY_STACK if applies == WORDING else applies, controls)
    return ResourceValidationPolicy(validate=validate, enforcement_level=level, severity=severity,
                                    **_options(name, description, controls, schema, applies in (PRIVATE_ONLY, WORDING)))


def stack_policy(
    name: str,
    description: str,
    check: StackCheck,
    *,
    reads: str,
    controls: tuple[str, ...] = (),
    applies: str = ANY_STACK,
    level: EnforcementLevel = MANDATORY,
    severity: Severity = Severity.HIGH,
    schema: PolicyConfigSchema | None = None,
) -> StackValidationPolicy:
    gated = applies == PRIVATE_ONLY

    def validate(args: StackValidationArgs, report: ReportViolation) -> None:
        graph = shared_graph(name, args)
        if gated and not posture.stack_private_only(graph, args):
            return
        for message, urn in check(graph, args):
            report(message, urn)

    ABOUT[name] = About("stack", reads, ANY_STACK if applies == WORDING else applies, controls)
    return StackValidationPolicy(validate=validate, enforcement_level=level, severity=severity,
                                 **_options(name, description, controls, schema, applies in (PRIVATE_ONLY, WORDING)))
