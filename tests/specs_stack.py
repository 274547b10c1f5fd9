"""Specs for the policies that judge a VPC and what runs in it: a small private network with one SSM-managed host,
changed once per case, and a few single resources."""

from __future__ import annotations

import json

from guard_spec import Spec, res

from guard.types import (  # isort: skip
    ASSOCIATION,
    ATTACHMENT,
    EGRESS,
    ENDPOINT,
    FILE_SYSTEM,
    FLOW_LOG,
    INGRESS,
    INSTANCE,
    LB_LOAD_BALANCER,
    MOUNT_TARGET,
    PROFILE,
    ROLE,
    ROLE_POLICY,
    ROUTE,
    ROUTE_TABLE,
    SERVICE,
    SG,
    SUBNET,
    TASK,
    VPC,
)

SSM = ("AWS Systems Manager User Guide, 'Configure instance permissions required for Systems Manager' (an instance "
       "profile with AmazonSSMManagedInstanceCore, or Default Host Management Configuration; FSBP SSM.1)")
ENDPOINTS = ("AWS PrivateLink Guide, 'Access an AWS service using an interface VPC endpoint' (private DNS, security "
             "groups admitting 443 from the clients); Systems Manager User Guide, 'Improve the security of EC2 "
             "instances by using VPC endpoints for Systems Manager'")
VPC_DOCS = "Amazon VPC User Guide, 'DNS attributes for your VPC', 'Logging IP traffic using VPC Flow Logs' (FSBP EC2.6)"
EFS = "Amazon EFS User Guide, 'Managing mount targets' and 'Using VPC security groups' (2049 both ways)"
ECS = ("Amazon ECS Developer Guide, 'Monitor Amazon ECS containers with ECS Exec' (enableExecuteCommand, "
       "initProcessEnabled) and 'Task IAM role'")
PRIVATE = {"privateOnly": True}


def private_host(*, without: tuple[str, ...] = (), key: bool = False, ssh: bool = False,
                 dns: bool = True) -> list:
    """A VPC with an isolated subnet, ssm and ssmmessages endpoints behind their own group, and an SSM-managed host
    whose group and the endpoints' admit each other on 443. `without` drops resources by name."""
    vpc = res(VPC, "vpc", {"cidrBlock": "10.0.0.0/16", "enableDnsSupport": True, "enableDnsHostnames": dns})
    subnet = res(SUBNET, "private", {"cidrBlock": "10.0.0.0/24", "availabilityZone": "ap-northeast-1a"}, vpcId=vpc)
    table = res(ROUTE_TABLE, "private", {"vpcId": "vpc-1"}, vpcId=vpc)
    assoc = res(ASSOCIATION, "private", {"subnetId": "s", "routeTableId": "r"}, subnetId=subnet, routeTableId=table)
    endpoints = res(SG, "endpoints", {"description": "endpoints", "vpcId": "vpc-1"}, vpcId=vpc)
    host_group = res(SG, "host", {"description": "host", "vpcId": "vpc-1"}, vpcId=vpc)
    found = [vpc, subnet, table, assoc, endpoints, host_group,
             res(EGRESS, "host-out", {"securityGroupId": "h", "ipProtocol": "tcp", "fromPort": 443, "toPort": 443,
                                      "referencedSecurityGroupId": "e"},
                 securityGroupId=host_group, referencedSecurityGroupId=endpoints),
             res(INGRESS, "endpoints-in", {"securityGroupId": "e", "ipProtocol": "tcp", "fromPort": 443,
                                           "toPort": 443, "referencedSecurityGroupId": "h"},
                 securityGroupId=endpoints, referencedSecurityGroupId=host_group),
             res(FLOW_LOG, "flow", {"trafficType": "REJECT"}, vpcId=vpc)]
    found += [res(ENDPOINT, service, {"serviceName": f"com.amazonaws.ap-northeast-1.{service}", "vpcId": "vpc-1",
                                      "vpcEndpointType": "Interface", "privateDnsEnabled": True,
                                      "subnetIds": ["s"], "securityGroupIds": ["e"]},
                  vpcId=vpc, subnetIds=subnet, securityGroupIds=endpoints) for service in ("ssm", "ssmmessages")]
    role = res(ROLE, "host", {"assumeRolePolicy": "{}"})
    profile = res(PROFILE, "host", {"role": "host"}, role=role)
    core = "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"
    found += [role, profile, res(ATTACHMENT, "core", {"role": "host", "policyArn": core}, role=role)]
    if ssh:
        found.append(res(INGRESS, "ssh", {"securityGroupId": "h", "ipProtocol": "tcp", "fromPort": 22, "toPort": 22,
                                          "cidrIpv4": "10.0.0.0/16"}, securityGroupId=host_group))
    found.append(res(INSTANCE, "host", {"ami": "ami-1", "iamInstanceProfile": "host", **({"keyName": "ops"} if key
                                                                                         else {})},
                     subnetId=subnet, vpcSecurityGroupIds=host_group, iamInstanceProfile=profile))
    return [r for r in found if r.name not in without and f"{r.type}:{r.name}" not in without]


