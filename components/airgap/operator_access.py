"""OperatorAccess: exactly what a person needs to work in the stack through Session Manager — and nothing wider.

One managed policy (and, when principals are given, a role they may assume) that allows
- `ssm:StartSession` on this stack's SSM host and its bastion's tasks only, and only with the documents the project
  uses: the stack's shell document and port forwarding to a remote host. `ssm:SessionDocumentAccessCheck` makes the
  document part of the check, so the account's default shell (whatever its preferences) is refused (Systems Manager
  User Guide, "Enforce a session document permission check for the AWS CLI"). Not AWS-StartNonInteractiveCommand:
  IAM checks document and target separately, so it would run a command on the host or in the bastion outside the
  stack's run-as user, key and transcript;
- `ecs:ExecuteCommand` on this cluster's tasks, in the bastion container (and the exec key's data keys when the
  channel is encrypted);
- `ssm:TerminateSession` / `ResumeSession` on the caller's own sessions only, by the tag Session Manager puts on each
  session (`aws:ssmmessages:session-id` = the caller's `aws:userid`, for IAM users and assumed roles alike: User
  Guide, "Additional sample IAM policies", Example 4);
- the session key's data keys, and the reads, park/unpark, image copy and database login `dev.py` uses.
Waking a sleeping stack is a `pulumi up`: that takes the deployer's permissions (iam/deployer-policy.json), not these.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from airgap.iam import statement
from airgap.naming import BASTION_CONTAINER, STACK_TAG, ChildNames, PhysicalNames, check_component_name
from airgap.where import PARTITION, where

# The AWS-owned Session document the ops tools use besides the stack's shell document.
PORT_FORWARD_DOCUMENT = "AWS-StartPortForwardingSessionToRemoteHost"


@dataclass(frozen=True)
class OperatorAccessArgs:
    """Names, not Outputs: the policy is spelt from what is known before anything exists, so a first preview (and the
    policy pack in it) sees the whole document."""

    names: PhysicalNames | None = None
    # The stack's hosts carry the tag `airgap-stack: <prefix>` (SsmHost does): sessions are allowed on those.
    hosts: bool = False
    bastion_cluster: str | None = None  # the ECS cluster's name
    bastion_service: str | None = None
    bastion_repository: str | None = None  # the bastion's image repository, for `dev.py bastion image`
    shell_document: str | None = None  # SessionPreferences.document_name
    session_key_alias: str | None = None  # SessionPreferences.key_alias
    session_log_group: str | None = None
    exec_key_alias: str | None = None  # FargateBastion.key_alias, when its exec channel is encrypted
    database_cluster: str | None = None  # its identifier: RDS tags the managed secret with the cluster's ARN
    # Who may assume the operator role: account roots, roles, Identity Center permission-set roles (ARNs). Empty:
    # the policy alone, for your own groups, roles or permission sets to attach.
    principals: Sequence[str] = field(default_factory=tuple)
    max_session_hours: int = 1


class OperatorAccess(pulumi.ComponentResource):
    policy: aws.iam.Policy
    role: aws.iam.Role | None

    def __init__(self, name: str, args: OperatorAccessArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("airgap:access:OperatorAccess", check_component_name("OperatorAccess", name), None, opts)
        own = ChildNames(name, first_name="operators")
        names = args.names or PhysicalNames.of_this_stack()
        at = where(self)
        child = pulumi.ResourceOptions(parent=self)
        document = json.dumps(operator_policy(args, names.prefix, at.region, at.account), indent=1)
        self.policy = aws.iam.Policy(own(), name=names.name(own()), policy=document,
                                     description=f"{names.prefix}: Session Manager operators of this stack", opts=child)
        self.role = None
        if args.principals:
            trust = {"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Principal": {"AWS": list(args.principals)}, "Action": "sts:AssumeRole"}]}
            self.role = aws.iam.Role(own(), name=names.name(own()), assume_role_policy=json.dumps(trust),
                                     max_session_duration=args.max_session_hours * 3600,
                                     description=f"{names.prefix}: operators (Session Manager only)", opts=child)
            aws.iam.RolePolicyAttachment(own(), role=self.role.name, policy_arn=self.policy.arn, opts=child)
        self.register_outputs({"policyArn": self.policy.arn,
                               "roleArn": self.role.arn if self.role is not None else None})


def operator_policy(args: OperatorAccessArgs, stack: str, region: str, account: str) -> dict[str, Any]:
    """The policy document, from the stack's own names."""
    arn = f"arn:{PARTITION}:{{}}:{region}:{account}:{{}}"
    only_documents = {"BoolIfExists": {"ssm:SessionDocumentAccessCheck": "true"}}
    documents = [arn.format("ssm", f"document/{args.shell_document}")] if args.shell_document else []
    documents.append(f"arn:{PARTITION}:ssm:{region}::document/{PORT_FORWARD_DOCUMENT}")
    statements = [statement("StartSessionsOnlyWithTheProjectsDocuments", ["ssm:StartSession"], documents,
                            Condition=only_documents)]
    if args.hosts:
        statements.append(statement(
            "StartSessionsOnTheStacksHosts", ["ssm:StartSession"], [arn.format("ec2", "instance/*")],
            Condition={**only_documents, "StringEquals": {f"ssm:resourceTag/{STACK_TAG}": stack}}))
    cluster = args.bastion_cluster
    tasks = [arn.format("ecs", f"task/{cluster}/*")] if cluster else []
    if cluster:
        statements.append(statement("StartSessionsOnTheBastionsTasks", ["ssm:StartSession"], tasks,
                                    Condition=only_documents))
    statements += [
        statement("EndOrResumeOwnSessionsOnly", ["ssm:TerminateSession", "ssm:ResumeSession"],
                  [arn.format("ssm", "session/*")],
                  Condition={"StringLike": {"ssm:resourceTag/aws:ssmmessages:session-id": ["${aws:userid}"]}}),
        # Describe and list calls have no resource to scope them to.
        statement("SeeSessionsAndTargets", ["ssm:DescribeSessions", "ssm:GetConnectionStatus",
                                            "ssm:DescribeInstanceInformation", "ec2:DescribeInstances",
                                            "ec2:DescribeSubnets"], ["*"]),
    ]
    if cluster:
        statements += [
            statement("ExecIntoTheBastionOnly", ["ecs:ExecuteCommand"], [arn.format("ecs", f"cluster/{cluster}"),
                                                                         *tasks],
                      Condition={"StringEquals": {"ecs:container-name": BASTION_CONTAINER}}),
            statement("FindParkAndUnparkTheBastion", ["ecs:DescribeServices", "ecs:UpdateService", "ecs:ListTasks",
                                                      "ecs:DescribeTasks"],
                      [arn.format("ecs", f"service/{cluster}/{args.bastion_service}"),
                       arn.format("ecs", f"container-instance/{cluster}/*"), *tasks]),
        ]
    statements += _data_statements(args, arn)
    return {"Version": "2012-10-17", "Statement": statements}


