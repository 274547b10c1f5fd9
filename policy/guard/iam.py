"""IAM rules, wherever the permissions are written (iam_documents.py): no wildcard actions, no iam:PassRole on every
role, no admin-grade or full-access AWS managed policy, no restrictable action on every resource, no permission to
rewrite one's own permissions. Roles, users, groups and IAM Identity Center permission sets alike."""

from __future__ import annotations

from collections.abc import Iterator

from pulumi_policy import ResourceValidationArgs, Severity

from guard.iam_documents import ATTACHMENTS, POLICY_TYPES, actions, allows, grants, managed_arns, on_everything
from guard.kit import ADVISORY, resource_policy, where
from guard.types import ROLE
from guard.values import as_list, fix, remedy

# AWS managed policies that grant (nearly) everything, or the power to grant it.
ADMIN_GRADE = ("arn:aws:iam::aws:policy/AdministratorAccess", "arn:aws:iam::aws:policy/PowerUserAccess",
               "arn:aws:iam::aws:policy/IAMFullAccess")
# Actions that take a resource ARN (Service Authorization Reference: each lists resource types), so "*" is a choice.
RESTRICTABLE = (
    "s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:ListBucket", "secretsmanager:GetSecretValue",
    "ssm:GetParameter", "ssm:GetParameters", "ssm:GetParametersByPath", "ssm:PutParameter", "ssm:StartSession",
    "ssm:SendCommand", "kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "sqs:SendMessage", "sqs:ReceiveMessage",
    "sqs:DeleteMessage", "sns:Publish", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query", "dynamodb:Scan",
    "dynamodb:UpdateItem", "dynamodb:DeleteItem", "lambda:InvokeFunction", "logs:CreateLogStream",
    "logs:PutLogEvents", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability",
    "ec2:StartInstances", "ec2:StopInstances", "ec2:TerminateInstances", "ecs:ExecuteCommand", "ecs:RunTask",
    "elasticfilesystem:ClientMount", "elasticfilesystem:ClientWrite", "elasticfilesystem:ClientRootAccess",
    "sts:AssumeRole")
# IAM actions that let the holder change what it (or any principal) may do: unscoped, each is a way to admin.
SELF_ESCALATION = (
    "iam:CreatePolicyVersion", "iam:SetDefaultPolicyVersion", "iam:AttachUserPolicy", "iam:AttachGroupPolicy",
    "iam:AttachRolePolicy", "iam:PutUserPolicy", "iam:PutGroupPolicy", "iam:PutRolePolicy", "iam:CreateAccessKey",
    "iam:CreateLoginProfile", "iam:UpdateLoginProfile", "iam:AddUserToGroup", "iam:UpdateAssumeRolePolicy")
# What a passed role is handed to: with iam:PassRole on every role, each runs code as any role, admin included.
PASS_ROLE_TO = ("ec2:RunInstances", "lambda:CreateFunction", "ecs:RunTask", "ecs:RegisterTaskDefinition",
                "cloudformation:CreateStack", "glue:CreateDevEndpoint")


def no_wildcard_actions(args: ResourceValidationArgs) -> Iterator[str]:
    for s in allows(args):
        if "NotAction" in s:
            yield fix(f"statement {s.get('Sid', '')!r} allows everything except a list (NotAction)", where(args),
                      "list the actions it needs")
        for action in actions(s):
            if action == "*" or action.endswith(":*"):
                yield fix(f"statement {s.get('Sid', '')!r} allows {action}", where(args),
                          remedy(args.urn, "list the actions it needs", "the bastion needs four ssmmessages "
                                 "actions, not ssm:*"))


def no_pass_role_on_everything(args: ResourceValidationArgs) -> Iterator[str]:
    statements = allows(args)
    handed = sorted({a for s in statements for a in PASS_ROLE_TO if grants(s, a)})
    for s in statements:
        if "NotAction" not in s and grants(s, "iam:PassRole") and "*" in as_list(s.get("Resource")):
            also = f" — and it may call {', '.join(handed)}, so it can run code as any role" if handed else ""
            yield fix(f"iam:PassRole on every role lets the holder hand any role, admin included, to a service it "
                      f"controls{also}", where(args),
                      "drop it (ECS Exec needs no PassRole) or name the one role that may be passed")


