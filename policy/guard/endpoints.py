"""VPC endpoint rules: interface endpoints answer on private DNS behind a group; S3 goes through the free gateway."""

from __future__ import annotations

from collections.abc import Iterator

from pulumi_policy import ResourceValidationArgs, Severity

from guard.kit import resource_policy
from guard.values import UNKNOWN, fix, get

ENDPOINT = ("aws:ec2/vpcEndpoint:VpcEndpoint",)


def _where(args: ResourceValidationArgs) -> str:
    return f"VpcEndpoint '{args.name}' ({get(args.props, 'serviceName')})"


def interface_private_dns(args: ResourceValidationArgs) -> Iterator[str]:
    if get(args.props, "vpcEndpointType", "Gateway") != "Interface":
        return
    if get(args.props, "privateDnsEnabled") is not True:
        yield fix("private DNS is off, so the SDKs and the SSM agent still resolve the public service name and time "
                  "out in an isolated subnet", _where(args), "set private_dns_enabled=True")
    groups = get(args.props, "securityGroupIds", [])
    if groups is not UNKNOWN and len(groups) == 0:
        yield fix("no security group, so the endpoint gets the VPC's default group", _where(args),
                  "give it the endpoint group and admit 443 from each consumer (VpcEndpoints.allow_from)")


def in_stack_region(args: ResourceValidationArgs) -> Iterator[str]:
    service = get(args.props, "serviceName")
    region = get(args.provider.props, "region") if args.provider is not None else None
    if not isinstance(region, str):
        args.not_applicable("the stack's region is not known to the policy (no aws provider region)")
    if isinstance(service, str) and service.startswith("com.amazonaws.") and \
            not service.startswith(f"com.amazonaws.{region}."):
        yield fix(f"the service is in another region than the stack's {region} (a cross-region endpoint name fails "
                  "or adds latency and charges)", _where(args), f"use com.amazonaws.{region}.<service>")


def s3_is_gateway(args: ResourceValidationArgs) -> Iterator[str]:
    service = get(args.props, "serviceName")
    if isinstance(service, str) and service.endswith(".s3") and get(args.props, "vpcEndpointType") != "Gateway":
        yield fix("S3 through an interface endpoint is billed per AZ-hour and per GB; the gateway is free and also "
                  "serves ECR layers and the Amazon Linux repositories", _where(args),
                  'use vpc_endpoint_type="Gateway" with every route table')


POLICIES = [
    resource_policy("interface-endpoint-private-dns", "Interface endpoints have private DNS and a security group.",
                    ENDPOINT, interface_private_dns),
    resource_policy("endpoint-in-stack-region", "Endpoint service names are in the stack's region.", ENDPOINT,
                    in_stack_region, severity=Severity.MEDIUM),
    resource_policy("s3-gateway-endpoint", "S3 is reached through a gateway endpoint.", ENDPOINT, s3_is_gateway,
                    severity=Severity.MEDIUM),
]
