"""Every shipped stack's plan as a fingerprint: each URN with a digest of each input, in both harness modes, for a
few variants of each stack. A refactor that claims to change nothing for users is held to it by comparing the
fingerprints before and after (tests/test_plans_unchanged.py against tests/fixtures/plans.json).

    python -m offline.snapshot --write tests/fixtures/plans.json   # record (on the commit taken as "before")
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from offline.harness import MODES, capture
from offline.upgrade import digest
from program.contract import Out

# (stack, config overrides, deployed state): the shipped stacks as configured, and the variants users switch to.
VARIANTS: dict[str, tuple[str, dict[str, Any], str | None]] = {
    "dev": ("dev", {}, None),
    "dev-asleep": ("dev", {}, "asleep"),
    "dev-on-kms": ("dev", {"bastion": "on", "execKms": True}, None),
    "dev-bastion-off": ("dev", {"bastion": "off", "database": False}, None),
    "dev-operator-role": ("dev", {"operatorPrincipals": ["arn:aws:iam::123456789012:role/Ops"],
                                  "sessionIdleTimeoutMinutes": 10}, None),
    "net": ("net", {}, None),
    "app": ("app", {}, None),
}


def fingerprint(stack: str, overrides: dict[str, Any], state: str | None, mode: str) -> dict[str, dict[str, str]]:
    run = capture(stack, mode, overrides, deployed={Out.STATE: state} if state else None)  # type: ignore[arg-type]
    return {r.urn: {k: digest(v) for k, v in sorted(r.inputs.items())} for r in run}


def snapshot(variants: dict[str, tuple[str, dict[str, Any], str | None]] = VARIANTS) -> dict[str, Any]:
    return {f"{name}/{mode}": fingerprint(stack, overrides, state, mode)
            for name, (stack, overrides, state) in variants.items() for mode in MODES}


def main(argv: list[str]) -> int:
    if argv[:1] != ["--write"] or len(argv) != 2:
        print("usage: python -m offline.snapshot --write FILE", file=sys.stderr)
        return 2
    Path(argv[1]).write_text(json.dumps(snapshot(), indent=1, sort_keys=True) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
