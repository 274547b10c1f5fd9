"""VPC endpoint rules: interface endpoints answer on private DNS behind a group; S3 goes through the free gateway;
and every endpoint has a policy that says who may reach what — without one, AWS lets everything through (AWS
PrivateLink Guide, "Control access to VPC endpoints using endpoint policies"), and the S3 gateway reaches every
bucket of every account."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pulumi_policy import PolicyConfigSchema, ResourceValidationArgs, Severity

from guard.graph import endpoint_service, endpoint_type
from guard.kit import ADVISORY, PRIVATE_ONLY, config, resource_policy
from guard.types import ENDPOINT
from guard.values import UNKNOWN, as_list, fix, get, json_document, remedy

ENDPOINT = (ENDPOINT,)


def _where(args: ResourceValidationArgs) -> str:
    return f"VpcEndpoint '{args.name}' ({get(args.props, 'serviceName')})"


def interface_private_dns(args: ResourceValidationArgs) -> Iterator[str]:
    if endpoint_type(args) != "Interface":
        return
    # S3 interface endpoints have their own private-DNS rules (they work through endpoint-specific names, and private
    # DNS for them involves the gateway endpoint): s3-gateway-endpoint speaks for S3.
    if endpoint_service(args)[1] != "s3" and get(args.props, "privateDnsEnabled") is not True:
        yield fix("private DNS is off, so the SDKs and the SSM agent still resolve the public service name and time "
                  "out in an isolated subnet", _where(args), "set private_dns_enabled=True")
    groups = get(args.props, "securityGroupIds", [])
    if groups is not UNKNOWN and len(groups) == 0:
        yield fix("no security group, so the endpoint gets the VPC's default group", _where(args),
                  remedy(args.urn, "set security_group_ids to a group of its own that admits tcp/443 from each "
                         "consumer's group", "VpcEndpoints.allow_from(consumer)"))


def in_stack_region(args: ResourceValidationArgs) -> Iterator[str]:
    service = get(args.props, "serviceName")
    region = get(args.provider.props, "region") if args.provider is not None else None
    if not isinstance(region, str) or not region:
        # A provider may take its region from the environment (AWS_REGION), which the pack cannot see.
        args.not_applicable("the endpoint's provider names no region in its config (it comes from the "
                            "environment), so there is nothing to compare its service name with")
        return
    if isinstance(service, str) and service.startswith("com.amazonaws.") and \
            not service.startswith(f"com.amazonaws.{region}."):
        yield fix(f"the service is in another region than the stack's {region} (a cross-region endpoint name fails "
                  "or adds latency and charges)", _where(args), f"use com.amazonaws.{region}.<service>")


def s3_is_gateway(args: ResourceValidationArgs) -> Iterator[str]:
    service = get(args.props, "serviceName")
    if isinstance(service, str) and service.endswith(".s3") and endpoint_type(args) != "Gateway":
        yield fix("S3 through an interface endpoint is billed per AZ-hour and per GB; inside the VPC the gateway "
                  "endpoint is free and also serves ECR layers and the Amazon Linux repositories", _where(args),
                  'use vpc_endpoint_type="Gateway" with every route table (keep the interface endpoint only for '
                  "clients outside the VPC, such as on-premises networks)")


# The policy AWS attaches when none is given: every action, on every resource, to every principal.
_EVERYTHING = ("*", "arn:aws:s3:::*", "arn:aws:s3:::*/*")
UNDOCUMENTED = ["ssmmessages", "ec2messages"]


def _opens_everything(statement: dict[str, Any]) -> bool:
    """An Allow that lets any principal reach any resource, with no condition narrowing either."""
    if statement.get("Effect") != "Allow" or statement.get("Condition"):
        return False
    if "NotPrincipal" in statement or "NotResource" in statement:
        return True
    principal = statement.get("Principal", "*")
    anyone = principal == "*" or (isinstance(principal, dict) and "*" in as_list(principal.get("AWS")))
    return anyone and any(r in _EVERYTHING for r in as_list(statement.get("Resource", "*")))


def _what_it_opens(service: str | None) -> str:
    if service == "s3":
        return "every bucket of every account, the way data leaves a private VPC"
    if service in ("ecr.api", "ecr.dkr"):
        return "every account's registry"
    return "every account's resources with any account's credentials"


def endpoint_policy(args: ResourceValidationArgs) -> Iterator[str]:
    # AWS's default endpoint type is Gateway (ec2 CreateVpcEndpoint, VpcEndpointType).
    kind = endpoint_type(args)
    _, service = endpoint_service(args)
    if kind == "Interface" and service in config(args, "withoutPolicySupport", UNDOCUMENTED):
        return
    document = json_document(args.props, "policy")
    if document is UNKNOWN:
        args.not_applicable("the endpoint policy is unknown until its inputs exist; checked during update")
    if not document:
        yield fix(f"no endpoint policy, so AWS gives it one that allows every action to every principal: it "
                  f"reaches {_what_it_opens(service)}", _where(args),
                  "set `policy` to a document that allows only what the workloads use — for S3 the buckets they "
                  "read, for other services the account's own principals (aws:PrincipalAccount) and resources")
        return
    for statement in as_list(document.get("Statement") if isinstance(document, dict) else None):
        if isinstance(statement, dict) and _opens_everything(statement):
            yield fix(f"statement {statement.get('Sid', '(no Sid)')!r} of its policy allows every resource to every "
                      f"principal, so it reaches {_what_it_opens(service)}", _where(args),
                      "name the resources (bucket ARNs, the account's repositories) or add a condition such as "
                      "aws:PrincipalAccount / aws:ResourceAccount")


ENDPOINT_POLICY_SCHEMA = PolicyConfigSchema(properties={"withoutPolicySupport": {
    "type": "array", "items": {"type": "string"}, "default": UNDOCUMENTED,
    "description": "interface endpoint services not required to have a policy: AWS documents no endpoint-policy "
                   "support for them (the program asks AWS and attaches one where AWS accepts it)"}})

POLICIES = [
    resource_policy("interface-endpoint-private-dns", "Interface endpoints have private DNS (S3's aside) and a "
                    "security group.", ENDPOINT, interface_private_dns, applies=PRIVATE_ONLY,
                    reads="VpcEndpoint vpc_endpoint_type, service_name, private_dns_enabled, security_group_ids"),
    resource_policy("endpoint-in-stack-region", "Endpoint service names are in the stack's region.", ENDPOINT,
                    in_stack_region, reads="VpcEndpoint service_name; its provider's region",
                    severity=Severity.MEDIUM),
    resource_policy("s3-gateway-endpoint", "S3 is reached through a gateway endpoint (advisory: cost).", ENDPOINT,
                    s3_is_gateway, reads="VpcEndpoint service_name, vpc_endpoint_type", applies=PRIVATE_ONLY,
                    level=ADVISORY, severity=Severity.LOW),
    resource_policy("endpoint-policy-restricts", "Every VPC endpoint has a policy, and it does not allow every "
                    "resource to every principal.", ENDPOINT, endpoint_policy, severity=Severity.CRITICAL,
                    reads="VpcEndpoint policy, vpc_endpoint_type, service_name", schema=ENDPOINT_POLICY_SCHEMA),
]
