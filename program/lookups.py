"""What config validation needs to know from outside the stack file: AWS's answers about the account and region, and
other stacks' outputs (the network stack's, and this stack's own last deployment). Read before anything is
registered; `ProviderLookups` asks through the provider's invokes and the engine's built-in provider."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import pulumi

from airgap.naming import qualified_stack
from program.contract import Out, StackState


@dataclass(frozen=True)
class EndpointOffer:
    """What AWS says of one interface endpoint service in the stack's region (ec2:DescribeVpcEndpointServices,
    read through the provider's `aws.ec2.get_vpc_endpoint_service`)."""

    zones: tuple[str, ...]  # AZ names, as this account names them, where the service has an endpoint
    policy_supported: bool  # whether the endpoint accepts an endpoint policy


@dataclass(frozen=True)
class NetworkOffer:
    """What a network stack (airgap:role network) offers the workload stacks that name it: its stack outputs."""

    stack: str
    region: str
    vpc_id: str
    vpc_cidr: str
    subnets: Mapping[str, str]  # AZ -> isolated subnet id
    endpoint_group_id: str
    s3_prefix_list_id: str
    endpoint_services: tuple[str, ...]  # the endpoints that exist now (an asleep network has only the gateway)
    state: str

    OUTPUTS = (Out.REGION, Out.VPC_ID, Out.VPC_CIDR, Out.SUBNET_IDS_BY_ZONE, Out.ENDPOINT_GROUP_ID,
               Out.S3_PREFIX_LIST_ID, Out.ENDPOINT_SERVICES, Out.STATE)

    @classmethod
    def read(cls, stack: str, outputs: Mapping[str, Any]) -> NetworkOffer | list[str]:
        """The offer, or what is wrong with the outputs: the missing ones (a stack that is not a deployed airgap
        network stack), else the ones not of the form a network stack writes (outputs saved or edited by hand)."""
        missing = [k for k in cls.OUTPUTS if outputs.get(k) in (None, "")]
        if missing:
            return missing
        malformed = _malformed(outputs)
        if malformed:
            return malformed
        return cls(stack, str(outputs[Out.REGION]), str(outputs[Out.VPC_ID]), str(outputs[Out.VPC_CIDR]),
                   {str(k): str(v) for k, v in dict(outputs[Out.SUBNET_IDS_BY_ZONE]).items()},
                   str(outputs[Out.ENDPOINT_GROUP_ID]), str(outputs[Out.S3_PREFIX_LIST_ID]),
                   tuple(str(s) for s in outputs[Out.ENDPOINT_SERVICES]), str(outputs[Out.STATE]))


def _malformed(outputs: Mapping[str, Any]) -> list[str]:
    """Each output not of the form a network stack writes, said as `<name> <what it should be>`."""
    strings = (Out.REGION, Out.VPC_ID, Out.VPC_CIDR, Out.ENDPOINT_GROUP_ID, Out.S3_PREFIX_LIST_ID, Out.STATE)
    wrong = [f"{k} (a string)" for k in strings if not isinstance(outputs[k], str)]
    subnets, services, region = outputs[Out.SUBNET_IDS_BY_ZONE], outputs[Out.ENDPOINT_SERVICES], outputs[Out.REGION]
    try:
        ipaddress.IPv4Network(str(outputs[Out.VPC_CIDR]))
    except ValueError:
        wrong.append(f"{Out.VPC_CIDR} (a CIDR block such as 10.41.0.0/16)")
    if not (isinstance(subnets, Mapping) and subnets and all(
            isinstance(z, str) and isinstance(i, str) for z, i in subnets.items())):
        wrong.append(f"{Out.SUBNET_IDS_BY_ZONE} (a map of this region's zones to subnet ids, e.g. {{\"{region}a\": "
                     '"subnet-..."})')
    if not (isinstance(services, list) and all(isinstance(n, str) for n in services)):
        wrong.append(f'{Out.ENDPOINT_SERVICES} (a list of service names, e.g. ["ssm", "s3"])')
    if outputs[Out.STATE] not in {s.value for s in StackState}:
        wrong.append(f"{Out.STATE} (one of {', '.join(s.value for s in StackState)})")
    return [f"{w} is not as a network stack writes it" for w in wrong]


class AwsLookups(Protocol):
    """The facts about the account and region that config validation needs from AWS (invokes, in `load`)."""

    def zones(self) -> Sequence[str]:
        """The region's AZs that need no opt-in."""
        ...

    def endpoint_service(self, service_name: str) -> EndpointOffer | None:
        """The interface endpoint service `com.amazonaws.<region>.<name>`, or None where the region has none."""
        ...

    def account_id(self) -> str:
        """The account the stack deploys into."""
        ...

    def network_outputs(self, stack: str) -> Mapping[str, Any]:
        """The outputs of the network stack a workload stack names (empty if it has none)."""
        ...

    def own_outputs(self) -> Mapping[str, Any]:
        """This stack's outputs as last deployed (empty for a stack never deployed)."""
        ...

    def role_exists(self, name: str) -> bool:
        """Whether the account has the IAM role `name` (e.g. a service-linked role)."""
        ...


class ProviderLookups:
    """`AwsLookups` through the provider's invokes: in a real preview they ask AWS with the stack's credentials."""

    def zones(self) -> Sequence[str]:
        import pulumi_aws as aws

        # Only zones that need no opt-in: Local and Wavelength Zones have no Fargate, EFS or most endpoints.
        found = aws.get_availability_zones(
            state="available",
            filters=[aws.GetAvailabilityZonesFilterArgs(name="opt-in-status", values=["opt-in-not-required"])],
        )
        return found.names

    def endpoint_service(self, service_name: str) -> EndpointOffer | None:
        import pulumi_aws as aws

        try:
            found = aws.ec2.get_vpc_endpoint_service(service_name=service_name, service_type="Interface")
        except Exception as err:
            # The provider's data source fails with "no matching EC2 VPC Endpoint Service found" when the region
            # has no such service; anything else (credentials, throttling) is not ours to hide.
            if "no matching" in str(err).lower():
                return None
            raise
        return EndpointOffer(tuple(found.availability_zones), bool(found.vpc_endpoint_policy_supported))

    def account_id(self) -> str:
        import pulumi_aws as aws

        return aws.get_caller_identity().account_id

    def network_outputs(self, stack: str) -> Mapping[str, Any]:
        # The engine's built-in provider answers this invoke with the named stack's outputs, the same read a
        # StackReference makes (pulumi/pulumi, pkg/resource/deploy/builtins.go: "pulumi:pulumi:readStackOutputs");
        # as an invoke it returns them here, in order, before anything is registered.
        found = pulumi.runtime.invoke("pulumi:pulumi:readStackOutputs", {"name": qualified_stack(stack)})
        return dict((found.value or {}).get("outputs") or {})

    def own_outputs(self) -> Mapping[str, Any]:
        # The same read, of this stack's own last deployment: where its state lives, whichever clone runs it.
        return self.network_outputs(pulumi.get_stack())

    def role_exists(self, name: str) -> bool:
        import pulumi_aws as aws

        try:
            aws.iam.get_role(name=name)
        except Exception as err:
            # The provider's data source says "couldn't find resource" for a role the account lacks.
            if "couldn't find resource" in str(err) or "NoSuchEntity" in str(err):
                return False
            raise
        return True