def share(*, both_sides: bool = True) -> list:
    found = private_host()
    subnet, host = next(r for r in found if r.type == SUBNET), next(r for r in found if r.name == "host" and
                                                                   r.type == SG)
    group = res(SG, "share", {"description": "share", "vpcId": "vpc-1"})
    fs = res(FILE_SYSTEM, "share", {"encrypted": True})
    found += [group, fs, res(MOUNT_TARGET, "share-a", {"fileSystemId": "fs", "subnetId": "s", "securityGroups": ["g"]},
                             fileSystemId=fs, subnetId=subnet, securityGroups=group),
              res(EGRESS, "host-nfs", {"securityGroupId": "h", "ipProtocol": "tcp", "fromPort": 2049, "toPort": 2049,
                                       "referencedSecurityGroupId": "g"},
                  securityGroupId=host, referencedSecurityGroupId=group)]
    if both_sides:
        found.append(res(INGRESS, "share-nfs", {"securityGroupId": "g", "ipProtocol": "tcp", "fromPort": 2049,
                                                "toPort": 2049, "referencedSecurityGroupId": "h"},
                         securityGroupId=group, referencedSecurityGroupId=host))
    return found


def service(exec_on: bool, init: bool = True) -> list:
    role = res(ROLE, "task", {"assumeRolePolicy": "{}"})
    execution = res(ROLE, "execution", {"assumeRolePolicy": "{}"})
    container = {"name": "tools", "image": "public.ecr.aws/amazonlinux/amazonlinux:2023", "essential": True,
                 "linuxParameters": {"initProcessEnabled": init},
                 "logConfiguration": {"logDriver": "awslogs", "options": {"awslogs-group": "/tools"}}}
    task = res(TASK, "tools", {"containerDefinitions": json.dumps([container]), "taskRoleArn": "t",
                               "executionRoleArn": "e"}, taskRoleArn=role, executionRoleArn=execution)
    return [role, execution, task, res(SERVICE, "tools", {"enableExecuteCommand": exec_on, "desiredCount": 1},
                                       taskDefinition=task)]


def cycle() -> list:
    """Two groups whose inline rules name each other (what CDK's lazy tokens could write)."""
    a = res(SG, "a", {"description": "a", "egress": [{"protocol": "tcp", "fromPort": 2049, "toPort": 2049}]})
    b = res(SG, "b", {"description": "b", "ingress": [{"protocol": "tcp", "fromPort": 2049, "toPort": 2049}]},
            ingress=a)
    a.property_dependencies["egress"] = [b.urn]
    return [a, b]


