"""Session Manager as the perimeter: the stack's own session preferences, an operator policy that allows exactly what a
session needs on this stack's targets, the pack that holds any program to it, and a readable audit trail."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest
from botocore.exceptions import ClientError
from conftest import captured
from iam_eval import allows
from mutate import set_prop

from guard.types import ENDPOINT, IAM_POLICY, LOG_GROUP, ROLE_POLICY, SSM_DOCUMENT  # isort: skip
from offline.guard_run import analyze
from offline.harness import Capture
from ops.audit import PastSession, history, table, where_logged
from ops.aws import refused
from ops.leases import Targets

pytestmark = pytest.mark.program

REGION, ACCOUNT = "ap-northeast-1", "123456789012"
ARN = f"arn:aws:{{}}:{REGION}:{ACCOUNT}:{{}}"
# Session Manager tags each session with who started it: aws:userid (an IAM user's id; role-id:session for a role).
ALICE = {"aws:username": "alice", "aws:userid": "AIDAALICE", "ssm:resourceTag/aws:ssmmessages:session-id": "AIDAALICE"}
ALICE_SSO = {"aws:userid": "AROAOPS:alice@example.com",
             "ssm:resourceTag/aws:ssmmessages:session-id": "AROAOPS:alice@example.com"}
BOBS = {"aws:userid": "AROAOPS:alice@example.com", "ssm:resourceTag/aws:ssmmessages:session-id": "AROAOPS:bob"}


def document(run: Capture) -> dict[str, Any]:
    return json.loads(run.named(SSM_DOCUMENT, "sessions").inputs["content"])


def operator_policy(run: Capture) -> dict[str, Any]:
    return json.loads(run.named(IAM_POLICY, "operators").inputs["policy"])


# --- the preferences ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("mode", ["preview", "update"])
def test_shells_run_under_the_stacks_own_preferences_document(mode: str) -> None:
    """Known whole in a first preview (the key by its alias ARN), so the pack checks it before anything exists."""
    run = captured("dev", mode)
    doc = run.named(SSM_DOCUMENT, "sessions")
    assert (doc.inputs["name"], doc.inputs["documentType"], doc.inputs["documentFormat"]) == \
        ("airgap-dev-shell", "Session", "JSON")
    content = document(run)
    assert (content["schemaVersion"], content["sessionType"]) == ("1.0", "Standard_Stream")
    key = run.named("aws:kms/key:Key", "sessions")
    inputs = content["inputs"]
    alias = run.named("aws:kms/alias:Alias", "sessions")
    assert alias.property_dependencies["targetKeyId"] == [key.urn]
    # Session data encrypted with the stack's key, named by its alias; the document waits for the alias.
    assert inputs["kmsKeyId"] == f"arn:aws:kms:ap-northeast-1:123456789012:{alias.inputs['name']}"
    assert alias.urn in doc.dependencies
    assert (inputs["cloudWatchLogGroupName"], inputs["cloudWatchEncryptionEnabled"],
            inputs["cloudWatchStreamingEnabled"]) == ("/airgap-dev/sessions", True, True)
    assert (inputs["runAsEnabled"], inputs["runAsDefaultUser"]) == (True, "airgap-operator")
    assert (inputs["idleSessionTimeout"], inputs["maxSessionDuration"]) == ("20", "60")  # strings, as the schema has
    log_group = run.named(LOG_GROUP, "sessions")
    assert log_group.property_dependencies["kmsKeyId"] == [key.urn]  # the agent refuses an unencrypted group
    assert key.inputs["enableKeyRotation"] is True
    assert run.exports["sessionDocument"] == "airgap-dev-shell"


def test_the_stack_never_takes_over_the_accounts_default_preferences() -> None:
    """SSM-SessionManagerRunShell exists once anyone saved preferences in the console, and creating it then fails;
    it is the account's, shared by every stack. Each stack owns a document of its own instead."""
    names = {s: {r.inputs["name"] for r in captured(s, "update").of_type(SSM_DOCUMENT)} for s in ("dev", "app")}
    assert names == {"dev": {"airgap-dev-shell"}, "app": {"airgap-app-shell"}}
    assert not captured("net", "update").of_type(SSM_DOCUMENT)  # no host: no shells


