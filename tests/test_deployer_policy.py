"""The deployer policy (iam/deployer-policy.json) the README points CI's OIDC role at: every AWS call `pulumi up`,
`refresh`, `destroy`, `dev.py sleep|wake` and flow-log delivery make for the resources the program creates is
allowed, and nothing is granted wholesale.

The calls per resource type are the provider's (terraform-provider-aws, the resource's Create/Read/Update/Delete);
a new resource type in any shipped stack or example fails here until its calls are listed and allowed.
"""

from __future__ import annotations

import fnmatch
import json

import pytest
from conftest import ROOT

from guard import types as t
from offline import aws_model
from offline.harness import capture
from offline.stack_files import stacks

pytestmark = pytest.mark.program

POLICY = json.loads((ROOT / "iam" / "deployer-policy.json").read_text())
EC2_TAGS = ["ec2:CreateTags", "ec2:DeleteTags", "ec2:DescribeTags"]
# What the provider calls for each resource type airgap creates (create, read/refresh, update, delete).
CALLS: dict[str, list[str]] = {
    t.VPC: ["ec2:CreateVpc", "ec2:DescribeVpcs", "ec2:DescribeVpcAttribute", "ec2:ModifyVpcAttribute",
            "ec2:DeleteVpc", "ec2:DescribeNetworkAcls", "ec2:DescribeRouteTables", "ec2:DescribeSecurityGroups",
            *EC2_TAGS],
    t.SUBNET: ["ec2:CreateSubnet", "ec2:DescribeSubnets", "ec2:ModifySubnetAttribute", "ec2:DeleteSubnet", *EC2_TAGS],
    t.ROUTE_TABLE: ["ec2:CreateRouteTable", "ec2:DescribeRouteTables", "ec2:DeleteRouteTable", *EC2_TAGS],
    t.ASSOCIATION: ["ec2:AssociateRouteTable", "ec2:DisassociateRouteTable", "ec2:ReplaceRouteTableAssociation",
                    "ec2:DescribeRouteTables"],
    t.SG: ["ec2:CreateSecurityGroup", "ec2:DescribeSecurityGroups", "ec2:DeleteSecurityGroup",
           "ec2:RevokeSecurityGroupEgress", "ec2:DescribeNetworkInterfaces", *EC2_TAGS],
    t.DEFAULT_SG: ["ec2:DescribeSecurityGroups", "ec2:RevokeSecurityGroupIngress", "ec2:RevokeSecurityGroupEgress",
                   *EC2_TAGS],
    t.INGRESS: ["ec2:AuthorizeSecurityGroupIngress", "ec2:RevokeSecurityGroupIngress",
                "ec2:DescribeSecurityGroupRules", "ec2:ModifySecurityGroupRules", *EC2_TAGS],
    t.EGRESS: ["ec2:AuthorizeSecurityGroupEgress", "ec2:RevokeSecurityGroupEgress", "ec2:DescribeSecurityGroupRules",
               "ec2:ModifySecurityGroupRules", *EC2_TAGS],
    t.ENDPOINT: ["ec2:CreateVpcEndpoint", "ec2:DescribeVpcEndpoints", "ec2:ModifyVpcEndpoint",
                 "ec2:DeleteVpcEndpoints", "ec2:DescribeVpcEndpointServices", "ec2:DescribePrefixLists",
                 "route53:AssociateVPCWithHostedZone", *EC2_TAGS],
    t.FLOW_LOG: ["ec2:CreateFlowLogs", "ec2:DescribeFlowLogs", "ec2:DeleteFlowLogs", "logs:CreateLogDelivery",
                 "logs:DeleteLogDelivery", *EC2_TAGS],
    t.INSTANCE: ["ec2:RunInstances", "ec2:DescribeInstances", "ec2:DescribeInstanceAttribute",
                 "ec2:ModifyInstanceAttribute", "ec2:ModifyInstanceMetadataOptions", "ec2:TerminateInstances",
                 "ec2:DescribeInstanceTypes", "ec2:DescribeInstanceCreditSpecifications", "ec2:DescribeVolumes",
                 "ec2:StopInstances", "ec2:StartInstances", "iam:PassRole", *EC2_TAGS],
    t.INSTANCE_STATE: ["ec2:StartInstances", "ec2:StopInstances", "ec2:DescribeInstances",
                       "ec2:DescribeInstanceStatus"],
    t.LOG_GROUP: ["logs:CreateLogGroup", "logs:DescribeLogGroups", "logs:DeleteLogGroup", "logs:PutRetentionPolicy",
                  "logs:AssociateKmsKey", "logs:TagResource", "logs:ListTagsForResource"],
    t.REPOSITORY: ["ecr:CreateRepository", "ecr:DescribeRepositories", "ecr:DeleteRepository",
                   "ecr:PutImageTagMutability", "ecr:PutImageScanningConfiguration", "ecr:TagResource",
                   "ecr:ListTagsForResource", "ecr:BatchDeleteImage"],
    t.CLUSTER: ["ecs:CreateCluster", "ecs:DescribeClusters", "ecs:UpdateCluster", "ecs:DeleteCluster",
                "ecs:TagResource", "ecs:ListTagsForResource"],
    t.TASK: ["ecs:RegisterTaskDefinition", "ecs:DescribeTaskDefinition", "ecs:DeregisterTaskDefinition",
             "iam:PassRole"],
    t.SERVICE: ["ecs:CreateService", "ecs:DescribeServices", "ecs:UpdateService", "ecs:DeleteService",
                "ecs:TagResource"],
    t.FILE_SYSTEM: ["elasticfilesystem:CreateFileSystem", "elasticfilesystem:DescribeFileSystems",
                    "elasticfilesystem:DeleteFileSystem", "elasticfilesystem:PutLifecycleConfiguration",
                    "elasticfilesystem:DescribeLifecycleConfiguration", "elasticfilesystem:TagResource",
                    "kms:DescribeKey", "kms:CreateGrant"],
    t.MOUNT_TARGET: ["elasticfilesystem:CreateMountTarget", "elasticfilesystem:DescribeMountTargets",
                     "elasticfilesystem:DeleteMountTarget", "elasticfilesystem:DescribeMountTargetSecurityGroups",
                     "elasticfilesystem:ModifyMountTargetSecurityGroups", "ec2:CreateNetworkInterface",
                     "ec2:DescribeNetworkInterfaces", "ec2:DeleteNetworkInterface", "ec2:DescribeSubnets"],
    t.ACCESS_POINT: ["elasticfilesystem:CreateAccessPoint", "elasticfilesystem:DescribeAccessPoints",
                     "elasticfilesystem:DeleteAccessPoint"],
    t.FS_POLICY: ["elasticfilesystem:PutFileSystemPolicy", "elasticfilesystem:DescribeFileSystemPolicy",
                  "elasticfilesystem:DeleteFileSystemPolicy"],
    t.BACKUP_POLICY: ["elasticfilesystem:PutBackupPolicy", "elasticfilesystem:DescribeBackupPolicy"],
    t.ROLE: ["iam:CreateRole", "iam:GetRole", "iam:DeleteRole", "iam:UpdateAssumeRolePolicy", "iam:TagRole",
             "iam:ListRolePolicies", "iam:ListAttachedRolePolicies", "iam:ListInstanceProfilesForRole"],
    t.ROLE_POLICY: ["iam:PutRolePolicy", "iam:GetRolePolicy", "iam:DeleteRolePolicy"],
    t.ATTACHMENT: ["iam:AttachRolePolicy", "iam:DetachRolePolicy", "iam:ListAttachedRolePolicies"],
    t.PROFILE: ["iam:CreateInstanceProfile", "iam:GetInstanceProfile", "iam:DeleteInstanceProfile",
                "iam:AddRoleToInstanceProfile", "iam:RemoveRoleFromInstanceProfile"],
    t.SERVICE_LINKED_ROLE: ["iam:CreateServiceLinkedRole", "iam:GetRole"],
    t.KMS_KEY: ["kms:CreateKey", "kms:DescribeKey", "kms:GetKeyPolicy", "kms:PutKeyPolicy",
                "kms:GetKeyRotationStatus", "kms:EnableKeyRotation", "kms:ListResourceTags",
                "kms:ScheduleKeyDeletion"],
    t.IAM_POLICY: ["iam:CreatePolicy", "iam:GetPolicy", "iam:GetPolicyVersion", "iam:ListPolicyVersions",
                   "iam:CreatePolicyVersion", "iam:DeletePolicyVersion", "iam:DeletePolicy", "iam:TagPolicy"],
    # A Session document's content (schema 1.0) is updated in place and made the default version (Systems Manager
    # User Guide, "Update Session Manager preferences (command line)").
    t.SSM_DOCUMENT: ["ssm:CreateDocument", "ssm:DescribeDocument", "ssm:GetDocument", "ssm:DescribeDocumentPermission",
                     "ssm:UpdateDocument", "ssm:UpdateDocumentDefaultVersion", "ssm:DeleteDocument",
                     "ssm:AddTagsToResource", "ssm:ListTagsForResource"],
    t.KMS_ALIAS: ["kms:CreateAlias", "kms:DeleteAlias", "kms:ListAliases", "kms:UpdateAlias"],
    t.BUCKET: ["s3:CreateBucket", "s3:DeleteBucket", "s3:ListBucket", "s3:GetBucketPolicy", "s3:GetBucketTagging",
               "s3:PutBucketTagging", "s3:GetBucketVersioning", "s3:GetEncryptionConfiguration",
               "s3:ListBucketVersions", "s3:DeleteObject", "s3:DeleteObjectVersion"],
    t.S3_BUCKET_PUBLIC_ACCESS_BLOCK: ["s3:PutBucketPublicAccessBlock", "s3:GetBucketPublicAccessBlock"],
    t.S3_BUCKET_OWNERSHIP_CONTROLS: ["s3:PutBucketOwnershipControls", "s3:GetBucketOwnershipControls"],
    t.S3_BUCKET_SERVER_SIDE_ENCRYPTION_CONFIGURATION: ["s3:PutEncryptionConfiguration",
                                                       "s3:GetEncryptionConfiguration"],
    t.S3_BUCKET_LIFECYCLE_CONFIGURATION: ["s3:PutLifecycleConfiguration", "s3:GetLifecycleConfiguration"],
    t.BUCKET_POLICY: ["s3:PutBucketPolicy", "s3:GetBucketPolicy", "s3:DeleteBucketPolicy"],
    t.RDS_SUBNET_GROUP: ["rds:CreateDBSubnetGroup", "rds:DescribeDBSubnetGroups", "rds:ModifyDBSubnetGroup",
                         "rds:DeleteDBSubnetGroup", "rds:AddTagsToResource", "rds:ListTagsForResource"],
    # A managed master password: RDS creates, rotates and deletes the secret with the caller's permissions (Aurora
    # User Guide, "Password management with Amazon Aurora and AWS Secrets Manager", required permissions); the final
    # snapshot is taken as the cluster is deleted; the first RDS resource of an account makes its service-linked role.
    t.RDS_CLUSTER: ["rds:CreateDBCluster", "rds:DescribeDBClusters", "rds:ModifyDBCluster", "rds:DeleteDBCluster",
                    "rds:CreateDBClusterSnapshot", "rds:AddTagsToResource", "rds:ListTagsForResource",
                    "secretsmanager:CreateSecret", "secretsmanager:DeleteSecret", "secretsmanager:RotateSecret",
                    "secretsmanager:TagResource", "iam:CreateServiceLinkedRole"],
    t.RDS_CLUSTER_INSTANCE: ["rds:CreateDBInstance", "rds:DescribeDBInstances", "rds:ModifyDBInstance",
                             "rds:DeleteDBInstance", "rds:AddTagsToResource"],
    t.STACK_REFERENCE: [],  # read by the engine from the backend, not from AWS
    t.AWS_PROVIDER: [],  # an explicit provider (examples/two-environments) is configuration, not an AWS resource
}
# The program's invokes, and what the nightly sleep asks before it puts a stack to sleep.
INVOKE_CALLS = {
    "aws:index/getAvailabilityZones:getAvailabilityZones": ["ec2:DescribeAvailabilityZones"],
    "aws:ec2/getVpcEndpointService:getVpcEndpointService": ["ec2:DescribeVpcEndpointServices"],
    "aws:ssm/getParameter:getParameter": ["ssm:GetParameter"],
    "aws:iam/getRole:getRole": ["iam:GetRole"],
    "aws:index/getCallerIdentity:getCallerIdentity": [],  # sts:GetCallerIdentity needs no permission
    "aws:index/getRegion:getRegion": [],
    "pulumi:pulumi:readStackOutputs": [],
}
NIGHTLY = ["ssm:DescribeSessions", "ec2:DescribeInstances", "ecs:DescribeTasks", "ec2:DescribeSubnets",
           "ecs:UpdateService"]


