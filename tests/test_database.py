"""The database the bastion exists for: a private, encrypted PostgreSQL that pauses when nobody is connected, reached
only from the bastion on its port — and the pack that holds any program's databases to the same."""

from __future__ import annotations

import pytest
from conftest import captured
from mutate import remove, set_prop

from guard.types import EGRESS, INGRESS, RDS_CLUSTER, RDS_CLUSTER_INSTANCE, RDS_SUBNET_GROUP, SG, SUBNET  # isort: skip
from offline import cost
from offline.guard_run import analyze
from offline.harness import Capture, Registration, capture
from program.config import ConfigError

pytestmark = pytest.mark.program

PORT = 5432


def cluster(run: Capture) -> Registration:
    return run.named(RDS_CLUSTER, "database")


def test_the_database_is_aurora_postgresql_that_pauses_at_zero_capacity(mode: str) -> None:
    c = cluster(captured("dev", mode)).inputs
    assert (c["engine"], c["engineMode"]) == ("aurora-postgresql", "provisioned")
    major, minor = map(int, c["engineVersion"].split("."))
    assert (major, minor) >= (16, 3)  # the oldest 16.x that pauses at 0 ACUs
    assert c["serverlessv2ScalingConfiguration"] == {"minCapacity": 0, "maxCapacity": 2, "secondsUntilAutoPause": 300}
    (instance,) = captured("dev", mode).of_type(RDS_CLUSTER_INSTANCE)
    assert instance.inputs["instanceClass"] == "db.serverless" and instance.inputs["publiclyAccessible"] is False


def test_the_database_is_encrypted_backed_up_and_keeps_a_final_snapshot(mode: str) -> None:
    c = cluster(captured("dev", mode)).inputs
    assert c["storageEncrypted"] is True  # the provider's default for Serverless v2 is unencrypted
    assert c["backupRetentionPeriod"] >= 7 and c["copyTagsToSnapshot"] is True
    assert c["skipFinalSnapshot"] is False and c["finalSnapshotIdentifier"] == "airgap-dev-database-final"
    assert c["iamDatabaseAuthenticationEnabled"] is True
    assert c["masterUsername"] == "airgap_admin"  # not postgres (Security Hub RDS.24)


def test_the_password_is_generated_and_kept_by_rds_never_in_config_or_state(mode: str) -> None:
    run = captured("dev", mode)
    c = cluster(run)
    assert c.inputs["manageMasterUserPassword"] is True and "masterPassword" not in c.inputs
    assert not any(k.lower().endswith("password") and "manage" not in k.lower() for k in c.state)
    if mode == "update":
        assert run.exports["databaseSecretArn"] == c.state["masterUserSecrets"][0]["secretArn"]


@pytest.mark.parametrize(("production", "protected"), [(False, False), (True, True)])
def test_deletion_protection_follows_production(production: bool, protected: bool) -> None:
    c = cluster(captured("dev", "preview", production=production))
    assert c.inputs["deletionProtection"] is protected and c.protect is protected


def test_it_lives_in_the_isolated_subnets_behind_a_group_of_its_own(mode: str) -> None:
    run = captured("dev", mode)
    (subnets,) = run.of_type(RDS_SUBNET_GROUP)
    isolated = {s.urn for s in run.of_type(SUBNET)}
    assert set(subnets.property_dependencies["subnetIds"]) == isolated and len(isolated) == 2
    assert cluster(run).property_dependencies["vpcSecurityGroupIds"] == [run.named(SG, "database").urn]
    assert "engineVersion" in cluster(run).ignore_changes  # AWS's minor upgrades are not undone


def test_it_admits_5432_only_from_the_bastion_both_halves(mode: str) -> None:
    run = captured("dev", mode)
    db, bastion = run.named(SG, "database"), run.named(SG, "bastion")
    ingress = [r for r in run.of_type(INGRESS) if r.property_dependencies["securityGroupId"] == [db.urn]]
    assert [(r.property_dependencies["referencedSecurityGroupId"], r.inputs["fromPort"], r.inputs["toPort"])
            for r in ingress] == [([bastion.urn], PORT, PORT)]
    egress = [r for r in run.of_type(EGRESS) if r.property_dependencies.get("referencedSecurityGroupId") == [db.urn]]
    assert [(r.property_dependencies["securityGroupId"], r.inputs["fromPort"]) for r in egress] == [([bastion.urn],
                                                                                                    PORT)]
    assert not [r for r in run.of_type(EGRESS) if r.property_dependencies["securityGroupId"] == [db.urn]]


def test_it_needs_no_endpoint() -> None:
    names = {r.name for r in captured("dev", "preview").of_type("aws:ec2/vpcEndpoint:VpcEndpoint")}
    assert names == {r.name for r in captured("dev", "preview", database=False).of_type(
        "aws:ec2/vpcEndpoint:VpcEndpoint")}


