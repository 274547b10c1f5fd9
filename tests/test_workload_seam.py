"""The workload seam: a new kind of workload is its component, its export, its config section and its tests — no
other file. This module is all four for a test-only workload (a second host serving a metrics port, which also calls
STS): registered as a config section, it gets its keys checked, its endpoints derived, the bastion's rules to its
port on both sides, its forward target in the outputs, and the pack's approval — with no program file touched."""

from __future__ import annotations

import sys
import types
from dataclasses import dataclass
from typing import Any

import pulumi
import pytest

from airgap import SsmHost, SsmHostArgs
from airgap.connections import Connections
from airgap.workload import ForwardTarget, Needs

from guard.types import EGRESS, ENDPOINT, INGRESS, SG  # isort: skip
from offline.guard_run import analyze
from offline.harness import Registration, capture
from program import config, sections
from program.config import ConfigError
from program.keys import Key, Problems, Values
from program.sections import Built, Context

pytestmark = pytest.mark.program


class MetricsHost(pulumi.ComponentResource):
    """The component: a host of its own that serves a metrics port to the bastion and calls STS."""

    connections: Connections

    @classmethod
    def needs(cls) -> Needs:
        return SsmHost.needs() | Needs(frozenset({"sts"}))

    def __init__(self, name: str, port: int, built: Built, settings: Any) -> None:
        super().__init__("test:compute:MetricsHost", name, None, None)
        self.host = SsmHost(f"{name}-host", SsmHostArgs(
            vpc_id=built.network.vpc_id, subnet_id=built.network.subnet_ids_by_zone[settings.availability_zones[0]],
            endpoints=built.endpoints, asleep=settings.asleep),
            opts=pulumi.ResourceOptions(parent=self))
        self.connections, self.port = self.host.connections, port
        self.register_outputs({})

    def forward_targets(self) -> list[ForwardTarget]:
        return [ForwardTarget("metrics", self.host.instance.private_ip, (self.port,), "the metrics host")]


@dataclass(frozen=True)
class MetricsSection:
    """The config section: its keys, checks and build."""

    enabled: bool
    port: int
    switch = ("airgap:metrics = false", "airgap:metrics to true")
    workload = True

    def needs(self) -> Needs:
        return MetricsHost.needs() if self.enabled else Needs()

    def build(self, settings: Any, built: Built) -> MetricsHost | None:
        return MetricsHost("metrics", self.port, built, settings) if self.enabled else None

    def export(self, settings: Any, built: Built) -> None:
        if "metrics" in built.components:  # the export
            pulumi.export("metricsPort", self.port)


def _parse(v: Values, ctx: Context, p: Problems) -> MetricsSection:
    if v.ok("metricsPort") and not 1024 <= v["metricsPort"] <= 65535:
        p.bad("airgap:metricsPort", v["metricsPort"], "an unprivileged TCP port, 1024 to 65535")
    return MetricsSection(v["metrics"] is True, v.get("metricsPort", 9100))


SECTION = types.ModuleType("metrics_section")
SECTION.NAME, SECTION.ORDER, SECTION.parse = "metrics", 55, _parse  # type: ignore[attr-defined]
SECTION.KEYS = (Key("metrics", "boolean", False, "Run the metrics host."),  # type: ignore[attr-defined]
                Key("metricsPort", "integer", 9100, "The port it serves to the bastion."))


@pytest.fixture
def registered(monkeypatch: pytest.MonkeyPatch) -> None:
    shipped = sections.modules()
    monkeypatch.setattr(sections, "modules", lambda: tuple(sorted((*shipped, SECTION), key=lambda m: m.ORDER)))
    monkeypatch.setattr(config, "modules", sections.modules)
    monkeypatch.setitem(sys.modules, "metrics_section", SECTION)


@pytest.mark.parametrize("mode", ["preview", "update"])
def test_a_workload_from_outside_the_program_is_built_wired_and_approved(registered: None, mode: str) -> None:
    run = capture("dev", mode, {"metrics": True, "metricsPort": 9100})
    # Its endpoint needs joined the others: STS is created because it asks for it.
    assert "endpoints-sts" in {r.name for r in run.of_type(ENDPOINT)}
    # The bastion may forward to its port, on both sides, by group reference.
    host_group, bastion = run.named(SG, "metrics-host"), run.named(SG, "bastion")
    ingress = [r for r in run.of_type(INGRESS) if r.property_dependencies["securityGroupId"] == [host_group.urn]]
    assert [(r.property_dependencies["referencedSecurityGroupId"], r.inputs["fromPort"]) for r in ingress] == [
        ([bastion.urn], 9100)]
    assert any(r.property_dependencies["securityGroupId"] == [bastion.urn] and r.inputs.get("fromPort") == 9100
               for r in run.of_type(EGRESS))
    assert {t["name"]: t["ports"] for t in run.exports["bastionTargets"]}["metrics"] == [9100]
    assert run.exports["metricsPort"] == 9100
    assert analyze(run).mandatory == []


def test_its_keys_are_checked_with_everyone_elses_before_anything_registers(registered: None) -> None:
    sink: list[Registration] = []
    with pytest.raises(ConfigError) as err:
        capture("dev", "preview", {"metrics": True, "metricsPort": 80}, sink=sink)
    assert err.value.problems == ['airgap:metricsPort = 80: expected an unprivileged TCP port, 1024 to 65535']
    assert sink == []


def test_without_it_registered_its_keys_are_unknown_keys() -> None:
    with pytest.raises(ConfigError, match=r'airgap:metrics = "true": expected one of the declared keys'):
        capture("dev", "preview", {"metrics": True})
