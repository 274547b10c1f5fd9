"""SharedNetwork: a workload stack's view of a network stack — its VPC, subnets, endpoint group and S3 gateway.

A network stack (airgap:role network) owns the VPC and the endpoints, which take minutes to create and delete and
bill every hour. Workload stacks (airgap:role workloads) name it in airgap:networkStack and create only their
workloads. What a workload needs on the network's side — 443 into the endpoint group from its own group — it creates
itself, as standalone rules on the network's group: destroying a workload stack removes exactly its rules, and the
network stack never has to know its workloads (the same reason the project uses standalone rules everywhere).

config.py has already read the network stack's outputs and checked it offers every endpoint the workloads need; the
StackReference registered here records which network this stack runs on (Pulumi Cloud shows it; the policy pack
reads its outputs to judge the workloads' endpoints and rules).
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from components.config import NetworkOffer
from components.connections import Connections, Port, PrefixListPeer

HTTPS = Port.tcp(443)


@dataclass(frozen=True)
class SharedNetworkArgs:
    # The network stack's outputs, read and checked (config.py: NetworkOffer).
    offer: NetworkOffer


class SharedNetwork(pulumi.ComponentResource):
    reference: pulumi.StackReference
    endpoint_group: Connections
    s3_prefix_list: PrefixListPeer

    def __init__(self, name: str, args: SharedNetworkArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("airgap:network:SharedNetwork", name, None, opts)
        offer = args.offer
        self.offer = offer
        self.reference = pulumi.StackReference(offer.stack, stack_name=offer.stack,
                                               opts=pulumi.ResourceOptions(parent=self))
        self.endpoint_group = Connections.existing("endpoint-group", offer.endpoint_group_id, owner=self)
        self.s3_prefix_list = PrefixListPeer("s3-prefix-list", offer.s3_prefix_list_id)
        self.register_outputs({"networkStack": offer.stack, "vpcId": offer.vpc_id,
                               "endpointGroupId": offer.endpoint_group_id})

    @property
    def vpc_id(self) -> str:
        return self.offer.vpc_id

    @property
    def subnet_ids_by_zone(self) -> dict[str, str]:
        return dict(self.offer.subnets)

    def allow_from(self, *consumers: Connections) -> list[pulumi.Resource]:
        """443 into the network's endpoint group from each consumer (an ingress rule on that group, owned here) and
        out of the consumer (egress on its own group), and 443 to the S3 gateway's prefix list."""
        ready: list[pulumi.Resource] = []
        for consumer in consumers:
            ready += consumer.allow_to(self.endpoint_group, HTTPS, "AWS APIs through the network stack endpoints")
            ready += consumer.allow_to(self.s3_prefix_list, HTTPS, "S3 through the network stack gateway")
        return ready
