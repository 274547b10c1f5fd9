"""What AWS (through the provider) adds to a resource, and what the program's invokes return, for offline runs.

Two modes, as the engine has them:
- preview of a new stack: nothing exists yet, so every value AWS computes (ids, ARNs, DNS names) is unknown;
  only what the provider knows up front (inputs, auto-names) is known.
- update: every computed value is known; realistic shapes (vpc-…, sg-…, arn:aws:…) so code that parses them runs.

Invokes are answered only for the tokens the program is known to call; anything else fails loudly, so the program
cannot grow an invoke the real provider lacks without a test noticing.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from typing import Any

from guard.types import (
    ACCESS_POINT,
    ASSOCIATION,
    ATTACHMENT,
    AUTOSCALING_GROUP,
    AWS_PROVIDER,
    BACKUP_POLICY,
    BUCKET,
    BUCKET_POLICY,
    CLUSTER,
    DEFAULT_SG,
    DEFAULT_VPC,
    EGRESS,
    EGRESS_ONLY_INTERNET_GATEWAY,
    EIP,
    ENDPOINT,
    FILE_SYSTEM,
    FLOW_LOG,
    FS_POLICY,
    IAM_POLICY,
    INGRESS,
    INSTANCE,
    INSTANCE_STATE,
    INTERNET_GATEWAY,
    KMS_ALIAS,
    KMS_KEY,
    LAUNCH_CONFIGURATION,
    LAUNCH_TEMPLATE,
    LB_LOAD_BALANCER,
    LEGACY_RULE,
    LOG_GROUP,
    MOUNT_TARGET,
    NAT_GATEWAY,
    NETWORK_ACL,
    NETWORK_ACL_RULE,
    PROFILE,
    RDS_CLUSTER,
    RDS_CLUSTER_INSTANCE,
    RDS_INSTANCE,
    RDS_SUBNET_GROUP,
    REPOSITORY,
    ROLE,
    ROLE_POLICY,
    ROUTE,
    ROUTE_TABLE,
    S3_BUCKET_LIFECYCLE_CONFIGURATION,
    S3_BUCKET_OWNERSHIP_CONTROLS,
    S3_BUCKET_PUBLIC_ACCESS_BLOCK,
    S3_BUCKET_SERVER_SIDE_ENCRYPTION_CONFIGURATION,
    SERVICE,
    SERVICE_LINKED_ROLE,
    SG,
    SQS_QUEUE,
    SSM_DOCUMENT,
    SUBNET,
    TASK,
    VPC,
)

ACCOUNT = "123456789012"
UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"

# Zones per region as a new account sees them (ap-northeast-1b is closed to new accounts).
ZONES: dict[str, tuple[str, ...]] = {
    "ap-northeast-1": ("a", "c", "d"),
    "us-east-1": ("a", "b", "c", "d", "e", "f"),
    "us-west-2": ("a", "b", "c", "d"),
    "eu-west-1": ("a", "b", "c"),
}


class ProviderError(Exception):
    """An error the provider returns for an invoke (the harness hands it to the program as the engine would)."""


def _hex(seed: str, n: int) -> str:
    return hashlib.sha256(seed.encode()).hexdigest()[:n]


class Ctx:
    def __init__(self, type_: str, name: str, urn: str, inputs: dict[str, Any], region: str) -> None:
        self.type, self.name, self.urn, self.inputs, self.region = type_, name, urn, inputs, region

    def aws_id(self, prefix: str) -> str:
        return f"{prefix}-0{_hex(self.urn, 16)}"

    @property
    def autoname(self) -> str:
        return f"{self.name}-{_hex(self.urn, 7)}"

    def arn(self, service: str, resource: str, region: bool = True) -> str:
        return f"arn:aws:{service}:{self.region if region else ''}:{ACCOUNT}:{resource}"


Computed = Callable[[Ctx, str], dict[str, Any]]


def _ec2(kind: str, prefix: str, extra: Callable[[Ctx, str], dict[str, Any]] | None = None) -> tuple[str, Computed]:
    def computed(c: Ctx, id_: str) -> dict[str, Any]:
        out = {"arn": c.arn("ec2", f"{kind}/{id_}"), "ownerId": ACCOUNT}
        out.update(extra(c, id_) if extra else {})
        return out

    return prefix, computed


def _endpoint(c: Ctx, id_: str) -> dict[str, Any]:
    service = c.inputs.get("serviceName", "")
    if c.inputs.get("vpcEndpointType") == "Gateway":
        return {"prefixListId": "pl-61a54008", "cidrBlocks": ["52.219.136.0/22"], "dnsEntries": [],
                "networkInterfaceIds": [], "state": "available"}
    short = service.split(".", 3)[-1] if service.count(".") >= 3 else service
    return {
        "dnsEntries": [{"dnsName": f"{id_}-{_hex(id_, 8)}.{short}.{c.region}.vpce.amazonaws.com",
                        "hostedZoneId": "Z2E726K9Y6RL4W"}],
        "networkInterfaceIds": [f"eni-0{_hex(id_ + str(i), 16)}" for i, _ in enumerate(c.inputs.get("subnetIds", []))],
        "prefixListId": "",
        "state": "available",
    }


def _linked_role_arn(c: Ctx) -> str:
    service = str(c.inputs.get("awsServiceName"))
    return c.arn("iam", f"role/aws-service-role/{service}/{_SERVICE_LINKED_ROLES.get(service, 'x')}", region=False)


# type token -> (how its id looks, what else AWS computes). Ids: an AWS prefix, or a callable for named things.
MODEL: dict[str, tuple[str | Callable[[Ctx], str], Computed]] = {
    # An explicit provider: the engine gives it an id; its state is its inputs (region, profile, ...).
    AWS_PROVIDER: (lambda c: f"{_hex(c.urn, 8)}-{_hex(c.urn + 'p', 4)}", lambda c, i: {}),
    VPC: _ec2("vpc", "vpc", lambda c, i: {
        "defaultSecurityGroupId": c.aws_id("sg"), "mainRouteTableId": c.aws_id("rtb"),
        "defaultNetworkAclId": c.aws_id("acl"), "defaultRouteTableId": c.aws_id("rtb")}),
    DEFAULT_SG: _ec2("security-group", "sg", lambda c, i: {
        "name": "default", "ingress": [], "egress": []}),
    SUBNET: _ec2("subnet", "subnet"),
    ROUTE_TABLE: _ec2("route-table", "rtb"),
    ASSOCIATION: ("rtbassoc", lambda c, i: {}),
    ROUTE: (lambda c: f"r-{c.inputs.get('routeTableId', 'rtb')}1080289494", lambda c, i: {
        "state": "active", "origin": "CreateRoute"}),
    SG: _ec2("security-group", "sg"),
    INGRESS: _ec2(
        "security-group-rule", "sgr", lambda c, i: {"securityGroupRuleId": i}),
    EGRESS: _ec2(
        "security-group-rule", "sgr", lambda c, i: {"securityGroupRuleId": i}),
    ENDPOINT: _ec2("vpc-endpoint", "vpce", _endpoint),
    # Its id is the instance's; the provider reads nothing else back.
    INSTANCE_STATE: (lambda c: str(c.inputs.get("instanceId", "")),
                                                          lambda c, i: {}),
    INSTANCE: _ec2("instance", "i", lambda c, i: {
        "privateIp": f"10.40.0.{int(_hex(i, 2), 16) % 200 + 20}", "primaryNetworkInterfaceId": c.aws_id("eni"),
        "privateDns": f"ip-10-40-0-20.{c.region}.compute.internal", "instanceState": "running"}),
    ROLE: (lambda c: c.inputs.get("name") or c.autoname, lambda c, i: {
        "arn": c.arn("iam", f"role/{i}", region=False), "name": i, "uniqueId": f"AROA{_hex(i, 17).upper()}"}),
    SERVICE_LINKED_ROLE: (lambda c: _linked_role_arn(c),
                          lambda c, i: {"arn": i, "name": i.rsplit("/", 1)[1], "uniqueId": f"AROA{_hex(i, 17).upper()}",
                                        "path": f"/aws-service-role/{c.inputs.get('awsServiceName')}/"}),
    PROFILE: (lambda c: c.inputs.get("name") or c.autoname, lambda c, i: {
        "arn": c.arn("iam", f"instance-profile/{i}", region=False), "name": i}),
    IAM_POLICY: (lambda c: c.arn("iam", f"policy/{c.inputs.get('name') or c.autoname}", region=False),
                 lambda c, i: {"arn": i, "policyId": f"ANPA{_hex(i, 17).upper()}", "name": i.rsplit("/", 1)[1]}),
    SSM_DOCUMENT: (lambda c: c.inputs.get("name") or c.autoname, lambda c, i: {
        "arn": c.arn("ssm", f"document/{i}"), "status": "Active", "documentVersion": "1", "latestVersion": "1",
        "defaultVersion": "1", "owner": ACCOUNT, "schemaVersion": "1.0"}),
    ROLE_POLICY: (lambda c: f"{c.inputs.get('role', 'role')}:{c.autoname}",
                                      lambda c, i: {"name": i.split(":", 1)[1]}),
    ATTACHMENT: (lambda c: c.autoname, lambda c, i: {}),
    FILE_SYSTEM: ("fs", lambda c, i: {
        "arn": c.arn("elasticfilesystem", f"file-system/{i}"), "dnsName": f"{i}.efs.{c.region}.amazonaws.com",
        "ownerId": ACCOUNT, "numberOfMountTargets": 0}),
    MOUNT_TARGET: ("fsmt", lambda c, i: {
        "ipAddress": "10.40.0.10", "networkInterfaceId": c.aws_id("eni"), "ownerId": ACCOUNT}),
    ACCESS_POINT: ("fsap", lambda c, i: {
        "arn": c.arn("elasticfilesystem", f"access-point/{i}"), "ownerId": ACCOUNT}),
    FS_POLICY: (lambda c: c.inputs.get("fileSystemId", c.aws_id("fs")),
                                                  lambda c, i: {}),
    BACKUP_POLICY: (lambda c: c.inputs.get("fileSystemId", c.aws_id("fs")), lambda c, i: {}),
    CLUSTER: (lambda c: c.arn("ecs", f"cluster/{c.inputs.get('name') or c.autoname}"),
                                lambda c, i: {"arn": i, "name": i.rsplit("/", 1)[1]}),
    TASK: (lambda c: c.inputs.get("family", c.autoname), lambda c, i: {
        "arn": c.arn("ecs", f"task-definition/{i}:1"), "arnWithoutRevision": c.arn("ecs", f"task-definition/{i}"),
        "revision": 1}),
    SERVICE: (lambda c: c.arn("ecs", f"service/{c.inputs.get('name') or c.autoname}"),
                                lambda c, i: {"name": i.rsplit("/", 1)[1]}),
    LOG_GROUP: (lambda c: c.inputs.get("name") or c.autoname, lambda c, i: {
        "arn": c.arn("logs", f"log-group:{i}"), "name": i}),
    REPOSITORY: (lambda c: c.inputs.get("name") or c.autoname, lambda c, i: {
        "arn": c.arn("ecr", f"repository/{i}"), "registryId": ACCOUNT,
        "repositoryUrl": f"{ACCOUNT}.dkr.ecr.{c.region}.amazonaws.com/{i}"}),
    BUCKET: (lambda c: c.inputs.get("bucket") or f"{c.inputs.get('bucketPrefix', c.name)}"
                                                                  f"{_hex(c.urn, 20)}",
                             lambda c, i: {"arn": f"arn:aws:s3:::{i}", "bucket": i, "region": c.region,
                                           "bucketDomainName": f"{i}.s3.amazonaws.com"}),
    S3_BUCKET_PUBLIC_ACCESS_BLOCK: (lambda c: c.inputs.get("bucket", c.name),
                                                               lambda c, i: {}),
    S3_BUCKET_OWNERSHIP_CONTROLS: (lambda c: c.inputs.get("bucket", c.name),
                                                               lambda c, i: {}),
    S3_BUCKET_SERVER_SIDE_ENCRYPTION_CONFIGURATION: (
        lambda c: c.inputs.get("bucket", c.name), lambda c, i: {}),
    S3_BUCKET_LIFECYCLE_CONFIGURATION: (lambda c: c.inputs.get("bucket", c.name),
                                                                         lambda c, i: {}),
    BUCKET_POLICY: (lambda c: c.inputs.get("bucket", c.name), lambda c, i: {}),
    FLOW_LOG: ("fl", lambda c, i: {"arn": c.arn("ec2", f"vpc-flow-log/{i}")}),
    KMS_KEY: (lambda c: f"{_hex(c.urn, 8)}-{_hex(c.urn + '1', 4)}-{_hex(c.urn + '2', 4)}-"
                                  f"{_hex(c.urn + '3', 4)}-{_hex(c.urn + '4', 12)}",
                        lambda c, i: {"arn": c.arn("kms", f"key/{i}"), "keyId": i}),
    KMS_ALIAS: (lambda c: c.inputs.get("name", f"alias/{c.name}"), lambda c, i: {
        "arn": c.arn("kms", i), "targetKeyArn": c.arn("kms", "key/x")}),
    # Resources airgap never creates, for the pack's tests on programs of other shapes.
    LAUNCH_TEMPLATE: _ec2("launch-template", "lt", lambda c, i: {
        "latestVersion": 1, "defaultVersion": 1, "name": c.inputs.get("name") or c.autoname}),
    LAUNCH_CONFIGURATION: (lambda c: c.inputs.get("name") or c.autoname, lambda c, i: {
        "arn": c.arn("autoscaling", f"launchConfiguration:{_hex(i, 8)}:launchConfigurationName/{i}"), "name": i}),
    AUTOSCALING_GROUP: (lambda c: c.inputs.get("name") or c.autoname, lambda c, i: {
        "arn": c.arn("autoscaling", f"autoScalingGroup:{_hex(i, 8)}:autoScalingGroupName/{i}"), "name": i}),
    LB_LOAD_BALANCER: (lambda c: c.arn("elasticloadbalancing", f"loadbalancer/app/{c.name}/"
                                                                                f"{_hex(c.urn, 16)}"),
                                         lambda c, i: {"arn": i, "dnsName": f"{c.name}.{c.region}.elb.amazonaws.com",
                                                       "zoneId": "Z14GRHDCWA56QT"}),
    RDS_INSTANCE: (lambda c: f"db-{_hex(c.urn, 26).upper()}", lambda c, i: {
        "arn": c.arn("rds", f"db:{c.inputs.get('identifier') or c.autoname}"),
        "address": f"{c.autoname}.{_hex(c.urn, 12)}.{c.region}.rds.amazonaws.com",
        "port": c.inputs.get("port") or next((p for e, p in _ENGINE_PORTS.items()
                                              if e in str(c.inputs.get("engine", ""))), 5432)}),
    RDS_CLUSTER: (lambda c: c.inputs.get("clusterIdentifier") or c.autoname, lambda c, i: {
        "arn": c.arn("rds", f"cluster:{i}"), "endpoint": f"{i}.cluster-{_hex(i, 12)}.{c.region}.rds.amazonaws.com",
        "readerEndpoint": f"{i}.cluster-ro-{_hex(i, 12)}.{c.region}.rds.amazonaws.com",
        "port": c.inputs.get("port") or 5432, "clusterResourceId": f"cluster-{_hex(i, 26).upper()}",
        # RDS keeps the generated master password in a secret of its own; the state holds only its ARN.
        "masterUserSecrets": [{"secretArn": c.arn("secretsmanager", f"secret:rds!cluster-{_hex(i, 8)}-AbCdEf"),
                               "kmsKeyId": "", "secretStatus": "active"}]
        if c.inputs.get("manageMasterUserPassword") else []}),
    RDS_CLUSTER_INSTANCE: (lambda c: c.inputs.get("identifier") or c.autoname, lambda c, i: {
        "arn": c.arn("rds", f"db:{i}"), "endpoint": f"{i}.{_hex(i, 12)}.{c.region}.rds.amazonaws.com",
        "port": 5432, "dbiResourceId": f"db-{_hex(i, 26).upper()}", "writer": True}),
    RDS_SUBNET_GROUP: (lambda c: c.inputs.get("name") or c.autoname, lambda c, i: {
        "arn": c.arn("rds", f"subgrp:{i}"), "name": i}),
    NETWORK_ACL: _ec2("network-acl", "acl"),
    DEFAULT_VPC: _ec2("vpc", "vpc", lambda c, i: {"cidrBlock": "172.31.0.0/16",
                                                                       "defaultSecurityGroupId": c.aws_id("sg")}),
    LEGACY_RULE: (lambda c: f"sgrule-{_hex(c.urn, 10)}", lambda c, i: {
        "securityGroupRuleId": c.aws_id("sgr")}),
    SQS_QUEUE: (lambda c: f"https://sqs.{c.region}.amazonaws.com/{ACCOUNT}/{c.autoname}", lambda c, i: {
        "arn": c.arn("sqs", i.rsplit("/", 1)[1]), "url": i, "name": i.rsplit("/", 1)[1]}),
    NETWORK_ACL_RULE: (lambda c: f"nacl-{_hex(c.urn, 8)}", lambda c, i: {}),
    # The ways out airgap forbids: a program that has them must show the pack's finding, not a model error.
    INTERNET_GATEWAY: _ec2("internet-gateway", "igw"),
    EGRESS_ONLY_INTERNET_GATEWAY: _ec2("egress-only-internet-gateway", "eigw"),
    NAT_GATEWAY: ("nat", lambda c, i: {
        "publicIp": "203.0.113.10", "privateIp": "10.0.0.10", "networkInterfaceId": c.aws_id("eni")}),
    EIP: ("eipalloc", lambda c, i: {
        "allocationId": i, "publicIp": "203.0.113.10", "arn": c.arn("ec2", f"elastic-ip/{i}")}),
}


def _generic(type_: str) -> tuple[str, Computed]:
    """Any other AWS type a user's program registers: an id and an ARN of its service, the rest as given (what the
    pack reads are inputs). `aws:ec2/launchTemplate:LaunchTemplate` -> `lt-...`, `arn:aws:ec2:...:launch-template/`."""
    module, _, kind = type_.partition(":")[2].partition("/")
    words = re.findall(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])", kind.split(":")[0]) or ["resource"]
    prefix = "".join(w[0] for w in words).lower()
    resource = "-".join(w.lower() for w in words)
    return prefix, lambda c, i: {"arn": c.arn(module or "aws", f"{resource}/{i}")}

# The port RDS gives an engine when the program names none.
_ENGINE_PORTS: dict[str, int] = {"postgres": 5432, "mysql": 3306, "mariadb": 3306, "sqlserver": 1433, "oracle": 1521}

# Properties the provider fills in before anything is created (auto-names): known even in a first preview.
AUTONAMED = {
    SG, ROLE, PROFILE,
    CLUSTER, SERVICE, LOG_GROUP,
}


def resource_state(type_: str, name: str, urn: str, inputs: dict[str, Any], region: str,
                   preview: bool) -> tuple[str, dict[str, Any]]:
    """(id, state) for a new resource. In preview the id is '' and computed values are UNKNOWN (for the
    engine-shaped state) — the SDK turns a missing id into an unknown one."""
    ctx = Ctx(type_, name, urn, inputs, region)
    state = dict(inputs)
    if type_ in AUTONAMED and not inputs.get("name"):
        state["name"] = ctx.autoname
    how_id, computed = MODEL[type_] if type_ in MODEL else _generic(type_)
    id_ = how_id(ctx) if callable(how_id) else ctx.aws_id(how_id)
    values = computed(ctx, id_)
    if preview:
        state.update({k: UNKNOWN for k in values if k not in state})
        return "", state
    state.update(values)
    return id_, state


def _zones(args: dict[str, Any], region: str) -> dict[str, Any]:
    letters = ZONES.get(region, ("a", "b", "c"))
    names = [f"{region}{z}" for z in letters]
    return {"id": region, "names": names, "zoneIds": [f"apne1-az{i + 1}" for i in range(len(names))],
            "groupNames": [region] * len(names), "state": args.get("state"), "region": region}


def _parameter(args: dict[str, Any], region: str) -> dict[str, Any]:
    name = args["name"]
    value = f"ami-0{_hex(name + region, 16)}"
    return {"id": name, "name": name, "type": "String", "value": value, "insecureValue": value, "version": 97,
            "arn": f"arn:aws:ssm:{region}::parameter{name}", "withDecryption": True, "region": region}


def _caller(args: dict[str, Any], region: str) -> dict[str, Any]:
    return {"id": ACCOUNT, "accountId": ACCOUNT, "arn": f"arn:aws:iam::{ACCOUNT}:user/ci", "userId": "AIDAEXAMPLE"}


def _region(args: dict[str, Any], region: str) -> dict[str, Any]:
    """GetRegion: the provider's own region (or the one asked for), as pulumi-aws 7 returns it."""
    name = args.get("region") or region
    return {"id": name, "region": name, "name": name, "endpoint": f"ec2.{name}.amazonaws.com",
            "description": name}


