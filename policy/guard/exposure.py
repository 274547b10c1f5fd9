"""Paths from the internet that are not routes: load balancers facing it, databases with public endpoints, network
ACLs that admit it, and data at rest left unencrypted. A property left unset means what AWS does with it."""

from __future__ import annotations

from collections.abc import Iterator

from pulumi_policy import ResourceValidationArgs, Severity

from guard.kit import resource_policy
from guard.types import (
    ALB_LOAD_BALANCER,
    DEFAULT_NETWORK_ACL,
    ELB_LOAD_BALANCER,
    LB_LOAD_BALANCER,
    NETWORK_ACL,
    NETWORK_ACL_RULE,
    RDS_CLUSTER,
    RDS_CLUSTER_INSTANCE,
    RDS_INSTANCE,
)
from guard.values import ANYWHERE, as_list, fix, get

LOAD_BALANCERS = (LB_LOAD_BALANCER, ALB_LOAD_BALANCER,
                  ELB_LOAD_BALANCER)
DB_INSTANCE = RDS_INSTANCE
DB_CLUSTER = RDS_CLUSTER
DB_CLUSTER_INSTANCE = RDS_CLUSTER_INSTANCE
NACL_RULE = NETWORK_ACL_RULE
NACLS = (NETWORK_ACL, DEFAULT_NETWORK_ACL)


def _where(args: ResourceValidationArgs) -> str:
    return f"{args.resource_type.rsplit(':', 1)[-1]} '{args.name}'"


def lb_internal(args: ResourceValidationArgs) -> Iterator[str]:
    # `internal` unset is an internet-facing load balancer (the scheme CreateLoadBalancer defaults to).
    if get(args.props, "internal") is not True:
        yield fix("the load balancer is internet-facing (internal is unset or false), a way in from the internet",
                  _where(args), "set internal=True and reach it from inside (Session Manager port forwarding)")


def db_not_public(args: ResourceValidationArgs) -> Iterator[str]:
    if get(args.props, "publiclyAccessible") is True:
        yield fix("the database has a public endpoint (publicly_accessible)", _where(args),
                  "set publicly_accessible=False")


def db_encrypted(args: ResourceValidationArgs) -> Iterator[str]:
    # Unset: RDS creates an unencrypted instance or provisioned cluster.
    if get(args.props, "storageEncrypted") is not True:
        yield fix("its storage is not encrypted at rest (storage_encrypted unset or false), and it cannot be turned "
                  "on later without a copy", _where(args), "set storage_encrypted=True")


def _open_entry(action: object, cidr: object, ipv6: object) -> bool:
    return str(action).lower() == "allow" and (cidr in ANYWHERE or ipv6 in ANYWHERE)


def nacl_no_open_ingress(args: ResourceValidationArgs) -> Iterator[str]:
    if args.resource_type == NACL_RULE:
        if get(args.props, "egress") is not True and _open_entry(get(args.props, "ruleAction"),
                                                                 get(args.props, "cidrBlock"),
                                                                 get(args.props, "ipv6CidrBlock")):
            yield fix(f"rule {get(args.props, 'ruleNumber')} allows inbound traffic from anywhere", _where(args),
                      "allow only the VPC's own ranges, or deny")
        return
    for i, entry in enumerate(as_list(get(args.props, "ingress", []))):
        if _open_entry(get(entry, "action"), get(entry, "cidrBlock"), get(entry, "ipv6CidrBlock")):
            yield fix(f"ingress entry {i} (rule {get(entry, 'ruleNo')}) allows traffic from anywhere", _where(args),
                      "allow only the VPC's own ranges, or deny")


POLICIES = [
    resource_policy("lb-internal", "Load balancers are internal, never internet-facing.", LOAD_BALANCERS, lb_internal,
                    severity=Severity.CRITICAL),
    resource_policy("rds-not-public", "RDS instances and cluster instances have no public endpoint.",
                    (DB_INSTANCE, DB_CLUSTER_INSTANCE), db_not_public, severity=Severity.CRITICAL),
    resource_policy("rds-encrypted", "RDS instances and clusters encrypt their storage.", (DB_INSTANCE, DB_CLUSTER),
                    db_encrypted),
    resource_policy("nacl-no-open-ingress", "Network ACLs admit nothing from 0.0.0.0/0 or ::/0.",
                    (NACL_RULE, *NACLS), nacl_no_open_ingress, severity=Severity.MEDIUM),
]