def allowed(action: str) -> bool:
    for statement in POLICY["Statement"]:
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        if statement["Effect"] == "Allow" and any(fnmatch.fnmatchcase(action, a) for a in actions):
            return True
    return False


def _every_plan() -> tuple[set[str], set[str]]:
    types: set[str] = set()
    invokes: set[str] = set()
    variants = [(s, {}) for s in stacks()] + [("dev", {"execKms": True, "bastion": "on", "production": True})]
    for stack, overrides in variants:
        run = capture(stack, "update", overrides)
        types |= {r.type for r in run if r.custom}
        invokes |= set(run.invokes)
    for example in sorted((ROOT / "examples").iterdir()):
        run = capture("example", "update", program=example / "__main__.py", root=example)
        types |= {r.type for r in run if r.custom}
        invokes |= set(run.invokes)
    return types, invokes


def test_every_resource_type_and_invoke_the_program_uses_has_its_calls_listed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(aws_model, "MISSING_ROLES", {"AWSServiceRoleForECS"})  # a fresh account: the role too
    types, invokes = _every_plan()
    assert sorted(types - set(CALLS)) == [], "list what the provider calls for these, and allow it"
    assert sorted(invokes - set(INVOKE_CALLS)) == []


@pytest.mark.parametrize("type_", sorted(CALLS))
def test_the_deployer_policy_allows_every_call_for(type_: str) -> None:
    assert [a for a in CALLS[type_] if not allowed(a)] == []


