"""IAM rules: no wildcard actions, no iam:PassRole on every role, no admin-grade AWS managed policy — whether the
permissions are written in a policy resource, inline on a role (`inline_policies`), or attached (`managed_policy_arns`,
policy attachments)."""

from __future__ import annotations

from collections.abc import Iterator

from pulumi_policy import ResourceValidationArgs, Severity

from guard.kit import resource_policy
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
)
from guard.values import UNKNOWN, as_list, fix, get, json_document, remedy

POLICY_TYPES = (ROLE_POLICY, IAM_POLICY, IAM_USER_POLICY,
                IAM_GROUP_POLICY, ROLE)
ATTACHMENTS = (ATTACHMENT, IAM_USER_POLICY_ATTACHMENT,
               IAM_GROUP_POLICY_ATTACHMENT, IAM_POLICY_ATTACHMENT)
# AWS managed policies that grant (nearly) everything, or the power to grant it.
ADMIN_GRADE = ("arn:aws:iam::aws:policy/AdministratorAccess", "arn:aws:iam::aws:policy/PowerUserAccess",
               "arn:aws:iam::aws:policy/IAMFullAccess")


def _documents(args: ResourceValidationArgs) -> list[object]:
    """The policy documents a resource writes: its `policy`, or a role's `inline_policies[].policy`."""
    if args.resource_type == ROLE:
        inline = as_list(get(args.props, "inlinePolicies", []))
        return [json_document(p, "policy") for p in inline]
    return [json_document(args.props, "policy")]


def _allows(args: ResourceValidationArgs) -> list[dict]:
    found: list[dict] = []
    for document in _documents(args):
        if document is UNKNOWN:
            args.not_applicable("the policy document is unknown until the ARNs in it exist; checked during update "
                                "(spell ARNs from names to have it checked in preview)")
        if isinstance(document, dict):
            found += [s for s in as_list(document.get("Statement")) if isinstance(s, dict)
                      and s.get("Effect") == "Allow"]
    return found


def no_wildcard_actions(args: ResourceValidationArgs) -> Iterator[str]:
    where = f"{args.resource_type.rsplit(':', 1)[-1]} '{args.name}'"
    for s in _allows(args):
        if "NotAction" in s:
            yield fix(f"statement {s.get('Sid', '')!r} allows everything except a list (NotAction)", where,
                      "list the actions it needs")
        for action in as_list(s.get("Action")):
            if action == "*" or str(action).endswith(":*"):
                yield fix(f"statement {s.get('Sid', '')!r} allows {action}", where,
                          remedy(args.urn, "list the actions it needs", "the bastion needs four ssmmessages "
                                 "actions, not ssm:*"))


def no_pass_role_on_everything(args: ResourceValidationArgs) -> Iterator[str]:
    where = f"{args.resource_type.rsplit(':', 1)[-1]} '{args.name}'"
    for s in _allows(args):
        actions = [str(a).lower() for a in as_list(s.get("Action"))]
        if any(a in ("iam:passrole", "iam:*", "*") for a in actions) and "*" in as_list(s.get("Resource")):
            yield fix("iam:PassRole on every role lets the holder hand any role, admin included, to a service it "
                      "controls", where,
                      "drop it (ECS Exec needs no PassRole) or name the one role that may be passed")


def no_admin_grade_managed(args: ResourceValidationArgs) -> Iterator[str]:
    where = f"{args.resource_type.rsplit(':', 1)[-1]} '{args.name}'"
    arns = as_list(get(args.props, "managedPolicyArns", [])) if args.resource_type == ROLE else \
        [get(args.props, "policyArn")]
    for arn in arns:
        if arn in ADMIN_GRADE:
            yield fix(f"it attaches {str(arn).rsplit('/', 1)[-1]}, which grants (nearly) every action", where,
                      "attach a policy that lists the actions the workload needs")


POLICIES = [
    resource_policy("iam-no-wildcard-actions", "IAM policies list their actions; no '*' or 'service:*'.",
                    POLICY_TYPES, no_wildcard_actions),
    resource_policy("iam-no-passrole-on-wildcard", "No iam:PassRole on every role.", POLICY_TYPES,
                    no_pass_role_on_everything, severity=Severity.CRITICAL),
    resource_policy("iam-no-admin-managed-policies", "No AdministratorAccess, PowerUserAccess or IAMFullAccess "
                    "attached to a role, user or group.", (ROLE, *ATTACHMENTS), no_admin_grade_managed,
                    severity=Severity.CRITICAL),
]