def test_asleep_it_is_left_as_it_is_to_pause_itself() -> None:
    """Nobody can connect while the stack sleeps (no endpoint, no bastion task), so the cluster pauses after five
    idle minutes and bills storage only; sleeping changes none of its inputs, and a session resumes it."""
    awake, asleep = captured("dev", "update"), captured("dev", "update", state="asleep")
    ours = [r for r in awake if "airgap:data:Database" in r.urn]
    assert ours and all(asleep.by_urn()[r.urn].inputs == r.inputs for r in ours)


def test_the_bastion_may_forward_to_it_and_the_outputs_say_how(mode: str) -> None:
    run = captured("dev", mode)
    targets = {t["name"]: t for t in run.exports["bastionTargets"]}
    assert targets["database"]["ports"] == [PORT]
    if mode == "update":
        assert targets["database"]["address"] == cluster(run).state["endpoint"] == run.exports["databaseEndpoint"]
    assert (run.exports["databaseName"], run.exports["databaseUser"], run.exports["databasePort"]) == \
        ("app", "airgap_admin", PORT)


def test_it_costs_storage_and_its_secret_asleep_and_compute_only_while_connected() -> None:
    from guard.prices import PRICES  # isort: skip

    tokyo = PRICES["ap-northeast-1"]
    asleep = cost.estimate(captured("dev", "preview", state="asleep")).by_component["database"]
    assert asleep == pytest.approx(1 * tokyo.aurora_storage_gb_month + tokyo.secret_month)
    parked = cost.estimate(captured("dev", "preview")).by_component["database"]
    assert parked == pytest.approx(asleep + 20 * 0.5 * tokyo.aurora_acu_hour)  # 20 session hours at 0.5 ACU


def test_a_database_without_a_bastion_is_refused_before_anything_registers() -> None:
    sink: list[Registration] = []
    with pytest.raises(ConfigError, match=r"airgap:database = true: expected false while airgap:bastion is off"):
        capture("dev", "preview", {"bastion": "off"}, sink=sink)
    assert sink == []


# --- the pack, on this program and any other ----------------------------------------------------------------------

def test_the_pack_finds_nothing_to_refuse_in_dev_with_its_database(mode: str) -> None:
    assert analyze(captured("dev", mode)).mandatory == []


def test_cutting_the_bastion_to_database_ingress_is_a_mandatory_finding(mode: str) -> None:
    cut = remove(captured("dev", mode), INGRESS, "database-allows-tcp5432-from-bastion")
    found = [f.message for f in analyze(cut).by_policy("database-reachability")]
    assert any("SecurityGroup 'bastion': may send 5432 to Cluster 'database'" in m for m in found), found
    assert "database-reachability" in {f.policy for f in analyze(cut).mandatory}


def test_opening_the_database_to_a_cidr_is_a_mandatory_finding(mode: str) -> None:
    opened = set_prop(captured("dev", mode), INGRESS, "database-allows-tcp5432-from-bastion", "cidrIpv4",
                      "10.40.0.0/16")
    opened = set_prop(opened, INGRESS, "database-allows-tcp5432-from-bastion", "referencedSecurityGroupId", None)
    found = [f.message for f in analyze(opened).mandatory if f.policy == "database-reachability"]
    assert any("SecurityGroup 'database': Cluster 'database''s group admits 10.40.0.0/16" in m for m in found), found


FOREIGN = '''
import pulumi_aws as aws

vpc = aws.ec2.Vpc("vpc", cidr_block="10.9.0.0/16", enable_dns_support=True, enable_dns_hostnames=True)
app = aws.ec2.SecurityGroup("app", vpc_id=vpc.id, description="app servers")
db = aws.ec2.SecurityGroup("db", vpc_id=vpc.id, description="the database")
aws.vpc.SecurityGroupIngressRule("db-from-app", security_group_id=db.id, referenced_security_group_id=app.id,
                                 ip_protocol="tcp", from_port=3306, to_port=3306, description="MySQL from app")
instance = aws.rds.Instance("orders", engine="mysql", instance_class="db.t4g.micro", allocated_storage=20,
                            username="orders_admin", password="{password}", storage_encrypted=True,
                            vpc_security_group_ids=[db.id], skip_final_snapshot=True)
'''


@pytest.mark.parametrize("mode", ["preview", "update"])
def test_any_programs_database_is_held_to_both_halves_and_a_managed_password(tmp_path, mode: str) -> None:
    """Not airgap's component: a MySQL instance whose group admits the app servers' group, which has no egress rule
    for it — one half of the flow — and a password written into the program."""
    from conftest import run_program

    run = run_program(FOREIGN.replace("{password}", "hunter2hunter2"), tmp_path, mode)
    report = analyze(run)
    (reach,) = [f.message for f in report.by_policy("database-reachability")]
    assert "SecurityGroup 'app': admitted on 3306 by Instance 'orders''s group, but has no 3306 egress to 'db', so " \
           "its connections never leave. Fix: add an aws.vpc.SecurityGroupIngressRule" in reach
    assert "in airgap" not in reach  # not airgap's resource: the fix is in the provider's terms only
    (password,) = report.by_policy("rds-managed-master-password")
    assert "Instance 'orders': sets its master password in the program" in password.message
