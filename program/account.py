"""What the account needs once, before any stack's bastion can run: ECS's service-linked role.

ECS creates `AWSServiceRoleForECS` by itself when a cluster or service is first created ("Using service-linked roles
for Amazon ECS", Amazon ECS Developer Guide), but on an account that never used ECS that first CreateCluster or
CreateService can fail with "Unable to assume the service linked role" before IAM has propagated it (reported in
hashicorp/terraform-provider-aws#15452 and aws/containers-roadmap#2614; a rerun works). So the program creates the
role first when the account lacks it, and the bastion waits for it.
"""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_aws as aws


def ecs_service_linked_role(settings: Any) -> aws.iam.ServiceLinkedRole | None:
    """The role, when this stack creates it. Account-wide and shared with every other ECS user of the account, so
    `pulumi destroy` leaves it (`retain_on_delete`); once created here it stays declared, so the plan stays stable."""
    if not settings.ecs_service_linked_role:
        return None
    return aws.iam.ServiceLinkedRole(
        "ecs-service-linked-role",
        aws_service_name="ecs.amazonaws.com",
        opts=pulumi.ResourceOptions(retain_on_delete=True),
    )
