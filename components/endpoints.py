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

from components.catalog import ENDPOINT_SERVICES
from components.connections import Connections, Port, PrefixListPeer
from components.endpoint_policies import AllowedBucket, gateway_policy, interface_policy
from components.network import PrivateNetwork

HTTPS = Port.tcp(443)


class EndpointAccess(Protocol):
    """What a workload asks of the endpoints it uses: VpcEndpoints here, or a SharedNetwork's."""

    def allow_from(self, *consumers: Connections) -> list[pulumi.Resource]: ...


@dataclass(frozen=True)
class VpcEndpointsArgs:
    network: PrivateNetwork
    region: str
    # Service names from the catalogue, e.g. ("ssm", "ssmmessages", "s3").
    services: tuple[str, ...]
    # Interface service -> the AZs that get its network interface (each billed per hour, even idle); only zones
    # that AWS offers the service in (config.py asks AWS which).
    zones: Mapping[str, tuple[str, ...]]
    # The account whose principals and resources the endpoint policies admit.
    account: str
    # Interface service -> whether AWS accepts an endpoint policy on it (config.py asks AWS).
    policy_supported: Mapping[str, bool]
    # What the S3 gateway lets through (components/endpoint_policies.py: allowed_buckets).
    s3_buckets: Sequence[AllowedBucket] = ()
    # Asleep: no interface endpoint exists (each bills every AZ-hour it exists, used or not: AWS PrivateLink
    # pricing). The endpoint group, its rules and the S3 gateway (no hourly charge) stay, so waking only creates
    # the endpoints again and changes nothing else.
    asleep: bool = False


class VpcEndpoints(pulumi.ComponentResource):
    connections: Connections
    interface_endpoints: dict[str, aws.ec2.VpcEndpoint]
    gateway_endpoints: dict[str, aws.ec2.VpcEndpoint]
    s3_prefix_list: PrefixListPeer | None

    def __init__(self, name: str, args: VpcEndpointsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("airgap:endpoints:VpcEndpoints", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        unknown = [s for s in args.services if s not in ENDPOINT_SERVICES]
        if unknown:
            raise ValueError(f"unknown endpoint services {unknown}: expected names from {list(ENDPOINT_SERVICES)}")
        vpc_id = args.network.vpc.id

        self.connections = Connections.with_new_group(
            "endpoint-group", vpc_id=vpc_id, owner=self,
            description="Interface VPC endpoints: HTTPS from the groups allowed to use them",
        )
        group = self.connections.group

        self.interface_endpoints = {}
        self.gateway_endpoints = {}
        # The interface services this VPC has while awake (none of them exists while asleep).
        self.interface_services = [s for s in args.services if ENDPOINT_SERVICES[s].kind == "Interface"]
        # Service -> its endpoint policy (plain JSON, known in a first preview): what may cross the VPC's edge.
        self.policies: dict[str, dict] = {}
        for service in (ENDPOINT_SERVICES[s] for s in args.services):
            if service.kind == "Interface":
                if args.asleep:
                    continue
                if args.policy_supported.get(service.name, False):
                    self.policies[service.name] = interface_policy(service.name, args.region, args.account)
                self.interface_endpoints[service.name] = aws.ec2.VpcEndpoint(
                    service.slug,
                    vpc_id=vpc_id,
                    service_name=service.service_name(args.region),
                    vpc_endpoint_type="Interface",
                    # The SDKs and the SSM agent call the public service names; private DNS makes those names
                    # resolve to these interfaces inside the VPC.
                    private_dns_enabled=True,
                    subnet_ids=[args.network.subnets[z].id for z in args.zones[service.name]],
                    security_group_ids=[group.id],
                    # Where AWS accepts no policy the endpoint keeps AWS's default (full access); IAM and the
                    # security groups are then the only fence.
                    policy=json.dumps(self.policies[service.name]) if service.name in self.policies else None,
                    tags={"Name": f"{name}-{service.slug}"},
                    opts=child,
                )
            else:
                self.policies[service.name] = gateway_policy(args.s3_buckets, args.account)
                self.gateway_endpoints[service.name] = aws.ec2.VpcEndpoint(
                    service.slug,
                    vpc_id=vpc_id,
                    service_name=service.service_name(args.region),
                    vpc_endpoint_type="Gateway",
                    route_table_ids=[t.id for t in args.network.route_tables.values()],
                    # Without it the gateway reaches every bucket of every account: the exfiltration path.
                    policy=json.dumps(self.policies[service.name]),
                    tags={"Name": f"{name}-{service.slug}"},
                    opts=child,
                )

        s3 = self.gateway_endpoints.get("s3")
        # A consumer whose egress is limited to the endpoint group could not reach S3 through the gateway:
        # the gateway's traffic goes to S3's public ranges, named by this prefix list.
        self.s3_prefix_list = PrefixListPeer("s3-prefix-list", s3.prefix_list_id) if s3 else None

        self.dns_names = {
            name: ep.dns_entries.apply(lambda entries: entries[0].dns_name if entries else "")
            for name, ep in self.interface_endpoints.items()
        }
        self.register_outputs(
            {
                "endpointGroupId": group.id,
                "interfaceEndpoints": {n: ep.id for n, ep in self.interface_endpoints.items()},
                "gatewayEndpoints": {n: ep.id for n, ep in self.gateway_endpoints.items()},
            }
        )

    @property
    def endpoints(self) -> list[aws.ec2.VpcEndpoint]:
        return [*self.interface_endpoints.values(), *self.gateway_endpoints.values()]

    def allow_from(self, *consumers: Connections) -> list[pulumi.Resource]:
        """Let each consumer use every endpoint: 443 to the endpoint group (both sides) and 443 to S3.

        Returns what a consumer must wait for before it starts: the endpoints and the rules just allowed. An agent
        that starts before them has nothing to reach, and registers only on one of its later retries."""
        ready: list[pulumi.Resource] = list(self.endpoints)
        for consumer in consumers:
            # Also while asleep: the rules cost nothing, and keeping them means waking creates only endpoints.
            if self.interface_services:
                ready += consumer.allow_to(self.connections, HTTPS, "AWS APIs through the interface endpoints")
            if self.s3_prefix_list is not None:
                ready += consumer.allow_to(self.s3_prefix_list, HTTPS, "S3 through the gateway endpoint")
        return ready
