"""Allowing connections, not adding rules (the CDK `Connections` idea).

`a.allow_to(b, Port.tcp(2049), "NFS")` emits two standalone resources: an `aws.vpc.SecurityGroupIngressRule` on b's
group admitting a, and the matching `aws.vpc.SecurityGroupEgressRule` on a's group. Groups themselves never carry
inline rules, so two groups that allow each other can always be created (groups first, then rules): the
"Circular dependency between resources" of two groups that name each other inline cannot be
written with this module.

Logical names come from the peers' names and the port ("share-allows-tcp2049-from-host"), never from variable
names or list positions, so refactoring the program does not replace rules. Asking for the same rule twice, from
either side, yields one pair.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import pulumi
import pulumi_aws as aws

# Characters AWS accepts in a security group or rule description.
_DESCRIPTION = re.compile(r"^[a-zA-Z0-9 ._\-:/()#,@\[\]+=&;{}!$*]{0,255}$")
_NAME = re.compile(r"^[a-z][a-z0-9-]*$")


@dataclass(frozen=True)
class Port:
    """A protocol and port range, as a value: `Port.tcp(443)`, `Port.tcp_range(8000, 8080)`, `Port.all_traffic()`."""

    protocol: str  # "tcp", "udp" or "-1" (all)
    from_port: int | None
    to_port: int | None

    @classmethod
    def tcp(cls, port: int) -> Port:
        return cls.tcp_range(port, port)

    @classmethod
    def tcp_range(cls, start: int, end: int) -> Port:
        if not 0 <= start <= end <= 65535:
            raise ValueError(f"a TCP port range needs 0 <= start <= end <= 65535, got {start}-{end}")
        return cls("tcp", start, end)

    @classmethod
    def udp(cls, port: int) -> Port:
        if not 0 <= port <= 65535:
            raise ValueError(f"a UDP port needs 0 <= port <= 65535, got {port}")
        return cls("udp", port, port)

    @classmethod
    def all_traffic(cls) -> Port:
        return cls("-1", None, None)

    def __str__(self) -> str:
        if self.protocol == "-1":
            return "all traffic"
        if self.from_port == self.to_port:
            return f"{self.protocol}/{self.from_port}"
        return f"{self.protocol}/{self.from_port}-{self.to_port}"

    @property
    def slug(self) -> str:
        """The port's part of a logical name: tcp443, tcp8000-8080, all."""
        if self.protocol == "-1":
            return "all"
        if self.from_port == self.to_port:
            return f"{self.protocol}{self.from_port}"
        return f"{self.protocol}{self.from_port}-{self.to_port}"

    def rule_args(self) -> dict[str, object]:
        # AWS rejects ports on an all-protocol rule.
        if self.protocol == "-1":
            return {"ip_protocol": "-1"}
        return {"ip_protocol": self.protocol, "from_port": self.from_port, "to_port": self.to_port}


def check_description(text: str, what: str) -> str:
    if not _DESCRIPTION.match(text):
        raise ValueError(
            f"{what} {text!r} has characters AWS rejects or is over 255 characters: use letters, digits, spaces "
            "and ._-:/()#,@[]+=&;{}!$*"
        )
    return text


def security_group(
    name: str, *, vpc_id: pulumi.Input[str], description: str, parent: pulumi.Resource, was: str | None = None
) -> aws.ec2.SecurityGroup:
    """A group with no inline rules at all: every rule is a standalone resource made by `Connections`.

    Leaving `ingress`/`egress` unset also drops the allow-all egress AWS adds to a new group (the provider
    removes it on create), so a group allows nothing until a connection is allowed.
    """
    return aws.ec2.SecurityGroup(
        name,
        vpc_id=vpc_id,
        description=check_description(description, "security group description"),
        tags={"Name": name},
        opts=pulumi.ResourceOptions(parent=parent, aliases=[pulumi.Alias(name=was)] if was else None),
    )


@dataclass(eq=False)
class PrefixListPeer:
    """A managed prefix list as a peer, e.g. S3's, reached through the gateway endpoint."""

    name: str
    prefix_list_id: pulumi.Input[str]
    default_port: Port | None = None


@dataclass(frozen=True)
class ExistingGroup:
    """A security group this stack does not own (e.g. a network stack's endpoint group), known by its id. Rules
    may be added to it from here — standalone, so either stack can be destroyed without the other."""

    id: pulumi.Input[str]


