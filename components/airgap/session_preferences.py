"""SessionPreferences: the Session Manager preferences the stack's shell sessions run under, owned by the stack.

Session Manager keeps an account's preferences in the Session document `SSM-SessionManagerRunShell`, which the
console creates the first time anyone saves preferences (Systems Manager User Guide, "Start a default shell session by
specifying the default session document in IAM policies"): owning it from a stack would take it over for the whole
account and region, and creating it where it exists fails (DocumentAlreadyExists). So the stack owns a Session
document of its own, `<prefix>-shell`, passed with `aws ssm start-session --document-name` ("Create a Session Manager
preferences document (command line)"), and the operator policy allows no other shell (`ssm:SessionDocumentAccessCheck`).

What the document says (Systems Manager User Guide, "Session document schema"): session data encrypted end to end with
a key the stack owns (`kmsKeyId`: the host decrypts, the operator generates data keys); every shell streamed to a
CloudWatch log group encrypted with that key (the agent refuses to start a session into an unencrypted group when
`cloudWatchEncryptionEnabled`; it never creates the group); an idle timeout and a maximum duration; shells run as a
non-root user that must exist on the host (the SSM host's first boot creates it; with runAs on there is no fallback).
The agent calls KMS and CloudWatch Logs itself, so the host needs the `kms` and `logs` endpoints (`needs()`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from airgap.iam import role_policy, statement
from airgap.naming import ChildNames, PhysicalNames, check_component_name
from airgap.where import PARTITION, where
from airgap.workload import Needs

SESSION_USER = "airgap-operator"  # who a shell runs as when the stack does not say
# What the agent does with a session's own logs and key (IAM, "Create a custom IAM role for Session Manager").
HOST_ACTIONS = ("logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams")


@dataclass(frozen=True)
class SessionPreferencesArgs:
    names: PhysicalNames | None = None
    idle_timeout_minutes: int = 20  # 1 to 60 (the schema's range); AWS's own default is 20
    max_duration_minutes: int = 60  # 1 to 1440; AWS's default is no limit
    run_as_user: str = SESSION_USER  # a non-root user the host creates at first boot
    log_retention_days: int = 30


class SessionPreferences(pulumi.ComponentResource):
    key: aws.kms.Key
    log_group: aws.cloudwatch.LogGroup
    document: aws.ssm.Document

    @classmethod
    def needs(cls) -> Needs:
        """The agent encrypts the session with KMS and streams it to CloudWatch Logs from inside the VPC."""
        return Needs(frozenset({"kms", "logs"}))

    def __init__(self, name: str, args: SessionPreferencesArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("airgap:sessions:SessionPreferences", check_component_name("SessionPreferences", name),
                         None, opts)
        self._own = own = ChildNames(name, first_name="sessions")
        names = args.names or PhysicalNames.of_this_stack()
        self._at = at = where(self)
        child = pulumi.ResourceOptions(parent=self)
        self.log_group_name = names.log_group(own())
        self.document_name = names.name("shell")
        self.key_alias = f"alias/{names.name(own())}"
        self.key = aws.kms.Key(own(), description=f"{names.prefix}: Session Manager session data and session logs",
                               enable_key_rotation=True, deletion_window_in_days=7,
                               policy=json.dumps(self._key_policy(at.region, at.account)), opts=child)
        alias = aws.kms.Alias(own(), name=self.key_alias, target_key_id=self.key.key_id, opts=child)
        self.log_group = aws.cloudwatch.LogGroup(own(), name=self.log_group_name,
                                                 retention_in_days=args.log_retention_days, kms_key_id=self.key.arn,
                                                 opts=child)
        # By its alias ARN, so the whole document is known in a first preview and the pack checks it there.
        alias_arn = f"arn:{PARTITION}:kms:{at.region}:{at.account}:{self.key_alias}"
        self.document = aws.ssm.Document(
            own(), name=self.document_name, document_type="Session", document_format="JSON",
            content=json.dumps(shell_document(alias_arn, self.log_group_name, args), indent=1),
            # Its name is fixed and unique in the account: a replacement deletes first.
            opts=pulumi.ResourceOptions(parent=self, delete_before_replace=True, depends_on=[alias, self.log_group]))
        self.register_outputs({"document": self.document.name, "logGroup": self.log_group.name,
                               "keyArn": self.key.arn})

    def _key_policy(self, region: str, account: str) -> dict:
        log_group = f"arn:{PARTITION}:logs:{region}:{account}:log-group:{self.log_group_name}"
        return {"Version": "2012-10-17", "Statement": [
            # The account's IAM policies decide who may use the key (the host's role, the operators' policy).
            {"Sid": "AccountAdministers", "Effect": "Allow",
             "Principal": {"AWS": f"arn:{PARTITION}:iam::{account}:root"}, "Action": "kms:*", "Resource": "*"},
            {"Sid": "LogsEncryptTheSessionLogGroup", "Effect": "Allow",
             "Principal": {"Service": f"logs.{region}.amazonaws.com"},
             "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"],
             "Resource": "*", "Condition": {"ArnEquals": {"kms:EncryptionContext:aws:logs:arn": log_group}}},
        ]}

    def grant_to_host(self, role: aws.iam.Role, region: str | None = None,
                      account: str | None = None) -> aws.iam.RolePolicy:
        """What the host's agent does with a session: decrypt its data, stream it to the log group. The key and
        the log group are this component's, so their region and account (the arguments' defaults) are its own."""
        region, account = region or self._at.region, account or self._at.account
        streams = f"arn:{PARTITION}:logs:{region}:{account}:log-group:{self.log_group_name}:*"
        keys = f"arn:{PARTITION}:kms:{region}:{account}:key/*"  # the key by its alias: a name known in a preview
        return role_policy(self._own("host"), role, [
            statement("DecryptSessionData", ["kms:Decrypt"], [keys],
                      Condition={"ForAnyValue:StringEquals": {"kms:ResourceAliases": self.key_alias}}),
            statement("StreamSessionLogs", list(HOST_ACTIONS), [streams]),
            # The agent checks that the group is encrypted before it streams into it.
            statement("CheckTheLogGroupIsEncrypted", ["logs:DescribeLogGroups"], ["*"]),
        ], self)


def shell_document(key: str, log_group: str, args: SessionPreferencesArgs) -> dict:
    """The Standard_Stream Session document (schema 1.0): every input the schema requires, set. `key` goes as it is
    to the client's KMS GenerateDataKey (session-manager-plugin, src/encryption/encrypter.go) and the agent's Decrypt
    (amazon-ssm-agent 3.3.808.0 and later, agent/session/crypto/kmsservice.go); both take an alias ARN as KeyId
    (AWS KMS API Reference). Nothing in either checks its form."""
    return {
        "schemaVersion": "1.0",
        "description": "airgap shell sessions: encrypted with the stack's key, streamed to its log group",
        "sessionType": "Standard_Stream",
        "inputs": {
            "s3BucketName": "", "s3KeyPrefix": "", "s3EncryptionEnabled": True,
            "cloudWatchLogGroupName": log_group, "cloudWatchEncryptionEnabled": True,
            "cloudWatchStreamingEnabled": True, "kmsKeyId": key,
            "runAsEnabled": True, "runAsDefaultUser": args.run_as_user,
            # The schema takes both as strings of minutes.
            "idleSessionTimeout": str(args.idle_timeout_minutes),
            "maxSessionDuration": str(args.max_duration_minutes),
            "shellProfile": {"windows": "", "linux": ""},
        },
    }
