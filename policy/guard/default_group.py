"""The VPC's default security group (AWS FSBP EC2.2: it should allow no inbound and no outbound traffic).

AWS gives every VPC a default group that admits all traffic from its own members and allows all egress, and puts in
it anything launched without a group of its own (Amazon VPC User Guide, "Default security groups for your VPCs").
Rules reach it two ways: inline on an adopted `aws.ec2.DefaultSecurityGroup`, or as standalone rules whose
`security_group_id` is the group (through the DefaultSecurityGroup, or a VPC's `default_security_group_id`). An AWS
Glue connection placed in the group needs its self-referencing rule (AWS Glue Developer Guide, "Setting up network
access to data stores"), so the fix then starts by giving the connection a group of its own.
"""

from __future__ import annotations

from collections.abc import Iterator

from pulumi_policy import PolicyResource, Severity, StackValidationArgs

from guard.graph import StackGraph, label
from guard.kit import stack_policy
from guard.types import DEFAULT_SG, DEFAULT_VPC, EGRESS, GLUE_CONNECTION, INGRESS, LEGACY_RULE, VPC
from guard.values import UNKNOWN, fix, get

Violations = Iterator[tuple[str, str]]
_OWNERS = (DEFAULT_SG, VPC, DEFAULT_VPC)


def _glue_users(graph: StackGraph, owner: PolicyResource) -> list[PolicyResource]:
    """Glue connections placed in the default group that `owner` (the group, or its VPC) stands for."""
    return graph.fed_by(owner, "physicalConnectionRequirements", GLUE_CONNECTION)


def _glue_first(glue: list[PolicyResource]) -> str:
    if not glue:
        return ""
    names = ", ".join(label(g) for g in glue)
    return (f"first give {names} a security group of its own with a self-referencing ingress rule for all TCP ports "
            "(AWS Glue needs one; it relies on the default group's today) in "
            "physical_connection_requirements.security_group_id_lists, then ")


def default_group_empty(graph: StackGraph, args: StackValidationArgs) -> Violations:
    for group in graph.of(DEFAULT_SG):
        # Wholly unknown in a first preview means computed (the program set nothing); rules it sets are a list.
        inline = [k for k in ("ingress", "egress") if get(group.props, k) and get(group.props, k) is not UNKNOWN]
        if inline:
            glue = _glue_users(graph, group) + [g for vpc in graph.feeds(group, "vpcId")
                                                for g in _glue_users(graph, vpc)]
            yield fix(f"the VPC's default security group keeps {' and '.join(inline)} rules, and anything launched "
                      "without a group of its own lands in it", label(group),
                      f"{_glue_first(glue)}leave ingress and egress empty on the aws.ec2.DefaultSecurityGroup"), \
                group.urn
    for rule in graph.of(INGRESS, EGRESS, LEGACY_RULE):
        owners = graph.feeds(rule, "securityGroupId", *_OWNERS)
        if owners:
            owner = owners[0]
            what = label(owner) if owner.resource_type == DEFAULT_SG else \
                f"the default security group of {label(owner)}"
            yield fix(f"adds a rule to {what} (its default_security_group_id), which should admit and send nothing",
                      label(rule), f"{_glue_first(_glue_users(graph, owner))}attach the rule to a security group "
                      "made for the resources that need it"), rule.urn


def default_group_managed(graph: StackGraph, args: StackValidationArgs) -> Violations:
    for vpc in graph.of(VPC):
        if not graph.fed_by(vpc, "vpcId", DEFAULT_SG):
            yield fix("the VPC's default security group is not managed, so it keeps AWS's rules: all traffic from its "
                      "own members, all egress", label(vpc),
                      f"{_glue_first(_glue_users(graph, vpc))}adopt it with "
                      "aws.ec2.DefaultSecurityGroup(vpc_id=vpc.id) and no rules"), vpc.urn


POLICIES = [
    stack_policy("default-security-group-empty", "The VPC's default security group has no rules, inline or "
                 "standalone.", default_group_empty, controls=("EC2.2",),
                 reads="DefaultSecurityGroup ingress/egress; rules whose security_group_id is a DefaultSecurityGroup "
                       "or a Vpc's default_security_group_id; glue.Connection physical_connection_requirements"),
    stack_policy("default-security-group-managed", "Every VPC's default security group is adopted and emptied.",
                 default_group_managed, controls=("EC2.2",), severity=Severity.MEDIUM,
                 reads="Vpc; DefaultSecurityGroup vpc_id; glue.Connection physical_connection_requirements"),
]
