"""The offline harness and the plan: what a newcomer runs first. It must tell the truth about what it did."""

from __future__ import annotations

import re
from pathlib import Path

import pulumi_aws
import pytest

from offline import aws_model, plan
from offline.harness import READ_STACK_OUTPUTS, UNKNOWN, Capture
from offline.stack_files import stacks

pytestmark = pytest.mark.program


def test_preview_mode_has_every_aws_assigned_value_unknown(cap) -> None:
    preview = cap("dev", "preview")
    for r in preview:
        if r.custom:
            assert r.id == "", r.name
    rule_inputs = [r.inputs for r in preview if r.type.endswith("RouteTableAssociation")]
    assert rule_inputs and all(i["subnetId"] == UNKNOWN and i["routeTableId"] == UNKNOWN for i in rule_inputs)


def test_update_mode_has_realistic_known_values(cap) -> None:
    update = cap("dev", "update")
    text = repr([r.inputs for r in update]) + repr(update.exports)
    assert UNKNOWN not in text
    assert re.match(r"^vpc-0[0-9a-f]{16}$", update.exports["vpcId"])


def test_both_modes_register_the_same_resources_under_the_same_names(cap) -> None:
    assert {r.urn for r in cap("dev", "preview")} == {r.urn for r in cap("dev", "update")}


def test_runs_are_deterministic(cap) -> None:
    from offline.harness import capture

    again = capture("dev", "update")
    first = cap("dev", "update")
    assert [(r.urn, r.inputs) for r in sorted(again, key=lambda r: r.urn)] == \
           [(r.urn, r.inputs) for r in sorted(first, key=lambda r: r.urn)]


def test_every_custom_resource_is_a_child_of_a_component(dev: Capture) -> None:
    components = {r.urn for r in dev if not r.custom}
    for r in dev:
        if r.custom:
            assert r.parent in components, f"{r.type} {r.name} is not parented to a component"


def test_invokes_the_program_uses_exist_in_the_real_provider(dev: Capture) -> None:
    source = "\n".join(p.read_text() for p in Path(pulumi_aws.__file__).parent.rglob("*.py")
                       if p.name.startswith("get_"))
    assert dev.invokes, "the program used no invoke at all: the AZ lookup should be one"
    for token in set(aws_model.INVOKES) | set(dev.invokes):
        if token == READ_STACK_OUTPUTS:
            continue  # the engine's own built-in provider answers it (pulumi/pulumi, pkg/resource/deploy/builtins.go)
        assert f"'{token}'" in source, f"{token} is not an invoke of pulumi-aws {pulumi_aws.__name__}"


@pytest.mark.parametrize("stack", stacks())
def test_every_shipped_stack_plans(stack: str, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert plan.main(["--stack", stack, "--diagram-dir", str(tmp_path)]) == 0
    assert (tmp_path / f"{stack}-architecture.mmd").exists()
    out = capsys.readouterr().out
    assert "No cloud was contacted" in out
    assert "internet path: none" in out
    assert "(known after up)" in out and UNKNOWN not in out


def test_plan_reports_bad_config_as_one_error_and_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert plan.main(["--set", "vpcCidr=300.1.0.0/16"]) == 2
    err = capsys.readouterr().err
    assert 'airgap:vpcCidr = "300.1.0.0/16": expected an IPv4 CIDR block' in err
    assert "Traceback" not in err


def test_plan_shows_outputs_as_the_cli_would(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert plan.main(["--mode", "update", "--diagram-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "bastionForwardPorts:\n  - 8080\n" in out
    assert "8080.0" not in out


def test_two_components_of_one_name_are_refused_as_the_engine_refuses_them(tmp_path) -> None:
    """Two PrivateNetworks named alike register the same URNs; the engine refuses the whole program, so does this."""
    import pytest
    from conftest import run_program

    from offline.harness import EngineRefusal

    source = """
import ipaddress
from airgap.network import PrivateNetwork, PrivateNetworkArgs
args = PrivateNetworkArgs(cidr=ipaddress.IPv4Network("10.1.0.0/16"),
                          subnets={"ap-northeast-1a": ipaddress.IPv4Network("10.1.0.0/24")})
PrivateNetwork("network", args)
PrivateNetwork("network", args)
"""
    with pytest.raises(EngineRefusal, match=r"Duplicate resource URN '.*PrivateNetwork::network'"):
        run_program(source, tmp_path)


def test_every_modelled_invoke_is_one_the_provider_has() -> None:
    """The harness answers only invokes the real provider (or the engine) has: each token is in pulumi_aws."""
    from pathlib import Path

    import pulumi_aws

    from offline import aws_model

    source = "\n".join(p.read_text() for p in Path(pulumi_aws.__file__).parent.rglob("get_*.py"))
    for token in aws_model.INVOKES:
        assert f"'{token}'" in source or f'"{token}"' in source, token


def test_resource_type_tokens_are_spelt_in_one_module() -> None:
    """The pack, the harness, the plan and the diagram name resource types through guard/types.py only, so they
    cannot drift apart (invoke tokens are checked against pulumi_aws separately)."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    token = re.compile(r'"(?:aws|pulumi):[a-zA-Z0-9]+(?:/[a-zA-Z0-9]+)?:[A-Z][A-Za-z0-9]+"')
    spelt = {str(p.relative_to(root)): token.findall(p.read_text())
             for p in [*root.glob("offline/*.py"), *root.glob("policy/guard/*.py")] if p.name != "types.py"}
    assert {path: found for path, found in spelt.items() if found} == {}
