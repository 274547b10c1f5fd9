"""Bad variants of the shipped dev stack, one or more per policy, and the configs a user would ship: shared by the
policy tests (each variant must fire its policy) and the verdict test (every finding equal to the recorded ones)."""

from __future__ import annotations

import json
from collections.abc import Callable

import mutate

from offline.harness import Capture

from guard.types import (  # isort: skip
    DEFAULT_SG,
    EGRESS,
    ENDPOINT,
    INGRESS,
    INSTANCE,
    ROLE,
    ROLE_POLICY,
    SERVICE,
    SG,
    SUBNET,
    TASK,
)
from guard.types import ROUTE_TABLE as TABLE  # isort: skip

SHIPPED_CONFIGS = [{}, {"bastion": "off", "database": False}, {"bastion": "on"}, {"execKms": True},
                   {"endpointPlacement": "every-az"},
                   {"includeEc2Messages": True}, {"production": True}, {"bastionForwardPorts": []},
                   {"bastionImage": "123456789012.dkr.ecr.ap-northeast-1.amazonaws.com/tools:1"}]


def container(cap: Capture, **changes: object) -> Capture:
    task = cap.named(TASK, "bastion")
    (c,) = json.loads(task.inputs["containerDefinitions"])
    for key, value in changes.items():
        if value is None:
            c.pop(key, None)
        else:
            c[key] = value
    return mutate.set_prop(cap, TASK, "bastion", "containerDefinitions", json.dumps([c]))


def add_rule(cap: Capture, kind: str, name: str, on: str, **inputs: object) -> Capture:
    group = cap.named(SG, on)
    return mutate.add(cap, kind, name, {"securityGroupId": "sg-x", **inputs}, {"securityGroupId": [group]})


UNENCRYPTED_SHELLS = {"schemaVersion": "1.0", "sessionType": "Standard_Stream", "inputs": {
    "cloudWatchLogGroupName": "/airgap-dev/sessions", "cloudWatchEncryptionEnabled": True, "kmsKeyId": ""}}
EVERY_SHELL = {"Version": "2012-10-17", "Statement": [
    {"Sid": "Wide", "Effect": "Allow", "Action": "ssm:StartSession", "Resource": "*"}]}

