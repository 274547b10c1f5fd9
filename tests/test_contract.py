"""One spelling of each name that crosses layers: the program writes outputs by `Out`, ops, offline and the
program read them by `Out`, and the pack's pinned copy agrees with it."""

from __future__ import annotations

import ast
from pathlib import Path

from guard import contract as pinned
from program.contract import Out, StackState

ROOT = Path(__file__).resolve().parent.parent
LAYERS = ("program", "ops", "offline", "policy")  # the pack by its pinned copy, guard/contract.py
# What a layer calls a stack's outputs when it reads them (config values share some names: bastionImage).
OUTPUT_HOLDERS = ("outputs", "exports", "offer")


def _names() -> dict[str, str]:
    return {k: v for k, v in vars(Out).items() if k.isupper()}


def test_the_packs_pinned_copy_spells_each_name_as_the_program() -> None:
    for key, value in vars(pinned.NetworkOut).items():
        if key.isupper():
            assert _names()[key] == value, f"policy/guard/contract.py NetworkOut.{key}"
    assert StackState.ASLEEP.value == pinned.ASLEEP


def test_output_names_are_distinct() -> None:
    assert len(set(_names().values())) == len(_names())


def _sources() -> list[Path]:
    return [p for layer in LAYERS for p in (ROOT / layer).rglob("*.py") if p.name != "contract.py"]


def test_every_export_is_named_by_the_contract() -> None:
    literal = []
    for path in _sources():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "export" \
                    and node.args and isinstance(node.args[0], ast.Constant):
                literal.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.args[0].value}")
    assert not literal, "use program.contract.Out: " + ", ".join(literal)


def test_no_layer_reads_an_output_by_a_literal_name() -> None:
    values = set(_names().values()) - {Out.STATE, Out.REGION, Out.ROLE}  # also AWS attribute names
    literal = []
    for path in _sources():
        for node in ast.walk(ast.parse(path.read_text())):
            holder, key = None, None
            if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant):
                holder, key = node.value, node.slice.value
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get" \
                    and node.args and isinstance(node.args[0], ast.Constant):
                holder, key = node.func.value, node.args[0].value
            if key in values and holder is not None and any(h in ast.unparse(holder) for h in OUTPUT_HOLDERS):
                literal.append(f"{path.relative_to(ROOT)}:{node.lineno} {key}")
    assert not literal, "use program.contract.Out: " + ", ".join(literal)
