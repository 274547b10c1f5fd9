"""airgap-guard, run through pulumi_policy's own analyzer over the harness graph, in both modes.

- The shipped stacks (and every config a user would ship) produce no mandatory violation and no skipped policy.
- The policies that apply to airgap's own stacks catch a bad variant of dev with a message naming the resource and
  the fix (every policy, on its own: tests/test_spec.py).
- Each classic mistake of private VPCs, written as a real program would write it, is caught before anything is
  created.
"""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import mutate
import pytest
import verdicts
from conftest import ROOT, captured, run_program
from programs import (
    ENDPOINT_GROUP_ADMITS_NOTHING,
    EXEC_NEVER_ENABLED,
    GROUPS_NAMING_EACH_OTHER,
    TWO_REGIONS,
    WIDER_BAD,
    WIDER_GOOD,
)
from variants import SHIPPED_CONFIGS, VARIANTS

from offline.guard_run import Report, analyze
from offline.harness import MODES, Capture
from offline.stack_files import stacks

from guard import POLICIES  # isort: skip
from guard.types import ENDPOINT, SG  # isort: skip

pytestmark = pytest.mark.program


def run(cap: Capture, config: dict | None = None) -> Report:
    report = analyze(cap, config)
    assert report.skipped == [], [f.message for f in report.skipped]
    return report


def fires(report: Report, policy: str, *phrases: str) -> None:
    found = report.by_policy(policy)
    assert found, f"{policy} did not fire; fired: {sorted({f.policy for f in report.violations})}"
    for f in found:
        assert "Fix: " in f.message, f.message
    text = "\n".join(f.message for f in found)
    for phrase in phrases:
        assert phrase in text, text


# --- the pack itself ---------------------------------------------------------------------------------------------

def test_every_policy_is_described_levelled_and_unique() -> None:
    names = [p.name for p in POLICIES]
    assert len(names) == len(set(names)) >= 35
    for p in POLICIES:
        assert p.description.endswith(".") and p.enforcement_level is not None and p.severity is not None, p.name


def test_the_pack_is_what_the_cli_runs() -> None:
    from offline.stack_files import load_yaml

    meta = load_yaml((ROOT / "policy" / "PulumiPolicy.yaml").read_text())
    assert meta["runtime"]["name"] == "python" and meta["version"]
    source = (ROOT / "policy" / "__main__.py").read_text()
    calls = [n for n in ast.walk(ast.parse(source)) if isinstance(n, ast.Call) and getattr(n.func, "id", "") ==
             "PolicyPack"]
    assert len(calls) == 1
    assert {k.arg for k in calls[0].keywords} >= {"name", "policies"}
    requirements = (ROOT / "policy" / "requirements.txt").read_text()
    assert "pulumi-policy==" in requirements and "pulumi==" in requirements


# --- shipped stacks ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("stack", stacks())
@pytest.mark.parametrize("mode", MODES)
def test_shipped_stacks_pass_with_nothing_skipped(stack: str, mode: str) -> None:
    report = checked(f"stack-{stack}-{mode}")
    assert report.mandatory == [], [f.message for f in report.mandatory]
    if mode == "preview" and captured(stack, mode).of_type("aws:efs/fileSystem:FileSystem"):
        # Stated, not skipped: the two values that embed an id AWS has not assigned yet (the file system's ARN in
        # its policy, its id in the host's user data).
        assert sorted(report.not_applicable) == [
            ("ec2-no-secrets-in-user-data", "the user data is unknown until its inputs exist; checked during update"),
            ("efs-policy-enforces-tls", "the policy names the file system's ARN, unknown until it exists; checked "
             "during update")]
    else:
        assert report.not_applicable == []


@pytest.mark.parametrize("overrides", SHIPPED_CONFIGS, ids=[json.dumps(c) for c in SHIPPED_CONFIGS])
@pytest.mark.parametrize("mode", MODES)
def test_every_supported_config_passes(overrides: dict, mode: str) -> None:
    report = checked(f"config-{json.dumps(overrides, sort_keys=True)}-{mode}")
    assert report.mandatory == [], [f.message for f in report.mandatory]


# --- one bad variant per policy -----------------------------------------------------------------------------------

def checked(case: str) -> Report:
    """The report on one of tests/verdicts.py's test stacks (shared with the verdict test), nothing skipped."""
    report = verdicts.report(case)
    assert report.skipped == [], [f.message for f in report.skipped]
    return report


@pytest.mark.parametrize(("index", "policy", "phrases"), [(i, v[0], v[2]) for i, v in enumerate(VARIANTS)],
                         ids=[f"{v[0]}-{i}" for i, v in enumerate(VARIANTS)])
