"""VpcEndpoints: the only way out of the VPC. Interface endpoints behind their own endpoint group, and the S3
gateway on every route table.

The endpoint group admits nothing until `allow_from(consumer)` is called; then it admits 443 from that consumer's
group, and the consumer gets the matching 443 egress. Missing either half is the classic reason an instance never
registers with Systems Manager or a task answers TargetNotConnected.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

import pulumi
import pulumi_aws as aws

from airgap.catalog import ENDPOINT_SERVICES, EndpointService
from airgap.connections import Connectable, Connections, ExistingGroup, Port, PrefixListPeer
from airgap.endpoint_policies import allowed_buckets, gateway_policy, interface_policy
from airgap.naming import ChildNames, check_component_name
from airgap.where import Where, where
from airgap.workload import Needs, needs_of

HTTPS = Port.tcp(443)


class EndpointAccess(Protocol):
    """What a workload asks of the endpoints it uses: VpcEndpoints, an EndpointGroup of a VPC made elsewhere, or a
    SharedNetwork's."""

    def allow_from(self, *consumers: Connectable) -> list[pulumi.Resource]: ...


@dataclass(eq=False)
class EndpointGroup:
    """A VPC's endpoints as a workload connects to them: the interface endpoints' security group (443 in) and, when
    there is an S3 gateway, S3's prefix list (443 out). VpcEndpoints makes one; `EndpointGroup.existing` wraps the
    endpoints of a VPC this program did not create, by ids."""

    connections: Connections | None
    s3_prefix_list: PrefixListPeer | None
    # What a consumer's rules describe the endpoints as.
    via: str = "the interface endpoints"
    s3_via: str = "the gateway endpoint"
    # Resources a consumer waits for besides the rules (the endpoints themselves).
    ready: tuple[pulumi.Resource, ...] = ()

    @classmethod
    def existing(cls, name: str, group_id: pulumi.Input[str], *, owner: pulumi.Resource | None = None,
                 s3_prefix_list_id: pulumi.Input[str] | None = None, was: str | None = None) -> EndpointGroup:
        """The endpoints behind security group `group_id`; the 443 rules this program adds to that group are
        children of `owner`, or of the stack (standalone, so they go with this program's stack and leave the group
        alone)."""
        group = Connections.existing(check_component_name("EndpointGroup", name), group_id, owner=owner,
                                     default_port=HTTPS, was=was)
        s3 = PrefixListPeer("s3-prefix-list", s3_prefix_list_id, HTTPS) if s3_prefix_list_id is not None else None
        return cls(group, s3)

    def allow_from(self, *consumers: Connectable) -> list[pulumi.Resource]:
        """Let each consumer use every endpoint: 443 to the endpoint group (both sides) and 443 to S3.

        Returns what a consumer must wait for before it starts: the endpoints and the rules just allowed. An agent
        that starts before them has nothing to reach, and registers only on one of its later retries."""
        ready: list[pulumi.Resource] = list(self.ready)
        for consumer in consumers:
            if self.connections is not None:
                ready += consumer.connections.allow_to(self.connections, HTTPS, f"AWS APIs through {self.via}")
            if self.s3_prefix_list is not None:
                ready += consumer.connections.allow_to(self.s3_prefix_list, HTTPS, f"S3 through {self.s3_via}")
        return ready


@dataclass(frozen=True)
class VpcEndpointsArgs:
    # The VPC, and its subnets by AZ name: interface endpoints get a network interface in some of them.
    vpc_id: pulumi.Input[str]
    subnet_ids: Mapping[str, pulumi.Input[str]]
    # The route tables the S3 gateway adds its route to (every table of the subnets above).
    route_table_ids: Sequence[pulumi.Input[str]]
    # Service names from the catalogue, e.g. ("ssm", "ssmmessages", "s3"); empty: the ones the workloads need.
    services: tuple[str, ...] = ()
    # Interface service -> the AZs that get its network interface (each billed per hour, even idle); only zones
    # that AWS offers the service in. None: every AZ of `subnet_ids`.
    zones: Mapping[str, tuple[str, ...]] | None = None
    # Interface service -> whether AWS accepts an endpoint policy on it. None: ask AWS, through the component's
    # provider (GetVpcEndpointService, `vpcEndpointPolicySupported`).
    policy_supported: Mapping[str, bool] | None = None
    # What the workloads behind these endpoints need (each workload's `needs()`; 0.2's names "ssm-host" and
    # "bastion" still mean their defaults). The S3 gateway lets through exactly the AWS-owned buckets they read in
    # the component's region, and the account's own buckets named in `buckets`. Nothing else.
    workloads: Sequence[Needs | str] = ()
    buckets: Sequence[str] = ()
    # Asleep: no interface endpoint exists (each bills every AZ-hour it exists, used or not: AWS PrivateLink
    # pricing). The endpoint group, its rules and the S3 gateway (no hourly charge) stay, so waking only creates
    # the endpoints again and changes nothing else.
    asleep: bool = False


