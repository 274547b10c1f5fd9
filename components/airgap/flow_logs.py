"""VpcFlowLogs: the VPC's traffic, recorded (Security Hub control EC2.6, "VPC flow logging should be enabled in all
VPCs"). Rejected flows are what an operator reads first when a session does not connect.

Delivered to an S3 bucket the stack owns, by the log-delivery service: flow log data "is collected outside of the
path of your network traffic" (Amazon VPC User Guide, "VPC Flow Logs"), so it needs no endpoint and nothing in the
S3 gateway's policy. The bucket policy is the one "Publish flow logs to Amazon S3" gives (delivery.logs.amazonaws.com,
with aws:SourceAccount and aws:SourceArn against the confused deputy), written by the stack before the flow log
exists, plus a TLS-only deny. Files expire after `retention_days`; S3 costs little at dev's volume.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Literal

import pulumi
import pulumi_aws as aws

from airgap.naming import ChildNames, PhysicalNames, check_component_name
from airgap.where import PARTITION, where


@dataclass(frozen=True)
class VpcFlowLogsArgs:
    vpc_id: pulumi.Input[str]
    # Physical names (the bucket's prefix) start with these; None: the running project and stack.
    names: PhysicalNames | None = None
    traffic: Literal["ALL", "REJECT", "ACCEPT"] = "ALL"
    retention_days: int = 14
    # Production keeps its records when the stack is destroyed; other stacks delete them with the bucket.
    keep_on_destroy: bool = False


def bucket_prefix(names: PhysicalNames, component: str) -> str:
    """`<prefix>-<component>-`, to which S3 adds a unique suffix (bucket names are global); at most 37 characters,
    and no '_'."""
    head = names.prefix.replace("_", "-")[: max(1, 35 - len(component))].rstrip("-")
    return f"{head}-{component}-"[:37]


def delivery_policy(bucket_arn: str, account: str, region: str) -> dict:
    """The bucket policy of "Publish flow logs to Amazon S3", and TLS only."""
    delivery = {"StringEquals": {"aws:SourceAccount": account},
                "ArnLike": {"aws:SourceArn": f"arn:{PARTITION}:logs:{region}:{account}:*"}}
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "AWSLogDeliveryWrite", "Effect": "Allow", "Principal": {"Service": "delivery.logs.amazonaws.com"},
             "Action": "s3:PutObject", "Resource": f"{bucket_arn}/AWSLogs/{account}/*",
             "Condition": {**delivery, "StringEquals": {**delivery["StringEquals"],
                                                        "s3:x-amz-acl": "bucket-owner-full-control"}}},
            {"Sid": "AWSLogDeliveryAclCheck", "Effect": "Allow",
             "Principal": {"Service": "delivery.logs.amazonaws.com"}, "Action": ["s3:GetBucketAcl", "s3:ListBucket"],
             "Resource": bucket_arn, "Condition": delivery},
            {"Sid": "DenyWithoutTls", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
             "Resource": [bucket_arn, f"{bucket_arn}/*"], "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
        ],
    }


class VpcFlowLogs(pulumi.ComponentResource):
    bucket: aws.s3.Bucket
    flow_log: aws.ec2.FlowLog

    def __init__(self, name: str, args: VpcFlowLogsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("airgap:network:VpcFlowLogs", check_component_name("VpcFlowLogs", name), None, opts)
        child = pulumi.ResourceOptions(parent=self)
        names = ChildNames(name, first_name="flow-logs")
        physical = args.names or PhysicalNames.of_this_stack()
        at = where(self)

        self.bucket = aws.s3.Bucket(
            names(),
            bucket_prefix=bucket_prefix(physical, name),
            force_destroy=not args.keep_on_destroy,
            tags={"Name": physical.name(name)},
            opts=pulumi.ResourceOptions(parent=self, retain_on_delete=args.keep_on_destroy),
        )
        bucket_id = self.bucket.id
        aws.s3.BucketPublicAccessBlock(names(), bucket=bucket_id, block_public_acls=True,
                                       block_public_policy=True, ignore_public_acls=True,
                                       restrict_public_buckets=True, opts=child)
        aws.s3.BucketOwnershipControls(names(), bucket=bucket_id, rule=aws.s3.BucketOwnershipControlsRuleArgs(
            object_ownership="BucketOwnerEnforced"), opts=child)
        aws.s3.BucketServerSideEncryptionConfiguration(
            names(), bucket=bucket_id,
            rules=[aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
                apply_server_side_encryption_by_default=aws.s3.
                BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                    sse_algorithm="AES256"))],
            opts=child)
        aws.s3.BucketLifecycleConfiguration(
            names(), bucket=bucket_id,
            rules=[aws.s3.BucketLifecycleConfigurationRuleArgs(
                id="expire-flow-logs", status="Enabled",
                filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix="AWSLogs/"),
                expiration=aws.s3.BucketLifecycleConfigurationRuleExpirationArgs(days=args.retention_days),
                abort_incomplete_multipart_upload=aws.s3.
                BucketLifecycleConfigurationRuleAbortIncompleteMultipartUploadArgs(days_after_initiation=1))],
            opts=child)
        policy = aws.s3.BucketPolicy(
            names(), bucket=bucket_id,
            policy=self.bucket.arn.apply(lambda arn: json.dumps(delivery_policy(arn, at.account, at.region))),
            opts=child)
        self.flow_log = aws.ec2.FlowLog(
            names(),
            vpc_id=args.vpc_id,
            traffic_type=args.traffic,
            log_destination_type="s3",
            log_destination=self.bucket.arn,
            # One minute: a refused connection shows up minutes sooner than with the default ten, when someone is
            # waiting for it; at dev's traffic the extra records cost cents.
            max_aggregation_interval=60,
            destination_options=aws.ec2.FlowLogDestinationOptionsArgs(
                file_format="plain-text", hive_compatible_partitions=False, per_hour_partition=False),
            tags={"Name": physical.name(name)},
            # The bucket policy (AWS's delivery statement as AWS writes it) is in place first, so AWS has nothing
            # to append or overwrite (CloudWatch Logs User Guide, "Logs sent to Amazon S3"); the live acceptance
            # test checks records arrive and DenyWithoutTls survives.
            opts=names.opts(self, was="vpc", depends_on=[policy]),
        )
        self.register_outputs({"bucket": self.bucket.id, "flowLogId": self.flow_log.id})