def _attached(args: ResourceValidationArgs, arns: tuple[str, ...] | None) -> Iterator[tuple[str, str]]:
    for arn in managed_arns(args):
        text = str(arn)
        name = text.rsplit("/", 1)[-1]
        if (arns is not None and text in arns) or (arns is None and text.startswith("arn:aws:iam::aws:policy/")
                                                    and name.endswith("FullAccess") and text not in ADMIN_GRADE):
            yield text, name


def no_admin_grade_managed(args: ResourceValidationArgs) -> Iterator[str]:
    for _, name in _attached(args, ADMIN_GRADE):
        yield fix(f"it attaches {name}, which grants (nearly) every action", where(args),
                  "attach a policy that lists the actions the workload needs")


def no_full_access_managed(args: ResourceValidationArgs) -> Iterator[str]:
    for _, name in _attached(args, None):
        service = name.removeprefix("Amazon").removeprefix("AWS").removesuffix("FullAccess")
        yield fix(f"it attaches {name}, every action on every {service} resource in the account", where(args),
                  "attach a policy that lists the actions and names the resources the workload uses")


def no_restrictable_on_everything(args: ResourceValidationArgs) -> Iterator[str]:
    for s in allows(args):
        listed = [a for a in actions(s) if "*" not in a and a.lower() in {r.lower() for r in RESTRICTABLE}]
        if listed and on_everything(s):
            yield fix(f"statement {s.get('Sid', '')!r} allows {', '.join(listed)} on every resource (\"*\"), though "
                      "each takes a resource ARN", where(args),
                      "name the buckets, keys, parameters, queues, tables or log groups it uses in Resource")


def no_self_escalation(args: ResourceValidationArgs) -> Iterator[str]:
    for s in allows(args):
        found = [a for a in SELF_ESCALATION if grants(s, a)]
        if found and on_everything(s) and not any(a == "*" or a.endswith(":*") for a in actions(s)):
            yield fix(f"statement {s.get('Sid', '')!r} allows {', '.join(found)} on every resource: with it the "
                      "holder can grant itself (or a principal it controls) any permission, admin included",
                      where(args), "drop these actions, or scope Resource to the principals and policies an "
                      "administrator manages (and guard them with a permissions boundary)")


_DOCS = "policy / inline_policies / inline_policy documents"
_MANAGED = "Role managed_policy_arns, policy attachments' policy_arn, ssoadmin managed_policy_arn"
_WITH_ATTACHMENTS = (ROLE, *ATTACHMENTS)

POLICIES = [
    resource_policy("iam-no-wildcard-actions", "IAM policies list their actions; no '*' or 'service:*'.",
                    POLICY_TYPES, no_wildcard_actions, reads=_DOCS, controls=("IAM.1", "IAM.21")),
    resource_policy("iam-no-passrole-on-wildcard", "No iam:PassRole on every role.", POLICY_TYPES,
                    no_pass_role_on_everything, reads=_DOCS, severity=Severity.CRITICAL),
    resource_policy("iam-no-admin-managed-policies", "No AdministratorAccess, PowerUserAccess or IAMFullAccess "
                    "attached to a role, user, group or permission set.", _WITH_ATTACHMENTS, no_admin_grade_managed,
                    reads=_MANAGED, severity=Severity.CRITICAL),
    resource_policy("iam-no-full-access-managed-policies", "No AWS managed *FullAccess policy, such as "
                    "AmazonS3FullAccess (advisory).", _WITH_ATTACHMENTS, no_full_access_managed, reads=_MANAGED,
                    level=ADVISORY),
    resource_policy("iam-no-wildcard-resource", "Actions that take a resource ARN name their resources, not '*' "
                    "(advisory).", POLICY_TYPES, no_restrictable_on_everything, reads=_DOCS, level=ADVISORY,
                    severity=Severity.MEDIUM),
    resource_policy("iam-no-privilege-escalation", "No permission to rewrite permissions (policy versions, "
                    "attachments, inline policies, access keys, trust policies) on every resource (advisory).",
                    POLICY_TYPES, no_self_escalation, reads=_DOCS, level=ADVISORY, severity=Severity.CRITICAL),
]
