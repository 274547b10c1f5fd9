"""Pulumi.yaml's `config:` block, written from the keys the sections declare (program/sections): the one place a key,
its type, default and description are spelled.

    python3 dev.py config-schema          # rewrite Pulumi.yaml's config block
    python3 dev.py config-schema --check  # exit 1 if Pulumi.yaml is not what the sections declare
"""

from __future__ import annotations

import sys
from pathlib import Path

import yaml

from program.sections import all_keys

PULUMI_YAML = Path(__file__).resolve().parent.parent / "Pulumi.yaml"
_MARK = "\nconfig:\n"


def config_block() -> str:
    block = {key.name: key.declaration() for key in all_keys().values()}
    return yaml.safe_dump({"config": block}, sort_keys=False, width=120, allow_unicode=True)


def written(text: str) -> str:
    """Pulumi.yaml's text with its config block replaced (everything before `config:` kept as it is)."""
    head = text.split(_MARK, 1)[0] if _MARK in text else text.rstrip("\n")
    return f"{head}\n{config_block()}"


def main(argv: list[str]) -> int:
    text = PULUMI_YAML.read_text()
    wanted = written(text)
    if "--check" in argv:
        if text != wanted:
            print("Pulumi.yaml's config block is not what program/sections declares: run `python3 dev.py "
                  "config-schema`", file=sys.stderr)
            return 1
        return 0
    PULUMI_YAML.write_text(wanted)
    print(f"wrote {len(all_keys())} keys into {PULUMI_YAML.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
