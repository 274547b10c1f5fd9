"""Stack policies on EFS file shares: every client that may mount a share can reach it on both sides, every share has
a file-system policy, and mount targets sit only in isolated subnets."""

from __future__ import annotations

from collections.abc import Iterator

from pulumi_policy import PolicyResource, StackValidationArgs

from guard.graph import StackGraph, label
from guard.kit import PRIVATE_ONLY, stack_policy
from guard.reach import Reach
from guard.routes import Routes
from guard.types import FILE_SYSTEM, FS_POLICY, INSTANCE, MOUNT_TARGET, PROFILE, ROLE, SUBNET
from guard.values import fix, get, remedy

Violations = Iterator[tuple[str, str]]

_NFS_HALVES = ("add both halves as standalone rules: tcp/2049 egress on the client's group referencing the share's "
               "group, and tcp/2049 ingress on the share's group referencing the client's group")


def _share_groups(graph: StackGraph, fs: PolicyResource) -> list[PolicyResource]:
    groups: dict[str, PolicyResource] = {}
    for target in graph.fed_by(fs, "fileSystemId", MOUNT_TARGET):
        groups.update({g.urn: g for g in graph.groups_of(target)})
    return list(groups.values())


def _share_clients(graph: StackGraph, reach: Reach, fs: PolicyResource, share: list[PolicyResource]) \
        -> dict[str, tuple[str, list[PolicyResource]]]:
    """Client name -> (what it is, its groups): groups any rule pairs with the share's, and instances whose role
    the file-system policy grants."""
    urns = {g.urn for g in share}
    clients: dict[str, tuple[str, list[PolicyResource]]] = {}
    for e in reach.touching(share):
        if e.group is None or not e.view.covers(2049):
            continue
        if e.group.urn in urns:
            for p in e.peers:
                if p.urn not in urns:
                    clients[p.urn] = (f"SecurityGroup '{p.name}'", [p])
        elif urns & {p.urn for p in e.peers}:
            clients[e.group.urn] = (f"SecurityGroup '{e.group.name}'", [e.group])
    for policy in graph.fed_by(fs, "fileSystemId", FS_POLICY):
        for role in graph.feeds(policy, "policy", ROLE):
            for profile in graph.fed_by(role, "role", PROFILE):
                for instance in graph.fed_by(profile, "iamInstanceProfile", INSTANCE):
                    groups = graph.groups_of(instance)
                    if groups and not any(g.urn in clients for g in groups):
                        clients[instance.urn] = (label(instance), groups)
    return clients


def efs_reachability(graph: StackGraph, args: StackValidationArgs) -> Violations:
    reach = Reach.of(graph)
    for fs in graph.of(FILE_SYSTEM):
        share = _share_groups(graph, fs)
        for urn, (name, groups) in _share_clients(graph, reach, fs, share).items():
            for target in share:
                if not reach.egress(groups, target, 2049):
                    yield fix(f"may mount {label(fs)} but has no 2049 egress to its group '{target.name}'",
                              name, remedy(urn, _NFS_HALVES, "client.connections.allow_to(share.connections, "
                                           "Port.tcp(2049), ...)")), urn
                if not reach.ingress(target, groups, 2049):
                    yield fix(f"the file share's group does not admit 2049 from {name}",
                              f"SecurityGroup '{target.name}'", remedy(target.urn, _NFS_HALVES,
                                                                       "client.connections.allow_to(share.connections, "
                                                                       "Port.tcp(2049), ...)")), target.urn


def efs_has_tls_policy(graph: StackGraph, args: StackValidationArgs) -> Violations:
    for fs in graph.of(FILE_SYSTEM):
        if not graph.fed_by(fs, "fileSystemId", FS_POLICY):
            yield fix("the file system has no file-system policy, so any client that reaches a mount target may "
                      "mount it, with or without TLS", label(fs),
                      remedy(fs.urn, "add an aws.efs.FileSystemPolicy that denies access when aws:SecureTransport is "
                             "false and allows only the roles that mount it", "FileShare.grant_mount(role)")), fs.urn


def efs_isolated(graph: StackGraph, args: StackValidationArgs) -> Violations:
    routes = Routes.of(graph)
    for target in graph.of(MOUNT_TARGET):
        for subnet in graph.feeds(target, "subnetId", SUBNET):
            public = get(subnet.props, "mapPublicIpOnLaunch") is True
            if public or routes.routed(subnet):
                yield fix(f"the mount target sits in {label(subnet)}, which "
                          f"{'maps public IPs' if public else 'has a default route'}", label(target),
                          "place mount targets only in the isolated subnets"), target.urn


POLICIES = [
    stack_policy("efs-reachability", "Every file-share client has 2049 egress to the share's group and the share's "
                 "group admits 2049 from it.", efs_reachability,
                 reads="MountTarget security_groups; rules on them; FileSystemPolicy roles; their instances' groups"),
    stack_policy("efs-has-tls-policy", "Every EFS file system has a file-system policy.", efs_has_tls_policy,
                 reads="efs.FileSystem; FileSystemPolicy file_system_id"),
    stack_policy("efs-mount-targets-isolated", "EFS mount targets sit only in isolated subnets.", efs_isolated,
                 applies=PRIVATE_ONLY, reads="MountTarget subnet_id; Subnet map_public_ip_on_launch; routes"),
]
