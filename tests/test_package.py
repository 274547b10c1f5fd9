"""The components as a package: importable as `airgap`, versioned, typed, and usable the way another program would
use them — connectable things, default ports, names checked before anything is registered."""

from __future__ import annotations

import importlib.metadata
import re
import tomllib
from pathlib import Path

import pytest
from conftest import run_program

import airgap
from offline import graph
from offline.harness import Registration, capture

pytestmark = pytest.mark.program

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "components"


def test_the_version_is_one_number_everywhere() -> None:
    project = tomllib.loads((PACKAGE / "pyproject.toml").read_text())["project"]
    changelog = re.findall(r"^## (\d+\.\d+\.\d+)", (PACKAGE / "CHANGELOG.md").read_text(), re.M)
    assert project["version"] == airgap.__version__ == changelog[0]
    # The installed distribution is this one (requirements.txt installs it): what another program would get.
    assert importlib.metadata.version("airgap-components") == airgap.__version__


def test_it_is_typed_and_declares_ranges_not_pins() -> None:
    project = tomllib.loads((PACKAGE / "pyproject.toml").read_text())
    assert (PACKAGE / "airgap" / "py.typed").exists()
    assert "py.typed" in project["tool"]["setuptools"]["package-data"]["airgap"]
    for requirement in project["project"]["dependencies"]:
        assert "==" not in requirement and "<" in requirement and ">=" in requirement, requirement


def test_the_public_api_is_importable_from_the_package() -> None:
    for name in airgap.__all__:
        assert getattr(airgap, name) is not None, name


def test_the_program_imports_the_package_like_any_user() -> None:
    main = (ROOT / "__main__.py").read_text()
    assert "from airgap import (" in main and "components." not in main


DEFAULT_PORTS = '''
from airgap import Connections, FileShare, FileShareArgs, Port, VpcEndpoints, VpcEndpointsArgs
from airgap.connections import security_group

vpc, subnets = "vpc-0123", {{"ap-northeast-1a": "subnet-0a"}}
share = FileShare("share", FileShareArgs(vpc_id=vpc, subnet_ids=subnets))
endpoints = VpcEndpoints("endpoints", VpcEndpointsArgs(vpc_id=vpc, subnet_ids=subnets, route_table_ids=["rtb-0a"],
                                                       services=("ssm",), policy_supported={{"ssm": True}}))
app = Connections("app", security_group("app", vpc_id=vpc, description="app", parent=share), share)
{body}
'''


def test_peers_are_connected_on_their_default_ports(tmp_path: Path) -> None:
    """`allow_to(thing)` takes the thing itself and its port: 2049 for a share, 443 for an endpoint group."""
    cap = run_program(DEFAULT_PORTS.format(body="app.allow_to(share)\napp.allow_to(endpoints)"), tmp_path)
    assert {(f.source, f.target, f.port) for f in graph.flows(cap)} \
        == {("app", "share", "tcp/2049"), ("app", "endpoints", "tcp/443")}


def test_a_peer_without_a_default_port_needs_one(tmp_path: Path) -> None:
    other = 'other = Connections("other", security_group("other", vpc_id=vpc, description="o", parent=share), share)'
    with pytest.raises(ValueError, match=re.escape("other has no default port; pass one, e.g. Port.tcp")):
        run_program(DEFAULT_PORTS.format(body=f"{other}\napp.allow_to(other)"), tmp_path)


@pytest.mark.parametrize("name", ["Network", "blue_network", "-network", "net--work", ""])
def test_a_component_name_that_cannot_start_physical_names_is_refused_first(name: str, tmp_path: Path) -> None:
    program = tmp_path / "__main__.py"
    program.write_text("import ipaddress\nfrom airgap import PrivateNetwork, PrivateNetworkArgs\n"
                       f"PrivateNetwork({name!r}, PrivateNetworkArgs(ipaddress.ip_network('10.0.0.0/16'), {{}}))\n")
    registered: list[Registration] = []
    with pytest.raises(ValueError) as err:
        capture("dev", "preview", program=program, sink=registered)
    assert f'PrivateNetwork name "{name}": expected lowercase words' in str(err.value)
    assert registered == []
