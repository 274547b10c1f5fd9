"""The bad-input corpus (tests/bad_inputs.py): each input gets one clear error that names it and says what is
expected — no traceback, nothing ignored — and nothing is registered before it."""

from __future__ import annotations

import json
import shlex
import shutil
from collections import Counter
from pathlib import Path

import pytest
from bad_inputs import BAD_INPUTS, Bad
from conftest import ROOT, captured

from offline import plan
from offline.harness import Registration, capture
from offline.stack_files import load_yaml
from ops import __main__ as ops_cli
from program.config import ConfigError

pytestmark = pytest.mark.program


def by(where: str) -> list[Bad]:
    return [b for b in BAD_INPUTS if b.where == where]


def _only_problem(err: ConfigError, bad: Bad) -> str:
    assert len(err.problems) == 1, err.problems
    (problem,) = err.problems
    assert bad.fragment in problem, problem
    assert "Traceback" not in str(err)
    return problem


@pytest.mark.parametrize("bad", by("config"), ids=lambda b: b.id)
def test_a_bad_config_value_is_one_clear_error_before_anything_is_registered(bad: Bad) -> None:
    key = bad.key.split("[", 1)[0]
    value = None if bad.value == "<unset>" else load_yaml(bad.value)
    registered: list[Registration] = []
    with pytest.raises(ConfigError) as err:
        capture("dev", "preview", {**bad.also, key: value}, sink=registered)
    problem = _only_problem(err.value, bad)
    if bad.value != "<unset>":
        assert problem.startswith(f"{bad.key} = "), problem  # the key, and for a list the element
        shown = load_yaml(bad.value)
        element = shown[int(bad.key.split("[")[1][:-1])] if "[" in bad.key else shown
        assert json.dumps(element) in problem or f'"{element}"' in problem, problem  # the value
    assert ": expected " in problem or "is not set" in problem, problem  # the expected form
    assert registered == [], "something was registered before the error"


@pytest.mark.parametrize("bad", by("stack-file"), ids=lambda b: b.id)
def test_a_bad_stack_file_is_one_clear_error(bad: Bad, tmp_path: Path) -> None:
    shutil.copy(ROOT / "Pulumi.yaml", tmp_path / "Pulumi.yaml")
    (tmp_path / "Pulumi.bad.yaml").write_text(bad.value)
    registered: list[Registration] = []
    with pytest.raises(ConfigError) as err:
        capture("bad", "preview", root=tmp_path, sink=registered)
    _only_problem(err.value, bad)
    assert registered == []


def _saved_outputs(tmp_path: Path) -> dict[str, str]:
    outputs = {"region": "ap-northeast-1", "bastionCluster": "airgap-dev-bastion",
               "bastionService": "airgap-dev-bastion",
               "bastionTargets": [{"name": "ssm-host", "address": "10.40.0.25", "ports": [8080]}]}
    files = {"outputs": json.dumps(outputs), "not-json": "{oops",
             "no-bastion": json.dumps({"region": "ap-northeast-1"}), "list": json.dumps([outputs])}
    paths = {}
    for name, text in files.items():
        path = tmp_path / f"{name}.json"
        path.write_text(text)
        paths[name] = str(path)
    return paths


def _network_outputs(change: str, tmp_path: Path) -> str:
    """The net stack's outputs as its plan exports them, with `key=<YAML value>` changed, saved as a file."""
    key, value = change.split("=", 1)
    path = tmp_path / "net-outputs.json"
    path.write_text(json.dumps({**captured("net", "update").exports, key: load_yaml(value)}))
    return str(path)


@pytest.mark.parametrize("bad", by("plan") + by("ops"), ids=lambda b: b.id)
def test_a_bad_command_line_is_one_clear_error_and_exit_2(bad: Bad, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    argv = [_network_outputs(a[5:-1], tmp_path) if a.startswith("{net:") else a
            for a in shlex.split(bad.value.format(**_saved_outputs(tmp_path)) if "{net:" not in bad.value
                                 else bad.value)]
    main = plan.main if bad.where == "plan" else ops_cli.main
    if bad.where == "plan" and "--diagram-dir" not in argv:
        argv += ["--diagram-dir", str(tmp_path)]
    try:
        code = main(argv)
    except SystemExit as exit_:  # argparse's own errors
        code = exit_.code
    err = capsys.readouterr().err
    assert code == 2, err
    assert bad.fragment in err, err
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.strip()]
    assert lines[-1].startswith(("airgap", "usage:", "python3 dev.py", "dev.py plan", "Fix ")) or len(lines) <= 4, err


def test_the_corpus_is_large_and_covers_every_key_and_every_entry() -> None:
    from program.config import KEYS

    assert len(BAD_INPUTS) >= 60
    assert len({b.id for b in BAD_INPUTS}) == len(BAD_INPUTS), "two rows say the same thing"
    keys = {b.key.split("[")[0].removeprefix("airgap:") for b in by("config")}
    untested = sorted(set(KEYS) - keys)
    assert untested == [], f"no bad value in the corpus for {untested}"
    assert Counter(b.where for b in BAD_INPUTS).keys() == {"config", "stack-file", "plan", "ops"}