def _data_statements(args: OperatorAccessArgs, arn: str) -> list[dict[str, Any]]:
    found = []
    if args.bastion_repository:
        found += [
            statement("EcrLogin", ["ecr:GetAuthorizationToken"], ["*"]),  # no resource to scope it to
            statement("FillTheBastionImage", ["ecr:DescribeImages", "ecr:BatchCheckLayerAvailability",
                                              "ecr:InitiateLayerUpload", "ecr:UploadLayerPart",
                                              "ecr:CompleteLayerUpload", "ecr:PutImage"],
                      [arn.format("ecr", f"repository/{args.bastion_repository}")])]
    if args.session_key_alias:
        # The key's ARN is not known before it exists; its alias is (the same way the bastion's exec key is scoped).
        found.append(statement("EncryptOwnSessions", ["kms:GenerateDataKey"], [arn.format("kms", "key/*")],
                               Condition={"ForAnyValue:StringEquals": {"kms:ResourceAliases": args.session_key_alias}}))
    if args.exec_key_alias:
        # `aws ecs execute-command` on an encrypted channel: the client asks KMS for the data key.
        found.append(statement("EncryptOwnExecSessions", ["kms:GenerateDataKey"], [arn.format("kms", "key/*")],
                               Condition={"ForAnyValue:StringEquals": {"kms:ResourceAliases": args.exec_key_alias}}))
    if args.session_log_group:
        found.append(statement("ReadSessionLogs", ["logs:GetLogEvents", "logs:FilterLogEvents"],
                               [arn.format("logs", f"log-group:{args.session_log_group}:*")]))
    if args.database_cluster:
        # RDS tags the secret it keeps the master password in with the cluster's ARN (aws:rds:primaryDBClusterArn).
        found.append(statement(
            "ReadTheDatabasePassword", ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
            [arn.format("secretsmanager", "secret:rds!*")],
            Condition={"StringEquals": {"secretsmanager:ResourceTag/aws:rds:primaryDBClusterArn":
                                        arn.format("rds", f"cluster:{args.database_cluster}")}}))
    return found