class VpcEndpoints(pulumi.ComponentResource):
    """Interface endpoints behind their own security group (the endpoint group, named like the component), and the
    S3 gateway on every route table. The region's service names and the account in the endpoint policies come from
    the component's provider."""

    connections: Connections
    interface_endpoints: dict[str, aws.ec2.VpcEndpoint]
    gateway_endpoints: dict[str, aws.ec2.VpcEndpoint]
    s3_prefix_list: PrefixListPeer | None
    access: EndpointGroup

    def __init__(self, name: str, args: VpcEndpointsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("airgap:endpoints:VpcEndpoints", check_component_name("VpcEndpoints", name), None, opts)
        names = ChildNames(name, first_name="endpoints")
        needs = Needs.union(w if isinstance(w, Needs) else needs_of([w]) for w in args.workloads)
        services = args.services or tuple(s for s in ENDPOINT_SERVICES if s in needs.endpoints)
        unknown = [s for s in services if s not in ENDPOINT_SERVICES]
        if unknown:
            raise ValueError(f"unknown endpoint services {unknown}: expected names from {list(ENDPOINT_SERVICES)}")
        at = where(self)
        zones = args.zones if args.zones is not None else {s: tuple(args.subnet_ids) for s in services}

        self.connections = Connections.with_new_group(
            names(), vpc_id=args.vpc_id, owner=self, default_port=HTTPS, was=names.was("endpoint-group"),
            description="Interface VPC endpoints: HTTPS from the groups allowed to use them",
        )
        group = self.connections.group

        self.interface_endpoints = {}
        self.gateway_endpoints = {}
        # The interface services this VPC has while awake (none of them exists while asleep).
        self.interface_services = [s for s in services if ENDPOINT_SERVICES[s].kind == "Interface"]
        # Service -> its endpoint policy (plain JSON, known in a first preview): what may cross the VPC's edge.
        self.policies: dict[str, dict] = {}
        for service in (ENDPOINT_SERVICES[s] for s in services):
            if service.kind == "Interface" and not args.asleep:
                self._interface(names, name, service, args, zones[service.name], group, at)
            elif service.kind != "Interface":
                self._gateway(names, name, service, args, needs, at)

        s3 = self.gateway_endpoints.get("s3")
        # A consumer whose egress is limited to the endpoint group could not reach S3 through the gateway:
        # the gateway's traffic goes to S3's public ranges, named by this prefix list.
        self.s3_prefix_list = PrefixListPeer("s3-prefix-list", s3.prefix_list_id, HTTPS) if s3 else None
        # Also while asleep: the rules cost nothing, and keeping them means waking creates only endpoints.
        self.access = EndpointGroup(self.connections if self.interface_services else None, self.s3_prefix_list,
                                    ready=tuple(self.endpoints))

        self.dns_names = {
            service: ep.dns_entries.apply(lambda entries: entries[0].dns_name if entries else "")
            for service, ep in self.interface_endpoints.items()
        }
        self.register_outputs(
            {
                "endpointGroupId": group.id,
                "interfaceEndpoints": {n: ep.id for n, ep in self.interface_endpoints.items()},
                "gatewayEndpoints": {n: ep.id for n, ep in self.gateway_endpoints.items()},
            }
        )

    def _interface(self, names: ChildNames, name: str, service: EndpointService, args: VpcEndpointsArgs,
                   zones: Sequence[str], group: aws.ec2.SecurityGroup | ExistingGroup, at: Where) -> None:
        # Replaced delete-first: while the old endpoint exists its private DNS name is taken, and CreateVpcEndpoint
        # refuses the new one ("private-dns-enabled cannot be set because there is already a conflicting DNS
        # domain", reported in hashicorp/terraform-provider-aws#17535).
        child = names.opts(self, was=service.slug, delete_before_replace=True)
        if self._policy_supported(args, service.name, at.region):
            self.policies[service.name] = interface_policy(service.name, at.region, at.account)
        self.interface_endpoints[service.name] = aws.ec2.VpcEndpoint(
            names(service.slug),
            vpc_id=args.vpc_id,
            service_name=service.service_name(at.region),
            vpc_endpoint_type="Interface",
            # The SDKs and the SSM agent call the public service names; private DNS makes those names resolve to
            # these interfaces inside the VPC.
            private_dns_enabled=True,
            subnet_ids=[args.subnet_ids[z] for z in zones],
            security_group_ids=[group.id],
            # Where AWS accepts no policy the endpoint keeps AWS's default (full access); IAM and the security
            # groups are then the only fence.
            policy=json.dumps(self.policies[service.name]) if service.name in self.policies else None,
            tags={"Name": f"{name}-{service.slug}"},
            opts=child,
        )

    def _gateway(self, names: ChildNames, name: str, service: EndpointService, args: VpcEndpointsArgs, needs: Needs,
                 at: Where) -> None:
        self.policies[service.name] = gateway_policy(
            allowed_buckets(at.region, needs.buckets, args.buckets), at.account)
        self.gateway_endpoints[service.name] = aws.ec2.VpcEndpoint(
            names(service.slug),
            vpc_id=args.vpc_id,
            service_name=service.service_name(at.region),
            vpc_endpoint_type="Gateway",
            route_table_ids=list(args.route_table_ids),
            # Without it the gateway reaches every bucket of every account: the exfiltration path.
            policy=json.dumps(self.policies[service.name]),
            tags={"Name": f"{name}-{service.slug}"},
            opts=names.opts(self, was=service.slug),
        )

    def _policy_supported(self, args: VpcEndpointsArgs, service: str, region: str) -> bool:
        if args.policy_supported is not None:
            return args.policy_supported.get(service, False)
        found = aws.ec2.get_vpc_endpoint_service(service_name=f"com.amazonaws.{region}.{service}",
                                                 service_type="Interface", opts=pulumi.InvokeOptions(parent=self))
        return bool(found.vpc_endpoint_policy_supported)

    @property
    def endpoints(self) -> list[aws.ec2.VpcEndpoint]:
        return [*self.interface_endpoints.values(), *self.gateway_endpoints.values()]

    def allow_from(self, *consumers: Connectable) -> list[pulumi.Resource]:
        """Let each consumer use every endpoint: 443 to the endpoint group (both sides) and 443 to S3. Returns the
        endpoints and the rules, for the consumer's `depends_on`."""
        return self.access.allow_from(*consumers)
