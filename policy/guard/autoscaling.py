"""Auto Scaling groups: they launch from launch templates (AWS FSBP AutoScaling.9), and the group itself is told what
its instances inherit from what it launches — the template's own findings name the fix, the group's say which running
fleet has the problem (advisory: one root cause is one mandatory finding, on the template)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from pulumi_policy import PolicyResource, ResourceValidationArgs, Severity, StackValidationArgs

from guard import compute, volumes
from guard.graph import StackGraph, label
from guard.kit import ADVISORY, resource_policy, stack_policy, where
from guard.types import AUTOSCALING_GROUP, LAUNCH_CONFIGURATION, LAUNCH_TEMPLATE
from guard.values import fix, get, what_of

Violations = Iterator[tuple[str, str]]


def launch_template(args: ResourceValidationArgs) -> Iterator[str]:
    if get(args.props, "launchConfiguration"):
        yield fix("the group launches from a launch configuration, which gets no new EC2 features or instance types "
                  "(AWS no longer adds them to launch configurations)", where(args),
                  "launch from an aws.ec2.LaunchTemplate (launch_template or mixed_instances_policy) and drop "
                  "launch_configuration")


class _Unknown(Exception):
    pass


class _Launcher:
    """A launch template or configuration, shaped like the validation args the resource checks read."""

    def __init__(self, r: PolicyResource) -> None:
        self.resource_type, self.props, self.urn, self.name = r.resource_type, r.props, r.urn, r.name

    def get_config(self) -> dict[str, Any]:
        return {}

    def not_applicable(self, reason: str | None = None) -> None:
        raise _Unknown(reason)


_CHECKS: tuple[Callable[[Any], Iterable[str]], ...] = (
    compute.ec2_imdsv2, compute.ec2_no_public_ip, compute.ec2_imds_hop_limit, volumes.ebs_encrypted_volumes)


def _inherited(source: PolicyResource) -> list[str]:
    launcher, found = _Launcher(source), []
    checks = (*_CHECKS, volumes.ec2_encrypted_root) if source.resource_type == LAUNCH_CONFIGURATION else _CHECKS
    for check in checks:
        try:
            found += [what_of(m, label(source)) for m in check(launcher)]
        except _Unknown:
            continue  # the template's own policy says it is checked during update
    return found


def group_launches(graph: StackGraph, args: StackValidationArgs) -> Violations:
    for group in graph.of(AUTOSCALING_GROUP):
        sources = [*graph.feeds(group, "launchTemplate", LAUNCH_TEMPLATE),
                   *graph.feeds(group, "mixedInstancesPolicy", LAUNCH_TEMPLATE),
                   *graph.feeds(group, "launchConfiguration", LAUNCH_CONFIGURATION)]
        for source in sources:
            inherited = _inherited(source)
            if inherited:
                yield fix(f"every instance it starts inherits from {label(source)}: {'; '.join(inherited)}",
                          label(group), f"fix {label(source)} (its own findings name how), then start an instance "
                          "refresh on the group so running instances are replaced"), group.urn


POLICIES = [
    resource_policy("autoscaling-launch-template", "Auto Scaling groups launch from launch templates, not launch "
                    "configurations.", (AUTOSCALING_GROUP,), launch_template, controls=("AutoScaling.9",),
                    reads="autoscaling.Group launch_configuration", severity=Severity.MEDIUM),
    stack_policy("autoscaling-group-launches", "An Auto Scaling group is told what its instances inherit from an "
                 "unsafe launch template or configuration (advisory).", group_launches, level=ADVISORY,
                 reads="autoscaling.Group launch_template, mixed_instances_policy, launch_configuration; what those "
                       "set (IMDS, public IPs, volumes)"),
]
