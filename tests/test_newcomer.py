"""A newcomer's first hour: the tool's own files and commands answer in one line, a program of one's own is planned
like airgap itself, and a forbidden resource shows the pack's finding instead of a model error."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from conftest import ROOT

from offline import bench, diagram, plan, plan_args
from offline.guard_run import analyze
from offline.harness import capture
from offline.stack_files import StackFileError

pytestmark = pytest.mark.program

# An airgap network with every way out added by hand. The hand-made resources are not airgap's, so the stack says it
# is private-only in the pack's config (the posture is declared, never inferred from the resources).
WAYS_OUT = '''
import pulumi_aws as aws

from airgap import PrivateNetwork, PrivateNetworkArgs

network = PrivateNetwork("network", PrivateNetworkArgs(
    cidr="10.0.0.0/16", subnets={"ap-northeast-1a": "10.0.0.0/24", "ap-northeast-1c": "10.0.1.0/24"}))
aws.ec2.InternetGateway("igw", vpc_id=network.vpc_id)
aws.ec2.EgressOnlyInternetGateway("eigw", vpc_id=network.vpc_id)
public = aws.ec2.Subnet("public", vpc_id=network.vpc_id, cidr_block="10.0.9.0/24")  # no AZ: AWS picks one
address = aws.ec2.Eip("nat", domain="vpc")
aws.ec2.NatGateway("nat", subnet_id=public.id, allocation_id=address.id)
'''


PRIVATE_ONLY = {"no-internet-gateway": {"privateOnly": True}}


@pytest.fixture
def own_program(tmp_path: Path) -> Path:
    """A user's own program in its own directory: a project file, one stack file, __main__.py."""
    (tmp_path / "Pulumi.yaml").write_text("name: mine\nruntime: python\n")
    (tmp_path / "Pulumi.test.yaml").write_text("config:\n  aws:region: ap-northeast-1\n")
    (tmp_path / "__main__.py").write_text(WAYS_OUT)
    return tmp_path


@pytest.mark.parametrize("mode", ["preview", "update"])
def test_every_way_out_of_the_vpc_is_a_finding_not_a_model_error(own_program: Path, mode: str) -> None:
    run = capture("test", mode, program=own_program / "__main__.py", root=own_program)
    found = " ".join(f.message for f in analyze(run, PRIVATE_ONLY).mandatory if f.policy == "no-internet-gateway")
    for way_out in ("InternetGateway 'igw'", "EgressOnlyInternetGateway 'eigw'", "NatGateway 'nat'", "Eip 'nat'"):
        assert way_out in found
    assert "AZ chosen by AWS" in diagram.mermaid(run)  # a subnet without an AZ is drawn, not a crash