def test_an_account_whose_default_preferences_exist_keeps_them_and_shells_still_use_the_stacks(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Both account cases: with SSM-SessionManagerRunShell saved from the console (or not), the stack creates only its
    own document and every shell names it; a leftover of the stack's own name (DocumentAlreadyExists at the next
    `up`) is found by name and the delete command given."""
    import boto3
    from moto import mock_aws

    from airgap.naming import PhysicalNames
    from ops.host import session_command
    from ops.leftovers import named_leftovers

    for key, value in {"AWS_ACCESS_KEY_ID": "t", "AWS_SECRET_ACCESS_KEY": "t", "AWS_DEFAULT_REGION": REGION}.items():
        monkeypatch.setenv(key, value)
    shell = json.dumps({"schemaVersion": "1.0", "sessionType": "Standard_Stream", "inputs": {}})
    with mock_aws():
        session = boto3.Session(region_name=REGION)
        ssm = session.client("ssm")
        ssm.create_document(Name="SSM-SessionManagerRunShell", Content=shell, DocumentType="Session")
        dev = captured("dev", "update")
        assert {r.inputs["name"] for r in dev.of_type(SSM_DOCUMENT)} == {"airgap-dev-shell"}
        command = session_command(REGION, "i-0abc", None, document=dev.exports["sessionDocument"])
        assert command[-2:] == ["--document-name", "airgap-dev-shell"]
        run = SimpleNamespace(names=PhysicalNames("airgap", "dev"))
        assert named_leftovers(session, run) == []
        ssm.create_document(Name="airgap-dev-shell", Content=shell, DocumentType="Session")
        session.client("iam").create_policy(PolicyName="airgap-dev-operators", PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "ssm:DescribeSessions",
                                                     "Resource": "*"}]}))
        assert named_leftovers(session, run) == [
            "Session document airgap-dev-shell (aws ssm delete-document --name airgap-dev-shell)",
            f"IAM policy airgap-dev-operators (arn:aws:iam::{ACCOUNT}:policy/airgap-dev-operators)"]


def test_the_host_may_decrypt_and_stream_its_sessions_and_reaches_kms_and_logs() -> None:
    run = captured("dev", "update")
    grant = json.loads(run.named(ROLE_POLICY, "sessions-host").inputs["policy"])
    host = {"kms:ResourceAliases": ["alias/airgap-dev-sessions"]}
    assert allows(grant, "kms:Decrypt", ARN.format("kms", "key/1234"), host)
    assert not allows(grant, "kms:Decrypt", ARN.format("kms", "key/1234"), {"kms:ResourceAliases": ["alias/x"]})
    assert allows(grant, "logs:PutLogEvents", ARN.format("logs", "log-group:/airgap-dev/sessions:log-stream:s-1"))
    assert not allows(grant, "logs:PutLogEvents", ARN.format("logs", "log-group:/other:log-stream:s-1"))
    endpoints = {r.name.removeprefix("endpoints-") for r in run.of_type(ENDPOINT)}
    assert {"kms", "logs"} <= endpoints  # the agent calls both from inside the VPC


def test_first_boot_creates_the_non_root_user_shells_run_as() -> None:
    from airgap.ssm_host import boot_script

    script = boot_script(None, None, 1, "airgap-operator")
    assert 'useradd --create-home --shell /bin/bash "airgap-operator"' in script
    assert "sudo" not in script.replace("sudoers", "")


# --- who may do what ----------------------------------------------------------------------------------------------

HOST = ARN.format("ec2", "instance/i-0123456789abcdef0")
TASK = ARN.format("ecs", "task/airgap-dev-bastion/0a1b2c3d")
SHELL = ARN.format("ssm", "document/airgap-dev-shell")
DEFAULT_SHELL = ARN.format("ssm", "document/SSM-SessionManagerRunShell")
FORWARD = f"arn:aws:ssm:{REGION}::document/AWS-StartPortForwardingSessionToRemoteHost"
OURS = {"ssm:resourceTag/airgap-stack": "airgap-dev", "ssm:SessionDocumentAccessCheck": "true"}


@pytest.mark.parametrize(("action", "resource", "context", "allowed"), [
    ("ssm:StartSession", HOST, OURS, True),  # the stack's host (it carries the stack's tag)
    ("ssm:StartSession", SHELL, OURS, True),  # with the stack's shell document
    ("ssm:StartSession", FORWARD, OURS, True),  # or port forwarding
    ("ssm:StartSession", DEFAULT_SHELL, OURS, False),  # not the account's default shell, unlogged perhaps
    ("ssm:StartSession", ARN.format("ec2", "instance/i-0ther"), {**OURS, "ssm:resourceTag/airgap-stack": "x"}, False),
    ("ssm:StartSession", TASK, OURS, True),  # the bastion's tasks
    ("ssm:StartSession", ARN.format("ecs", "task/other-cluster/0a1b"), OURS, False),
    ("ecs:ExecuteCommand", TASK, {"ecs:container-name": "bastion"}, True),
    ("ecs:ExecuteCommand", TASK, {"ecs:container-name": "sidecar"}, False),
    ("ecs:ExecuteCommand", ARN.format("ecs", "task/other-cluster/0a1b"), {"ecs:container-name": "bastion"}, False),
    ("ssm:TerminateSession", ARN.format("ssm", "session/alice-0a1b2c"), ALICE, True),  # own sessions
    ("ssm:TerminateSession", ARN.format("ssm", "session/alice@example.com-0a1b"), ALICE_SSO, True),  # as a role
    ("ssm:ResumeSession", ARN.format("ssm", "session/alice@example.com-0a1b"), ALICE_SSO, True),
    ("ssm:TerminateSession", ARN.format("ssm", "session/bob-0a1b2c"), BOBS, False),  # nobody else's
    ("ssm:StartSession", ARN.format("ssm", "document/AWS-StartNonInteractiveCommand").replace(ACCOUNT, ""), OURS,
     False),  # a command would run outside the stack's run-as user, key and transcript
    ("ssm:SendCommand", HOST, OURS, False),
    ("ecs:UpdateService", ARN.format("ecs", "service/airgap-dev-bastion/airgap-dev-bastion"), {}, True),
    ("ecs:UpdateService", ARN.format("ecs", "service/prod/payments"), {}, False),
    ("kms:GenerateDataKey", ARN.format("kms", "key/1234"), {"kms:ResourceAliases": ["alias/airgap-dev-sessions"]},
     True),
    ("kms:GenerateDataKey", ARN.format("kms", "key/5678"), {"kms:ResourceAliases": ["alias/someone-elses"]}, False),
    ("secretsmanager:GetSecretValue", ARN.format("secretsmanager", "secret:rds!cluster-1-AbCdEf"),
     {"secretsmanager:ResourceTag/aws:rds:primaryDBClusterArn": ARN.format("rds", "cluster:airgap-dev-database")},
     True),
    ("secretsmanager:GetSecretValue", ARN.format("secretsmanager", "secret:rds!cluster-2-AbCdEf"),
     {"secretsmanager:ResourceTag/aws:rds:primaryDBClusterArn": ARN.format("rds", "cluster:someone-elses")}, False),
    ("logs:GetLogEvents", ARN.format("logs", "log-group:/airgap-dev/sessions:log-stream:alice-0a1b"), {}, True),
    ("ecr:PutImage", ARN.format("ecr", "repository/airgap-dev/bastion"), {}, True),
    ("ecr:PutImage", ARN.format("ecr", "repository/prod/app"), {}, False),
])
def test_the_operator_policy_allows_exactly_a_session_on_this_stacks_targets(action: str, resource: str,
                                                                              context: dict, allowed: bool) -> None:
    """Evaluated against the ARNs the stack creates, known in a first preview (spelt from names)."""
    policy = operator_policy(captured("dev", "preview"))
    assert allows(policy, action, resource, context) is allowed


def test_an_encrypted_exec_channel_gives_operators_the_exec_keys_data_keys() -> None:
    """`aws ecs execute-command` on a channel encrypted with execKms: the client asks KMS for the data key."""
    exec_key = ARN.format("kms", "key/9abc")
    context = {"kms:ResourceAliases": ["alias/airgap-dev-bastion-exec"]}
    assert allows(operator_policy(captured("dev", "preview", execKms=True)), "kms:GenerateDataKey", exec_key, context)
    assert not allows(operator_policy(captured("dev", "preview")), "kms:GenerateDataKey", exec_key, context)


def test_the_host_carries_the_tag_the_operator_policy_allows() -> None:
    host = captured("dev", "preview").named("aws:ec2/instance:Instance", "ssm-host")
    assert host.inputs["tags"]["airgap-stack"] == "airgap-dev"


def test_principals_get_a_role_with_only_the_operator_policy() -> None:
    run = captured("dev", "update", operatorPrincipals=["arn:aws:iam::123456789012:role/AWSReservedSSO_Ops_0a1b"])
    role = run.named("aws:iam/role:Role", "operators")
    trust = json.loads(role.inputs["assumeRolePolicy"])
    assert trust["Statement"][0]["Principal"] == {"AWS": ["arn:aws:iam::123456789012:role/AWSReservedSSO_Ops_0a1b"]}
    assert role.inputs["maxSessionDuration"] == 3600
    (attached,) = [a for a in run.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment") if a.name == "operators"]
    assert attached.property_dependencies["policyArn"] == [run.named(IAM_POLICY, "operators").urn]
    assert run.exports["operatorRoleArn"].endswith(":role/airgap-dev-operators")


# --- the pack -----------------------------------------------------------------------------------------------------

def test_dev_passes_the_pack_in_both_modes(mode: str) -> None:
    assert analyze(captured("dev", mode)).mandatory == []


@pytest.mark.parametrize(("change", "fragment"), [
    (lambda d: d["inputs"].update(kmsKeyId=""), "not encrypted with a KMS key of yours"),
    (lambda d: d["inputs"].update(cloudWatchLogGroupName="", s3BucketName=""), "shell sessions are not logged"),
    (lambda d: d["inputs"].update(cloudWatchEncryptionEnabled=False), "not required to be encrypted"),
])
def test_a_session_document_without_encryption_or_logging_is_a_mandatory_finding(change: Any, fragment: str) -> None:
    run = captured("dev", "update")
    content = document(run)
    change(content)
    found = analyze(set_prop(run, SSM_DOCUMENT, "sessions", "content", json.dumps(content))).mandatory
    assert [f.policy for f in found] == ["session-document-secure"] and fragment in found[0].message


@pytest.mark.parametrize(("statement", "fragment"), [
    ({"Effect": "Allow", "Action": "ssm:StartSession", "Resource": "*"}, "allows ssm:StartSession on every resource"),
    ({"Effect": "Allow", "Action": ["ssm:*"], "Resource": ["*"]}, "ssm:StartSession on every resource"),
    ({"Effect": "Allow", "Action": "ecs:ExecuteCommand", "Resource": "*"}, "ecs:ExecuteCommand on every resource"),
    ({"Effect": "Allow", "Action": "ssm:SendCommand", "Resource": "*",
      "Condition": {"StringEquals": {"aws:RequestedRegion": "ap-northeast-1"}}}, "ssm:SendCommand on every resource"),
])
def test_an_operator_policy_widened_to_everything_is_a_mandatory_finding(statement: dict, fragment: str) -> None:
    run = captured("dev", "update")
    policy = operator_policy(run)
    policy["Statement"].append({"Sid": "Wide", **statement})
    found = [f for f in analyze(set_prop(run, IAM_POLICY, "operators", "policy", json.dumps(policy))).mandatory
             if f.policy == "iam-sessions-scoped"]
    assert found and fragment in found[0].message


def test_a_session_on_every_target_with_a_condition_is_left_to_that_condition() -> None:
    policy = {"Version": "2012-10-17", "Statement": [
        {"Sid": "ByTeamTag", "Effect": "Allow", "Action": "ssm:StartSession", "Resource": "*",
         "Condition": {"StringEquals": {"ssm:resourceTag/team": "ops"}}}]}
    found = analyze(set_prop(captured("dev", "update"), IAM_POLICY, "operators", "policy", json.dumps(policy)))
    assert found.by_policy("iam-sessions-scoped") == []


# --- the audit trail ------------------------------------------------------------------------------------------------

class FakeSsm:
    def __init__(self, sessions: dict[str, list[dict]]) -> None:
        self.sessions = sessions

    def get_paginator(self, name: str) -> Any:
        assert name == "describe_sessions"
        return self

    def paginate(self, State: str) -> list[dict]:
        return [{"Sessions": self.sessions.get(State, [])}]


def _s(sid: str, owner: str, target: str, document: str, start: int, end: int | None = None) -> dict:
    day = datetime(2026, 12, 1, tzinfo=UTC)
    return {"SessionId": sid, "Owner": f"arn:aws:sts::{ACCOUNT}:assumed-role/Operators/{owner}", "Target": target,
            "DocumentName": document, "Status": "Terminated" if end else "Connected",
            "StartDate": day.replace(hour=start), **({"EndDate": day.replace(hour=end)} if end else {})}


def test_sessions_lists_who_went_where_with_which_document_and_where_it_is_logged() -> None:
    ssm = FakeSsm({"Active": [_s("bob-3", "bob", "ecs:airgap-dev-bastion_t1_t1-9",
                                 "AWS-StartPortForwardingSessionToRemoteHost", 12)],
                   "History": [_s("alice-1", "alice", "i-dev", "airgap-dev-shell", 9, 10),
                               _s("carol-2", "carol", "i-someone-else", "airgap-dev-shell", 11, 11)]})
    outputs = {"sessionDocument": "airgap-dev-shell", "sessionLogGroup": "/airgap-dev/sessions"}
    found = history(ssm, Targets("dev", frozenset({"i-dev"}), frozenset({"airgap-dev-bastion"})))
    assert [s.session_id for s in found] == ["bob-3", "alice-1"]  # newest first; not another stack's host
    lines = table(found, outputs, REGION)
    assert lines[0].startswith("2026-12-01 12:00 -> connected  bob (assumed-role/Operators)  ecs:airgap-dev-bastion")
    assert lines[1] == "    log: not logged: port forwarding (Session Manager logs no tunnel)"
    assert lines[2].startswith("2026-12-01 09:00 -> 2026-12-01 10:00  alice (assumed-role/Operators)  i-dev  "
                               "airgap-dev-shell  alice-1")
    assert lines[3] == ("    log: aws logs get-log-events --region ap-northeast-1 --log-group-name "
                        "/airgap-dev/sessions --log-stream-name alice-1")


def test_a_command_session_is_not_in_the_stacks_log_group() -> None:
    session = PastSession("x-1", "o", "i-dev", "AWS-StartNonInteractiveCommand", "Terminated", None, None)
    assert where_logged(session, {"sessionDocument": "airgap-dev-shell"}, REGION) == (
        "not in the stack's log group: AWS-StartNonInteractiveCommand runs under the account's preferences, if any")


def test_a_missing_permission_is_named() -> None:
    err = ClientError({"Error": {"Code": "AccessDeniedException", "Message": (
        "User: arn:aws:sts::123456789012:assumed-role/Ops/alice is not authorized to perform: ssm:DescribeSessions "
        "on resource: arn:aws:ssm:ap-northeast-1:123456789012:* because no identity-based policy allows it")}},
        "DescribeSessions")
    line = refused(err)
    assert line is not None and line.startswith("AWS refused ssm:DescribeSessions on arn:aws:ssm:ap-northeast-1:")
    assert "operatorPolicyArn" in line
    assert refused(ClientError({"Error": {"Code": "Throttling", "Message": "slow down"}}, "X")) is None
