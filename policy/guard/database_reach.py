"""How databases are reached and who holds their password (any RDS instance or cluster a program declares): on their
port from the groups that use them — both halves, by group reference — and from nothing else; the master password
kept by RDS, not by the program. Their own settings (encryption, backups, ...) are database.py's."""

from __future__ import annotations

from collections.abc import Iterator

from pulumi_policy import ResourceValidationArgs, Severity, StackValidationArgs

from guard.graph import StackGraph, label
from guard.kit import ADVISORY, resource_policy, stack_policy
from guard.kit import where as kit_where
from guard.reach import Reach
from guard.types import RDS_CLUSTER, RDS_INSTANCE
from guard.values import UNKNOWN, fix, get, remedy

Violations = Iterator[tuple[str, str]]

# Engine -> the port it listens on when the program names none (RDS User Guide, each engine's defaults).
_DEFAULT_PORTS = {"postgres": 5432, "aurora-postgresql": 5432, "mysql": 3306, "aurora-mysql": 3306,
                  "mariadb": 3306, "sqlserver": 1433, "oracle": 1521}
_BOTH_HALVES = ("add an aws.vpc.SecurityGroupIngressRule on the database's group with referenced_security_group_id "
                "= the client's group, and the matching aws.vpc.SecurityGroupEgressRule on the client's group")


def _port(db: object) -> int | None:
    port = get(db.props, "port")  # type: ignore[attr-defined]
    if isinstance(port, (int, float)) and port:
        return int(port)
    engine = str(get(db.props, "engine") or "")  # type: ignore[attr-defined]
    return next((p for e, p in _DEFAULT_PORTS.items() if engine.startswith(e)), None)


def database_reachability(graph: StackGraph, args: StackValidationArgs) -> Violations:
    reach = Reach.of(graph)
    for db in graph.of(RDS_CLUSTER, RDS_INSTANCE):
        groups, port = graph.groups_of(db), _port(db)
        if not groups or port is None:
            continue  # its groups (or engine) come from elsewhere: nothing here to judge
        ours = {g.urn for g in groups}
        airgap = "client.connections.allow_to(database)"
        rules = reach.touching(groups)
        for e in (e for e in rules if e.group is not None and e.group.urn in ours and e.view.direction == "ingress"):
            where = f"SecurityGroup '{e.group.name}'"
            if e.view.cidrs or not (e.peers or e.view.references_group):
                source = ", ".join(map(str, e.view.cidrs)) or "a source that is not a security group"
                yield fix(f"{label(db)}'s group admits {source}; a database is reached only by group reference from "
                          "the groups that use it", where,
                          remedy(e.rule.urn, "replace the rule with one per client group "
                                 "(referenced_security_group_id)", airgap)), e.rule.urn
                continue
            if e.view.protocol == "all" or not (e.view.from_port == e.view.to_port == port):
                yield fix(f"{label(db)}'s group admits {e.view.protocol} beyond the database's port {port}", where,
                          remedy(e.rule.urn, f"admit tcp/{port} only", airgap)), e.rule.urn
            for peer in e.peers:  # a group referenced by id from elsewhere is not judged: its rules are not here
                if peer.urn not in ours and not reach.egress([peer], e.group, port):
                    yield fix(f"admitted on {port} by {label(db)}'s group, but has no {port} egress to "
                              f"'{e.group.name}', so its connections never leave", f"SecurityGroup '{peer.name}'",
                              remedy(peer.urn, _BOTH_HALVES, airgap)), peer.urn
        for e in (e for e in rules if e.view.direction == "egress" and e.group is not None
                  and ours & {p.urn for p in e.peers} and e.view.covers(port)):
            target = next(g for g in groups if g.urn in {p.urn for p in e.peers})
            if not reach.ingress(target, [e.group], port):
                yield fix(f"may send {port} to {label(db)}, but the database's group '{target.name}' does not admit "
                          "it, so its connections time out", f"SecurityGroup '{e.group.name}'",
                          remedy(e.rule.urn, _BOTH_HALVES, airgap)), e.rule.urn


def managed_master_password(args: ResourceValidationArgs) -> list[str]:
    props = args.props
    if get(props, "manageMasterUserPassword") is True:
        return []
    given = get(props, "masterPassword") not in (None, "") or get(props, "password") not in (None, "")
    if not given or get(props, "manageMasterUserPassword") is UNKNOWN:
        return []
    return [fix("sets its master password in the program, so it lives in the stack's config and state",
                kit_where(args),
                "manage_master_user_password=True (RDS generates the password and keeps it in Secrets Manager, "
                "rotated; only the secret's ARN reaches the state)")]


POLICIES = [
    stack_policy("database-reachability", "Databases admit their port only by group reference, from groups that "
                 "send it (both halves), and nothing else.", database_reachability,
                 reads="rds.Cluster/Instance vpc_security_group_ids, port, engine; rules on their groups and peers"),
    resource_policy("rds-managed-master-password", "RDS master passwords are generated and kept by RDS in Secrets "
                    "Manager, not set in the program (advisory).", (RDS_CLUSTER, RDS_INSTANCE),
                    managed_master_password, level=ADVISORY, severity=Severity.MEDIUM,
                    reads="rds.Cluster/Instance manage_master_user_password, master_password, password"),
]
