"""What a captured stack costs a month, component by component, at the list prices in policy/guard/prices.py (the
same table the pack's budget policy uses). Read from the resources the program registers, not from its config.

Usage-dependent figures rest on `Assumptions`, printed with every estimate.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, fields

from guard.types import FILE_SYSTEM, FLOW_LOG, INSTANCE, KMS_KEY, RDS_CLUSTER, SERVICE, TASK
from offline.harness import Capture, Registration

from guard.types import ENDPOINT, INSTANCE_STATE  # isort: skip
from guard.prices import AS_OF, HOURS_PER_MONTH, prices_for  # isort: skip
from program.contract import Out, StackState


@dataclass(frozen=True)
class Assumptions:
    session_hours: float = 20  # hours a month a parked bastion is unparked for sessions
    endpoint_gb: float = 5  # GB a month through the interface endpoints (agent traffic, image pulls)
    efs_standard_gb: float = 5  # GB stored on the file share (standard class)
    efs_ia_gb: float = 0  # GB moved to Infrequent Access
    logs_gb: float = 1  # GB of logs ingested a month (bastion task and exec sessions)
    flow_log_gb: float = 0.5  # GB of flow log records a month (a quiet dev VPC: agents, sessions, dnf)
    awake_hours: float = 60  # hours a month awake in a working month, a session running (3 h on 20 days)
    database_gb: float = 1  # GB stored in the database

    def lines(self) -> list[str]:
        text = {
            "session_hours": "h/month a parked bastion runs for sessions (an 'on' bastion runs all 730)",
            "endpoint_gb": "GB/month through the interface endpoints",
            "efs_standard_gb": "GB on the file share (standard)", "efs_ia_gb": "GB on the file share (IA)",
            "logs_gb": "GB/month of logs ingested",
            "flow_log_gb": "GB/month of VPC flow logs",
            "awake_hours": "h/month awake in a working month (3 h on 20 working days), asleep the rest",
            "database_gb": "GB in the database; it runs at 0.5 ACU while someone is connected (the session hours "
                           "awake, the awake hours in a working month) and is paused otherwise",
        }
        return [f"{getattr(self, f.name):g} {text[f.name]}" for f in fields(self)]


@dataclass(frozen=True)
class Estimate:
    region: str
    priced_as: str
    by_component: dict[str, float]
    endpoint_azs: int
    nat_alternative: float
    # Component -> what it costs per hour someone is connected (a paused database resumed), beyond the above.
    per_session_hour: dict[str, float] = field(default_factory=dict)

    @property
    def total(self) -> float:
        return sum(self.by_component.values())


def _component(cap: Capture, r: Registration) -> str:
    index = cap.by_urn()
    parent = index.get(r.parent or "")
    return parent.name if parent is not None and not parent.custom else "stack"


def _stopped(cap: Capture) -> set[str]:
    """URNs of instances the stack keeps stopped (an InstanceState with state "stopped" names them)."""
    return {dep for r in cap.of_type(INSTANCE_STATE) if r.inputs.get("state") == "stopped"
            for dep in r.property_dependencies.get("instanceId", [])}


def estimate(cap: Capture, assume: Assumptions = Assumptions()) -> Estimate:
    p, priced_as = prices_for(cap.region)
    month = HOURS_PER_MONTH
    cost: dict[str, float] = defaultdict(float)
    per_hour: dict[str, float] = {}
    endpoint_azs = 0
    stopped = _stopped(cap)
    # Asleep (as the stack reports it): no endpoint to unpark a parked bastion for sessions with.
    asleep = cap.exports.get(Out.STATE) == StackState.ASLEEP
    for r in cap:
        i = r.inputs
        where = _component(cap, r)
        if r.type == ENDPOINT and i.get("vpcEndpointType") == "Interface":
            azs = len(i.get("subnetIds") or [])
            endpoint_azs += azs
            cost[where] += azs * p.interface_endpoint_hour * month
        elif r.type == INSTANCE:
            # A stopped instance bills its volumes only (Amazon EC2 User Guide, "Stop and start Amazon EC2
            # instances").
            running = 0.0 if r.urn in stopped else 1.0
            cost[where] += running * p.ec2_hour.get(i.get("instanceType", ""), 0) * month
            cost[where] += float((i.get("rootBlockDevice") or {}).get("volumeSize", 8)) * p.gp3_gb_month
        elif r.type == FILE_SYSTEM:
            cost[where] += assume.efs_standard_gb * p.efs_standard_gb_month + assume.efs_ia_gb * p.efs_ia_gb_month
        elif r.type == SERVICE:
            task = next((t for t in cap.of_type(TASK)
                         if _component(cap, t) == where), None)
            if task is not None:
                hours = month if (i.get("desiredCount") or 0) >= 1 else 0 if asleep else assume.session_hours
                arm = (task.inputs.get("runtimePlatform") or {}).get("cpuArchitecture") == "ARM64"
                vcpu, gb = float(task.inputs["cpu"]) / 1024, float(task.inputs["memory"]) / 1024
                rate = (vcpu * (p.fargate_vcpu_hour if arm else p.fargate_x86_vcpu_hour)
                        + gb * (p.fargate_gb_hour if arm else p.fargate_x86_gb_hour))
                cost[where] += rate * hours + (assume.logs_gb * p.logs_ingest_gb if hours else 0)
        elif r.type == KMS_KEY:
            cost[where] += p.kms_key_month
        elif r.type == FLOW_LOG:
            cost[where] += assume.flow_log_gb * (p.vended_logs_s3_gb + p.s3_standard_gb_month)
        elif r.type == RDS_CLUSTER:
            # Paused at 0 ACUs it bills storage only; resumed, at least 0.5 ACU (Aurora User Guide, "Scaling to
            # Zero ACUs"). The managed master secret bills as a secret.
            running = max(float(((i.get("serverlessv2ScalingConfiguration") or {}).get("minCapacity")) or 0), 0.5)
            per_hour[where] = running * p.aurora_acu_hour
            cost[where] += assume.database_gb * p.aurora_storage_gb_month + per_hour[where] * (
                0 if asleep else assume.session_hours)
            cost[where] += p.secret_month if i.get("manageMasterUserPassword") else 0
    if endpoint_azs:
        endpoints = next((c for c in cost if c == "endpoints"), "endpoints")
        cost[endpoints] += assume.endpoint_gb * p.interface_endpoint_gb
    # The same reachability through NAT: one gateway (and its public IPv4) per AZ that has endpoint interfaces.
    nat_azs = max((len(r.inputs.get("subnetIds") or []) for r in cap.of_type(ENDPOINT)), default=0)
    nat = nat_azs * (p.nat_gateway_hour + p.public_ipv4_hour) * month + assume.endpoint_gb * p.nat_gateway_gb
    return Estimate(cap.region, priced_as, dict(cost), endpoint_azs, nat, per_hour)


def working_month(asleep: Estimate, awake: Estimate, assume: Assumptions = Assumptions()) -> Estimate:
    """Asleep all month but `awake_hours`, during which the stack is awake with its sessions running."""
    share = assume.awake_hours / HOURS_PER_MONTH
    parts = {c: asleep.by_component.get(c, 0) * (1 - share) + awake.by_component.get(c, 0) * share
             for c in {*asleep.by_component, *awake.by_component}}
    # What runs only while connected runs all the awake hours, whatever the awake column assumed.
    for c, rate in awake.per_session_hour.items():
        parts[c] = asleep.by_component.get(c, 0) + rate * assume.awake_hours
    return Estimate(awake.region, awake.priced_as, parts, awake.endpoint_azs, awake.nat_alternative,
                    awake.per_session_hour)


COLUMNS = {
    "on": "awake, bastion on",
    "parked": "awake, bastion parked (unparked for sessions)",
    "off": "awake, no bastion",
    "asleep": "asleep (dev.py sleep): no interface endpoint, host stopped, bastion at 0",
    "working": "a working month: asleep but for the awake hours below",
}


def render(configured: str, estimates: dict[str, Estimate], assume: Assumptions = Assumptions()) -> list[str]:
    """A table: components as rows, the stack's states as columns, the configured one marked."""
    first = estimates[configured]
    note = "" if first.priced_as == first.region else f" (no prices for {first.region}: priced as {first.priced_as})"
    modes = list(estimates)
    components = sorted({c for e in estimates.values() for c in e.by_component},
                        key=lambda c: -max(e.by_component.get(c, 0) for e in estimates.values()))
    header = "  ".join(f"{(m + (' *' if m == configured else '')):>9}" for m in modes)
    out = [f"Monthly cost estimate, USD, list prices for {first.priced_as} (table reviewed {AS_OF}){note}:",
           f"  {'component':<12}  {header}"]
    for c in components:
        out.append(f"  {c:<12}  " + "  ".join(f"{estimates[m].by_component.get(c, 0):>9.2f}" for m in modes))
    out.append(f"  {'total':<12}  " + "  ".join(f"{estimates[m].total:>9.2f}" for m in modes))
    out.append("  (* = as configured) " + "; ".join(f"{m}: {COLUMNS.get(m, m)}" for m in modes))
    e = max(estimates.values(), key=lambda x: x.endpoint_azs)
    out.append(f"  Interface endpoints: up to {e.endpoint_azs} endpoint-AZs, billed every hour they exist, used or "
               f"not. The same reachability through NAT would cost about ${e.nat_alternative:.2f}/month (NAT gateway "
               "hours, its public IPv4, processed GB) — and needs an internet gateway and public subnets, which airgap "
               "forbids.")
    out.append("  Assumptions: " + "; ".join(assume.lines()) + ". Excluded: data transfer between AZs, AWS Backup "
               "storage of the share, ECR storage of the bastion image, Session Manager (free).")
    return out
