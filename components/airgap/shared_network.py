"""SharedNetwork: a workload stack's view of a network stack — its VPC, subnets, endpoint group and S3 gateway.

A network stack (airgap:role network) owns the VPC and the endpoints, which take minutes to create and delete and
bill every hour. Workload stacks (airgap:role workloads) name it in airgap:networkStack and create only their
workloads. What a workload needs on the network's side — 443 into the endpoint group from its own group — it creates
itself, as standalone rules on the network's group: destroying a workload stack removes exactly its rules, and the
network stack never has to know its workloads (the same reason the project uses standalone rules everywhere).

The airgap program has already read the network stack's outputs and checked that it offers every endpoint the
workloads need; the StackReference registered here records which network this stack runs on (Pulumi Cloud shows it;
the policy pack reads its outputs to judge the workloads' endpoints and rules).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi

from airgap.connections import Connectable, Connections, PrefixListPeer
from airgap.endpoints import HTTPS, EndpointGroup
from airgap.naming import ChildNames, check_component_name, qualified_stack


@dataclass(frozen=True)
class SharedNetworkArgs:
    # The network stack ("net", or "<org>/<project>/net"): a StackReference to it records the link.
    stack: str
    # Its outputs, already read and checked by the caller (the airgap program reads them with the engine's
    # readStackOutputs before it registers anything).
    vpc_id: pulumi.Input[str]
    subnet_ids_by_zone: Mapping[str, pulumi.Input[str]]
    endpoint_group_id: pulumi.Input[str]
    s3_prefix_list_id: pulumi.Input[str]


class SharedNetwork(pulumi.ComponentResource):
    reference: pulumi.StackReference
    endpoint_group: Connections
    s3_prefix_list: PrefixListPeer

    def __init__(self, name: str, args: SharedNetworkArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("airgap:network:SharedNetwork", check_component_name("SharedNetwork", name), None, opts)
        self.args = args
        self.reference = pulumi.StackReference(args.stack, stack_name=qualified_stack(args.stack),
                                               opts=pulumi.ResourceOptions(parent=self))
        names = ChildNames(name, first_name="network")
        self.endpoint_group = Connections.existing(names("endpoints"), args.endpoint_group_id, owner=self,
                                                   default_port=HTTPS, was=names.was("endpoint-group"))
        self.s3_prefix_list = PrefixListPeer("s3-prefix-list", args.s3_prefix_list_id, HTTPS)
        self.access = EndpointGroup(self.endpoint_group, self.s3_prefix_list, via="the network stack endpoints",
                                    s3_via="the network stack gateway")
        self.register_outputs({"networkStack": args.stack, "vpcId": args.vpc_id,
                               "endpointGroupId": args.endpoint_group_id})

    @property
    def vpc_id(self) -> pulumi.Input[str]:
        return self.args.vpc_id

    @property
    def subnet_ids_by_zone(self) -> dict[str, pulumi.Input[str]]:
        return dict(self.args.subnet_ids_by_zone)

    def allow_from(self, *consumers: Connectable) -> list[pulumi.Resource]:
        """443 into the network's endpoint group from each consumer (an ingress rule on that group, owned here) and
        out of the consumer (egress on its own group), and 443 to the S3 gateway's prefix list."""
        return self.access.allow_from(*consumers)
