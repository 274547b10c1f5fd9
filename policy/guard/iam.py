"""IAM rules: no wildcard actions, no iam:PassRole on every role."""

from __future__ import annotations

from collections.abc import Iterator

from pulumi_policy import ResourceValidationArgs, Severity

from guard.kit import resource_policy
from guard.values import UNKNOWN, as_list, fix, json_document

POLICY_TYPES = ("aws:iam/rolePolicy:RolePolicy", "aws:iam/policy:Policy", "aws:iam/userPolicy:UserPolicy",
                "aws:iam/groupPolicy:GroupPolicy")


def _allows(args: ResourceValidationArgs) -> list[dict]:
    document = json_document(args.props, "policy")
    if document is UNKNOWN:
        args.not_applicable("the policy document is unknown until the ARNs in it exist; checked during update "
                            "(spell ARNs from names to have it checked in preview)")
    if not isinstance(document, dict):
        return []
    return [s for s in as_list(document.get("Statement")) if isinstance(s, dict) and s.get("Effect") == "Allow"]


def no_wildcard_actions(args: ResourceValidationArgs) -> Iterator[str]:
    where = f"{args.resource_type.rsplit(':', 1)[-1]} '{args.name}'"
    for s in _allows(args):
        if "NotAction" in s:
            yield fix(f"statement {s.get('Sid', '')!r} allows everything except a list (NotAction)", where,
                      "list the actions it needs")
        for action in as_list(s.get("Action")):
            if action == "*" or str(action).endswith(":*"):
                yield fix(f"statement {s.get('Sid', '')!r} allows {action}", where,
                          "list the actions it needs (the bastion needs four ssmmessages actions, not ssm:*)")


def no_pass_role_on_everything(args: ResourceValidationArgs) -> Iterator[str]:
    where = f"{args.resource_type.rsplit(':', 1)[-1]} '{args.name}'"
    for s in _allows(args):
        actions = [str(a).lower() for a in as_list(s.get("Action"))]
        if any(a in ("iam:passrole", "iam:*", "*") for a in actions) and "*" in as_list(s.get("Resource")):
            yield fix("iam:PassRole on every role lets the holder hand any role, admin included, to a service it "
                      "controls", where,
                      "drop it (ECS Exec needs no PassRole) or name the one role that may be passed")


POLICIES = [
    resource_policy("iam-no-wildcard-actions", "IAM policies list their actions; no '*' or 'service:*'.",
                    POLICY_TYPES, no_wildcard_actions),
    resource_policy("iam-no-passrole-on-wildcard", "No iam:PassRole on every role.", POLICY_TYPES,
                    no_pass_role_on_everything, severity=Severity.CRITICAL),
]