VARIANTS: list[tuple[str, Callable[[Capture], Capture], tuple[str, ...]]] = [
    ("session-document-secure", lambda c: mutate.set_prop(c, "aws:ssm/document:Document", "sessions", "content",
                                                          json.dumps(UNENCRYPTED_SHELLS)),
     ("Document 'sessions'", "not encrypted with a KMS key of yours")),
    ("iam-sessions-scoped", lambda c: mutate.set_prop(c, "aws:iam/policy:Policy", "operators", "policy",
                                                      json.dumps(EVERY_SHELL)),
     ("Policy 'operators'", "allows ssm:StartSession on every resource")),
    ("endpoint-budget", lambda c: mutate.set_prop(c, ENDPOINT, "endpoints-ssm", "subnetIds", ["a", "b", "c", "d"]),
     ("over the $75 budget",)),
    ("database-reachability", lambda c: mutate.remove(c, INGRESS, "database-allows-tcp5432-from-bastion"),
     ("SecurityGroup 'bastion': may send 5432 to Cluster 'database'",)),
    ("rds-managed-master-password", lambda c: mutate.set_prop(mutate.set_prop(
        c, "aws:rds/cluster:Cluster", "database", "manageMasterUserPassword", None),
        "aws:rds/cluster:Cluster", "database", "masterPassword", "in-the-program"),
     ("Cluster 'database': sets its master password in the program",)),
    ("no-internet-gateway", lambda c: mutate.add(c, "aws:ec2/internetGateway:InternetGateway", "igw", {}),
     ("opens a path to the internet",)),
    ("no-default-route", lambda c: mutate.add(c, "aws:ec2/route:Route", "to-nat", {
        "destinationCidrBlock": "0.0.0.0/0", "natGatewayId": "nat-1"},
        {"routeTableId": [c.named(TABLE, "network-isolated-ap-northeast-1a")]}), ("a default route (0.0.0.0/0)",)),
    ("no-default-route", lambda c: mutate.set_prop(c, TABLE, "network-isolated-ap-northeast-1c", "routes",
                                                   [{"ipv6CidrBlock": "::/0", "gatewayId": "igw-1"}]),
     ("inline default route (::/0)",)),
    ("subnet-no-public-ip", lambda c: mutate.set_prop(c, SUBNET, "network-isolated-ap-northeast-1a",
                                                      "mapPublicIpOnLaunch", True),
     ("Subnet 'network-isolated-ap-northeast-1a'",)),
    ("efs-mount-targets-isolated", lambda c: mutate.set_prop(c, SUBNET, "network-isolated-ap-northeast-1c",
                                                             "mapPublicIpOnLaunch", True), ("maps public IPs",)),
    ("efs-mount-targets-isolated", lambda c: mutate.add(c, "aws:ec2/route:Route", "default", {
        "destinationCidrBlock": "0.0.0.0/0"}, {"routeTableId": [c.named(TABLE, "network-isolated-ap-northeast-1a")]}),
     ("has a default route",)),
    ("vpc-dns-enabled", lambda c: mutate.set_prop(c, "aws:ec2/vpc:Vpc", "network", "enableDnsHostnames", False),
     ("enable_dns_hostnames=True",)),
    ("default-security-group-empty", lambda c: mutate.set_prop(
        c, "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup", "network-default-group", "ingress",
        [{"protocol": "-1", "fromPort": 0, "toPort": 0, "self": True}]), ("keeps ingress rules",)),
    ("default-security-group-empty", lambda c: mutate.add(c, INGRESS, "into-default", {
        "securityGroupId": "sg-d", "ipProtocol": "tcp", "fromPort": 443, "toPort": 443,
        "referencedSecurityGroupId": "sg-h"}, {"securityGroupId": [c.named(DEFAULT_SG, "network-default-group")]}),
     ("SecurityGroupIngressRule 'into-default': adds a rule to DefaultSecurityGroup 'network-default-group'",)),
    ("default-security-group-managed", lambda c: mutate.remove(
        c, "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup", "network-default-group"),
     ("aws.ec2.DefaultSecurityGroup",)),
    ("security-group-description", lambda c: mutate.set_prop(c, SG, "bastion", "description", "Managed by Pulumi"),
     ("SecurityGroup 'bastion'",)),
    ("no-ingress-from-anywhere", lambda c: add_rule(c, INGRESS, "open", "endpoints", ipProtocol="tcp",
                                                    fromPort=443, toPort=443, cidrIpv4="0.0.0.0/0"),
     ("whole internet",)),
    ("endpoint-group-ingress-by-reference", lambda c: add_rule(c, INGRESS, "vpc-wide", "endpoints",
                                                               ipProtocol="tcp", fromPort=443, toPort=443,
                                                               cidrIpv4="10.40.0.0/16"), ("from 10.40.0.0/16",)),
    ("ingress-by-group-reference", lambda c: add_rule(c, INGRESS, "by-cidr", "ssm-host", ipProtocol="tcp",
                                                      fromPort=8080, toPort=8080, cidrIpv4="10.40.0.0/16"),
     ("whatever runs there", "referenced_security_group_id")),
    ("no-admin-port-ingress", lambda c: add_rule(c, INGRESS, "ssh", "ssm-host", ipProtocol="tcp", fromPort=20,
                                                 toPort=25, referencedSecurityGroupId="sg-b"), ("port 22",)),
    ("no-all-protocol-rules", lambda c: add_rule(c, EGRESS, "everything", "bastion", ipProtocol="-1",
                                                 referencedSecurityGroupId="sg-h"), ("all-protocol egress",)),
    ("no-open-egress", lambda c: add_rule(c, EGRESS, "anywhere", "ssm-host", ipProtocol="tcp", fromPort=443,
                                          toPort=443, cidrIpv4="0.0.0.0/0"), ("egress to 0.0.0.0/0",)),
    ("interface-endpoint-private-dns", lambda c: mutate.set_prop(c, ENDPOINT, "endpoints-ssm", "privateDnsEnabled",
                                                                 False),
     ("private DNS is off",)),
    ("interface-endpoint-private-dns", lambda c: mutate.set_prop(c, ENDPOINT, "endpoints-logs", "securityGroupIds", []),
     ("no security group",)),
    ("endpoint-in-stack-region", lambda c: mutate.set_prop(c, ENDPOINT, "endpoints-ssm", "serviceName",
                                                           "com.amazonaws.us-east-1.ssm"),
     ("com.amazonaws.ap-northeast-1.<service>",)),
    ("s3-gateway-endpoint", lambda c: mutate.set_prop(c, ENDPOINT, "endpoints-s3", "vpcEndpointType", "Interface"),
     ("Gateway",)),
    ("endpoint-policy-restricts", lambda c: mutate.set_prop(c, ENDPOINT, "endpoints-s3", "policy", None),
     ("VpcEndpoint 'endpoints-s3' (com.amazonaws.ap-northeast-1.s3): no endpoint policy",
      "every bucket of every account")),
    ("endpoint-policy-restricts", lambda c: mutate.set_prop(c, ENDPOINT, "endpoints-ecr-dkr", "policy", json.dumps(
        {"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}]})),
     ("allows every resource to every principal", "every account's registry", "aws:PrincipalAccount")),
    ("endpoint-policy-restricts", lambda c: mutate.set_prop(c, ENDPOINT, "endpoints-s3", "policy", json.dumps(
        {"Statement": [{"Sid": "Wide", "Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "s3:GetObject",
                        "Resource": "arn:aws:s3:::*/*"}]})), ("statement 'Wide'", "every bucket of every account")),
    ("vpc-flow-logs", lambda c: mutate.remove(c, "aws:ec2/flowLog:FlowLog", "flow-logs"),
     ("Vpc 'network': the VPC records no flow logs", "traffic_type REJECT or ALL")),
    ("vpc-flow-logs", lambda c: mutate.set_prop(c, "aws:ec2/flowLog:FlowLog", "flow-logs", "trafficType", "ACCEPT"),
     ("only accepted traffic",)),
    ("ec2-no-public-ip", lambda c: mutate.set_prop(c, INSTANCE, "ssm-host", "associatePublicIpAddress", True),
     ("public IP",)),
    ("ec2-imdsv2", lambda c: mutate.set_prop(c, INSTANCE, "ssm-host", "metadataOptions.httpTokens", "optional"),
     ("IMDSv1",)),
    ("ec2-encrypted-root", lambda c: mutate.set_prop(c, INSTANCE, "ssm-host", "rootBlockDevice.encrypted", False),
     ("root volume is not encrypted",)),
    ("ec2-no-key-pair", lambda c: mutate.set_prop(c, INSTANCE, "ssm-host", "keyName", "ops"), ("remove key_name",)),
    ("ec2-ssm-managed", lambda c: mutate.remove(c, "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
                                                "ssm-host-core"), ("AmazonSSMManagedInstanceCore",)),
    ("ecs-no-public-ip", lambda c: mutate.set_prop(c, SERVICE, "bastion", "networkConfiguration.assignPublicIp",
                                                   True), ("public IPs",)),
    ("ecs-exec-enabled", lambda c: mutate.set_prop(c, SERVICE, "bastion", "enableExecuteCommand", False),
     ("TargetNotConnected",)),
    ("ecs-no-privileged-containers", lambda c: container(c, privileged=True), ("is privileged",)),
    ("ecs-container-logging", lambda c: container(c, logConfiguration=None), ("sends its logs nowhere",)),
    ("ecs-container-logging", lambda c: container(c, logConfiguration={"logDriver": "awslogs", "options": {
        "awslogs-group": "/x", "awslogs-create-group": "true"}}), ("never expires",)),
    ("ecs-exec-init-process", lambda c: container(c, linuxParameters=None), ("init process",)),
    ("ecs-task-roles-distinct", lambda c: mutate.redirect(c, TASK, "bastion", "taskRoleArn",
                                                          c.named(ROLE, "bastion-execution")), ("two roles",)),
    ("ecs-task-roles-distinct", lambda c: mutate.remove(mutate.set_prop(c, TASK, "bastion", "taskRoleArn", None),
                                                        ROLE, "bastion-task"), ("no task role",)),
    ("efs-encrypted", lambda c: mutate.set_prop(c, "aws:efs/fileSystem:FileSystem", "file-share", "encrypted",
                                                False), ("encrypted=True",)),
    ("efs-has-tls-policy", lambda c: mutate.remove(c, "aws:efs/fileSystemPolicy:FileSystemPolicy", "file-share"),
     ("grant_mount",)),
    ("log-group-retention", lambda c: mutate.set_prop(c, "aws:cloudwatch/logGroup:LogGroup", "bastion-exec",
                                                      "retentionInDays", None), ("never expires",)),
    ("iam-no-wildcard-actions", lambda c: mutate.set_prop(c, ROLE_POLICY, "bastion-task", "policy", json.dumps({
        "Version": "2012-10-17", "Statement": [{"Sid": "Lazy", "Effect": "Allow", "Action": "ssm:*",
                                                "Resource": "*"}]})), ("allows ssm:*",)),
    ("iam-no-passrole-on-wildcard", lambda c: mutate.set_prop(c, ROLE_POLICY, "bastion-task", "policy", json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["ssm:CreateActivation",
                                                                            "ssm:DeleteActivation", "iam:PassRole"],
                                                "Resource": "*"}]})), ("any role, admin included",)),
    ("endpoint-reachability", lambda c: mutate.remove(c, EGRESS, "ssm-host-sends-tcp443-to-endpoints"),
     ("Instance 'ssm-host': cannot send 443", "calls to AWS time out")),
    ("endpoint-reachability", lambda c: mutate.remove(c, INGRESS, "endpoints-allows-tcp443-from-bastion"),
     ("SecurityGroup 'endpoints': the endpoint group does not admit 443 from Service 'bastion'",
      "never registers")),
    ("endpoint-reachability", lambda c: mutate.remove(c, EGRESS, "bastion-sends-tcp443-to-s3-prefix-list"),
     ("cannot reach S3",)),
    ("efs-reachability", lambda c: mutate.remove(c, INGRESS, "file-share-allows-tcp2049-from-ssm-host"),
     ("does not admit 2049 from SecurityGroup 'ssm-host'",)),
    ("efs-reachability", lambda c: mutate.remove(mutate.remove(c, INGRESS, "file-share-allows-tcp2049-from-ssm-host"),
                                                 EGRESS, "ssm-host-sends-tcp2049-to-file-share"),
     ("Instance 'ssm-host': may mount", "does not admit 2049 from Instance 'ssm-host'")),
]
