"""The architecture picture: drawn from the graph, in the README, and as a PNG."""

from __future__ import annotations

import pytest
from conftest import ROOT, captured

from offline import diagram, graph

pytestmark = pytest.mark.program


def test_every_allowed_flow_is_an_arrow_with_its_port() -> None:
    cap = captured("dev", "preview")
    text = diagram.mermaid(cap)
    for flow in graph.flows(cap):
        assert f'-- "{flow.port}" -->' in text
    assert "no internet gateway, no NAT" in text
    assert "ap-northeast-1a 10.40.0.0/24" in text and "6 endpoint interfaces" in text


def test_the_readme_shows_the_diagram_the_plan_draws() -> None:
    readme = (ROOT / "README.md").read_text()
    assert "```mermaid\n" + diagram.mermaid(captured("dev", "preview")) + "```" in readme, \
        "README's diagram is stale: paste out/dev-architecture.mmd from `python3 dev.py plan`"


def test_a_stack_without_bastion_draws_without_it() -> None:
    text = diagram.mermaid(captured("dev", "preview", bastion="off", database=False))
    assert "bastion" not in text.replace("bastion task", "")
