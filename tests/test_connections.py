"""Connections: CDK-style allow_from/allow_to emit standalone rules on both sides, and can never form a cycle."""

from __future__ import annotations

import graphlib
from pathlib import Path

import pytest
from conftest import run_program

from airgap.connections import Port, check_description
from offline import graph
from offline.harness import Capture

pytestmark = pytest.mark.program

PAIR = '''
import pulumi
from airgap.connections import Connections, Port, security_group
from airgap.endpoints import HTTPS

class Owner(pulumi.ComponentResource):
    def __init__(self, name):
        super().__init__("test:index:Owner", name)

vpc = "vpc-0123"
owner_a, owner_b = Owner("a"), Owner("b")
host = Connections("host", security_group("host", vpc_id=vpc, description="host", parent=owner_a), owner_a)
share = Connections("share", security_group("share", vpc_id=vpc, description="share", parent=owner_b), owner_b)
{body}
'''


def rules(cap: Capture) -> list[tuple[str, str, str, str]]:
    out = []
    for type_, direction in ((graph.INGRESS, "ingress"), (graph.EGRESS, "egress")):
        for end in graph.rule_ends(cap, type_):
            out.append((direction, end.group, end.peer, end.port))
    return sorted(out)


def acyclic(cap: Capture) -> None:
    sorter = graphlib.TopologicalSorter({r.urn: set(r.dependencies) for r in cap})
    sorter.prepare()  # raises CycleError on a dependency cycle


@pytest.mark.parametrize("mode", ["preview", "update"])
def test_allow_to_emits_ingress_on_target_and_egress_on_source(tmp_path: Path, mode: str) -> None:
    cap = run_program(PAIR.format(body='host.allow_to(share, Port.tcp(2049), "NFS")'), tmp_path, mode)
    assert rules(cap) == [
        ("egress", "host", "share", "tcp/2049"),
        ("ingress", "share", "host", "tcp/2049"),
    ]
    ingress = cap.named(graph.INGRESS, "share-allows-tcp2049-from-host")
    egress = cap.named(graph.EGRESS, "host-sends-tcp2049-to-share")
    assert ingress.inputs["description"] == "tcp/2049 from host: NFS"
    assert egress.inputs["description"] == "tcp/2049 to share: NFS"
    # Each rule is a child of the component that owns its group.
    assert ingress.parent == cap.named("test:index:Owner", "b").urn
    assert egress.parent == cap.named("test:index:Owner", "a").urn


def test_the_same_connection_asked_twice_from_either_side_is_one_pair(tmp_path: Path) -> None:
    cap = run_program(PAIR.format(body='''
host.allow_to(share, Port.tcp(2049), "NFS")
share.allow_from(host, Port.tcp(2049), "NFS again")
host.allow_to(share, Port.tcp(2049), "and again")
'''), tmp_path)
    assert len(cap.of_type(graph.INGRESS)) == 1 and len(cap.of_type(graph.EGRESS)) == 1


def test_groups_allowing_each_other_cannot_form_a_cycle(tmp_path: Path) -> None:
    """EC2 and EFS groups naming each other inline -> "Circular dependency between resources".
    With Connections the groups carry no rules, so neither group depends on the other; only rules depend on
    groups, and the whole graph orders cleanly."""
    cap = run_program(PAIR.format(body='''
host.allow_to(share, Port.tcp(2049), "NFS")
share.allow_to(host, Port.tcp(2049), "the reverse rule")
'''), tmp_path, "update")
    groups = {g.name: g for g in cap.of_type(graph.SG)}
    assert groups["host"].urn not in groups["share"].dependencies
    assert groups["share"].urn not in groups["host"].dependencies
    assert all("ingress" not in g.inputs and "egress" not in g.inputs for g in groups.values())
    assert len(cap.of_type(graph.INGRESS)) == 2 and len(cap.of_type(graph.EGRESS)) == 2
    acyclic(cap)


def test_prefix_list_peer_gets_only_the_egress_half(tmp_path: Path) -> None:
    cap = run_program(PAIR.format(body='''
from airgap.connections import PrefixListPeer
host.allow_to(PrefixListPeer("s3-prefix-list", "pl-61a54008"), HTTPS, "S3")
'''), tmp_path)
    assert rules(cap) == [("egress", "host", "prefix list pl-61a54008", "tcp/443")]
    (rule,) = cap.of_type(graph.EGRESS)
    assert rule.inputs["prefixListId"] == "pl-61a54008"
    assert "referencedSecurityGroupId" not in rule.inputs


def test_all_traffic_rules_carry_no_ports(tmp_path: Path) -> None:
    cap = run_program(PAIR.format(body='host.allow_to(share, Port.all_traffic(), "everything")'), tmp_path)
    for rule in cap.of_type(graph.INGRESS) + cap.of_type(graph.EGRESS):
        assert rule.inputs["ipProtocol"] == "-1"
        assert "fromPort" not in rule.inputs and "toPort" not in rule.inputs


def test_rule_names_do_not_depend_on_variable_names(tmp_path: Path) -> None:
    renamed = PAIR.replace("host = ", "first = ").replace("share = ", "second = ")
    cap = run_program(renamed.format(body='first.allow_to(second, Port.tcp(2049), "NFS")'), tmp_path)
    assert {r.name for r in cap.of_type(graph.INGRESS)} == {"share-allows-tcp2049-from-host"}
    assert {r.name for r in cap.of_type(graph.EGRESS)} == {"host-sends-tcp2049-to-share"}


def test_port_values_read_like_the_rules() -> None:
    assert (str(Port.tcp(443)), Port.tcp(443).slug) == ("tcp/443", "tcp443")
    assert (str(Port.tcp_range(8000, 8080)), Port.tcp_range(8000, 8080).slug) == ("tcp/8000-8080", "tcp8000-8080")
    assert (str(Port.all_traffic()), Port.all_traffic().slug) == ("all traffic", "all")
    assert Port.tcp(443) == Port.tcp_range(443, 443)
    with pytest.raises(ValueError, match="0 <= start <= end <= 65535"):
        Port.tcp_range(10, 5)


def test_descriptions_aws_would_reject_fail_before_registration() -> None:
    with pytest.raises(ValueError, match="characters AWS rejects"):
        check_description("host → share", "connection description")
    with pytest.raises(ValueError, match="over 255"):
        check_description("x" * 256, "connection description")


def test_the_dev_stack_dependency_graph_is_acyclic(dev: Capture) -> None:
    acyclic(dev)