SPECS = [
    # --- ec2-ssm-managed: "nothing else can reach it" only when nothing else can (misleading) ----------------------
    Spec("ec2-ssm-managed", lambda: private_host(), None, SSM, id="core-through-profile"),
    Spec("ec2-ssm-managed", lambda: private_host(without=("core",)),
         "unless the account's Default Host Management Configuration does — and it has no other way in", SSM,
         id="unmanaged-and-alone"),
    Spec("ec2-ssm-managed", lambda: [r for r in private_host(without=("core",), key=True, ssh=True)],
         "Session Manager cannot reach it, unless the account's Default Host Management Configuration does. Fix", SSM,
         id="unmanaged-but-reached-by-ssh"),
    # --- endpoints the host needs, and both halves of 443 -------------------------------------------------------
    Spec("required-endpoints", lambda: private_host(), None, ENDPOINTS, id="ssm-and-ssmmessages"),
    Spec("required-endpoints", lambda: private_host(without=("ssmmessages",)),
         "needs ssmmessages for Session Manager sessions, but there is no endpoint in its VPC", ENDPOINTS,
         id="no-ssmmessages"),
    Spec("endpoint-reachability", lambda: private_host(), None, ENDPOINTS, id="both-halves"),
    Spec("endpoint-reachability", lambda: private_host(without=("endpoints-in",)),
         "the endpoint group does not admit 443 from Instance 'host'", ENDPOINTS, id="no-ingress-half"),
    Spec("endpoint-group-ingress-by-reference", lambda: private_host(), None, ENDPOINTS, PRIVATE, id="by-reference"),
    Spec("endpoint-group-ingress-by-reference", lambda: [
        *(host := private_host()), res(INGRESS, "vpc-wide", {"securityGroupId": "e", "ipProtocol": "tcp",
                                                             "fromPort": 443, "toPort": 443, "cidrIpv4": "10.0.0.0/16"},
                                       securityGroupId=host[4])],
        "admits tcp 443 from 10.0.0.0/16", ENDPOINTS, PRIVATE, id="by-cidr"),
    Spec("vpc-dns-enabled", lambda: private_host(), None, VPC_DOCS, PRIVATE, id="on"),
    Spec("vpc-dns-enabled", lambda: private_host(dns=False), "DNS support or DNS hostnames is off", VPC_DOCS, PRIVATE,
         id="hostnames-off"),
    Spec("vpc-flow-logs", lambda: private_host(), None, VPC_DOCS, id="reject-logged"),
    Spec("vpc-flow-logs", lambda: private_host(without=("flow",)), "records no flow logs", VPC_DOCS, id="none"),
    Spec("endpoint-budget", lambda: private_host(), None, "AWS PrivateLink pricing", PRIVATE, id="two-endpoints"),
    Spec("endpoint-budget", lambda: private_host(), "over the $10 budget", "AWS PrivateLink pricing",
         {"privateOnly": True, "monthlyBudgetUsd": 10}, id="over-budget"),
    # --- routes ---------------------------------------------------------------------------------------------------
    Spec("no-default-route", lambda: private_host(), None, "Amazon VPC User Guide, 'Route tables'", PRIVATE,
         id="local-only"),
    Spec("no-default-route", lambda: [res(ROUTE, "out", {"routeTableId": "r", "destinationCidrBlock": "0.0.0.0/0",
                                                         "natGatewayId": "nat-1"})],
         "a default route (0.0.0.0/0)", "Amazon VPC User Guide, 'Route tables'", PRIVATE, id="to-a-nat"),
    Spec("subnet-no-public-ip", lambda: private_host(), None, "FSBP EC2.15", id="private"),
    Spec("subnet-no-public-ip", lambda: [res(SUBNET, "public", {"mapPublicIpOnLaunch": True})],
         "public IPv4 address", "FSBP EC2.15", id="maps-public-ips"),
    # --- file shares ---------------------------------------------------------------------------------------------
    Spec("efs-reachability", lambda: share(), None, EFS, id="both-halves"),
    Spec("efs-reachability", lambda: share(both_sides=False), "does not admit 2049 from SecurityGroup 'host'", EFS,
         id="no-ingress-half"),
    Spec("efs-has-tls-policy", lambda: [res(FILE_SYSTEM, "share", {"encrypted": True})], "no file-system policy",
         "Amazon EFS User Guide, 'Using IAM to control file system data access'", id="none"),
    Spec("efs-has-tls-policy", lambda: [], None, "Amazon EFS User Guide", id="no-file-system"),
    Spec("efs-mount-targets-isolated", lambda: share(), None, EFS, PRIVATE, id="isolated"),
    Spec("efs-mount-targets-isolated", lambda: [
        *(found := share()), res(ROUTE, "out", {"routeTableId": "r", "destinationCidrBlock": "0.0.0.0/0"},
                                 routeTableId=found[2])], "has a default route", EFS, PRIVATE, id="routed-out"),
    # --- ECS Exec and task roles --------------------------------------------------------------------------------
    Spec("ecs-exec-enabled", lambda: service(True), None, ECS, id="on"),
    Spec("ecs-exec-enabled", lambda: [*(found := service(False)), res(ROLE_POLICY, "channel", {
        "role": "task", "policy": json.dumps({"Statement": [
            {"Effect": "Allow", "Action": "ssmmessages:CreateControlChannel", "Resource": "*"}]})}, role=found[0])],
        "enable_execute_command is off", ECS, id="task-role-granted-the-channel"),
    Spec("ecs-exec-init-process", lambda: service(True), None, ECS, id="init"),
    Spec("ecs-exec-init-process", lambda: service(True, init=False), "has no init process", ECS, id="no-init"),
    Spec("ecs-task-roles-distinct", lambda: service(True), None, ECS, id="two-roles"),
    Spec("ecs-task-roles-distinct", lambda: [t := res(TASK, "tools", {"containerDefinitions": "[]"}),
                                             res(SERVICE, "tools", {"enableExecuteCommand": True},
                                                 taskDefinition=t)], "has no task role", ECS, id="no-task-role"),
    Spec("lb-internal", lambda: [res(LB_LOAD_BALANCER, "front", {"internal": True})], None,
         "Elastic Load Balancing User Guide, 'Load balancer scheme'", PRIVATE, id="internal"),
    Spec("lb-internal", lambda: [res(LB_LOAD_BALANCER, "front", {})], "internet-facing",
         "Elastic Load Balancing User Guide, 'Load balancer scheme' (internet-facing by default)", PRIVATE,
         id="default-scheme"),
    Spec("ecs-exec-expected", lambda: [*private_host(), *service(True)], None, ECS, PRIVATE, id="exec-on"),
    Spec("ecs-exec-expected", lambda: [*(host := private_host()), *(found := service(False, init=False))[:3],
                                       res(SERVICE, "tools", {"enableExecuteCommand": False, "networkConfiguration":
                                                              {"subnets": ["s"]}},
                                           taskDefinition=found[2], networkConfiguration=host[1])],
         "its VPC has an ssmmessages endpoint", ECS, PRIVATE, id="exec-off-beside-ssmmessages"),
    Spec("no-security-group-cycles", lambda: private_host(), None, "Amazon VPC User Guide, 'Security group rules'",
         id="standalone-rules"),
    Spec("no-security-group-cycles", cycle, "Circular dependency", "Amazon VPC User Guide, 'Security group rules'",
         id="inline-cycle"),
]
