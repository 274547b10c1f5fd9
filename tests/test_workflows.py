"""The GitHub workflows real users run: valid (schema), safe (zizmor), and doing what the README promises."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT

from offline.stack_files import load_yaml

pytestmark = pytest.mark.cli

WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
BIN = Path(sys.executable).parent


def workflow(name: str) -> dict:
    return load_yaml((ROOT / ".github" / "workflows" / f"{name}.yml").read_text())


def steps(doc: dict) -> list[dict]:
    return [s for job in doc["jobs"].values() for s in job["steps"]]


def test_workflows_match_the_github_workflow_schema() -> None:
    done = subprocess.run([str(BIN / "check-jsonschema"), "--builtin-schema", "vendor.github-workflows",
                           *map(str, WORKFLOWS)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_workflows_pass_zizmor_offline() -> None:
    done = subprocess.run([str(BIN / "zizmor"), "--offline", "--no-progress", str(ROOT / ".github" / "workflows")],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("path", WORKFLOWS, ids=[p.name for p in WORKFLOWS])
def test_every_action_is_pinned_to_a_commit(path: Path) -> None:
    for step in steps(load_yaml(path.read_text())):
        if "uses" in step:
            assert re.fullmatch(r"[\w.-]+/[\w.-]+@[0-9a-f]{40}", step["uses"]), step["uses"]


def test_tests_run_the_readme_command_on_every_push() -> None:
    doc = workflow("tests")
    assert "push" in doc["on"]
    assert any(s.get("run") == "python3 dev.py test" for s in steps(doc))


def test_pull_requests_preview_every_stack_with_the_policy_pack_and_oidc() -> None:
    doc = workflow("preview")
    assert "pull_request" in doc["on"] and doc["permissions"]["id-token"] == "write"
    pulumi = [s for s in steps(doc) if s.get("uses", "").startswith("pulumi/actions@")]
    assert pulumi[0]["with"]["command"] == "preview" and pulumi[0]["with"]["policyPacks"] == "policy"
    aws = [s for s in steps(doc) if s.get("uses", "").startswith("aws-actions/configure-aws-credentials@")]
    assert aws[0]["with"]["role-to-assume"] == "${{ secrets.AWS_ROLE_ARN }}"
    from offline.stack_files import stacks

    assert sorted(doc["jobs"]["preview"]["strategy"]["matrix"]["stack"]) == stacks()


def test_deploy_is_manual_and_sleep_takes_its_stacks_from_a_repository_variable() -> None:
    """The nightly list lives in the repository's settings, not in the workflow: adding a stack is a variable change.
    The tool orders the stacks (workloads before their network) and skips the ones in use."""
    deploy = workflow("deploy")
    assert set(deploy["on"]) == {"workflow_dispatch"}
    assert deploy["on"]["workflow_dispatch"]["inputs"]["action"]["options"] == ["up", "destroy"]
    sleep = workflow("sleep")
    assert sleep["on"]["schedule"]
    (job,) = sleep["jobs"].values()
    assert job["if"] == "${{ vars.SLEEP_STACKS != '' }}"
    (step,) = [s for s in steps(sleep) if "python3 dev.py sleep" in s.get("run", "")]
    assert step["env"]["SLEEP_STACKS"] == "${{ vars.SLEEP_STACKS }}"
    assert "python3 dev.py sleep --stack $SLEEP_STACKS $FORCE" in step["run"]
    assert "WORKLOAD_STACKS" not in json.dumps(sleep) and "dev app" not in json.dumps(sleep)


# The CLI creates a policy pack's virtualenv only for packs published to Pulumi Cloud; for a local pack the
# `venv` named in policy/PulumiPolicy.yaml must exist before `--policy-pack policy` runs. One command does it.
PREPARE_PACK = ("python3 -m venv policy/venv && policy/venv/bin/pip install -q -r policy/requirements.txt "
                "-c requirements.lock")


def _runs_the_pack(step: dict) -> bool:
    return bool((step.get("with") or {}).get("policyPacks")) or "--policy-pack" in step.get("run", "")


@pytest.mark.parametrize("path", WORKFLOWS, ids=[p.name for p in WORKFLOWS])
def test_every_workflow_that_runs_the_pack_prepares_its_virtualenv_first(path: Path) -> None:
    for job in load_yaml(path.read_text())["jobs"].values():
        job_steps = job["steps"]
        for i, step in enumerate(job_steps):
            if _runs_the_pack(step):
                assert any(PREPARE_PACK in s.get("run", "") for s in job_steps[:i]), \
                    f"{path.name}: step {i} runs the policy pack but no earlier step prepares policy/venv"


def test_the_pack_virtualenv_named_by_the_pack_is_the_one_prepared() -> None:
    pack = load_yaml((ROOT / "policy" / "PulumiPolicy.yaml").read_text())
    assert pack["runtime"]["options"]["virtualenv"] == "venv"
    assert "policy/venv" in PREPARE_PACK


def test_readme_real_use_prepares_the_pack_before_previewing_with_it() -> None:
    readme = (ROOT / "README.md").read_text()
    real_use = readme.split("## Real use", 1)[1].split("\n## ", 1)[0]
    assert PREPARE_PACK in real_use
    assert real_use.index(PREPARE_PACK) < real_use.index("pulumi preview --policy-pack policy")


def test_pulumi_steps_pass_the_passphrase_for_self_managed_backends() -> None:
    for path in WORKFLOWS:
        for step in steps(load_yaml(path.read_text())):
            runs_pulumi = step.get("uses", "").startswith("pulumi/actions@") and step.get("with", {}).get("command")
            if runs_pulumi or "pulumi " in step.get("run", ""):
                assert "PULUMI_CONFIG_PASSPHRASE" in (step.get("env") or {}), f"{path.name}: {step}"


def test_the_live_acceptance_test_runs_only_by_hand_and_really_runs() -> None:
    doc = workflow("acceptance")
    assert set(doc["on"]) == {"workflow_dispatch"}
    job = doc["jobs"]["acceptance"]
    assert job["environment"] == "deploy"  # OIDC sub: repo:<owner>/<repo>:environment:deploy
    (live,) = [s for s in job["steps"] if "tests/test_acceptance_live.py" in s.get("run", "")]
    assert live["env"]["AIRGAP_LIVE"] == "1"  # without it the test skips and the workflow proves nothing
    assert "python3 dev.py test tests/test_acceptance_live.py" in live["run"]
    installs = " ".join(s.get("run", "") for s in job["steps"])
    assert "session-manager-plugin" in installs
