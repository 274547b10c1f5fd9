"""The live acceptance run's AWS side, against moto: the flow-log check, the leftover check, the task definitions
and the database's final snapshot deleted, and the probe that asks PostgreSQL through the tunnel."""

from __future__ import annotations

import pytest
from test_acceptance import RUN

pytestmark = pytest.mark.cli


def test_the_flow_log_check_reads_the_bucket_and_its_policy(moto_env: None) -> None:
    import json

    import boto3
    from moto import mock_aws

    from airgap.flow_logs import delivery_policy
    from ops.acceptance_aws import AwsCloud

    with mock_aws():
        session = boto3.Session(region_name=RUN.region)
        s3 = session.client("s3")
        s3.create_bucket(Bucket="flow", CreateBucketConfiguration={"LocationConstraint": RUN.region})
        s3.put_bucket_policy(Bucket="flow", Policy=json.dumps(delivery_policy("arn:aws:s3:::flow", "123456789012",
                                                                              RUN.region)))
        cloud = AwsCloud(session, say=lambda _: None, sleep=lambda _: None)
        assert cloud.flow_log_problems("flow", timeout=0) == [
            "no flow log records reached s3://flow/AWSLogs/ within 0 s"]
        # moto applies the TLS-only deny to its own plain-HTTP requests: the record goes in without the policy.
        s3.delete_bucket_policy(Bucket="flow")
        s3.put_object(Bucket="flow", Key="AWSLogs/123456789012/vpcflowlogs/x.log.gz", Body=b"x")
        s3.put_bucket_policy(Bucket="flow", Policy=json.dumps(delivery_policy("arn:aws:s3:::flow", "123456789012",
                                                                              RUN.region)))
        assert cloud.flow_log_problems("flow", timeout=0) == []
        s3.put_bucket_policy(Bucket="flow", Policy=json.dumps({"Version": "2012-10-17", "Statement": [
            delivery_policy("arn:aws:s3:::flow", "123456789012", RUN.region)["Statement"][0]]}))
        assert "lost its DenyWithoutTls" in cloud.flow_log_problems("flow", timeout=0)[0]


@pytest.fixture
def moto_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                       "AWS_DEFAULT_REGION": RUN.region}.items():
        monkeypatch.setenv(key, value)


def test_leftovers_are_found_by_tag_and_by_name_and_each_confirmed_by_its_service(moto_env: None) -> None:
    """The tagging API lists deleted resources for hours: a tagged ARN counts only if its own service still has it."""
    import boto3
    from moto import mock_aws

    from ops.acceptance import TAG
    from ops.acceptance_aws import AwsCloud
    from ops.leftovers import confirmed

    with mock_aws():
        session = boto3.Session(region_name=RUN.region)
        cloud = AwsCloud(session, say=lambda _: None, sleep=lambda _: None)
        assert cloud.leftovers(RUN, None) == []
        ec2 = session.client("ec2")
        vpc = ec2.create_vpc(CidrBlock="10.40.0.0/16", TagSpecifications=[
            {"ResourceType": "vpc", "Tags": [{"Key": TAG, "Value": RUN.run_id}]}])["Vpc"]["VpcId"]
        session.client("ecr").create_repository(repositoryName=RUN.names.path("bastion"))
        session.client("logs").create_log_group(logGroupName=RUN.names.log_group("bastion"))
        session.client("ecs").create_cluster(clusterName=RUN.names.name("bastion"))
        found = cloud.leftovers(RUN, None)
        assert any(vpc in f for f in found)
        assert "ECR repository airgap-acc-0badcafe/bastion" in found
        assert "log group /airgap-acc-0badcafe/bastion" in found
        assert "ECS cluster airgap-acc-0badcafe-bastion" in found
        arn = f"arn:aws:ec2:{RUN.region}:123456789012:vpc/{vpc}"
        assert confirmed(session, arn)
        ec2.delete_vpc(VpcId=vpc)
        assert not confirmed(session, arn)  # gone, whatever the tagging API still says
        assert not confirmed(session, f"arn:aws:ecr:{RUN.region}:123456789012:repository/nosuch")


def test_task_definitions_are_deleted_not_just_deregistered(moto_env: None) -> None:
    import boto3
    from moto import mock_aws

    from ops.acceptance_aws import AwsCloud

    with mock_aws():
        session = boto3.Session(region_name=RUN.region)
        ecs = session.client("ecs")
        family = RUN.names.name("bastion")
        arn = ecs.register_task_definition(family=family, containerDefinitions=[
            {"name": "bastion", "image": "x", "memory": 512}])["taskDefinition"]["taskDefinitionArn"]
        ecs.deregister_task_definition(taskDefinition=arn)  # what `pulumi destroy` does
        cloud = AwsCloud(session, say=lambda _: None, sleep=lambda _: None)
        assert cloud.delete_task_definitions(RUN) == [f"{family}:1"]


def test_the_probe_sends_postgresqls_ssl_request_and_reads_one_byte() -> None:
    import socket
    import threading

    from ops.acceptance_aws import postgres_answer

    received: list[bytes] = []
    with socket.create_server(("127.0.0.1", 0)) as server:
        def answer() -> None:
            connection, _ = server.accept()
            with connection:
                received.append(connection.recv(8))
                connection.sendall(b"S")
        threading.Thread(target=answer, daemon=True).start()
        assert postgres_answer(server.getsockname()[1]) == b"S"
    assert received == [bytes.fromhex("0000000804d2162f")]  # Int32 8, Int32 80877103 (SSLRequest)


def test_the_final_snapshot_is_deleted_once_and_a_missing_one_is_nothing(moto_env: None) -> None:
    import boto3
    from moto import mock_aws

    from ops.acceptance_aws import AwsCloud

    with mock_aws():
        session = boto3.Session(region_name=RUN.region)
        rds = session.client("rds")
        rds.create_db_cluster(DBClusterIdentifier="airgap-acc-0badcafe-database", Engine="aurora-postgresql",
                              MasterUsername="airgap_admin", MasterUserPassword="x" * 16)
        rds.delete_db_cluster(DBClusterIdentifier="airgap-acc-0badcafe-database", SkipFinalSnapshot=False,
                              FinalDBSnapshotIdentifier="airgap-acc-0badcafe-database-final")
        said: list[str] = []
        cloud = AwsCloud(session, say=said.append, sleep=lambda _: None)
        assert cloud.delete_final_snapshot("airgap-acc-0badcafe-database-final") == []
        assert said == ["deleted the database's final snapshot airgap-acc-0badcafe-database-final (destroy keeps one "
                        "by design)"]
        assert rds.describe_db_cluster_snapshots(SnapshotType="manual")["DBClusterSnapshots"] == []
        assert cloud.delete_final_snapshot("airgap-acc-0badcafe-database-final") == []
