"""Paths from the internet that are not routes: load balancers facing it (in a private-only stack), network ACLs that
admit remote administration from anywhere (AWS FSBP EC2.21), Kubernetes API servers with a public endpoint (EKS.1).
A property left unset means what AWS does with it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pulumi_policy import ResourceValidationArgs, Severity

from guard.kit import PRIVATE_ONLY, resource_policy, where
from guard.network import ADMIN_PORTS
from guard.types import (
    ALB_LOAD_BALANCER,
    DEFAULT_NETWORK_ACL,
    EKS_CLUSTER,
    ELB_LOAD_BALANCER,
    LB_LOAD_BALANCER,
    NETWORK_ACL,
    NETWORK_ACL_RULE,
)
from guard.values import ANYWHERE, UNKNOWN, as_list, fix, get, number, protocol_name

LOAD_BALANCERS = (LB_LOAD_BALANCER, ALB_LOAD_BALANCER, ELB_LOAD_BALANCER)
NACLS = (NETWORK_ACL, DEFAULT_NETWORK_ACL)


def lb_internal(args: ResourceValidationArgs) -> Iterator[str]:
    # `internal` unset is an internet-facing load balancer (the scheme CreateLoadBalancer defaults to).
    if get(args.props, "internal") is not True:
        yield fix("the load balancer is internet-facing (internal is unset or false), a way in from the internet, "
                  "and the stack is meant to be private-only", where(args),
                  "set internal=True and reach it from inside (Session Manager port forwarding)")


def _admin_open(action: Any, cidr: Any, ipv6: Any, protocol: Any, start: Any, end: Any) -> list[str]:
    """The administration ports an allow entry opens to 0.0.0.0/0 or ::/0 (all of them for every protocol)."""
    if str(action).lower() != "allow" or (cidr not in ANYWHERE and ipv6 not in ANYWHERE):
        return []
    name = protocol_name(protocol)
    if name == "all":
        return [f"{label} ({port})" for port, label in ADMIN_PORTS.items()]
    if name != "tcp" or not all(isinstance(p, (int, float)) for p in (start, end)):
        return []
    return [f"{label} ({port})" for port, label in ADMIN_PORTS.items() if start <= port <= end]


# FSBP EC2.21 judges each entry: a range that contains 22 or 3389 admits them. Return traffic needs the ephemeral
# ports (Amazon VPC User Guide, "Network ACLs", Ephemeral ports), and a range can skip the two ports and keep them.
_NACL_FIX = ("admit 22 and 3389 only from the ranges that administer the hosts; an entry there for return traffic can "
             "skip them (tcp 1024-3388 and 3390-65535) and keep admitting the ephemeral ports")


def nacl_no_admin_from_anywhere(args: ResourceValidationArgs) -> Iterator[str]:
    p = args.props
    if args.resource_type == NETWORK_ACL_RULE:
        opened = [] if get(p, "egress") is True else _admin_open(
            get(p, "ruleAction"), get(p, "cidrBlock"), get(p, "ipv6CidrBlock"), get(p, "protocol"), get(p, "fromPort"),
            get(p, "toPort"))
        if opened:
            yield fix(f"rule {number(get(p, 'ruleNumber'))} allows {', '.join(opened)} from anywhere", where(args),
                      _NACL_FIX)
        return
    entries = get(p, "ingress", [])
    if entries is UNKNOWN:
        args.not_applicable("the network ACL's entries are unknown until their inputs exist; checked during update")
    for i, entry in enumerate(as_list(entries)):
        opened = _admin_open(get(entry, "action"), get(entry, "cidrBlock"), get(entry, "ipv6CidrBlock"),
                             get(entry, "protocol"), get(entry, "fromPort"), get(entry, "toPort"))
        if opened:
            yield fix(f"ingress entry {i} (rule {number(get(entry, 'ruleNo'))}) allows {', '.join(opened)} from "
                      "anywhere", where(args), _NACL_FIX)


def eks_endpoint_private(args: ResourceValidationArgs) -> Iterator[str]:
    public = get(args.props, "vpcConfig.endpointPublicAccess")
    if public is False or public is UNKNOWN:
        return
    cidrs = get(args.props, "vpcConfig.publicAccessCidrs")
    ranges = "0.0.0.0/0 (public_access_cidrs unset: EKS's default)" if not cidrs else \
        ", ".join(map(str, as_list(cidrs))) if cidrs is not UNKNOWN else "ranges known after the update"
    yield fix(f"the cluster's Kubernetes API server has a public endpoint (endpoint_public_access "
              f"{'unset: EKS turns it on' if public is None else 'true'}), reachable from {ranges}", where(args),
              "set vpc_config.endpoint_public_access=False and endpoint_private_access=True, and reach the API "
              "server from inside the VPC")


POLICIES = [
    resource_policy("lb-internal", "Load balancers are internal in a private-only stack.", LOAD_BALANCERS, lb_internal,
                    reads="lb/alb/elb.LoadBalancer internal", applies=PRIVATE_ONLY, severity=Severity.CRITICAL),
    resource_policy("nacl-no-open-ingress", "Network ACLs admit no SSH or RDP from 0.0.0.0/0 or ::/0.",
                    (NETWORK_ACL_RULE, *NACLS), nacl_no_admin_from_anywhere, controls=("EC2.21",),
                    reads="NetworkAclRule rule_action, cidr_block, protocol, from/to_port, egress; NetworkAcl ingress",
                    severity=Severity.MEDIUM),
    resource_policy("eks-endpoint-private", "EKS clusters' API server endpoints are not public.", (EKS_CLUSTER,),
                    eks_endpoint_private, controls=("EKS.1",),
                    reads="eks.Cluster vpc_config.endpoint_public_access, public_access_cidrs",
                    severity=Severity.CRITICAL),
]