@pytest.mark.parametrize("mode", MODES)
def test_each_policy_catches_its_bad_variant(mode: str, index: int, policy: str, phrases: tuple) -> None:
    fires(checked(verdicts.variant_id(index, policy, mode)), policy, *phrases)


def test_the_file_share_policy_content_is_checked_once_known() -> None:
    bad = mutate.set_prop(captured("dev", "update"), "aws:efs/fileSystemPolicy:FileSystemPolicy", "file-share",
                          "policy", json.dumps({"Version": "2012-10-17", "Statement": [
                              {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "*"}]}))
    fires(run(bad), "efs-policy-enforces-tls", "aws:SecureTransport")


@pytest.mark.parametrize("mode", MODES)
def test_missing_endpoints_are_named_with_the_workload_that_needs_them(mode: str) -> None:
    # The program's config refuses such an endpoint list; a program written otherwise is what the pack is for.
    dev = captured("dev", mode)
    for name in ("ssmmessages", "ecr-api", "ecr-dkr", "logs"):
        dev = mutate.remove(dev, ENDPOINT, f"endpoints-{name}")
    report = run(dev)
    fires(report, "required-endpoints", "Instance 'ssm-host': needs ssmmessages for Session Manager sessions",
          "needs ecr.api", "needs logs for the awslogs driver")
    # One finding per workload, naming every endpoint it lacks: one root cause, one finding.
    by_consumer = {f.message.split("\n")[-1].split(":", 1)[0]: f.message
                   for f in report.by_policy("required-endpoints")}
    assert set(by_consumer) == {"Instance 'ssm-host'", "Service 'bastion'"}
    assert re.findall(r"needs (\S+) for", by_consumer["Service 'bastion'"]) == ["ssmmessages", "ecr.api", "ecr.dkr",
                                                                               "logs"]
    kms = run(mutate.remove(captured("dev", mode, execKms=True), ENDPOINT, "endpoints-kms"))
    fires(kms, "required-endpoints", "needs kms for decrypting its KMS-encrypted exec channel")


def test_ec2messages_is_required_only_when_configured() -> None:
    cap = captured("dev", "preview")
    assert not run(cap).by_policy("required-endpoints")
    fires(run(cap, {"required-endpoints": {"ec2messages": True}}), "required-endpoints", "needs ec2messages")
    assert not run(captured("dev", "preview", includeEc2Messages=True),
                   {"required-endpoints": {"ec2messages": True}}).by_policy("required-endpoints")


def test_budget_is_advisory_and_priced_from_the_table() -> None:
    report = run(captured("dev", "preview", endpointPlacement="every-az", azCount=3))
    fires(report, "endpoint-budget", "$184/month", "18 endpoint-AZs", "ecr.api x3 AZ", "over the $75 budget")
    assert all(f.level == "advisory" for f in report.by_policy("endpoint-budget"))
    assert not run(captured("dev", "preview", endpointPlacement="every-az", azCount=3),
                   {"endpoint-budget": {"monthlyBudgetUsd": 200}}).by_policy("endpoint-budget")


def test_groups_naming_each_other_inline_are_a_cycle() -> None:
    """The EC2/EFS pair's classic shape: each group's inline rules reference the other."""
    cap = captured("dev", "preview")
    host, share = cap.named(SG, "ssm-host"), cap.named(SG, "file-share")
    rule = [{"protocol": "tcp", "fromPort": 2049, "toPort": 2049, "securityGroups": ["sg-x"]}]
    bad = mutate.set_prop(mutate.set_prop(cap, SG, "ssm-host", "egress", rule), SG, "file-share", "ingress", rule)
    bad.named(SG, "ssm-host").property_dependencies["egress"] = [share.urn]
    bad.named(SG, "file-share").property_dependencies["ingress"] = [host.urn]
    report = run(bad)
    fires(report, "no-security-group-cycles", "Circular dependency", "'ssm-host'", "'file-share'")
    fires(report, "no-inline-security-group-rules", "Circular dependency between resources")


# --- the classic mistakes, written as real programs write them ----------------------------------------------

