"""Who else is connected: Session Manager's own list of active sessions, asked before a stack is put to sleep or its
bastion parked, so that one operator (or the nightly job) never ends another's session.

`ssm:DescribeSessions` with `State=Active` lists "all active sessions (both connected and disconnected)" (AWS
Systems Manager API Reference, DescribeSessions), each with its `Target` (an instance id, or
`ecs:<cluster>_<taskId>_<runtimeId>` for ECS Exec and port forwarding through a task, as the AWS CLI builds it in
awscli/customizations/ecs/executecommand.py) and its `Owner` (the caller's ARN). A stack's sessions are those on
its SSM host and its bastion's tasks; a network stack's are those on anything in its VPC.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from program.contract import Out

# Sessions that no longer hold anything: ended, ending, or never started.
_GONE = {"Terminated", "Terminating", "Failed"}


@dataclass(frozen=True)
class ActiveSession:
    session_id: str
    owner: str
    target: str
    started: datetime | None
    document: str = ""

    def __str__(self) -> str:
        since = f" since {self.started:%Y-%m-%d %H:%M} UTC" if self.started else ""
        return f"session {self.session_id} by {who(self.owner)} on {self.target}{since}"


def who(owner: str) -> str:
    """`arn:aws:sts::1234:assumed-role/Dev/alice` -> `alice (assumed-role/Dev)`: the person first, then the role."""
    path = owner.split(":", 5)[-1]
    head, _, tail = path.rpartition("/")
    return f"{tail} ({head})" if head else owner


class SessionLister(Protocol):
    """What this module asks of AWS: active sessions, and which VPC a session's target is in."""

    def active(self) -> list[ActiveSession]: ...
    def vpc_of(self, target: str) -> str | None: ...


@dataclass(frozen=True)
class Targets:
    """What counts as a session on one stack."""

    stack: str
    instance_ids: frozenset[str] = frozenset()
    ecs_clusters: frozenset[str] = frozenset()
    vpc_id: str | None = None  # a network stack: anything in its VPC

    @classmethod
    def of(cls, stack: str, outputs: Mapping[str, Any]) -> Targets:
        if outputs.get(Out.ROLE) == "network":
            return cls(stack, vpc_id=str(outputs.get(Out.VPC_ID) or "") or None)
        host, cluster = outputs.get(Out.SSM_HOST_INSTANCE_ID), outputs.get(Out.BASTION_CLUSTER)
        return cls(stack, frozenset({str(host)} if host else set()), frozenset({str(cluster)} if cluster else set()))

    @classmethod
    def bastion(cls, stack: str, cluster: str) -> Targets:
        return cls(stack, ecs_clusters=frozenset({cluster}))

    def covers(self, target: str, vpc_of: Callable[[str], str | None]) -> bool:
        """Whether a session target (an instance id, `ecs:<cluster>_<task>_<runtime>`) is one of these."""
        if target in self.instance_ids:
            return True
        if any(target.startswith(f"ecs:{cluster}_") for cluster in self.ecs_clusters):
            return True
        return self.vpc_id is not None and vpc_of(target) == self.vpc_id


def holders(lister: SessionLister, targets: Targets,
            mine: Callable[[ActiveSession], bool] = lambda s: False) -> list[ActiveSession]:
    """The sessions, other than this operator's own, that would end if the targets went away."""
    return [s for s in lister.active() if not mine(s) and targets.covers(s.target, lister.vpc_of)]


def own_sessions(identity: str, since: datetime) -> Callable[[ActiveSession], bool]:
    """This command's own sessions: its caller's, started since it began (they may still be listed as ending)."""
    return lambda s: s.owner == identity and s.started is not None and s.started >= since


def listed(sessions: Iterable[ActiveSession]) -> str:
    return "; ".join(map(str, sessions))


class AwsSessions:
    """SessionLister over boto3: DescribeSessions, and the VPC of an instance or an ECS task."""

    def __init__(self, session: Any) -> None:
        self.session = session
        self._vpcs: dict[str, str | None] = {}

    def active(self) -> list[ActiveSession]:
        found: list[ActiveSession] = []
        for page in self.session.client("ssm").get_paginator("describe_sessions").paginate(State="Active"):
            for s in page.get("Sessions", []):
                if s.get("Status") in _GONE:
                    continue
                found.append(ActiveSession(s["SessionId"], s.get("Owner", ""), s.get("Target", ""),
                                           s.get("StartDate"), s.get("DocumentName", "")))
        return found

    def vpc_of(self, target: str) -> str | None:
        if target not in self._vpcs:
            self._vpcs[target] = self._find_vpc(target)
        return self._vpcs[target]

    def _find_vpc(self, target: str) -> str | None:
        ec2 = self.session.client("ec2")
        if target.startswith("i-"):
            reservations = ec2.describe_instances(InstanceIds=[target]).get("Reservations", [])
            return next((i.get("VpcId") for r in reservations for i in r.get("Instances", [])), None)
        if target.startswith("ecs:"):
            # ecs:<cluster>_<taskId>_<runtimeId>: a cluster name may hold '_', the two ids never do.
            cluster_and_task = target[len("ecs:"):].rpartition("_")[0]
            cluster, _, task = cluster_and_task.rpartition("_")
            tasks = self.session.client("ecs").describe_tasks(cluster=cluster, tasks=[task]).get("tasks", [])
            subnets = [d["value"] for t in tasks for a in t.get("attachments", []) for d in a.get("details", [])
                       if d.get("name") == "subnetId"]
            if subnets:
                found = ec2.describe_subnets(SubnetIds=subnets[:1]).get("Subnets", [])
                return found[0].get("VpcId") if found else None
        return None
