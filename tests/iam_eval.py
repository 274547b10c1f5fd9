"""Just enough of IAM's evaluation to ask "does this policy allow this request": Allow statements, Action and Resource
with * and ? wildcards, policy variables, and the condition operators airgap's policies use (StringEquals,
StringLike, BoolIfExists, ForAnyValue:StringEquals). Anything else in a Condition fails the match, so a test can only
be too strict, never too lenient (IAM User Guide, "Policy evaluation logic" and "IAM JSON policy elements:
Condition operators")."""

from __future__ import annotations

from collections.abc import Mapping
from fnmatch import fnmatchcase
from typing import Any


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _substitute(pattern: str, context: Mapping[str, Any]) -> str:
    for key in ("aws:username", "aws:userid"):
        pattern = pattern.replace("${" + key + "}", str(context.get(key, "\x00")))
    return pattern


def _condition(condition: Mapping[str, Any], context: Mapping[str, Any]) -> bool:
    for operator, tests in condition.items():
        for key, wanted in tests.items():
            wanted = [_substitute(str(w), context) for w in _list(wanted)]
            have = context.get(key)
            if operator == "BoolIfExists":
                if have is not None and str(have).lower() not in [w.lower() for w in wanted]:
                    return False
            elif operator == "StringEquals":
                if have is None or str(have) not in wanted:
                    return False
            elif operator == "StringLike":
                if have is None or not any(fnmatchcase(str(have), w) for w in wanted):
                    return False
            elif operator == "ForAnyValue:StringEquals":
                if not set(map(str, _list(have or []))) & set(wanted):
                    return False
            else:
                return False
    return True


def allows(policy: Mapping[str, Any], action: str, resource: str, context: Mapping[str, Any] | None = None) -> bool:
    context = context or {}
    for s in policy["Statement"]:
        if s.get("Effect") != "Allow":
            continue
        if not any(fnmatchcase(action.lower(), str(a).lower()) for a in _list(s.get("Action", []))):
            continue
        if not any(fnmatchcase(resource, _substitute(str(r), context)) for r in _list(s.get("Resource", []))):
            continue
        if _condition(s.get("Condition") or {}, context):
            return True
    return False
