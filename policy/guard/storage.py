"""EFS and log rules: encrypted at rest, TLS only in transit, logs that expire."""

from __future__ import annotations

from collections.abc import Iterator

from pulumi_policy import ResourceValidationArgs, Severity

from guard.kit import resource_policy
from guard.types import FILE_SYSTEM, FS_POLICY, LOG_GROUP
from guard.values import UNKNOWN, as_list, fix, get, json_document, remedy


def efs_encrypted(args: ResourceValidationArgs) -> Iterator[str]:
    if get(args.props, "encrypted") is not True:
        yield fix("the file system is not encrypted at rest", f"FileSystem '{args.name}'",
                  "set encrypted=True (it cannot be changed later: the file system is replaced)")


def denies_plain_transport(document: dict) -> bool:
    for statement in as_list(document.get("Statement")):
        condition = (statement.get("Condition") or {}).get("Bool") or {}
        if statement.get("Effect") == "Deny" and str(condition.get("aws:SecureTransport")).lower() == "false":
            return True
    return False


def efs_policy_tls(args: ResourceValidationArgs) -> Iterator[str]:
    document = json_document(args.props, "policy")
    if document is UNKNOWN:
        # The document names the file system's ARN, which AWS assigns at creation. During `pulumi up` the
        # analyzer sees the real document before this policy is written, and this check runs then.
        args.not_applicable("the policy names the file system's ARN, unknown until it exists; checked during update")
    if not isinstance(document, dict) or not denies_plain_transport(document):
        yield fix("the file-system policy does not deny access without TLS", f"FileSystemPolicy '{args.name}'",
                  remedy(args.urn, 'add a Deny statement with Condition {"Bool": {"aws:SecureTransport": "false"}}',
                         "FileShare.grant_mount writes one"))


def log_retention(args: ResourceValidationArgs) -> Iterator[str]:
    if not get(args.props, "retentionInDays"):
        yield fix("the log group never expires (and is billed forever)", f"LogGroup '{args.name}'",
                  remedy(args.urn, "set retention_in_days", "airgap:logRetentionDays"))


POLICIES = [
    resource_policy("efs-encrypted", "EFS file systems are encrypted at rest.", (FILE_SYSTEM,), efs_encrypted,
                    reads="efs.FileSystem encrypted", controls=("EFS.1",)),
    resource_policy("efs-policy-enforces-tls", "EFS file-system policies deny access without TLS.", (FS_POLICY,),
                    efs_policy_tls, reads="efs.FileSystemPolicy policy"),
    resource_policy("log-group-retention", "Log groups have a retention period.", (LOG_GROUP,), log_retention,
                    reads="cloudwatch.LogGroup retention_in_days", severity=Severity.MEDIUM),
]