# Service -> the name IAM gives its service-linked role.
_SERVICE_LINKED_ROLES: dict[str, str] = {"ecs.amazonaws.com": "AWSServiceRoleForECS"}
# Roles the offline account lacks (an account that never used ECS lacks AWSServiceRoleForECS; tests add it here).
MISSING_ROLES: set[str] = set()


def _role(args: dict[str, Any], region: str) -> dict[str, Any]:
    name = args["name"]
    if name in MISSING_ROLES:
        # The provider's data source, for a role the account does not have.
        raise ProviderError(f"reading IAM Role ({name}): couldn't find resource")
    path = "/aws-service-role/ecs.amazonaws.com/" if name in _SERVICE_LINKED_ROLES.values() else "/"
    return {"id": name, "name": name, "arn": f"arn:aws:iam::{ACCOUNT}:role{path}{name}", "path": path,
            "uniqueId": f"AROA{_hex(name, 17).upper()}", "assumeRolePolicy": "{}", "description": "",
            "maxSessionDuration": 3600, "permissionsBoundary": "", "createDate": "2020-01-01T00:00:00Z",
            "roleLastUsed": [], "tags": {}}


# Interface endpoint services the offline region offers, and whether each accepts an endpoint policy, as AWS
# documents it per service ("AWS services that integrate with AWS PrivateLink").
def interface_services() -> dict[str, bool]:
    """Every interface service the catalogue lists, with the policy support it records: a new row is offered here
    without another edit."""
    from airgap.catalog import ENDPOINT_SERVICES

    return {s.name: s.documented_policy for s in ENDPOINT_SERVICES.values() if s.kind == "Interface"}
