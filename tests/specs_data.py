"""Specs for databases, keys, Kubernetes, IAM (roles, users, groups and IAM Identity Center permission sets), ECS task
definitions, EFS and logs."""

from __future__ import annotations

import json

from guard_spec import Spec, res, set_path

from guard.types import (  # isort: skip
    ATTACHMENT,
    EKS_CLUSTER,
    FILE_SYSTEM,
    FS_POLICY,
    IAM_POLICY,
    KMS_KEY,
    LOG_GROUP,
    RDS_CLUSTER,
    RDS_INSTANCE,
    ROLE,
    ROLE_POLICY,
    SERVICE,
    SSO_MANAGED_POLICY_ATTACHMENT,
    SSO_PERMISSION_SET_INLINE_POLICY,
    TASK,
)

RDS = ("Amazon RDS User Guide: storage_encrypted, deletion_protection, backup_retention_period (CreateDBInstance "
       "default 1 day), IAM database authentication (FSBP RDS.3, RDS.7, RDS.8, RDS.10, RDS.11, RDS.12)")
SERVERLESS = "Amazon Aurora User Guide, 'Using Amazon Aurora Serverless v1': v1 clusters are always encrypted"
KMS = ("AWS KMS Developer Guide, 'Key policies' and AWS Config kms-key-policy-no-public-access (FSBP KMS.5); "
       "'Rotate AWS KMS keys': automatic rotation only for symmetric encryption keys")
EKS = ("Amazon EKS User Guide, 'Cluster API server endpoint': public access is on by default, open to 0.0.0.0/0 "
       "unless public_access_cidrs narrows it (FSBP EKS.1)")
IAM = ("IAM User Guide, 'Security best practices in IAM' (least privilege), 'AWS managed policies', 'Versioning IAM "
       "policies', 'Grant a user permissions to pass a role'; Service Authorization Reference (resource types per "
       "action); IAM Identity Center User Guide, 'Permission sets' (inline and AWS managed policies)")
ECS = ("Amazon ECS Developer Guide, 'Task definition parameters': pidMode, readonlyRootFilesystem, "
       "efsVolumeConfiguration.transitEncryption (FSBP ECS.3, ECS.5); ECS Exec needs a writable root "
       "(aws-containers/amazon-ecs-exec-checker)")

GOOD_DB = {"engine": "postgres", "instanceClass": "db.t4g.micro", "allocatedStorage": 20, "storageEncrypted": True,
           "deletionProtection": True, "backupRetentionPeriod": 7, "iamDatabaseAuthenticationEnabled": True,
           "publiclyAccessible": False}
GOOD_CLUSTER = {"engine": "aurora-postgresql", "storageEncrypted": True, "deletionProtection": True,
                "iamDatabaseAuthenticationEnabled": True}
ACCOUNT_ROOT = {"AWS": "arn:aws:iam::123456789012:root"}
GOOD_KEY = {"enableKeyRotation": True, "policy": json.dumps({"Version": "2012-10-17", "Statement": [
    {"Sid": "Account", "Effect": "Allow", "Principal": ACCOUNT_ROOT, "Action": "kms:*", "Resource": "*"}]})}
GOOD_EKS = {"roleArn": "arn:aws:iam::123456789012:role/eks", "vpcConfig": {
    "subnetIds": ["subnet-1", "subnet-2"], "endpointPublicAccess": False, "endpointPrivateAccess": True}}
CONTAINER = {"name": "app", "image": "123456789012.dkr.ecr.ap-northeast-1.amazonaws.com/app:1", "essential": True,
             "readonlyRootFilesystem": True, "logConfiguration": {"logDriver": "awslogs", "options": {
                 "awslogs-group": "/app", "awslogs-region": "ap-northeast-1", "awslogs-stream-prefix": "app"}}}
GOOD_TASK = {"family": "app", "networkMode": "awsvpc", "containerDefinitions": json.dumps([CONTAINER]),
             "volumes": [{"name": "share", "efsVolumeConfiguration": {"fileSystemId": "fs-1",
                                                                      "transitEncryption": "ENABLED"}}]}


