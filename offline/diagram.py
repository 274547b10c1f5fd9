"""The stack's architecture, drawn from the captured graph: a Mermaid flowchart (for the README) and a PNG.

What is drawn is what the program registers: the VPC and its isolated subnets per AZ, what has a network interface
in each, the endpoints, the workloads, and every allowed flow with its port (from the standalone rules).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from guard.types import INSTANCE, MOUNT_TARGET, SERVICE, VPC
from offline import graph
from offline.harness import Capture, Registration

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


def picture(cap: Capture) -> Picture:
    # A subnet without an AZ is placed by AWS: drawn as "AZ chosen by AWS".
    subnets = {s.inputs.get("availabilityZone") or "AZ chosen by AWS": s.inputs.get("cidrBlock", "?")
               for s in cap.of_type(SUBNET)}
    network = next((r for r in cap.of_type(graph.STACK_REFERENCE) if (r.state.get("outputs") or {}).get("vpcId")),
                   None)
    shared = (network.state.get("outputs") or {}) if network is not None else {}
    if not cap.of_type(VPC) and shared:  # a workload stack: the network is another stack's
        subnets = {zone: f"(subnet of {network.name})" for zone in shared.get("subnetIdsByZone") or {}}
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
    flows = graph.flows(cap)
    names = sorted({f.source for f in flows} | {f.target for f in flows})
    nodes = {_node_id(n): LABELS.get(n, n) for n in names}
    edges = [(_node_id(f.source), _node_id(f.target), f.port) for f in flows]
    vpcs = cap.of_type(VPC)
    services = [e.inputs["serviceName"].rsplit(f"{cap.region}.", 1)[-1] for e in cap.of_type(graph.ENDPOINT)]
    services += [s for s in shared.get("endpointServices") or [] if s not in services]
    mode = cap.config.get("airgap:bastion") if cap.of_type(SERVICE) else None
    cidr = vpcs[0].inputs["cidrBlock"] if vpcs else f"{shared.get('vpcCidr', '?')} of stack {network.name}" \
        if network is not None else "?"
    return Picture(cidr, {z: (c, inside[z]) for z, c in sorted(subnets.items())}, nodes, edges,
                   sorted(services), mode)


def mermaid(cap: Capture) -> str:
    p = picture(cap)
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


def png(cap: Capture, path: Path) -> Path:
    """Draw the picture with matplotlib (no display needed) and save it."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

    p = picture(cap)
    fig, ax = plt.subplots(figsize=(13, 7.5), dpi=110)
    ax.set_xlim(0, 13)
    ax.set_ylim(0, 7.5)
    ax.axis("off")

    def box(x: float, y: float, w: float, h: float, text: str, face: str, size: int = 9) -> None:
        ax.add_patch(FancyBboxPatch((x, y), w, h, boxstyle="round,pad=0.05", facecolor=face, edgecolor="#333"))
        ax.text(x + w / 2, y + h / 2, text, ha="center", va="center", fontsize=size, wrap=True)

    ax.add_patch(FancyBboxPatch((1.9, 0.3), 10.8, 6.9, boxstyle="round,pad=0.05", facecolor="#f4f8fb",
                                edgecolor="#1f4e79", linewidth=2))
    ax.text(2.1, 6.95, f"VPC {p.vpc_cidr} — isolated subnets only: no internet gateway, no NAT, no public IP",
            fontsize=10, weight="bold", color="#1f4e79")
    box(0.1, 5.6, 1.6, 1.0, "operator\naws ssm\nstart-session", "#fff2cc")
    for i, (zone, (cidr, things)) in enumerate(p.zones.items()):
        box(2.2, 5.2 - i * 1.7, 2.8, 1.4, f"{zone}\n{cidr}\n" + "\n".join(things), "#e2efda", 8)

    slots = {"bastion": (5.8, 5.3), "ssm_host": (5.8, 3.3), "file_share": (5.8, 1.0),
             "endpoint_group": (9.6, 5.0), "prefix_list_of_s3": (9.6, 1.6)}
    spare = iter([(9.6, 3.3), (5.8, 0.4)])
    centres = {}
    for node, label in p.nodes.items():
        x, y = slots.get(node) or next(spare, (8.0, 0.4))
        if node == "endpoint_group":
            label = f"{label}\n" + "\n".join(s for s in p.endpoints if s != "s3")
        if node == "bastion" and p.bastion_mode:
            label = f"{label}\n({p.bastion_mode})"
        height = 1.6 if node == "endpoint_group" else 1.0
        box(x, y, 2.6, height, label, "#ddebf7" if node != "endpoint_group" else "#fce4d6")
        centres[node] = (x + 1.3, y + height / 2, height)
    for source, target, port in p.edges:
        (x1, y1, h1), (x2, y2, h2) = centres[source], centres[target]
        if abs(x1 - x2) < 0.1:  # same column: bottom edge to top edge, label beside the line
            start, end = (x1, y1 - h1 / 2 if y2 < y1 else y1 + h1 / 2), (x2, y2 + h2 / 2 if y2 < y1 else y2 - h2 / 2)
            label_at = (x1 + 0.45, (start[1] + end[1]) / 2)
        else:  # right edge to left edge
            start, end = (x1 + 1.3, y1), (x2 - 1.3, y2)
            label_at = ((x1 + x2) / 2, (y1 + y2) / 2 + 0.12)
        ax.add_patch(FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=14, color="#444",
                                     connectionstyle="arc3,rad=0.05"))
        ax.text(*label_at, port, fontsize=8, ha="center", color="#c00000")
    if "endpoint_group" in centres:
        x, y, h = centres["endpoint_group"]
        ax.add_patch(FancyArrowPatch((0.9, 6.6), (x, y + h / 2), arrowstyle="-|>", mutation_scale=14,
                                     color="#bf9000", linestyle="--", connectionstyle="arc3,rad=-0.15"))
        ax.text(5.8, 7.45, "session: operator -> AWS Systems Manager -> agent's channel via the ssmmessages endpoint",
                fontsize=8, color="#bf9000", ha="center")
    ax.text(0.1, 0.05, f"stack {cap.stack}, {cap.region}; arrows: allowed flows (egress rule on the source AND "
            "ingress rule on the target; S3 through its prefix list)", fontsize=8, color="#555")
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, bbox_inches="tight")
    plt.close(fig)
    return path
