"""Session Manager as the perimeter, on any program: shell preferences that log and encrypt, and IAM that does not
hand out sessions, exec or remote commands on every target."""

from __future__ import annotations

from collections.abc import Iterator

from pulumi_policy import ResourceValidationArgs, Severity

from guard.iam_documents import POLICY_TYPES, allows, grants
from guard.kit import resource_policy, where
from guard.types import SSM_DOCUMENT
from guard.values import UNKNOWN, as_list, fix, get, json_document

# Actions that open a way into every target they are allowed on (Systems Manager and ECS service authorization).
_WAYS_IN = ("ssm:StartSession", "ecs:ExecuteCommand")
_REMOTE_COMMAND = "ssm:SendCommand"


def session_document_secure(args: ResourceValidationArgs) -> Iterator[str]:
    """A Standard_Stream Session document (a shell's preferences): its session data encrypted with a KMS key, and
    the shell logged somewhere encrypted (Systems Manager User Guide, "Session document schema")."""
    if get(args.props, "documentType") != "Session":
        return
    document = json_document(args.props, "content")
    if document is UNKNOWN:
        args.not_applicable("the document's content is unknown until the values in it exist; checked during update")
        return
    if not isinstance(document, dict) or document.get("sessionType") != "Standard_Stream":
        return  # commands and port forwarding take their preferences elsewhere
    inputs = document.get("inputs") if isinstance(document.get("inputs"), dict) else {}
    if not inputs.get("kmsKeyId"):
        yield fix("shell sessions are not encrypted with a KMS key of yours (inputs.kmsKeyId is empty), so their "
                  "data is protected by TLS only", where(args),
                  "set inputs.kmsKeyId to a customer managed key the host may Decrypt and the operators may "
                  "GenerateDataKey with")
    logged = [(inputs.get("cloudWatchLogGroupName"), inputs.get("cloudWatchEncryptionEnabled")),
              (inputs.get("s3BucketName"), inputs.get("s3EncryptionEnabled"))]
    if not any(where for where, _ in logged):
        yield fix("shell sessions are not logged (no cloudWatchLogGroupName, no s3BucketName), so nobody can say "
                  "what a session did", where(args),
                  "set inputs.cloudWatchLogGroupName to an encrypted log group (cloudWatchStreamingEnabled: true)")
    elif not any(where and encrypted in (True, "true") for where, encrypted in logged):
        yield fix("shell sessions are logged to a destination not required to be encrypted", where(args),
                  "set cloudWatchEncryptionEnabled (or s3EncryptionEnabled) to true, with a KMS-encrypted log group")


def iam_sessions_scoped(args: ResourceValidationArgs) -> Iterator[str]:
    """StartSession or ExecuteCommand on every resource with no condition is a shell on every instance and task of
    the account; SendCommand on every resource runs anything as root on every managed instance."""
    for s in allows(args):
        resources = as_list(s.get("Resource"))
        everywhere = "*" in resources
        sid = s.get("Sid", "")
        for action in _WAYS_IN:
            if everywhere and not s.get("Condition") and "NotAction" not in s and grants(s, action):
                yield fix(f"statement {sid!r} allows {action} on every resource with no condition: a way into every "
                          "instance and task of the account", where(args),
                          "name the targets (instance, task/<cluster>/* ARNs, or an ssm:resourceTag condition) and "
                          "the Session documents, with ssm:SessionDocumentAccessCheck")
        if everywhere and "NotAction" not in s and grants(s, _REMOTE_COMMAND):
            yield fix(f"statement {sid!r} allows ssm:SendCommand on every resource: any command, as root, on every "
                      "managed instance", where(args),
                      "name the instances (or a resource tag) and the documents it may run")


POLICIES = [
    resource_policy("session-document-secure", "Shell Session documents encrypt session data with a KMS key and log "
                    "every session to an encrypted destination.", (SSM_DOCUMENT,), session_document_secure,
                    reads="ssm.Document document_type, content (sessionType, inputs)"),
    resource_policy("iam-sessions-scoped", "No ssm:StartSession or ecs:ExecuteCommand on every resource without a "
                    "condition, and no ssm:SendCommand on every resource.", POLICY_TYPES, iam_sessions_scoped,
                    severity=Severity.CRITICAL,
                    reads="iam.Policy/RolePolicy/Role inline/permission-set policy: Allow statements"),
]
