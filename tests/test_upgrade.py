"""Upgrading from airgap 0.1: children were renamed when components became instance-safe, and every rename carries
an alias, so a deployed stack's next preview shows renames and in-place updates only — nothing created, deleted or
replaced. The old side is recorded in tests/fixtures/airgap-0.1-urns.json (offline/upgrade.py)."""

from __future__ import annotations

import pytest

from offline.harness import capture
from offline.upgrade import recorded, upgrade_of

pytestmark = pytest.mark.program

SG = "aws:ec2/securityGroup:SecurityGroup"
ADDED_IN_0_4 = {"sessions", "sessions-host", "operators", "endpoints-kms"}
RULES = ("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
         "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule")


@pytest.mark.parametrize("variant", list(recorded()["variants"]))
def test_a_stack_deployed_with_0_1_sees_renames_not_replacements(variant: str) -> None:
    up = upgrade_of(variant)
    assert up.deleted == [], "an alias is missing: the engine would replace these"
    # Only what 0.4 adds is created: the shells' preferences (key, alias, log group, document, the host's grant),
    # the operator policy, and the kms endpoint through which the host's agent reaches the session key.
    assert {urn.rsplit("::", 1)[1] for urn in up.created} <= ADDED_IN_0_4, "an alias is missing"
    assert up.claimed_twice == {}, "two resources claim one old resource: the engine refuses the program"
    assert up.renamed, "nothing was renamed: the fixture no longer describes 0.1"
    for urn, keys in up.updated.items():
        type_ = urn.split("::")[-2].split("$")[-1]
        # Tags change in place everywhere. A standalone rule's description is modified in place: only
        # security_group_id forces replacement, the rest goes through ModifySecurityGroupRules (terraform-provider-aws,
        # internal/service/ec2/vpc_security_group_ingress_rule.go). A security group's description cannot change
        # without replacing the group, so it must not.
        allowed = {"tags", "description"} if type_ in RULES else {"tags"}
        if type_ == "pulumi:pulumi:StackReference":
            # 0.3 names the network stack in full (<organization>/<project>/<stack>), the only form Pulumi Cloud
            # reads; the reference is read again, nothing in AWS changes.
            allowed = {"name"}
        assert set(keys) <= allowed, f"{urn}: {keys}"
    # 0.3: the SSM host's user data runs at every boot until it has succeeded once, so a host made before is
    # replaced once (user_data_replace_on_change). It keeps nothing of its own: the share holds the data. 0.4 tags
    # it with its stack, the tag the operator policy allows sessions by.
    has_host = not variant.startswith("net")
    assert {urn.rsplit("::", 1)[1]: keys for urn, keys in up.replaced.items()} == (
        {"ssm-host": ["tags", "userData"]} if has_host else {})


def test_aliases_are_given_only_under_the_names_0_1_used() -> None:
    """Two environments in one stack must not both claim 0.1's resources: only a component under the name the 0.1
    program gave it carries aliases."""
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent / "examples" / "two-environments"
    both = capture("example", "update", program=root / "__main__.py", root=root)
    assert [r.name for r in both if r.aliases] == []
    dev = capture("dev", "update")
    claimed = [a for r in dev for a in r.aliases]
    assert len(claimed) == len(set(claimed))
