"""Reading IAM permissions wherever a program writes them: a policy resource's `policy`, a role's `inline_policies`,
an IAM Identity Center permission set's inline policy; and the managed policies it attaches."""

from __future__ import annotations

import fnmatch
from typing import Any

from pulumi_policy import ResourceValidationArgs

from guard.types import (
    ATTACHMENT,
    IAM_GROUP_POLICY,
    IAM_GROUP_POLICY_ATTACHMENT,
    IAM_POLICY,
    IAM_POLICY_ATTACHMENT,
    IAM_USER_POLICY,
    IAM_USER_POLICY_ATTACHMENT,
    ROLE,
    ROLE_POLICY,
    SSO_MANAGED_POLICY_ATTACHMENT,
    SSO_PERMISSION_SET_INLINE_POLICY,
)
from guard.values import UNKNOWN, as_list, get, json_document

POLICY_TYPES = (ROLE_POLICY, IAM_POLICY, IAM_USER_POLICY, IAM_GROUP_POLICY, ROLE, SSO_PERMISSION_SET_INLINE_POLICY)
ATTACHMENTS = (ATTACHMENT, IAM_USER_POLICY_ATTACHMENT, IAM_GROUP_POLICY_ATTACHMENT, IAM_POLICY_ATTACHMENT,
               SSO_MANAGED_POLICY_ATTACHMENT)


def documents(args: ResourceValidationArgs) -> list[Any]:
    """The policy documents a resource writes: its `policy`, a role's `inline_policies[].policy`, a permission set's
    `inline_policy`."""
    if args.resource_type == ROLE:
        return [json_document(p, "policy") for p in as_list(get(args.props, "inlinePolicies", []))]
    if args.resource_type == SSO_PERMISSION_SET_INLINE_POLICY:
        return [json_document(args.props, "inlinePolicy")]
    return [json_document(args.props, "policy")]


def allows(args: ResourceValidationArgs) -> list[dict]:
    """Every Allow statement the resource writes; not applicable (said) when a document is unknown."""
    found: list[dict] = []
    for document in documents(args):
        if document is UNKNOWN:
            args.not_applicable("the policy document is unknown until the ARNs in it exist; checked during update "
                                "(spell ARNs from names to have it checked in preview)")
        if isinstance(document, dict):
            found += [s for s in as_list(document.get("Statement")) if isinstance(s, dict)
                      and s.get("Effect") == "Allow"]
    return found


def managed_arns(args: ResourceValidationArgs) -> list[Any]:
    """The managed policies a role, an attachment or a permission set's attachment attaches."""
    if args.resource_type == ROLE:
        return as_list(get(args.props, "managedPolicyArns", []))
    key = "managedPolicyArn" if args.resource_type == SSO_MANAGED_POLICY_ATTACHMENT else "policyArn"
    return [get(args.props, key)]


def actions(statement: dict) -> list[str]:
    return [str(a) for a in as_list(statement.get("Action"))]


def grants(statement: dict, action: str) -> bool:
    """Whether the statement allows `action` (IAM matches actions case-insensitively, with * and ? wildcards)."""
    wanted = action.lower()
    if "NotAction" in statement:
        return not any(fnmatch.fnmatchcase(wanted, str(a).lower()) for a in as_list(statement["NotAction"]))
    return any(fnmatch.fnmatchcase(wanted, a.lower()) for a in actions(statement))


def on_everything(statement: dict) -> bool:
    """Resource "*" (or NotResource): the statement is not scoped to named resources."""
    return "NotResource" in statement or "*" in as_list(statement.get("Resource"))