def test_a_program_directory_is_planned_with_its_own_stack_file(own_program: Path, tmp_path: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "guard.json"
    config.write_text(json.dumps(PRIVATE_ONLY))
    code = plan.main([str(own_program), "--diagram-dir", str(tmp_path / "out"), "--policy-pack-config", str(config)])
    out = capsys.readouterr()
    assert code == 1  # mandatory findings fail the plan, as they fail `pulumi preview --policy-pack`
    assert "airgap plan: stack test" in out.out and "MANDATORY no-internet-gateway" in out.out
    assert "Monthly cost estimate" in out.out and "Traceback" not in out.err


@pytest.mark.parametrize("example", sorted(p.name for p in (ROOT / "examples").iterdir()))
def test_every_example_plans_clean(example: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert plan.main([str(ROOT / "examples" / example), "--diagram-dir", str(tmp_path)]) == 0, capsys.readouterr()
    assert "0 mandatory" in capsys.readouterr().out


def test_a_stack_file_that_is_a_directory_or_a_missing_project_file_is_one_line(tmp_path: Path) -> None:
    shutil.copy(ROOT / "Pulumi.yaml", tmp_path / "Pulumi.yaml")
    (tmp_path / "Pulumi.odd.yaml").mkdir()
    with pytest.raises(StackFileError, match=r"Pulumi\.odd\.yaml is a directory"):
        capture("odd", "preview", root=tmp_path)
    (tmp_path / "Pulumi.yaml").unlink()
    (tmp_path / "Pulumi.dev.yaml").write_text("config: {}\n")
    with pytest.raises(StackFileError, match=r"Pulumi\.yaml does not exist .*run from the project.s directory"):
        capture("dev", "preview", root=tmp_path)


def test_imported_esc_environments_are_said_not_ignored(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.team.yaml").write_text("environment:\n  - airgap/shared\nconfig: {}\n")
    assert "imports Pulumi ESC environments" in str(plan_args.environment_note("team", tmp_path))
    assert plan_args.environment_note("dev", ROOT) is None


@pytest.mark.parametrize("argv", [["--sizes", "0"], ["--sizes", "1,-1"], ["--sizes", "ten"], ["--runs", "0"],
                                  ["--runs", "two"]])
def test_bench_refuses_counts_below_one(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        bench.main(argv)
    assert exit_.value.code == 2 and "Traceback" not in capsys.readouterr().err


def test_dev_py_names_an_unknown_command_and_help_succeeds(capsys: pytest.CaptureFixture[str]) -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location("dev_entry", ROOT / "dev.py")
    assert spec is not None and spec.loader is not None
    dev = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(dev)
    assert dev.main(["deploy"]) == 2
    assert "unknown command 'deploy'" in capsys.readouterr().err
    assert dev.main(["--help"]) == 0
    assert "python3 dev.py plan" in capsys.readouterr().out


def test_the_readmes_resource_counts_are_the_plans() -> None:
    readme = (ROOT / "README.md").read_text()

    def count(**config: object) -> int:
        return sum(r.custom for r in capture("dev", "preview", config))

    off, parked, on = count(bastion="off", database=False), count(bastion="parked"), count(bastion="on")
    assert f"| ssm, ssmmessages, logs, kms, s3 | {off} |" in readme
    assert f"| + ecr.api, ecr.dkr | {parked} |" in readme and f"| the same | {on} |" in readme
    assert f"adds a key and its alias (the `kms` endpoint is there for the host's shells already): " \
           f"{count(execKms=True)}." in readme


def test_the_readmes_component_snippet_is_a_program_that_passes_the_pack(tmp_path: Path) -> None:
    readme = (ROOT / "README.md").read_text()
    start = readme.index("```python\nfrom airgap import (PrivateNetwork")
    snippet = readme[start + len("```python\n"):readme.index("```", start + 10)]
    (tmp_path / "Pulumi.yaml").write_text("name: mine\nruntime: python\n")
    (tmp_path / "Pulumi.test.yaml").write_text("config:\n  aws:region: ap-northeast-1\n")
    (tmp_path / "__main__.py").write_text(snippet)
    for mode in ("preview", "update"):
        report = analyze(capture("test", mode, program=tmp_path / "__main__.py", root=tmp_path))
        assert report.mandatory == [], [f.message for f in report.mandatory]


@pytest.mark.parametrize("bastion", ["off", "parked"])
def test_a_host_without_the_s3_gateway_is_told_to_add_a_gateway_not_an_interface(bastion: str) -> None:
    """The host's first boot installs from the Amazon Linux repositories, which are S3 buckets."""
    import mutate

    from guard.types import ENDPOINT  # isort: skip

    dev = capture("dev", "preview", {"bastion": bastion, "database": bastion != "off"})
    found = [f.message for f in analyze(mutate.remove(dev, ENDPOINT, "endpoints-s3")).mandatory
             if f.policy == "required-endpoints"]
    host = next(m for m in found if "Instance 'ssm-host'" in m)
    assert "needs s3 for the package repositories" in host and "S3 gateway endpoint (vpc_endpoint_type Gateway" in host
    assert not any("Interface" in m and "each of s3" in m for m in found)


def test_flow_logs_turned_off_are_fixed_by_the_key_that_turned_them_off() -> None:
    (finding,) = [f for f in analyze(capture("dev", "preview", {"flowLogs": False})).mandatory]
    assert finding.policy == "vpc-flow-logs" and "pulumi config set airgap:flowLogs true" in finding.message


def test_a_workload_stack_reports_no_one_sided_flow_its_table_marks_fine() -> None:
    """The network stack's S3 prefix list has no ingress half: 'n/a' in the table, never a one-sided flow."""
    from offline import graph

    app = capture("app", "preview")
    analysis = graph.Analysis(app)
    assert analysis.one_sided == []
    assert any(line.endswith("n/a") and "prefix list of s3 of net" in line for line in plan.flow_table(app, analysis))


def test_the_three_ways_table_has_the_plans_figures() -> None:
    """README, "Three ways to run": each stack's awake (parked), asleep and working-month figures, as the plan prices
    them (offline/plan.py cost_lines)."""
    from offline import cost

    def figures(stack: str) -> tuple[float, float, float]:
        parked = cost.estimate(capture(stack, "preview", {"bastion": "parked"}))
        asleep = cost.estimate(capture(stack, "preview", deployed={"state": "asleep"}))
        on = cost.estimate(capture(stack, "preview", {"bastion": "on"}))
        return parked.total, asleep.total, cost.working_month(asleep, on).total

    readme = (ROOT / "README.md").read_text()
    dev, net, app = figures("dev"), figures("net"), figures("app")
    assert f"| ${dev[0]:.2f} | ${dev[1]:.2f} | ${dev[2]:.2f} |" in readme
    assert (f"| ${net[0]:.2f} + ${app[0]:.2f} | ${net[1]:.2f} + ${app[1]:.2f} | ${net[2]:.2f} + ${app[2]:.2f} |"
            in readme)
    assert f"| only during a session | ${net[1] + app[1]:.2f} | ${net[2] + app[2]:.2f} |" in readme


def test_every_resource_type_the_pack_judges_is_modelled_offline() -> None:
    from guard import types
    from offline import aws_model

    tokens = [v for k, v in vars(types).items() if k.isupper() and isinstance(v, str) and v.count(":") == 2
              and v.startswith("aws:")]
    for token in tokens:
        inputs = {"instanceId": "i-0123", "name": "thing"}  # what types named by their inputs take their id from
        id_, _ = aws_model.resource_state(token, "thing", f"urn::{token}::thing", inputs, "ap-northeast-1", False)
        assert id_, token


@pytest.mark.parametrize("sets", [
    ["bastion=off", "database=false", "endpoints=[ssm, ssmmessages, logs, kms, s3]"],
    ["ssmHost=false", "fileShare=false", "bastionForwardPorts=[]"],
])
def test_states_the_config_refuses_are_not_priced_not_a_crash(sets: list[str], tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    """The cost table prices other states than the one planned; one the config cannot be put in is named, and the
    plan of the valid config succeeds."""
    argv = [a for s in sets for a in ("--set", s)]
    assert plan.main([*argv, "--diagram-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "Not priced: " in out and "expected" in out.split("Not priced: ", 1)[1]
    assert "Traceback" not in out
