"""The README's policy table, written from the pack itself (a test keeps the README equal to it)."""

from __future__ import annotations

from guard import ABOUT, POLICIES  # isort: skip


def rows() -> list[str]:
    out = ["| policy | kind | level | where it applies | what it reads | AWS FSBP | what it enforces |",
           "| --- | --- | --- | --- | --- | --- | --- |"]
    for p in POLICIES:
        about = ABOUT[p.name]
        level = str(getattr(p.enforcement_level, "value", p.enforcement_level)).lower()
        controls = ", ".join(about.controls) or "—"
        description = p.description.split(" (FSBP ")[0].rstrip(".") + "."
        out.append(f"| `{p.name}` | {about.kind} | {level} | {about.applies} | {about.reads} | {controls} | "
                   f"{description} |")
    return out


if __name__ == "__main__":
    print("\n".join(rows()))
