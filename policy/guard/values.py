"""Reading resource properties without being silently skipped.

pulumi_policy wraps properties in a proxy that raises `UnknownValueError` when a policy touches a value that is
unknown during preview; the analyzer then reports "can't run policy ... during preview" as an advisory and moves on
— a pass, as far as CI can tell. Policies here read through `get`, which turns an unknown into the `UNKNOWN`
marker, so each policy decides what an unknown means: usually a property dependency tells what is needed, and when
nothing can, the policy says so with `not_applicable(reason)`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pulumi_policy.proxy import UnknownValueError

from guard.types import DEFAULT_SG, EGRESS, INGRESS, LEGACY_RULE, SG


class _Unknown:
    def __repr__(self) -> str:
        return "<unknown during preview>"

    def __bool__(self) -> bool:
        # An unknown value is a value that was set: `if get(props, "ingress")` must see inline rules even when
        # their content is not known yet. Checks that need the value itself compare with `is UNKNOWN` first.
        return True


UNKNOWN: Any = _Unknown()


def get(props: Any, path: str, default: Any = None) -> Any:
    """The value at a dotted path ("metadataOptions.httpTokens", "subnetIds.0"); `default` when absent;
    `UNKNOWN` when it (or anything on the way) is unknown."""
    current = props
    try:
        for part in path.split("."):
            if isinstance(current, Mapping):
                current = current[part]
            elif isinstance(current, Sequence) and not isinstance(current, str) and part.isdigit():
                current = current[int(part)]
            else:
                return default
    except (KeyError, IndexError):
        return default
    except UnknownValueError:
        return UNKNOWN
    return default if current is None else current


def plain(value: Any) -> Any:
    """A proxied value as plain dicts and lists; `UNKNOWN` if any part of it is unknown."""
    try:
        return _plain(value)
    except UnknownValueError:
        return UNKNOWN


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _plain(value[k]) for k in value}
    if isinstance(value, Sequence) and not isinstance(value, str):
        return [_plain(value[i]) for i in range(len(value))]
    return value


def json_document(props: Any, key: str) -> Any:
    """A JSON-string property (a policy document, container definitions) parsed; None when absent, UNKNOWN when
    unknown."""
    text = get(props, key)
    if text is None or text is UNKNOWN:
        return text
    if isinstance(text, (dict, list)):
        return plain(text)
    try:
        return json.loads(text)
    except (TypeError, ValueError):
        return None


def as_list(value: Any) -> list[Any]:
    """One value or a sequence of them (plain or pulumi_policy's list proxy) as a list."""
    if value is None:
        return []
    if isinstance(value, str) or not isinstance(value, Sequence):
        return [value]
    items = []
    for i in range(len(value)):
        try:
            items.append(value[i])
        except UnknownValueError:  # e.g. an inline rule naming a group whose id AWS has not assigned yet
            items.append(UNKNOWN)
    return items


def fix(what: str, where: str, remedy: str) -> str:
    """Every violation message: on which resource, what is wrong, and the fix."""
    return f"{where}: {what}. Fix: {remedy}"


def what_of(message: str, where: str) -> str:
    """The "what is wrong" part of a message `fix(what, where, ...)` made."""
    return message.removeprefix(f"{where}: ").split(". Fix: ", 1)[0]


def ours(urn: str | None) -> bool:
    """Whether a resource was made by one of airgap's components (its URN's type chain has an `airgap:` component):
    only then may a remedy name airgap's own helpers or config keys."""
    if not urn or "::" not in urn:
        return False
    chain = urn.split("::")[2] if urn.count("::") >= 3 else ""
    return any(part.startswith("airgap:") for part in chain.split("$"))


def remedy(urn: str | None, provider_terms: str, airgap_terms: str) -> str:
    """The fix in the provider's own resources and properties; for airgap's resources, also airgap's way to it."""
    return f"{provider_terms} (in airgap: {airgap_terms})" if ours(urn) else provider_terms


@dataclass(frozen=True)
class RuleView:
    """A security-group rule, whichever way it was written (standalone vpc rule, legacy rule, or inline)."""

    direction: str  # "ingress" | "egress"
    protocol: Any  # normalised: "tcp", "udp", "icmp", "all", or as given
    from_port: Any
    to_port: Any
    cidrs: tuple[Any, ...]
    references_group: bool
    prefix_list: bool

    def covers(self, port: int, protocol: str = "tcp") -> bool:
        if self.protocol == "all":
            return True
        if self.protocol != protocol or self.from_port is UNKNOWN or self.to_port is UNKNOWN:
            return False
        return self.from_port is not None and self.to_port is not None and self.from_port <= port <= self.to_port


_PROTOCOLS = {"-1": "all", "all": "all", "6": "tcp", "17": "udp", "1": "icmp", "58": "icmpv6"}


def protocol_name(value: Any) -> Any:
    """"tcp", "udp", "icmp", "icmpv6" or "all", however the program wrote it: a name, a number as a string, or a number
    (which the engine passes as a float: -1.0 is "all", the EC2 API's "-1"); as given otherwise."""
    if value is UNKNOWN or value is None:
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool) and float(value).is_integer():
        text = str(int(value))
    else:
        text = str(value).strip().lower()
    return _PROTOCOLS.get(text, text)


def number(value: Any) -> str:
    """A number as a person writes it: the engine passes every number as a float, and rule 130 is not "130.0"."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


STANDALONE = {
    INGRESS: "ingress",
    EGRESS: "egress",
}
GROUPS = (SG, DEFAULT_SG)


def rules_of(resource_type: str, props: Any) -> list[RuleView]:
    """Every rule a resource declares, in one shape."""
    if resource_type in STANDALONE:
        cidrs = tuple(c for c in (get(props, "cidrIpv4"), get(props, "cidrIpv6")) if c is not None)
        return [RuleView(STANDALONE[resource_type], protocol_name(get(props, "ipProtocol")), get(props, "fromPort"),
                         get(props, "toPort"), cidrs, get(props, "referencedSecurityGroupId") is not None,
                         get(props, "prefixListId") is not None)]
    if resource_type == LEGACY_RULE:
        cidrs = tuple(as_list(get(props, "cidrBlocks", [])) + as_list(get(props, "ipv6CidrBlocks", [])))
        return [RuleView(get(props, "type"), protocol_name(get(props, "protocol")), get(props, "fromPort"),
                         get(props, "toPort"), cidrs,
                         get(props, "sourceSecurityGroupId") is not None or get(props, "self") is True,
                         bool(get(props, "prefixListIds", [])))]
    if resource_type in GROUPS:
        views = []
        for direction in ("ingress", "egress"):
            rules = get(props, direction, [])
            if rules is UNKNOWN:
                continue
            for i in range(len(rules)):
                rule = f"{direction}.{i}"
                cidrs = tuple(as_list(get(props, f"{rule}.cidrBlocks", [])) +
                              as_list(get(props, f"{rule}.ipv6CidrBlocks", [])))
                views.append(RuleView(direction, protocol_name(get(props, f"{rule}.protocol")),
                                      get(props, f"{rule}.fromPort"), get(props, f"{rule}.toPort"), cidrs,
                                      bool(get(props, f"{rule}.securityGroups", [])) or get(props, f"{rule}.self")
                                      is True, bool(get(props, f"{rule}.prefixListIds", []))))
        return views
    return []


ANYWHERE = ("0.0.0.0/0", "::/0")
