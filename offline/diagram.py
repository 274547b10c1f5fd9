"""The stack's architecture, drawn from the captured graph: a Mermaid flowchart (for the README) and a PNG.

What is drawn is what the program registers: the VPC and its isolated subnets per AZ, what has a network interface
in each, the endpoints, the workloads, and every allowed flow with its port (from the standalone rules).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from guard.types import INSTANCE, MOUNT_TARGET, SERVICE, VPC
from offline import graph
from offline.harness import Capture, Registration
from program.contract import Out

SUBNET = graph.SUBNET
LABELS = {
    "ssm-host": "SSM host (EC2)", "file-share": "file share (EFS)", "bastion": "Fargate bastion (ECS Exec)",
    "endpoints": "endpoint group", "prefix list of s3": "S3 gateway endpoint",
    "database": "database (Aurora PostgreSQL, paused when idle)",
}


@dataclass(frozen=True)
class Picture:
    vpc_cidr: str
    zones: dict[str, tuple[str, list[str]]]  # zone -> (subnet CIDR, what has an interface there)
    nodes: dict[str, str]  # node id -> label
    edges: list[tuple[str, str, str]]  # (source id, target id, port)
    endpoints: list[str]
    bastion_mode: str | None


def _node_id(name: str) -> str:
    return name.replace(" ", "_").replace("-", "_")


def _zone_of(cap: Capture, r: Registration, prop: str) -> list[str]:
    index = cap.by_urn()
    return [index[u].inputs.get("availabilityZone", "?") for u in r.property_dependencies.get(prop, [])
            if u in index and index[u].type == SUBNET]


def picture(cap: Capture, analysis: graph.Analysis) -> Picture:
    # A subnet without an AZ is placed by AWS: drawn as "AZ chosen by AWS".
    subnets = {s.inputs.get("availabilityZone") or "AZ chosen by AWS": s.inputs.get("cidrBlock", "?")
               for s in cap.of_type(SUBNET)}
    network = next((r for r in cap.of_type(graph.STACK_REFERENCE) if (r.state.get("outputs") or {}).get(Out.VPC_ID)),
                   None)
    shared = (network.state.get("outputs") or {}) if network is not None else {}
    if not cap.of_type(VPC) and shared and network is not None:  # a workload stack: the network is another's
        subnets = {zone: f"(subnet of {network.name})" for zone in shared.get(Out.SUBNET_IDS_BY_ZONE) or {}}
    inside: dict[str, list[str]] = defaultdict(list)
    interfaces = [e for e in cap.of_type(graph.ENDPOINT) if e.inputs.get("vpcEndpointType") == "Interface"]
    for zone in subnets:
        count = sum(zone in _zone_of(cap, e, "subnetIds") for e in interfaces)
        if count:
            inside[zone].append(f"{count} endpoint interfaces")
    for r in cap.of_type(INSTANCE):
        for zone in _zone_of(cap, r, "subnetId"):
            inside[zone].append("SSM host")
    for r in cap.of_type(MOUNT_TARGET):
        for zone in _zone_of(cap, r, "subnetId"):
            inside[zone].append("EFS mount target")
    for r in cap.of_type(SERVICE):
        for zone in _zone_of(cap, r, "networkConfiguration"):
            inside[zone].append("bastion task (when running)")
    flows = analysis.flows
    names = sorted({f.source for f in flows} | {f.target for f in flows})
    nodes = {_node_id(n): LABELS.get(n, n) for n in names}
    edges = [(_node_id(f.source), _node_id(f.target), f.port) for f in flows]
    vpcs = cap.of_type(VPC)
    services = [e.inputs["serviceName"].rsplit(f"{cap.region}.", 1)[-1] for e in cap.of_type(graph.ENDPOINT)]
    services += [s for s in shared.get(Out.ENDPOINT_SERVICES) or [] if s not in services]
    mode = cap.config.get("airgap:bastion") if cap.of_type(SERVICE) else None
    cidr = vpcs[0].inputs["cidrBlock"] if vpcs else f"{shared.get('vpcCidr', '?')} of stack {network.name}" \
        if network is not None else "?"
    return Picture(cidr, {z: (c, inside[z]) for z, c in sorted(subnets.items())}, nodes, edges,
                   sorted(services), mode)


def mermaid(cap: Capture, analysis: graph.Analysis | None = None) -> str:
    p = picture(cap, analysis or graph.Analysis(cap))
    lines = ["flowchart LR", '  operator(["operator: aws ssm start-session"])',
             '  ssm_service{{"AWS Systems Manager"}}', '  operator -- "HTTPS to AWS" --> ssm_service',
             f'  subgraph vpc["VPC {p.vpc_cidr}: isolated subnets only, no internet gateway, no NAT"]']
    for zone, (cidr, things) in p.zones.items():
        detail = "<br/>".join(things) if things else "(empty)"
        lines.append(f'    {_node_id(zone)}["{zone} {cidr}<br/>{detail}"]')
    for node, label in p.nodes.items():
        if node == "endpoint_group":
            label = f"{label}<br/>{', '.join(s for s in p.endpoints if s != 's3')}"
        if node == "bastion" and p.bastion_mode:
            label = f"{label}<br/>{p.bastion_mode}"
        lines.append(f'    {node}["{label}"]')
    lines.append("  end")
    for source, target, port in p.edges:
        lines.append(f'  {source} -- "{port}" --> {target}')
    if "endpoint_group" in p.nodes:
        lines.append('  ssm_service -. "ssmmessages channel" .-> endpoint_group')
    return "\n".join(lines) + "\n"
