"""The stack as a graph, for stack policies: resources by type, who feeds which property of whom, and where each
resource lives — built once per stack analysis and answered from indexes, so a policy's lookups cost what they find,
not what the stack holds.

Resources are matched through property dependencies, never by id (every id is the same unknown in a first preview).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import cached_property
from typing import Any, TypeVar

from pulumi_policy import PolicyResource

from guard.contract import NetworkOut
from guard.types import (
    ASSOCIATION,
    AWS_PROVIDER,
    ENDPOINT,
    INSTANCE,
    MOUNT_TARGET,
    RDS_CLUSTER,
    RDS_INSTANCE,
    ROUTE_TABLE,
    SERVICE,
    SG,
    STACK_REFERENCE,
    SUBNET,
    VPC,
)
from guard.values import UNKNOWN, get, plain


def provider_region(r: PolicyResource) -> str | None:
    """The region of the provider that manages `r`, when its config names one. A provider that takes its region
    from the environment (AWS_REGION) has none here: the pack cannot see the environment."""
    if r.provider is not None and r.provider.resource_type == AWS_PROVIDER:
        region = get(r.provider.props, "region")
        if isinstance(region, str) and region:
            return region
    return None


def endpoint_type(r: Any) -> str:
    """"Interface" or "Gateway" (or "GatewayLoadBalancer"...): unset means what AWS and the provider do with it — a
    Gateway endpoint (CreateVpcEndpoint's VpcEndpointType defaults to Gateway; so does the provider's schema)."""
    kind = get(r.props, "vpcEndpointType")
    return "Gateway" if kind in (None, "") else str(kind)


def endpoint_service(r: Any) -> tuple[str | None, str | None]:
    """(region, service) named by an endpoint's service name `com.amazonaws.<region>.<service>`."""
    name = get(r.props, "serviceName")
    if not isinstance(name, str) or not name.startswith("com.amazonaws."):
        return None, None
    parts = name.split(".", 3)
    return (parts[2], parts[3]) if len(parts) == 4 else (None, None)


T = TypeVar("T")

# The property that places each kind of resource in its security groups.
GROUP_PROPERTY = {INSTANCE: "vpcSecurityGroupIds", SERVICE: "networkConfiguration", ENDPOINT: "securityGroupIds",
                  MOUNT_TARGET: "securityGroups", RDS_CLUSTER: "vpcSecurityGroupIds",
                  RDS_INSTANCE: "vpcSecurityGroupIds"}


