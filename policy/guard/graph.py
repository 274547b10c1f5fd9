"""The stack as a graph, for stack policies: resources by type, and who feeds which property of whom.

Resources are matched through property dependencies, never by id (every id is the same unknown in a first preview).
"""

from __future__ import annotations

from collections.abc import Iterable

from pulumi_policy import PolicyResource

from guard.types import (
    ASSOCIATION,
    AWS_PROVIDER,
    ENDPOINT,
    INSTANCE,
    MOUNT_TARGET,
    ROUTE_TABLE,
    SERVICE,
    SG,
    STACK_REFERENCE,
    SUBNET,
    VPC,
)
from guard.values import UNKNOWN, get, plain

# Terraform's aws_ec2_instance_state; pulumi-aws files it under ec2transitgateway.


def provider_region(r: PolicyResource) -> str | None:
    """The region of the provider that manages `r`, when its config names one. A provider that takes its region
    from the environment (AWS_REGION) has none here: the pack cannot see the environment."""
    if r.provider is not None and r.provider.resource_type == AWS_PROVIDER:
        region = get(r.provider.props, "region")
        if isinstance(region, str) and region:
            return region
    return None


def endpoint_type(r: PolicyResource) -> str:
    """"Interface" or "Gateway" (or "GatewayLoadBalancer"...): unset means what AWS and the provider do with it — a
    Gateway endpoint (CreateVpcEndpoint's VpcEndpointType defaults to Gateway; so does the provider's schema)."""
    kind = get(r.props, "vpcEndpointType")
    return "Gateway" if kind in (None, "") else str(kind)


def endpoint_service(r: PolicyResource) -> tuple[str | None, str | None]:
    """(region, service) named by an endpoint's service name `com.amazonaws.<region>.<service>`."""
    name = get(r.props, "serviceName")
    if not isinstance(name, str) or not name.startswith("com.amazonaws."):
        return None, None
    parts = name.split(".", 3)
    return (parts[2], parts[3]) if len(parts) == 4 else (None, None)


class StackGraph:
    def __init__(self, resources: Iterable[PolicyResource]) -> None:
        self.resources = list(resources)
        self._vpcs: dict[str, PolicyResource | None] = {}
        self._by_type: dict[str, list[PolicyResource]] = {}
        for r in self.resources:
            self._by_type.setdefault(r.resource_type, []).append(r)

    def of(self, *types: str) -> list[PolicyResource]:
        return [r for t in types for r in self._by_type.get(t, [])]

    @staticmethod
    def feeds(r: PolicyResource, prop: str, *types: str) -> list[PolicyResource]:
        """The resources whose outputs flow into `prop` of `r` (optionally only of `types`)."""
        found = r.property_dependencies.get(prop) or []
        return [d for d in found if not types or d.resource_type in types]

    def fed_by(self, source: PolicyResource, prop: str, *types: str) -> list[PolicyResource]:
        """The resources (of `types`) whose `prop` is fed by `source`."""
        return [r for r in self.of(*types) if any(d.urn == source.urn for d in self.feeds(r, prop))]

    def region_of(self, r: PolicyResource) -> str | None:
        """Where `r` lives: its provider's region; failing that, for an endpoint the region its service name names,
        and for anything else the one region that the endpoints of its VPC name (None when that is not one)."""
        region = provider_region(r)
        if region is not None:
            return region
        if r.resource_type == ENDPOINT:
            return endpoint_service(r)[0]
        named = {endpoint_service(e)[0] for e in self.in_vpc(self.of(ENDPOINT), self.vpc_of(r))} - {None}
        return named.pop() if len(named) == 1 else None

    def vpc_of(self, r: PolicyResource) -> PolicyResource | None:
        """The VPC a subnet, security group, endpoint, instance or service lives in, through its dependencies."""
        if r.urn not in self._vpcs:
            self._vpcs[r.urn] = self._find_vpc(r)
        return self._vpcs[r.urn]

    def _find_vpc(self, r: PolicyResource) -> PolicyResource | None:
        if r.resource_type == VPC:
            return r
        for prop in ("vpcId",):
            vpcs = self.feeds(r, prop, VPC)
            if vpcs:
                return vpcs[0]
        for prop in ("subnetId", "subnetIds", "networkConfiguration"):
            for subnet in self.feeds(r, prop, SUBNET):
                vpc = self.vpc_of(subnet)
                if vpc is not None:
                    return vpc
        return None

    def in_vpc(self, resources: list[PolicyResource], vpc: PolicyResource | None) -> list[PolicyResource]:
        """Those of `resources` that are known to live in `vpc` (none when `vpc` is not known)."""
        if vpc is None:
            return []
        return [r for r in resources if (found := self.vpc_of(r)) is not None and found.urn == vpc.urn]

    def network_offer(self, r: PolicyResource) -> dict | None:
        """For a resource of a workload stack: the outputs of the network stack (read through a StackReference)
        whose VPC its security groups are in — what that stack says it offers (endpointServices, endpointGroupId,
        s3PrefixListId, region). None when its VPC is not another stack's."""
        vpc_ids = {get(g.props, "vpcId") for g in self.groups_of(r)} - {None, UNKNOWN}
        for ref in self.of(STACK_REFERENCE):
            outputs = plain(get(ref.props, "outputs"))
            if isinstance(outputs, dict) and outputs.get("vpcId") in vpc_ids:
                return outputs
        return None

    def groups_of(self, r: PolicyResource) -> list[PolicyResource]:
        """The security groups a compute resource or endpoint is placed in."""
        props = {INSTANCE: "vpcSecurityGroupIds", SERVICE: "networkConfiguration", ENDPOINT: "securityGroupIds",
                 MOUNT_TARGET: "securityGroups"}
        return self.feeds(r, props.get(r.resource_type, ""), SG)

    def route_tables_of(self, subnet: PolicyResource) -> list[PolicyResource]:
        tables = []
        for assoc in self.fed_by(subnet, "subnetId", ASSOCIATION):
            tables += self.feeds(assoc, "routeTableId", ROUTE_TABLE)
        return tables


def label(r: PolicyResource) -> str:
    return f"{r.resource_type.rsplit(':', 1)[-1]} '{r.name}'"

