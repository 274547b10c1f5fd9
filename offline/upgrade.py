"""What a stack deployed with an earlier airgap sees on its next preview: which resources are renamed (claimed by an
alias), which change in place, and whether any would be created or deleted — the engine's view, offline.

The old side is a recorded set of URNs with a digest of every input (tests/fixtures/airgap-0.1-urns.json); the new
side is the current program's registrations in update mode. A resource is the same resource when its URN, or one of
its aliases, is an old URN (the engine's rule); the harness gives a renamed resource the id it had under its former
name, as the engine does, so only real input changes remain.

    python -m offline.upgrade        # the table for every recorded stack
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from guard.types import INSTANCE, ROOT_STACK
from offline.harness import Capture, Registration, capture

FIXTURE = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "airgap-0.1-urns.json"


def digest(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True).encode()).hexdigest()[:12]


@dataclass
class Upgrade:
    renamed: dict[str, str] = field(default_factory=dict)  # old URN -> new URN (through an alias)
    updated: dict[str, list[str]] = field(default_factory=dict)  # new URN -> input keys that change in place
    replaced: dict[str, list[str]] = field(default_factory=dict)  # new URN -> the changes that replace it
    created: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    claimed_twice: dict[str, list[str]] = field(default_factory=dict)  # old URN -> the new URNs claiming it


def _forces_replacement(r: Registration, key: str) -> bool:
    """A change the provider replaces the resource for, among those airgap makes: an instance's user data when
    `user_data_replace_on_change` is set (terraform-provider-aws, internal/service/ec2/ec2_instance.go)."""
    return r.type == INSTANCE and key == "userData" and bool(r.inputs.get("userDataReplaceOnChange"))


def compare(old: Mapping[str, Mapping[str, str]], new: Capture) -> Upgrade:
    result = Upgrade()
    claims: dict[str, list[str]] = {}
    resources = [r for r in new if r.type != ROOT_STACK]
    for r in resources:
        matched = [u for u in (r.urn, *r.aliases) if u in old]
        if not matched:
            result.created.append(r.urn)
        for u in matched[:1]:
            claims.setdefault(u, []).append(r.urn)
            if u != r.urn:
                result.renamed[u] = r.urn
            before = old[u]
            after = {key: digest(value) for key, value in r.inputs.items()}
            changed = sorted(k for k in {*before, *after} if before.get(k) != after.get(k))
            if any(_forces_replacement(r, k) for k in changed):
                result.replaced[r.urn] = changed
            elif changed:
                result.updated[r.urn] = changed
    result.deleted = [u for u in old if u not in claims]
    result.claimed_twice = {u: urns for u, urns in claims.items() if len(urns) > 1}
    return result


def recorded() -> dict[str, Any]:
    return json.loads(FIXTURE.read_text())


def upgrade_of(variant: str) -> Upgrade:
    data = recorded()
    return compare(data["urns"][variant], capture(variant.split("-")[0], "update", overrides=data["variants"][variant]))


def main() -> None:
    for variant in recorded()["variants"]:
        up = upgrade_of(variant)
        print(f"{variant}: {len(up.renamed)} renamed by alias, {len(up.updated)} updated in place, "
              f"{len(up.replaced)} replaced, {len(up.created)} created, {len(up.deleted)} deleted")
        for urn, keys in sorted(up.updated.items()):
            print(f"  ~ {urn.rsplit('::', 1)[1]:<48} {', '.join(keys)}")
        for urn, keys in sorted(up.replaced.items()):
            print(f"  +- {urn.rsplit('::', 1)[1]:<47} {', '.join(keys)}")
        for urn in up.created:
            print(f"  + {urn}")
        for urn in up.deleted:
            print(f"  - {urn}")


if __name__ == "__main__":
    main()
