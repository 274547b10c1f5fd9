"""`dev.py plan` judges a stack once: one model of the pack's for the flow table, the diagram and the checks, one
run of the pack for the verdict and one for the plan's own questions (internet paths, inline rules)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from offline import graph, plan

pytestmark = pytest.mark.program


def test_a_plan_builds_the_packs_model_once_and_runs_the_pack_twice(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    built, runs = [], []
    real_graph, real_analyze = graph.StackGraph, graph.analyze

    def counted_graph(*args: Any) -> Any:
        built.append(1)
        return real_graph(*args)

    def counted(name: str, real: Any) -> Any:
        def run(*args: Any, **kwargs: Any) -> Any:
            runs.append(name)
            return real(*args, **kwargs)
        return run

    monkeypatch.setattr(graph, "StackGraph", counted_graph)
    monkeypatch.setattr(graph, "analyze", counted("questions", real_analyze))
    monkeypatch.setattr(plan, "analyze", counted("verdict", plan.analyze))
    assert plan.main(["--diagram-dir", str(tmp_path)]) == 0
    assert built == [1]
    assert sorted(runs) == ["questions", "verdict"]
