"""Is it really still there? A resource the tagging API lists is asked of its own service; a deleted one (or one on
its way out: terminated, INACTIVE, pending deletion) is not a leftover."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError

_GONE_CODES = ("NotFound", "NoSuchEntity", "NoSuchBucket", "404", "RepositoryNotFound", "FileSystemNotFound",
               "AccessPointNotFound", "ResourceNotFound", "ClusterNotFound", "InvalidParameterException")


def _ec2(session: Any, kind: str, ident: str) -> bool:
    ec2 = session.client("ec2")
    if kind == "instance":
        found = ec2.describe_instances(InstanceIds=[ident])["Reservations"]
        return any(i["State"]["Name"] != "terminated" for r in found for i in r["Instances"])
    if kind == "vpc-endpoint":
        found = ec2.describe_vpc_endpoints(VpcEndpointIds=[ident])["VpcEndpoints"]
        return any(e["State"].lower() not in ("deleted", "deleting") for e in found)
    calls: dict[str, Callable[[], Any]] = {
        "vpc": lambda: ec2.describe_vpcs(VpcIds=[ident])["Vpcs"],
        "subnet": lambda: ec2.describe_subnets(SubnetIds=[ident])["Subnets"],
        "security-group": lambda: ec2.describe_security_groups(GroupIds=[ident])["SecurityGroups"],
        "route-table": lambda: ec2.describe_route_tables(RouteTableIds=[ident])["RouteTables"],
        "vpc-flow-log": lambda: ec2.describe_flow_logs(FlowLogIds=[ident])["FlowLogs"],
        "network-interface": lambda: ec2.describe_network_interfaces(NetworkInterfaceIds=[ident])["NetworkInterfaces"],
    }
    return bool(calls[kind]()) if kind in calls else True


def _ecs(session: Any, resource: str) -> bool:
    ecs = session.client("ecs")
    kind, _, rest = resource.partition("/")
    if kind == "cluster":
        return any(c["status"] != "INACTIVE" for c in ecs.describe_clusters(clusters=[rest])["clusters"])
    if kind == "service":
        cluster, _, name = rest.partition("/")
        return any(s["status"] == "ACTIVE" for s in ecs.describe_services(cluster=cluster, services=[name])["services"])
    if kind == "task-definition":
        found = ecs.describe_task_definition(taskDefinition=rest)["taskDefinition"]
        return found.get("status") not in ("DELETE_IN_PROGRESS",)
    return True


def _exists(session: Any, arn: str) -> bool:
    parts = arn.split(":", 5)
    service, resource = parts[2], parts[5]
    if service == "ec2":
        kind, _, ident = resource.partition("/")
        return _ec2(session, kind, ident)
    if service == "ecs":
        return _ecs(session, resource)
    if service == "elasticfilesystem":
        kind, _, ident = resource.partition("/")
        efs = session.client("efs")
        if kind == "file-system":
            return bool(efs.describe_file_systems(FileSystemId=ident)["FileSystems"])
        return bool(efs.describe_access_points(AccessPointId=ident)["AccessPoints"])
    if service == "logs":
        name = resource.removeprefix("log-group:").removesuffix(":*")
        groups = session.client("logs").describe_log_groups(logGroupNamePrefix=name)["logGroups"]
        return any(g["logGroupName"] == name for g in groups)
    if service == "ecr":
        session.client("ecr").describe_repositories(repositoryNames=[resource.removeprefix("repository/")])
        return True
    if service == "s3":
        session.client("s3").head_bucket(Bucket=resource)
        return True
    if service == "kms":
        key = session.client("kms").describe_key(KeyId=arn)["KeyMetadata"]
        return key.get("KeyState") != "PendingDeletion"
    if service == "iam":
        session.client("iam").get_role(RoleName=resource.rsplit("/", 1)[-1])
        return True
    return True  # a service this check does not know: reported, for a person to look at


def confirmed(session: Any, arn: str) -> bool:
    """True when the resource's own service still has it."""
    try:
        return _exists(session, arn)
    except ClientError as err:
        code = str(err.response.get("Error", {}).get("Code", ""))
        if any(gone in code for gone in _GONE_CODES):
            return False
        raise


def named_leftovers(session: Any, run: Any) -> list[str]:
    """The run's resources found by their physical names, whatever their tags."""
    names, found = run.names, []
    ecr = session.client("ecr")
    try:
        ecr.describe_repositories(repositoryNames=[names.path("bastion")])
        found.append(f"ECR repository {names.path('bastion')}")
    except ecr.exceptions.RepositoryNotFoundException:
        pass
    groups = session.client("logs").describe_log_groups(logGroupNamePrefix=f"/{names.prefix}/")
    found += [f"log group {g['logGroupName']}" for g in groups["logGroups"]]
    clusters = session.client("ecs").describe_clusters(clusters=[names.name("bastion")])["clusters"]
    found += [f"ECS cluster {c['clusterName']}" for c in clusters if c.get("status") != "INACTIVE"]
    return found + _perimeter_leftovers(session, names)


def _perimeter_leftovers(session: Any, names: Any) -> list[str]:
    """The shell document and the operator policy: left behind, the next stack of this name fails to create them
    (DocumentAlreadyExists, EntityAlreadyExists)."""
    found, ssm, document = [], session.client("ssm"), names.name("shell")
    try:
        ssm.describe_document(Name=document)
        found.append(f"Session document {document} (aws ssm delete-document --name {document})")
    except ClientError as err:
        if err.response.get("Error", {}).get("Code") != "InvalidDocument":
            raise
    policies = session.client("iam").get_paginator("list_policies").paginate(Scope="Local")
    found += [f"IAM policy {p['PolicyName']} ({p['Arn']})" for page in policies for p in page["Policies"]
              if p["PolicyName"] == names.name("operators")]
    return found
