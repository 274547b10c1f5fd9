"""What may cross the VPC's edge: the VPC endpoint policies.

Without a policy, AWS gives an endpoint one that allows everything (AWS PrivateLink Guide, "Control access to VPC
endpoints using endpoint policies"): the S3 gateway then reaches every bucket of every account — the classic
exfiltration path of a private VPC — and the ECR endpoints reach every account's registry. An endpoint policy is an
allow list: what it does not allow is refused at the endpoint, whatever the caller's own IAM permissions say.

S3 gateway: exactly the AWS-owned buckets the stack's workloads use in its region (`AWS_BUCKETS`, each with the AWS
page that names it), plus the buckets the user names (airgap:s3Buckets), which must belong to the stack's account.

Interface endpoints, where the service accepts a policy (the program asks AWS: DescribeVpcEndpointServices'
VpcEndpointPolicySupported, through `aws.ec2.get_vpc_endpoint_service`): only the account's own principals, and where
the service's resources allow it, only the account's own resources — so credentials of another account cannot use
the endpoint, and the account's credentials cannot write into another account's registry, log group, key or secret.
The Systems Manager endpoints stop at principals: the agent reads AWS-owned documents, so a resource-account
condition would refuse the agent itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from airgap.where import PARTITION

# The workload that reads a bucket, in the user's words (each workload's `needs()` takes its own).
Workload = str

ECR_GUIDE = ('Amazon ECR User Guide, "Amazon ECR interface VPC endpoints (AWS PrivateLink)", "Minimum Amazon S3 '
             'bucket permissions for Amazon ECR"')
SSM_AGENT_BUCKETS = ('Systems Manager User Guide, "SSM Agent communications with AWS managed S3 buckets" '
                     "(ssm-agent-technical-details.html#ssm-agent-minimum-s3-permissions)")
AL2023_REPOS = ("aws-samples/data-perimeter-policy-examples, vpc_endpoint_policies/README.md (AWS-maintained: "
                '"Amazon Linux repositories hosted on AWS owned Amazon S3 buckets"); AL2023\'s own dnf mirror list '
                "points at this bucket")


@dataclass(frozen=True)
class AwsBucket:
    """An AWS-owned bucket a workload reads through the S3 gateway, by name pattern."""

    pattern: str  # "{region}" is replaced by the stack's region
    workload: Workload
    why: str
    source: str
    only_in: tuple[str, ...] = ()  # regions where this bucket is the one used
    not_in: tuple[str, ...] = ()  # regions that use another bucket instead

    def name(self, region: str) -> str:
        return self.pattern.format(region=region)

    def applies(self, region: str) -> bool:
        return (not self.only_in or region in self.only_in) and region not in self.not_in


_DISTRIBUTOR_ELSEWHERE = ("af-south-1", "eu-south-1")
AWS_BUCKETS: tuple[AwsBucket, ...] = (
    AwsBucket("prod-{region}-starport-layer-bucket", "bastion", "ECR image layers (the bastion's image)", ECR_GUIDE),
    AwsBucket("al2023-repos-{region}-de612dc2", "ssm-host", "Amazon Linux 2023 package repositories (dnf)",
              AL2023_REPOS),
    AwsBucket("amazon-ssm-{region}", "ssm-host", "SSM Agent installation packages and updates (AWS-UpdateSSMAgent)",
              SSM_AGENT_BUCKETS),
    AwsBucket("aws-ssm-{region}", "ssm-host", "modules that Systems Manager documents use (Patch Manager and others)",
              SSM_AGENT_BUCKETS),
    AwsBucket("patch-baseline-snapshot-{region}", "ssm-host", "Patch Manager baseline snapshots", SSM_AGENT_BUCKETS,
              not_in=("me-south-1",)),
    AwsBucket("patch-baseline-snapshot-me-south-1-uduvl7q8", "ssm-host", "Patch Manager baseline snapshots "
              "(me-south-1's bucket name)", SSM_AGENT_BUCKETS, only_in=("me-south-1",)),
    AwsBucket("{region}-birdwatcher-prod", "ssm-host", "Distributor (AWS-ConfigureAWSPackage), SSM Agent 2.2.45.0 "
              "and later", SSM_AGENT_BUCKETS, not_in=_DISTRIBUTOR_ELSEWHERE),
    AwsBucket("aws-ssm-distributor-file-{region}", "ssm-host", "Distributor in af-south-1 and eu-south-1",
              SSM_AGENT_BUCKETS, only_in=_DISTRIBUTOR_ELSEWHERE),
    AwsBucket("aws-ssm-document-attachments-{region}", "ssm-host", "Distributor packages owned by AWS",
              SSM_AGENT_BUCKETS),
)
# Listed on the same AWS pages and left out, on purpose: nothing airgap runs uses them.
LEFT_OUT = {
    "aws-windows-downloads-{region}": "Windows-only SSM documents (airgap runs Amazon Linux)",
    "amazon-ssm-packages-{region}": "SSM Agent older than 2.2.45.0 (Amazon Linux 2023 ships a newer agent)",
    "al2023-{region}": "kernel live patching on Amazon Linux 2023 (not enabled by airgap)",
}
# What a workload may do with a bucket the user names: read and write objects, list the bucket.
USER_BUCKET_ACTIONS = ("s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:ListBucket", "s3:GetBucketLocation")


@dataclass(frozen=True)
class AllowedBucket:
    name: str
    actions: tuple[str, ...]
    why: str
    source: str
    owner: Literal["AWS", "account"]


def allowed_buckets(region: str, aws_owned: Sequence[AwsBucket], user_buckets: Sequence[str]) -> list[AllowedBucket]:
    """Every bucket the S3 gateway lets the stack reach, in the order the plan shows them: the AWS-owned ones the
    workloads read (their `needs().buckets`), in the table's order, then the account's own."""
    found = [AllowedBucket(b.name(region), ("s3:GetObject",), b.why, b.source, "AWS")
             for b in AWS_BUCKETS if b in aws_owned and b.applies(region)]
    found += [AllowedBucket(name, USER_BUCKET_ACTIONS, "named in airgap:s3Buckets", "the stack's config", "account")
              for name in user_buckets]
    return found


def _own_principals(account: str) -> dict[str, Any]:
    return {"StringEquals": {"aws:PrincipalAccount": account}}


def gateway_policy(buckets: Sequence[AllowedBucket], account: str) -> dict[str, Any]:
    aws_owned = [b for b in buckets if b.owner == "AWS"]
    own = [b for b in buckets if b.owner == "account"]
    statements: list[dict[str, Any]] = []
    if aws_owned:
        # Principal "*": ECR hands the task a presigned URL signed by an ECR account, and dnf and the SSM agent read
        # these public buckets unsigned — no principal of this account appears in those requests.
        statements.append({"Sid": "AwsOwnedBucketsTheWorkloadsRead", "Effect": "Allow", "Principal": "*",
                           "Action": ["s3:GetObject"],
                           "Resource": [f"arn:{PARTITION}:s3:::{b.name}/*" for b in aws_owned]})
    if own:
        statements.append({"Sid": "TheAccountsOwnBucketsNamedInConfig", "Effect": "Allow", "Principal": "*",
                           "Action": list(USER_BUCKET_ACTIONS),
                           "Resource": [arn for b in own for arn in (f"arn:{PARTITION}:s3:::{b.name}",
                                                                      f"arn:{PARTITION}:s3:::{b.name}/*")],
                           # A bucket name is global: a typo could name someone else's bucket.
                           "Condition": {"StringEquals": {"aws:PrincipalAccount": account,
                                                          "aws:ResourceAccount": account}}})
    if not statements:
        # Nothing needs S3: the gateway then lets nothing through (a policy cannot be empty).
        statements.append({"Sid": "NothingNeedsS3", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
                           "Resource": "*"})
    return {"Version": "2012-10-17", "Statement": statements}


def interface_policy(service: str, region: str, account: str) -> dict[str, Any]:
    """The policy of one interface endpoint: the account's own principals, and own resources where possible."""
    own = _own_principals(account)
    arn = f"arn:{PARTITION}:{{service}}:{region}:{account}:{{resource}}"
    if service in ("ecr.api", "ecr.dkr"):
        statements = [
            {"Sid": "PullFromTheAccountsOwnRepositories", "Effect": "Allow", "Principal": "*",
             "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"],
             "Resource": [arn.format(service="ecr", resource="repository/*")], "Condition": own},
            # GetAuthorizationToken has no resource to scope to (ECR User Guide, "Amazon ECR API actions and
            # resource-level permissions").
            {"Sid": "AuthorizationToken", "Effect": "Allow", "Principal": "*",
             "Action": ["ecr:GetAuthorizationToken"], "Resource": "*", "Condition": own},
        ]
    elif service == "logs":
        statements = [{"Sid": "WriteTheAccountsOwnLogGroups", "Effect": "Allow", "Principal": "*",
                       "Action": ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogGroups",
                                  "logs:DescribeLogStreams"],
                       "Resource": [arn.format(service="logs", resource="log-group:*")], "Condition": own}]
    elif service == "kms":
        statements = [{"Sid": "UseTheAccountsOwnKeys", "Effect": "Allow", "Principal": "*",
                       "Action": ["kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey"],
                       "Resource": [arn.format(service="kms", resource="key/*")], "Condition": own}]
    elif service == "secretsmanager":
        statements = [{"Sid": "ReadTheAccountsOwnSecrets", "Effect": "Allow", "Principal": "*",
                       "Action": ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
                       "Resource": [arn.format(service="secretsmanager", resource="secret:*")],
                       "Condition": own}]
    elif service == "sts":
        statements = [{"Sid": "AssumeTheAccountsOwnRoles", "Effect": "Allow", "Principal": "*",
                       "Action": ["sts:AssumeRole", "sts:TagSession"],
                       "Resource": [f"arn:{PARTITION}:iam::{account}:role/*"], "Condition": own},
                      {"Sid": "WhoAmI", "Effect": "Allow", "Principal": "*", "Action": ["sts:GetCallerIdentity"],
                       "Resource": "*", "Condition": own}]
    else:  # ssm, ssmmessages, ec2messages: the agent reads AWS-owned documents, so principals only
        statements = [{"Sid": "TheAccountsOwnPrincipalsOnly", "Effect": "Allow", "Principal": "*", "Action": "*",
                       "Resource": "*", "Condition": own}]
    return {"Version": "2012-10-17", "Statement": statements}


def summary(document: dict[str, Any]) -> str:
    """One line for the plan: what an endpoint lets through."""
    parts = []
    for s in document.get("Statement", []):
        actions = s.get("Action")
        actions = [actions] if isinstance(actions, str) else list(actions or [])
        resources = s.get("Resource")
        resources = [resources] if isinstance(resources, str) else list(resources or [])
        who = "this account's principals" if "aws:PrincipalAccount" in str(s.get("Condition")) else "any principal"
        where = ", ".join(resources) if len(resources) <= 2 else f"{len(resources)} resources"
        parts.append(f"{s.get('Effect', '').lower()} {', '.join(actions)} on {where} ({who})")
    return "; ".join(parts)
