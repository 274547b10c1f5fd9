"""Small IAM helpers shared by the workloads: a role a service can assume, and policy documents with Outputs in them.

Roles get their permissions from separate `RolePolicy` / `RolePolicyAttachment` resources (the role's own
`inline_policies` / `managed_policy_arns` are deprecated in pulumi-aws 7), which also lets the policy pack see each
grant and the role it belongs to.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pulumi
import pulumi_aws as aws

from airgap.where import PARTITION


def service_role(name: str, service: str, description: str, parent: pulumi.Resource) -> aws.iam.Role:
    """A role only `service` (e.g. ec2.amazonaws.com) can assume."""
    trust = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}],
    }
    return aws.iam.Role(
        name,
        assume_role_policy=pulumi.Output.json_dumps(trust),
        description=description,
        opts=pulumi.ResourceOptions(parent=parent),
    )


def statement(sid: str, actions: Sequence[str], resources: Sequence[Any], **extra: Any) -> dict[str, Any]:
    return {"Sid": sid, "Effect": "Allow", "Action": list(actions), "Resource": list(resources), **extra}


def role_policy(
    name: str, role: aws.iam.Role, statements: Sequence[dict[str, Any]], parent: pulumi.Resource
) -> aws.iam.RolePolicy:
    """An inline policy on `role`; statements may hold Outputs (ARNs of the stack's own resources)."""
    document = {"Version": "2012-10-17", "Statement": list(statements)}
    return aws.iam.RolePolicy(
        name,
        role=role.name,
        policy=pulumi.Output.json_dumps(document),
        opts=pulumi.ResourceOptions(parent=parent),
    )


def managed_policy(name: str, role: aws.iam.Role, policy: str, parent: pulumi.Resource) -> aws.iam.RolePolicyAttachment:
    """Attach the AWS managed policy `policy` (its name, e.g. AmazonSSMManagedInstanceCore) to `role`."""
    return aws.iam.RolePolicyAttachment(
        name,
        role=role.name,
        policy_arn=f"arn:{PARTITION}:iam::aws:policy/{policy}",
        opts=pulumi.ResourceOptions(parent=parent),
    )
