"""What a workload declares about itself: what it reaches from its isolated subnets, and what it serves to the bastion.

A workload is a component with `.connections` (something rules can allow to and from) that also says
- `needs()`: the endpoint services it calls AWS through and the AWS-owned buckets it reads through the S3 gateway —
  a class method, so the endpoints can be made (and their policies written) before the workload exists;
- `forward_targets()`: the addresses and ports it serves, which the bastion may port-forward to.
What it does asleep is its args' `asleep`. `VpcEndpoints` takes the union of its workloads' needs; the program's
outputs, the forward targets, the plan's cost and diagram go through these, not through a list of workload names.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import pulumi

from airgap.connections import Connections
from airgap.endpoint_policies import AWS_BUCKETS, AwsBucket


@dataclass(frozen=True)
class Needs:
    """Endpoint services (the catalogue's names, the S3 gateway included) and the AWS-owned buckets read through it."""

    endpoints: frozenset[str] = frozenset()
    buckets: tuple[AwsBucket, ...] = ()

    def __or__(self, other: Needs) -> Needs:
        return Needs(self.endpoints | other.endpoints,
                     (*self.buckets, *(b for b in other.buckets if b not in self.buckets)))

    @classmethod
    def union(cls, needs: Iterable[Needs]) -> Needs:
        found = cls()
        for one in needs:
            found = found | one
        return found


def buckets_of(workload: str) -> tuple[AwsBucket, ...]:
    """The AWS-owned buckets the table says `workload` reads (endpoint_policies.AWS_BUCKETS, with their sources)."""
    return tuple(b for b in AWS_BUCKETS if b.workload == workload)


@dataclass(frozen=True)
class ForwardTarget:
    """An address the bastion may forward to, and on which ports (its group admits them from the bastion's)."""

    name: str  # what `forward --to` names it by: "ssm-host", "database"
    address: pulumi.Input[str]
    ports: tuple[int, ...] = field(default_factory=tuple)
    what: str = ""  # in words, for rule descriptions: "the SSM host"


@runtime_checkable
class Workload(Protocol):
    connections: Connections

    def forward_targets(self) -> Sequence[ForwardTarget]: ...


def needs_of(names: Iterable[str]) -> Needs:
    """0.2's `workloads=("ssm-host", "bastion")`: the default needs of the workloads named."""
    from airgap.bastion import FargateBastion
    from airgap.ssm_host import SsmHost

    known = {"ssm-host": SsmHost.needs(), "bastion": FargateBastion.needs()}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ValueError(f"unknown workloads {unknown}: expected {list(known)} or the workloads' own needs() "
                         "(airgap.workload.Needs)")
    return Needs.union(known[n] for n in names)