@pytest.mark.parametrize("mode", MODES)
def test_a_service_without_exec_behind_open_groups_is_caught_before_anything_is_created(tmp_path: Path,
                                                                                        mode: str) -> None:
    report = run(run_program(EXEC_NEVER_ENABLED, tmp_path, mode))
    # Nothing in the program says the service is meant for ECS Exec but the ssmmessages endpoint beside it: advisory.
    fires(report, "ecs-exec-expected", "Service 'demo'", "TargetNotConnected")
    fires(report, "no-ingress-from-anywhere", "SecurityGroup 'endpoint'", "SecurityGroup 'private'")
    fires(report, "no-inline-security-group-rules", "SecurityGroup 'private'")
    fires(report, "endpoint-group-ingress-by-reference", "from 0.0.0.0/0")
    fires(report, "no-all-protocol-rules")
    fires(report, "no-open-egress")
    fires(report, "ecs-task-roles-distinct", "same role")
    fires(report, "ecs-container-logging", "awslogs-create-group")
    fires(report, "iam-no-passrole-on-wildcard", "RolePolicy 'ssm-activation'")
    fires(report, "default-security-group-managed")


@pytest.mark.parametrize("mode", MODES)
def test_an_endpoint_group_without_inbound_443_is_named_as_the_root_cause(tmp_path: Path, mode: str) -> None:
    report = run(run_program(ENDPOINT_GROUP_ADMITS_NOTHING, tmp_path, mode))
    fires(report, "endpoint-reachability", "SecurityGroup 'endpoint': the endpoint group does not admit 443 from "
          "Instance 'pwork'", "never registers")
    fires(report, "ec2-encrypted-root", "Instance 'pwork'")
    # The host itself is otherwise right: ssm + ssmmessages, SSM core through its profile, egress to the endpoints.
    assert not report.by_policy("required-endpoints") and not report.by_policy("ec2-ssm-managed")
    assert all("cannot send 443" not in f.message for f in report.by_policy("endpoint-reachability"))


@pytest.mark.parametrize("mode", MODES)
def test_groups_naming_each_other_inline_are_stopped(tmp_path: Path, mode: str) -> None:
    report = run(run_program(GROUPS_NAMING_EACH_OTHER, tmp_path, mode))
    fires(report, "no-inline-security-group-rules", "SecurityGroup 'sg-efs'", "Circular dependency")


# --- wider coverage: the same intent on resources airgap itself never creates ---------------------------------------

WIDER_POLICIES = ("ec2-imdsv2", "ec2-no-public-ip", "ec2-no-key-pair", "lb-internal", "rds-not-public",
                  "rds-encrypted", "nacl-no-open-ingress", "iam-no-admin-managed-policies", "iam-no-wildcard-actions",
                  "rds-deletion-protection", "rds-backups", "rds-iam-authentication", "ec2-encrypted-root",
                  "autoscaling-group-launches", "autoscaling-launch-template")


@pytest.mark.parametrize("mode", MODES)
def test_wider_coverage_catches_each_way_in_and_each_broad_grant(tmp_path: Path, mode: str) -> None:
    report = run(run_program(WIDER_BAD, tmp_path, mode))
    fires(report, "ec2-imdsv2", "LaunchTemplate 'web'", "LaunchConfiguration 'legacy'")
    fires(report, "ec2-no-public-ip", "LaunchTemplate 'web': network interface 0",
          "LaunchConfiguration 'legacy': every instance launched from it gets a public IP")
    fires(report, "ec2-no-key-pair", "LaunchTemplate 'web'", "LaunchConfiguration 'legacy'")
    fires(report, "lb-internal", "LoadBalancer 'front'", "internet-facing")
    fires(report, "rds-not-public", "Instance 'db'", "publicly_accessible")
    fires(report, "rds-encrypted", "Instance 'db'", "Cluster 'aurora'")
    fires(report, "nacl-no-open-ingress", "NetworkAclRule 'open'", "from anywhere")
    fires(report, "iam-no-admin-managed-policies", "Role 'app': it attaches AdministratorAccess",
          "RolePolicyAttachment 'power': it attaches PowerUserAccess")
    fires(report, "iam-no-wildcard-actions", "Role 'app'", "allows s3:*")
    fires(report, "rds-deletion-protection", "Instance 'db'", "Cluster 'aurora'")
    fires(report, "rds-backups", "Instance 'db'", "kept 1 day")
    fires(report, "rds-iam-authentication", "Instance 'db'", "Cluster 'aurora'")
    fires(report, "ec2-encrypted-root", "LaunchConfiguration 'legacy'")
    # The group is told what it inherits; the template's own findings carry the level (one root cause).
    fires(report, "autoscaling-group-launches", "Group 'web': every instance it starts inherits from LaunchTemplate "
          "'web'")
    assert {f.level for f in report.by_policy("autoscaling-group-launches")} == {"advisory"}


