"""One rule, one function: wrap a check into a pulumi_policy policy with its name, description, level and severity.

A resource check receives the validation args and yields violation messages; a stack check receives a `StackGraph`
and the args and yields (message, urn). A check that cannot decide because a value is truly unknown calls
`args.not_applicable(reason)` — explicit, unlike an unknown read, which pulumi_policy would turn into a silent skip.
"""

from __future__ import annotations

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
        for message, urn in check(StackGraph(args.resources), args):
            report(message, urn)

    return StackValidationPolicy(name=name, description=description, validate=validate,
                                 enforcement_level=level, severity=severity, config_schema=schema)