class StackGraph:
    def __init__(self, resources: Iterable[PolicyResource]) -> None:
        self.resources = list(resources)
        self._by_type: dict[str, list[PolicyResource]] = {}
        # (source URN, property) -> the resources whose property it feeds, in stack order.
        self._fed: dict[tuple[str, str], list[PolicyResource]] = {}
        for r in self.resources:
            self._by_type.setdefault(r.resource_type, []).append(r)
            for prop, sources in r.property_dependencies.items():
                for source in sources:
                    fed = self._fed.setdefault((source.urn, prop), [])
                    if not fed or fed[-1] is not r:
                        fed.append(r)
        self._vpcs: dict[str, PolicyResource | None] = {}
        self._members: dict[str, dict[str, list[PolicyResource]]] = {}
        self._vpc_regions: dict[str | None, str | None] = {}
        self._shared: dict[Callable[..., Any], Any] = {}

    def shared(self, build: Callable[[StackGraph], T]) -> T:
        """A model built from this graph once and shared by every policy that asks (`Reach.of(graph)`)."""
        if build not in self._shared:
            self._shared[build] = build(self)
        return self._shared[build]

    def of(self, *types: str) -> list[PolicyResource]:
        return [r for t in types for r in self._by_type.get(t, [])]

    @staticmethod
    def feeds(r: PolicyResource, prop: str, *types: str) -> list[PolicyResource]:
        """The resources whose outputs flow into `prop` of `r` (optionally only of `types`)."""
        found = r.property_dependencies.get(prop) or []
        return [d for d in found if not types or d.resource_type in types]

    def fed_by(self, source: PolicyResource, prop: str, *types: str) -> list[PolicyResource]:
        """The resources (of `types`) whose `prop` is fed by `source`, grouped by type in the order asked."""
        fed = self._fed.get((source.urn, prop), [])
        if len(types) == 1:
            return [r for r in fed if r.resource_type == types[0]]
        return [r for t in types for r in fed if r.resource_type == t]

    def region_of(self, r: PolicyResource) -> str | None:
        """Where `r` lives: its provider's region; failing that, for an endpoint the region its service name names,
        and for anything else the one region that the endpoints of its VPC name (None when that is not one)."""
        region = provider_region(r)
        if region is not None:
            return region
        if r.resource_type == ENDPOINT:
            return endpoint_service(r)[0]
        vpc = self.vpc_of(r)
        key = vpc.urn if vpc is not None else None
        if key not in self._vpc_regions:
            named = {endpoint_service(e)[0] for e in self.in_vpc_of(vpc, ENDPOINT)} - {None}
            self._vpc_regions[key] = named.pop() if len(named) == 1 else None
        return self._vpc_regions[key]

    def vpc_of(self, r: PolicyResource) -> PolicyResource | None:
        """The VPC a subnet, security group, endpoint, instance or service lives in, through its dependencies."""
        if r.urn not in self._vpcs:
            self._vpcs[r.urn] = self._find_vpc(r)
        return self._vpcs[r.urn]

    def _find_vpc(self, r: PolicyResource) -> PolicyResource | None:
        if r.resource_type == VPC:
            return r
        vpcs = self.feeds(r, "vpcId", VPC)
        if vpcs:
            return vpcs[0]
        for prop in ("subnetId", "subnetIds", "networkConfiguration"):
            for subnet in self.feeds(r, prop, SUBNET):
                vpc = self.vpc_of(subnet)
                if vpc is not None:
                    return vpc
        return None

    def in_vpc_of(self, vpc: PolicyResource | None, type_: str) -> list[PolicyResource]:
        """The resources of `type_` known to live in `vpc` (none when `vpc` is not known), in stack order."""
        if vpc is None:
            return []
        members = self._members.get(type_)
        if members is None:
            members = {}
            for r in self.of(type_):
                found = self.vpc_of(r)
                if found is not None:
                    members.setdefault(found.urn, []).append(r)
            self._members[type_] = members
        return members.get(vpc.urn, [])

    def unplaced(self, type_: str) -> list[PolicyResource]:
        """The resources of `type_` whose VPC cannot be traced in this stack."""
        return [r for r in self.of(type_) if self.vpc_of(r) is None]

    @cached_property
    def _offers(self) -> list[dict]:
        """The outputs of every StackReference: what each referenced stack says it offers."""
        found = []
        for ref in self.of(STACK_REFERENCE):
            outputs = plain(get(ref.props, "outputs"))
            if isinstance(outputs, dict):
                found.append(outputs)
        return found

    def network_offer(self, r: PolicyResource) -> dict | None:
        """For a resource of a workload stack: the outputs of the network stack (read through a StackReference)
        whose VPC its security groups are in — what that stack says it offers (endpointServices, endpointGroupId,
        s3PrefixListId, region). None when its VPC is not another stack's."""
        if not self._offers:
            return None
        vpc_ids = {get(g.props, "vpcId") for g in self.groups_of(r)} - {None, UNKNOWN}
        return next((outputs for outputs in self._offers if outputs.get(NetworkOut.VPC_ID) in vpc_ids), None)

    def groups_of(self, r: PolicyResource) -> list[PolicyResource]:
        """The security groups a compute resource or endpoint is placed in."""
        return self.feeds(r, GROUP_PROPERTY.get(r.resource_type, ""), SG)

    def route_tables_of(self, subnet: PolicyResource) -> list[PolicyResource]:
        tables = []
        for assoc in self.fed_by(subnet, "subnetId", ASSOCIATION):
            tables += self.feeds(assoc, "routeTableId", ROUTE_TABLE)
        return tables


def label(r: PolicyResource) -> str:
    return f"{r.resource_type.rsplit(':', 1)[-1]} '{r.name}'"