@pytest.mark.parametrize("mode", MODES)
def test_wider_coverage_passes_the_private_least_privilege_variant(tmp_path: Path, mode: str) -> None:
    report = run(run_program(WIDER_GOOD, tmp_path, mode))
    found = [f.message for f in report.violations if f.policy in WIDER_POLICIES]
    assert found == []


def test_every_policy_says_what_it_reads_where_it_applies_and_which_controls() -> None:
    from guard import ABOUT
    from guard.kit import ANY_STACK, PRIVATE_ONLY

    for p in POLICIES:
        about = ABOUT[p.name]
        assert about.reads and about.applies, p.name
        # A private-only policy carries the posture knob; FSBP controls are cited in the description users see.
        if about.applies == PRIVATE_ONLY:
            assert "privateOnly" in p.config_schema.properties, p.name
        assert all(c in p.description for c in about.controls), p.name
    assert {ABOUT[p.name].applies for p in POLICIES} >= {ANY_STACK, PRIVATE_ONLY}


def test_readme_lists_every_policy() -> None:
    from offline.policy_table import rows

    readme = (ROOT / "README.md").read_text()
    stale = [row for row in rows() if row not in readme]
    assert stale == [], f"README's policy table is stale (paste `python -m offline.policy_table`): {stale}"


def test_rules_read_back_into_an_existing_group_are_not_taken_for_inline_rules() -> None:
    """After the first `pulumi up`, the provider reads every rule on a group into its state, standalone ones
    included. Those read-backs must not look like inline rules to the stack policies — but a rule that is not a
    read-back of a standalone one (added in the console, say) must still be caught."""
    update = captured("dev", "update")
    group = update.named(SG, "endpoints")
    assert len(group.state["ingress"]) == 2 and not group.inputs.get("ingress")
    assert run(update).mandatory == []
    extra = mutate.clone(update)
    extra.named(SG, "endpoints").state["ingress"].append(
        {"protocol": "tcp", "fromPort": 443, "toPort": 443, "cidrBlocks": ["0.0.0.0/0"], "securityGroups": []})
    fires(run(extra), "endpoint-group-ingress-by-reference", "from 0.0.0.0/0")


# --- where the pack runs: region per resource, never assumed ------------------------------------------------------

def test_a_provider_without_a_region_in_config_gives_no_false_missing_endpoints(mode: str) -> None:
    """Region from the environment (AWS_REGION): the default provider's config has none. The pack takes each
    endpoint's region from its service name and matches consumers to the endpoints of their VPC."""
    dev = mutate.clone(captured("dev", mode))
    dev.config = {k: v for k, v in dev.config.items() if k != "aws:region"}
    report = run(dev)
    assert report.mandatory == [] and report.skipped == [], [f.message for f in report.mandatory]
    assert ("endpoint-in-stack-region", "the endpoint's provider names no region in its config (it comes from the "
            "environment), so there is nothing to compare its service name with") in report.not_applicable


def test_several_regions_are_judged_region_by_region(tmp_path: Path, mode: str) -> None:
    report = run(run_program(TWO_REGIONS.replace("{endpoint_region}", "None"), tmp_path, mode))
    assert not report.by_policy("required-endpoints"), [f.message for f in report.by_policy("required-endpoints")]
    assert not report.by_policy("endpoint-in-stack-region")


def test_endpoints_named_for_another_region_serve_nobody_there(tmp_path: Path, mode: str) -> None:
    report = run(run_program(TWO_REGIONS.replace("{endpoint_region}", '"ap-northeast-1"'), tmp_path, mode))
    fires(report, "endpoint-in-stack-region", "VpcEndpoint 'virginia-ssm' (com.amazonaws.ap-northeast-1.ssm)",
          "use com.amazonaws.us-east-1.<service>")
    fires(report, "required-endpoints", "Instance 'virginia-host': needs ssm",
          "only an endpoint for ap-northeast-1, and the consumer is in us-east-1")
    assert all("tokyo" not in f.message for f in report.by_policy("required-endpoints"))


def test_every_policy_module_is_listed_in_the_pack() -> None:
    """A new module in policy/guard/ reaches the pack only through guard.MODULES: one forgotten there is caught here."""
    import importlib

    from guard import MODULES

    defining = set()
    for path in sorted((ROOT / "policy" / "guard").glob("[!_]*.py")):
        module = importlib.import_module(f"guard.{path.stem}")
        if hasattr(module, "POLICIES"):
            defining.add(module.__name__)
    assert defining == {m.__name__ for m in MODULES}
    assert [p.name for m in MODULES for p in m.POLICIES] == [p.name for p in POLICIES]