def test_the_deployer_policy_allows_the_invokes_and_the_nightly_sleep() -> None:
    needed = [a for calls in INVOKE_CALLS.values() for a in calls] + NIGHTLY
    assert [a for a in needed if not allowed(a)] == []


def test_nothing_is_granted_wholesale_and_the_dangerous_actions_are_fenced() -> None:
    for statement in POLICY["Statement"]:
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        assert all(a != "*" and not a.endswith(":*") for a in actions), statement["Sid"]
    by_sid = {s["Sid"]: s for s in POLICY["Statement"]}
    # PassRole only to the two services airgap's roles are for, never to any service.
    assert by_sid["PassRolesOnlyToEc2AndEcsTasks"]["Condition"] == {
        "StringEquals": {"iam:PassedToService": ["ec2.amazonaws.com", "ecs-tasks.amazonaws.com"]}}
    assert [s["Sid"] for s in POLICY["Statement"] if "iam:PassRole" in json.dumps(s["Action"])] == [
        "PassRolesOnlyToEc2AndEcsTasks"]
    assert by_sid["ServiceLinkedRolesOfEcsAndRdsOnAFreshAccount"]["Condition"] == {
        "StringEquals": {"iam:AWSServiceName": ["ecs.amazonaws.com", "rds.amazonaws.com"]}}
    assert not allowed("iam:CreateUser") and not allowed("s3:PutObject")
    # Managed policies only under the project's prefix: the operator policy, never another team's.
    assert [s["Resource"] for s in POLICY["Statement"] if "iam:CreatePolicyVersion" in s["Action"]] == [
        "arn:aws:iam::*:policy/airgap-*"]


def test_the_readme_points_the_ci_role_at_it() -> None:
    readme = (ROOT / "README.md").read_text()
    assert "iam/deployer-policy.json" in readme