# Zone letters an interface service is NOT offered in, per region (real regions have such gaps; tests add them
# here to see the program place endpoints around them). Empty: every service in every zone.
NOT_OFFERED_IN: dict[tuple[str, str], set[str]] = {}


def _endpoint_service(args: dict[str, Any], region: str) -> dict[str, Any]:
    name = args.get("serviceName") or f"com.amazonaws.{region}.{args.get('service', '')}"
    suffix = name.removeprefix(f"com.amazonaws.{region}.")
    offered = interface_services()
    if suffix not in offered or args.get("serviceType", "Interface") != "Interface":
        # What the provider's data source says when the region has no such service.
        raise ProviderError("no matching EC2 VPC Endpoint Service found")
    gaps = NOT_OFFERED_IN.get((region, suffix), set())
    zones = [f"{region}{z}" for z in ZONES.get(region, ("a", "b", "c")) if z not in gaps]
    return {"id": name, "serviceName": name, "serviceType": "Interface", "availabilityZones": zones,
            "acceptanceRequired": False, "managesVpcEndpoints": False, "owner": "amazon",
            "privateDnsName": f"{suffix}.{region}.amazonaws.com", "vpcEndpointPolicySupported":
            offered[suffix], "baseEndpointDnsNames": [f"{suffix}.{region}.vpce.amazonaws.com"],
            "region": region}


INVOKES: dict[str, Callable[[dict[str, Any], str], dict[str, Any]]] = {
    "aws:index/getAvailabilityZones:getAvailabilityZones": _zones,
    "aws:ssm/getParameter:getParameter": _parameter,
    "aws:index/getCallerIdentity:getCallerIdentity": _caller,
    "aws:index/getRegion:getRegion": _region,
    "aws:ec2/getVpcEndpointService:getVpcEndpointService": _endpoint_service,
    "aws:iam/getRole:getRole": _role,
}