@dataclass(eq=False)
class Connections:
    """The security group of one thing (the SSM host, the file share, ...), and the connections allowed to it.

    `name` is the thing's name in the user's words; it appears in rule names and descriptions.
    `owner` is the component the group belongs to: rules on this group are its children (None: the stack's).
    """

    name: str
    group: aws.ec2.SecurityGroup | ExistingGroup
    owner: pulumi.Resource | None
    # The port others connect to this thing on when they name none (443 for an endpoint group, 2049 for a share).
    default_port: Port | None = None
    # The name this connection had in airgap 0.1, when it differs: its rules carry aliases to their 0.1 names.
    was: str | None = None
    _ingress: dict[tuple[str, Port], aws.vpc.SecurityGroupIngressRule] = field(default_factory=dict, repr=False)
    _egress: dict[tuple[str, Port], aws.vpc.SecurityGroupEgressRule] = field(default_factory=dict, repr=False)
    _peers: dict[str, object] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        if not _NAME.match(self.name):
            raise ValueError(f"connection name {self.name!r}: expected lowercase words joined by '-'")

    @classmethod
    def with_new_group(cls, name: str, *, vpc_id: pulumi.Input[str], description: str, owner: pulumi.Resource,
                       default_port: Port | None = None, was: str | None = None) -> Connections:
        """The usual start: a new group (no rules at all) for the thing called `name`, owned by `owner`."""
        group = security_group(name, vpc_id=vpc_id, description=description, parent=owner, was=was)
        return cls(name, group, owner, default_port=default_port, was=was)

    @classmethod
    def existing(cls, name: str, group_id: pulumi.Input[str], *, owner: pulumi.Resource | None = None,
                 default_port: Port | None = None, was: str | None = None) -> Connections:
        """A group created elsewhere, by id; the rules this stack adds to it are children of `owner`."""
        return cls(name, ExistingGroup(group_id), owner, default_port=default_port, was=was)

    @property
    def connections(self) -> Connections:
        """A Connections is itself connectable."""
        return self

    def allow_from(self, other: Peer, port: Port | None = None, description: str = "") -> list[pulumi.Resource]:
        """Let `other` open connections to this thing on `port` (default: this thing's default port): ingress here,
        and egress on `other`. Returns the rules that make up the connection (for `depends_on`)."""
        peer = _peer(other)
        port = _port(port, self, peer)
        if isinstance(peer, PrefixListPeer):
            return [self._ingress_rule(peer, port, description)]
        return peer.allow_to(self, port, description)

    def allow_to(self, other: Peer, port: Port | None = None, description: str = "") -> list[pulumi.Resource]:
        """Let this thing open connections to `other` on `port` (default: `other`'s default port): egress here, and
        ingress on `other`. Returns the rules that make up the connection (for `depends_on`)."""
        peer = _peer(other)
        port = _port(port, peer, self)
        check_description(description, "connection description")
        rules = [self._egress_rule(peer, port, description)]
        if isinstance(peer, Connections):
            rules.append(peer._ingress_rule(self, port, description))
        return rules

    def _remember(self, peer: Connections | PrefixListPeer) -> None:
        # Two different peers with one name would produce colliding rule names.
        known = self._peers.setdefault(peer.name, peer)
        if known is not peer:
            raise ValueError(f"two different peers of {self.name!r} are both named {peer.name!r}")

    def _ingress_rule(self, source: Connections | PrefixListPeer, port: Port, description: str) -> pulumi.Resource:
        return self._rule("ingress", source, port, description)

    def _egress_rule(self, target: Connections | PrefixListPeer, port: Port, description: str) -> pulumi.Resource:
        return self._rule("egress", target, port, description)

    def _rule(self, direction: str, peer: Connections | PrefixListPeer, port: Port, description: str) \
            -> pulumi.Resource:
        rules: dict = self._ingress if direction == "ingress" else self._egress
        key = (peer.name, port)
        if key in rules:
            return rules[key]
        self._remember(peer)
        resource: Any
        verb, preposition, resource = (
            ("allows", "from", aws.vpc.SecurityGroupIngressRule)
            if direction == "ingress"
            else ("sends", "to", aws.vpc.SecurityGroupEgressRule)
        )
        target = (
            {"referenced_security_group_id": peer.group.id}
            if isinstance(peer, Connections)
            else {"prefix_list_id": peer.prefix_list_id}
        )
        name = f"{self.name}-{verb}-{port.slug}-{preposition}-{peer.name}"
        # Named as in airgap 0.1 when either side was renamed since: an alias, so the rule is not replaced.
        old = (f"{self.was or self.name}-{verb}-{port.slug}-{preposition}-{getattr(peer, 'was', None) or peer.name}"
               if self.was or getattr(peer, "was", None) else None)
        text = f"{port} {preposition} {peer.name}" + (f": {description}" if description else "")
        rules[key] = resource(
            name,
            security_group_id=self.group.id,
            description=check_description(text, "rule description"),
            tags={"Name": f"{self.name} {preposition} {peer.name} {port}"},
            **target,
            **port.rule_args(),
            opts=pulumi.ResourceOptions(parent=self.owner, aliases=[pulumi.Alias(name=old)] if old else None),
        )
        return rules[key]


@runtime_checkable
class Connectable(Protocol):
    """Anything that takes part in connections (CDK's IConnectable): the SSM host, the file share, the bastion, the
    endpoints, or a Connections itself. `a.connections.allow_to(b)` accepts the object `b`, not only its group."""

    @property
    def connections(self) -> Connections: ...


Peer = Connectable | PrefixListPeer


def _peer(other: Peer) -> Connections | PrefixListPeer:
    if isinstance(other, Connections | PrefixListPeer):
        return other
    found = getattr(other, "connections", None)
    if not isinstance(found, Connections):
        raise TypeError(f"{other!r} cannot take part in a connection: it has no `connections`")
    return found


def _port(port: Port | None, target: Connections | PrefixListPeer, source: Connections | PrefixListPeer) -> Port:
    """The port asked for, or the one the receiving side is reached on by default."""
    if port is not None:
        return port
    if target.default_port is None:
        raise ValueError(f"{source.name} -> {target.name}: {target.name} has no default port; pass one, "
                         "e.g. Port.tcp(443)")
    return target.default_port
