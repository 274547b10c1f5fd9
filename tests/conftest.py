"""Shared fixtures: captures of the real program, cached per (stack, mode, overrides) for the session."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "policy"))

import ops  # noqa: E402, F401, I001 - first: it turns off gRPC fork support before grpc is imported

from fake_ops import fake  # noqa: E402, F401 - the fake `pulumi` CLI, a fixture for the ops tests
from ops_world import aws_env, ecs, moto_eni_fix, tools  # noqa: E402, F401 - moto's ECS for the ops tests

from offline.harness import MODES, Capture, capture  # noqa: E402

_cache: dict[str, Capture] = {}


def captured(stack: str = "dev", mode: str = "preview", state: str | None = None, **overrides: object) -> Capture:
    """The program run for `stack` with config `overrides`; `state` is the state the stack was last deployed in
    (what a plain `pulumi up` keeps)."""
    key = json.dumps([stack, mode, state, overrides], sort_keys=True)
    if key not in _cache:
        deployed = {"state": state} if state is not None else None
        _cache[key] = capture(stack, mode, overrides, deployed=deployed)  # type: ignore[arg-type]
    return _cache[key]


@pytest.fixture
def cap() -> Callable[..., Capture]:
    return captured


@pytest.fixture(params=MODES)
def mode(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def dev(mode: str) -> Capture:
    """The shipped dev stack, in each harness mode."""
    return captured("dev", mode)


def run_program(source: str, tmp_path: Path, mode: str = "preview", project: str = "airgap",
                **overrides: object) -> Capture:
    """Run a small program (written to tmp_path) through the same harness: as a stack of the airgap project with the
    dev stack's config, or as a stack of another `project` in the dev stack's region (a foreign program)."""
    program = tmp_path / "__main__.py"
    program.write_text(source)
    if project == "airgap":
        return capture("dev", mode, overrides, program=program)  # type: ignore[arg-type]
    region = captured("dev", "update").region
    (tmp_path / "Pulumi.yaml").write_text(f"name: {project}\nruntime: python\n")
    (tmp_path / "Pulumi.dev.yaml").write_text(f"config:\n  aws:region: {region}\n")
    return capture("dev", mode, overrides, program=program, root=tmp_path)  # type: ignore[arg-type]
