"""The README's policy table, written from the pack itself (a test keeps the README equal to it)."""

from __future__ import annotations

from pulumi_policy import ResourceValidationPolicy

from guard import POLICIES, PRIVATE_ONLY  # isort: skip


def rows() -> list[str]:
    out = ["| policy | kind | level | where it fits | what it enforces |", "| --- | --- | --- | --- | --- |"]
    for p in POLICIES:
        kind = "resource" if isinstance(p, ResourceValidationPolicy) else "stack"
        level = str(getattr(p.enforcement_level, "value", p.enforcement_level)).lower()
        fits = "private-only" if p.name in PRIVATE_ONLY else "any stack"
        out.append(f"| `{p.name}` | {kind} | {level} | {fits} | {p.description} |")
    return out


if __name__ == "__main__":
    print("\n".join(rows()))