def db(path: str = "", value: object = None, type_: str = RDS_INSTANCE, base: dict = GOOD_DB) -> list:
    return [res(type_, "db", set_path(base, path, value) if path else base)]


def cluster(path: str = "", value: object = None) -> list:
    return db(path, value, RDS_CLUSTER, GOOD_CLUSTER)


def document(*statements: dict) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow(action: object, resource: object = "*", **extra: object) -> dict:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def task(path: str = "", value: object = None, container: dict | None = None) -> list:
    props = set_path(GOOD_TASK, path, value) if path else GOOD_TASK
    if container is not None:
        props = set_path(props, "containerDefinitions", json.dumps([container]))
    return [res(TASK, "app", props)]


def exec_service(container: dict) -> list:
    (t,) = task(container=container)
    return [t, res(SERVICE, "app", {"enableExecuteCommand": True, "desiredCount": 1}, taskDefinition=t)]


SPECS = [
    # --- RDS: Aurora Serverless v1 (bug), deletion protection, backups, IAM auth (gaps) --------------------------
    Spec("rds-encrypted", lambda: [res(RDS_CLUSTER, "v1", {"engine": "aurora-mysql", "engineMode": "serverless"})],
         None, SERVERLESS,
         id="serverless-v1-always-encrypted"),
    Spec("rds-encrypted", lambda: cluster("storageEncrypted", None), "storage_encrypted unset or false", RDS,
         id="provisioned-cluster-unset"),
    Spec("rds-deletion-protection", lambda: db(), None, RDS, id="protected"),
    Spec("rds-deletion-protection", lambda: db("deletionProtection", None), "deletion protection is off", RDS,
         id="instance-unset"),
    Spec("rds-deletion-protection", lambda: [res(RDS_INSTANCE, "member", set_path(
        set_path(GOOD_DB, "engine", "aurora-postgresql"), "deletionProtection", None))], None, RDS,
         id="aurora-member-judged-on-its-cluster"),
    Spec("rds-backups", lambda: db(), None, RDS, id="a-week"),
    Spec("rds-backups", lambda: db("backupRetentionPeriod", None),
         "automated backups are kept 1 day (backup_retention_period unset: RDS's default), less than 7", RDS,
         id="unset-is-one-day"),
    Spec("rds-backups", lambda: db("backupRetentionPeriod", 0), "automated backups are off", RDS, id="off"),
    Spec("rds-iam-authentication", lambda: cluster(), None, RDS, id="cluster-on"),
    Spec("rds-iam-authentication", lambda: db("iamDatabaseAuthenticationEnabled", None),
         "IAM database authentication is off for this postgres database", RDS, id="instance-off"),
    Spec("rds-iam-authentication", lambda: [res(RDS_INSTANCE, "oracle", set_path(
        set_path(GOOD_DB, "engine", "oracle-ee"), "iamDatabaseAuthenticationEnabled", None))], None, RDS,
         id="engine-without-iam-auth"),
    Spec("rds-not-public", lambda: db(), None, RDS, id="private"),
    Spec("rds-not-public", lambda: db("publiclyAccessible", True), "public endpoint", RDS, id="public"),
    # --- KMS (gap) ------------------------------------------------------------------------------------------------
    Spec("kms-key-not-public", lambda: [res(KMS_KEY, "key", GOOD_KEY)], None, KMS, id="account-only"),
    Spec("kms-key-not-public", lambda: [res(KMS_KEY, "key", {"policy": document(
        {"Sid": "Anyone", "Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "kms:Decrypt", "Resource": "*"})})],
        "statement 'Anyone' of the key policy allows every principal", KMS, id="wildcard-principal"),
    Spec("kms-key-not-public", lambda: [res(KMS_KEY, "key", {"policy": document(
        {"Effect": "Allow", "Principal": "*", "Action": "kms:Decrypt", "Resource": "*",
         "Condition": {"StringEquals": {"kms:CallerAccount": "123456789012"}}})})], None, KMS,
        id="wildcard-narrowed-by-caller-account"),
    Spec("kms-key-rotation", lambda: [res(KMS_KEY, "key", GOOD_KEY)], None, KMS, id="rotating"),
    Spec("kms-key-rotation", lambda: [res(KMS_KEY, "key", set_path(GOOD_KEY, "enableKeyRotation", None))],
         "automatic key rotation is off", KMS, id="symmetric-unset"),
    Spec("kms-key-rotation", lambda: [res(KMS_KEY, "signing", {"keyUsage": "SIGN_VERIFY",
                                                               "customerMasterKeySpec": "RSA_2048"})], None, KMS,
         id="asymmetric-cannot-rotate"),
    # --- EKS (gap) ------------------------------------------------------------------------------------------------
    Spec("eks-endpoint-private", lambda: [res(EKS_CLUSTER, "k8s", GOOD_EKS)], None, EKS, id="private"),
    Spec("eks-endpoint-private", lambda: [res(EKS_CLUSTER, "k8s", set_path(GOOD_EKS, "vpcConfig.endpointPublicAccess",
                                                                          None))],
         "reachable from 0.0.0.0/0 (public_access_cidrs unset: EKS's default)", EKS, id="default-is-public"),
    # --- IAM, Identity Center included (gaps) ---------------------------------------------------------------------
    Spec("iam-no-wildcard-actions", lambda: [res(SSO_PERMISSION_SET_INLINE_POLICY, "ops", {
        "inlinePolicy": document(allow("ssm:StartSession", "arn:aws:ec2:*:*:instance/*"))})], None, IAM,
        id="permission-set-listed"),
    Spec("iam-no-wildcard-actions", lambda: [res(SSO_PERMISSION_SET_INLINE_POLICY, "ops", {
        "inlinePolicy": document(allow("ssm:*"))})], "allows ssm:*", IAM, id="permission-set-wildcard"),
    Spec("iam-no-admin-managed-policies", lambda: [res(SSO_MANAGED_POLICY_ATTACHMENT, "ops", {
        "managedPolicyArn": "arn:aws:iam::aws:policy/ReadOnlyAccess"})], None, IAM, id="permission-set-read-only"),
    Spec("iam-no-admin-managed-policies", lambda: [res(SSO_MANAGED_POLICY_ATTACHMENT, "ops", {
        "managedPolicyArn": "arn:aws:iam::aws:policy/AdministratorAccess"})], "it attaches AdministratorAccess", IAM,
        id="permission-set-admin"),
    Spec("iam-no-full-access-managed-policies", lambda: [res(ATTACHMENT, "s3", {
        "role": "app", "policyArn": "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"})], None, IAM,
        id="read-only"),
    Spec("iam-no-full-access-managed-policies", lambda: [res(ATTACHMENT, "s3", {
        "role": "app", "policyArn": "arn:aws:iam::aws:policy/AmazonS3FullAccess"})],
        "every action on every S3 resource", IAM, id="s3-full-access"),
    Spec("iam-no-wildcard-resource", lambda: [res(IAM_POLICY, "reader", {"policy": document(
        allow("ecr:GetAuthorizationToken"), allow("s3:GetObject", "arn:aws:s3:::app-data/*"))})], None, IAM,
        id="star-only-where-aws-has-no-resource"),
    Spec("iam-no-wildcard-resource", lambda: [res(IAM_POLICY, "reader", {"policy": document(
        allow(["s3:GetObject", "kms:Decrypt"], Sid="Read"))})],
        "statement 'Read' allows s3:GetObject, kms:Decrypt on every resource", IAM, id="restrictable-on-star"),
    Spec("iam-no-privilege-escalation", lambda: [res(ROLE_POLICY, "admin-helper", {"role": "ops", "policy": document(
        allow("iam:AttachRolePolicy", "arn:aws:iam::123456789012:role/app"))})], None, IAM, id="scoped-to-one-role"),
    Spec("iam-no-privilege-escalation", lambda: [res(ROLE_POLICY, "admin-helper", {"role": "ops", "policy": document(
        allow(["iam:CreatePolicyVersion", "iam:SetDefaultPolicyVersion"]))})],
        "can grant itself (or a principal it controls) any permission", IAM, id="policy-versions-on-star"),
    Spec("iam-no-passrole-on-wildcard", lambda: [res(ROLE_POLICY, "launcher", {"role": "ci", "policy": document(
        allow("iam:PassRole", "arn:aws:iam::123456789012:role/app"))})], None, IAM, id="one-role"),
    Spec("iam-no-passrole-on-wildcard", lambda: [res(ROLE_POLICY, "launcher", {"role": "ci", "policy": document(
        allow(["iam:PassRole", "ec2:RunInstances"]))})], "it may call ec2:RunInstances, so it can run code as any role",
        IAM, id="with-run-instances"),
    Spec("iam-no-admin-managed-policies", lambda: [res(ROLE, "app", {"assumeRolePolicy": document(),
                                                                     "managedPolicyArns": []})], None, IAM,
         id="role-without-managed-policies"),
    # --- ECS task definitions (gaps) -------------------------------------------------------------------------------
    Spec("ecs-no-host-pid", lambda: task(), None, ECS, id="own-namespace"),
    Spec("ecs-no-host-pid", lambda: task("pidMode", "host"), "share the host's process namespace", ECS, id="host"),
    Spec("ecs-efs-in-transit", lambda: task(), None, ECS, id="tls"),
    Spec("ecs-efs-in-transit", lambda: task("volumes.0.efsVolumeConfiguration.transitEncryption", "DISABLED"),
         "EFS volume 'share' is mounted without TLS", ECS, id="plain-nfs"),
    Spec("ecs-read-only-root", lambda: task(), None, ECS, id="read-only"),
    Spec("ecs-read-only-root", lambda: task(container={**CONTAINER, "readonlyRootFilesystem": False}),
         "container 'app' can write to its root filesystem", ECS, id="writable"),
    Spec("ecs-read-only-root", lambda: exec_service({**CONTAINER, "readonlyRootFilesystem": False}), None, ECS,
         id="ecs-exec-target-needs-a-writable-root"),
    # --- EFS and logs ------------------------------------------------------------------------------------------
    Spec("efs-encrypted", lambda: [res(FILE_SYSTEM, "share", {"encrypted": True})], None, "FSBP EFS.1", id="on"),
    Spec("efs-encrypted", lambda: [res(FILE_SYSTEM, "share", {})], "not encrypted at rest", "FSBP EFS.1", id="unset"),
    Spec("efs-policy-enforces-tls", lambda: [res(FS_POLICY, "share", {"fileSystemId": "fs-1", "policy": document(
        {"Effect": "Deny", "Principal": {"AWS": "*"}, "Action": "*", "Resource": "*",
         "Condition": {"Bool": {"aws:SecureTransport": "false"}}})})], None,
        "Amazon EFS User Guide, 'Encrypting data in transit'", id="denies-plain"),
    Spec("efs-policy-enforces-tls", lambda: [res(FS_POLICY, "share", {"fileSystemId": "fs-1", "policy": document(
        allow("elasticfilesystem:ClientMount", Principal={"AWS": "*"}))})], "does not deny access without TLS",
        "Amazon EFS User Guide, 'Encrypting data in transit'", id="allows-plain"),
    Spec("log-group-retention", lambda: [res(LOG_GROUP, "app", {"retentionInDays": 30})], None,
         "CloudWatch Logs User Guide, 'Change log data retention'", id="expires"),
    Spec("log-group-retention", lambda: [res(LOG_GROUP, "app", {})], "never expires",
         "CloudWatch Logs User Guide, 'Change log data retention'", id="never"),
    Spec("ecs-no-privileged-containers", lambda: task(), None, ECS, id="unprivileged"),
    Spec("ecs-no-privileged-containers", lambda: task(container={**CONTAINER, "privileged": True}),
         "container 'app' is privileged", ECS, id="privileged"),
    Spec("ecs-container-logging", lambda: task(), None, ECS, id="awslogs"),
    Spec("ecs-container-logging", lambda: task(container={k: v for k, v in CONTAINER.items()
                                                          if k != "logConfiguration"}),
         "sends its logs nowhere", ECS, id="none"),
    Spec("ecs-no-public-ip", lambda: [res(SERVICE, "app", {"networkConfiguration": {"assignPublicIp": False}})],
         None, ECS, id="private"),
    Spec("ecs-no-public-ip", lambda: [res(SERVICE, "app", {"networkConfiguration": {"assignPublicIp": True}})],
         "tasks get public IPs", ECS, id="public"),
]
