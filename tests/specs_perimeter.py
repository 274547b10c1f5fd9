"""Specs for how a database is reached and who holds its password, and for Session Manager as the perimeter: shell
documents and the IAM that hands out sessions."""

from __future__ import annotations

import json

from guard_spec import Spec, res

from guard.types import EGRESS, IAM_POLICY, INGRESS, RDS_CLUSTER, SG, SSM_DOCUMENT  # isort: skip

REACH = ("Amazon RDS User Guide, 'Controlling access with security groups'; Amazon VPC User Guide, 'Security group "
         "rules' (a connection needs egress on the source and ingress on the target)")
PASSWORD = "Amazon Aurora User Guide, 'Password management with Amazon Aurora and AWS Secrets Manager'"
SESSIONS = ("AWS Systems Manager User Guide, 'Session document schema' (kmsKeyId, cloudWatchLogGroupName, "
            "cloudWatchEncryptionEnabled) and 'Logging session data'")
IAM = ("AWS Systems Manager User Guide, 'Sample IAM policies for Session Manager' and 'Enforce a session document "
       "permission check'; Amazon ECS Developer Guide, ECS Exec IAM ('ecs:container-name')")


def database(*, client_egress: bool = True, ingress: dict | None = None) -> list:
    """An Aurora PostgreSQL cluster whose group admits 5432 from an app's group, by reference."""
    db_group = res(SG, "database", {"description": "database", "vpcId": "vpc-1"})
    app = res(SG, "app", {"description": "app", "vpcId": "vpc-1"})
    rule = ingress or {"ipProtocol": "tcp", "fromPort": 5432, "toPort": 5432, "referencedSecurityGroupId": "a"}
    feeds = {"referencedSecurityGroupId": app} if "referencedSecurityGroupId" in rule else {}
    found = [db_group, app,
             res(RDS_CLUSTER, "database", {"engine": "aurora-postgresql", "vpcSecurityGroupIds": ["d"]},
                 vpcSecurityGroupIds=db_group),
             res(INGRESS, "database-from-app", {"securityGroupId": "d", **rule}, securityGroupId=db_group, **feeds)]
    if client_egress:
        found.append(res(EGRESS, "app-to-database", {"securityGroupId": "a", "ipProtocol": "tcp", "fromPort": 5432,
                                                      "toPort": 5432, "referencedSecurityGroupId": "d"},
                         securityGroupId=app, referencedSecurityGroupId=db_group))
    return found


def shell(**inputs: object) -> list:
    good = {"kmsKeyId": "arn:aws:kms:ap-northeast-1:123456789012:alias/ops-sessions", "cloudWatchLogGroupName":
            "/ops/sessions", "cloudWatchEncryptionEnabled": True, "runAsEnabled": True, "runAsDefaultUser": "ops"}
    content = {"schemaVersion": "1.0", "sessionType": "Standard_Stream", "inputs": {**good, **inputs}}
    return [res(SSM_DOCUMENT, "shell", {"name": "ops-shell", "documentType": "Session", "documentFormat": "JSON",
                                        "content": json.dumps(content)})]


def operators(*statements: dict) -> list:
    return [res(IAM_POLICY, "operators", {"policy": json.dumps({"Version": "2012-10-17",
                                                                 "Statement": list(statements)})})]


SCOPED = {"Effect": "Allow", "Action": "ssm:StartSession",
          "Resource": "arn:aws:ec2:ap-northeast-1:123456789012:instance/*",
          "Condition": {"StringEquals": {"ssm:resourceTag/team": "ops"}}}

SPECS = [
    Spec("database-reachability", lambda: database(), None, REACH, id="both-halves-by-reference"),
    Spec("database-reachability", lambda: database(client_egress=False),
         "admitted on 5432 by Cluster 'database''s group, but has no 5432 egress", REACH, id="no-egress-half"),
    Spec("database-reachability", lambda: database(ingress={"ipProtocol": "tcp", "fromPort": 5432, "toPort": 5432,
                                                            "cidrIpv4": "10.0.0.0/16"}),
         "admits 10.0.0.0/16", REACH, id="by-cidr"),
    Spec("rds-managed-master-password", lambda: [res(RDS_CLUSTER, "db", {"engine": "aurora-postgresql",
                                                                        "manageMasterUserPassword": True})],
         None, PASSWORD, id="managed"),
    Spec("rds-managed-master-password", lambda: [res(RDS_CLUSTER, "db", {"engine": "aurora-postgresql",
                                                                        "masterPassword": "hunter2"})],
         "sets its master password in the program", PASSWORD, id="in-the-program"),
    Spec("session-document-secure", lambda: shell(), None, SESSIONS, id="encrypted-and-logged"),
    Spec("session-document-secure", lambda: shell(kmsKeyId=""), "not encrypted with a KMS key of yours", SESSIONS,
         id="no-key"),
    Spec("session-document-secure", lambda: shell(cloudWatchLogGroupName="", s3BucketName=""),
         "shell sessions are not logged", SESSIONS, id="not-logged"),
    Spec("session-document-secure", lambda: shell(cloudWatchEncryptionEnabled=False),
         "not required to be encrypted", SESSIONS, id="logged-unencrypted"),
    Spec("iam-sessions-scoped", lambda: operators(SCOPED), None, IAM, id="by-tag"),
    Spec("iam-sessions-scoped", lambda: operators({**SCOPED, "Resource": "*", "Condition": {
        "StringEquals": {"ssm:resourceTag/team": "ops"}}}), None, IAM, id="everywhere-but-conditioned"),
    Spec("iam-sessions-scoped", lambda: operators({"Effect": "Allow", "Action": "ssm:*", "Resource": "*"}),
         "allows ssm:StartSession on every resource with no condition", IAM, id="ssm-star"),
    Spec("iam-sessions-scoped", lambda: operators({"Effect": "Allow", "Action": "ecs:ExecuteCommand",
                                                   "Resource": "*"}),
         "ecs:ExecuteCommand on every resource", IAM, id="exec-everywhere"),
    Spec("iam-sessions-scoped", lambda: operators({"Effect": "Allow", "Action": "ssm:SendCommand", "Resource": "*",
                                                   "Condition": {"StringEquals": {"aws:RequestedRegion": "x"}}}),
         "ssm:SendCommand on every resource", IAM, id="send-command-everywhere"),
]
