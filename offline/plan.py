"""`python3 dev.py plan [--stack dev] [--mode preview|update] [--set key=value ...]`

Shows what a stack would create, read from the real program run offline: the resource tree by component, counts
by type, the security-group flows as a table, and what the checks found. Contacts no cloud.
"""

from __future__ import annotations

import json
import sys
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import yaml

from airgap import endpoint_policies
from guard.types import (
    ASSOCIATION,
    DEFAULT_SG,
    ENDPOINT,
    IAM_POLICY,
    KMS_KEY,
    ROUTE_TABLE,
    SG,
    SSM_DOCUMENT,
    SUBNET,
    VPC,
)
from offline import cost, diagram, graph
from offline.guard_run import POLICIES, Report, analyze
from offline.harness import ROOT, Capture, Registration, capture
from offline.plan_args import default_stack, environment_note, network_outputs, parser, set_overrides, stack_name
from offline.stack_files import load_yaml
from program.config import ConfigError
from program.contract import Out, StackState


def _on(flag: object) -> str:
    return "on" if flag else "OFF"


DETAILS: dict[str, Callable[[Registration], str]] = {
    VPC: lambda r: f"{r.inputs.get('cidrBlock')}, DNS support+hostnames "
                                 f"{_on(r.inputs.get('enableDnsSupport') and r.inputs.get('enableDnsHostnames'))}",
    SUBNET: lambda r: f"{r.inputs.get('cidrBlock')} in {r.inputs.get('availabilityZone')}, "
                                       f"public IPs {'ON' if r.inputs.get('mapPublicIpOnLaunch') else 'off'}",
    ROUTE_TABLE: lambda r: f"{len(r.inputs.get('routes') or [])} routes besides local",
    DEFAULT_SG: lambda r: "adopted with no rules",
    SG: lambda r: r.inputs.get("description", ""),
    ENDPOINT: lambda r: (
        f"{r.inputs.get('serviceName')} ({r.inputs.get('vpcEndpointType')}"
        + (f", private DNS {'on' if r.inputs.get('privateDnsEnabled') else 'OFF'}, "
           f"{len(r.inputs.get('subnetIds') or [])} AZ" if r.inputs.get("vpcEndpointType") == "Interface"
           else f", {len(r.inputs.get('routeTableIds') or [])} route tables") + ")"),
    SSM_DOCUMENT: lambda r: _session_document(r),
    IAM_POLICY: lambda r: f"{r.inputs.get('name')}: {_statements(r)}",
    KMS_KEY: lambda r: f"rotation {_on(r.inputs.get('enableKeyRotation'))}: {r.inputs.get('description', '')}",
    graph.INGRESS: lambda r: r.inputs.get("description", ""),
    graph.EGRESS: lambda r: r.inputs.get("description", ""),
}


def _session_document(r: Registration) -> str:
    try:
        inputs = json.loads(r.inputs.get("content") or "{}").get("inputs") or {}
    except (TypeError, ValueError):
        return f"{r.inputs.get('name')} ({r.inputs.get('documentType')}), content known after up"
    logged = inputs.get("cloudWatchLogGroupName") or inputs.get("s3BucketName") or "NOT logged"
    return (f"{r.inputs.get('name')}: shells encrypted with {inputs.get('kmsKeyId') or 'NO key'}, streamed to "
            f"{logged}, idle {inputs.get('idleSessionTimeout')} min, at most {inputs.get('maxSessionDuration')} min, "
            f"run as {inputs.get('runAsDefaultUser') if inputs.get('runAsEnabled') else 'ssm-user'}")


def _statements(r: Registration) -> str:
    try:
        statements = json.loads(r.inputs.get("policy") or "{}").get("Statement") or []
    except (TypeError, ValueError):
        return "known after up"
    return ", ".join(s.get("Sid", "?") for s in statements)


# Reading order inside a component: the thing itself, then its group, then the rules and the rest.
ORDER = [
    VPC, DEFAULT_SG, SUBNET,
    ROUTE_TABLE, ASSOCIATION,
    SG, graph.INGRESS, graph.EGRESS,
]


def _reading_order(cap: Capture, r: Registration) -> tuple[int, int, str]:
    if not r.custom:  # components in the order __main__.py builds them
        return (0, cap.resources.index(r), "")
    return (1, ORDER.index(r.type) if r.type in ORDER else len(ORDER), r.name)


def short_type(type_: str) -> str:
    return type_.rsplit(":", 1)[-1]


def tree(cap: Capture) -> list[str]:
    lines = [f"{cap.stack} (stack)"]

    def walk(parent: str | None, prefix: str) -> None:
        top = f"pulumi:pulumi:Stack::airgap-{cap.stack}"
        kids = [r for r in cap.resources
                if (r.parent == parent if parent else (r.parent is None or r.parent.endswith(top)))]
        kids.sort(key=lambda r: _reading_order(cap, r))
        for i, r in enumerate(kids):
            last = i == len(kids) - 1
            detail = DETAILS.get(r.type, lambda _: "")(r)
            protect = "  [protected]" if r.protect else ""
            lines.append(f"{prefix}{'└─ ' if last else '├─ '}{short_type(r.type)} {r.name}"
                         f"{'  — ' + detail if detail else ''}{protect}")
            walk(r.urn, prefix + ("   " if last else "│  "))

    walk(None, "")
    return lines


def flow_table(cap: Capture, analysis: graph.Analysis) -> list[str]:
    rows = analysis.flows
    if not rows:
        return ["  (no flows: every group denies everything)"]
    width_s = max(len(f.source) for f in rows)
    width_t = max(len(f.target) for f in rows)
    out = [f"  {'source':<{width_s}}    {'target':<{width_t}}  port        egress  ingress"]
    for f in rows:
        # A prefix list or CIDR has no group, so only the source's egress half exists.
        ingress = "yes" if f.ingress else ("MISSING" if _is_group(cap, f.target) else "n/a")
        out.append(f"  {f.source:<{width_s}} -> {f.target:<{width_t}}  {f.port:<10}  "
                   f"{'yes' if f.egress else 'MISSING':<6}  {ingress}")
    return out


def _is_group(cap: Capture, name: str) -> bool:
    return any(r.name == name for r in cap.of_type(graph.SG))


def edge(cap: Capture) -> list[str]:
    """What may cross the VPC's edge: each endpoint and what its policy lets through, read from what the program
    registered. Every bucket the S3 gateway admits is listed; anything not listed is refused at the endpoint."""
    lines = []
    for r in sorted(cap.of_type(graph.ENDPOINT), key=lambda e: (e.inputs.get("vpcEndpointType") != "Gateway", e.name)):
        service = str(r.inputs.get("serviceName", r.name)).rsplit(".", 1)[-1] if r.name == "s3" else r.name
        text = r.inputs.get("policy")
        if not text:
            lines.append(f"{service:<12} no policy: AWS's default, every action on every resource to every principal")
            continue
        if text == graph.UNKNOWN:
            lines.append(f"{service:<12} (policy known after up)")
            continue
        document = json.loads(text)
        lines.append(f"{service:<12} {endpoint_policies.summary(document)}")
        if r.inputs.get("vpcEndpointType") == "Gateway":
            for statement in document.get("Statement", []):
                for arn in statement.get("Resource", []) if isinstance(statement.get("Resource"), list) else []:
                    lines.append(f"{'':<12}   {arn}")
    if not lines and (network := cap.exports.get(Out.NETWORK_STACK)):
        return [f"(the endpoints are the network stack {network}'s: `python3 dev.py plan --stack "
                f"{str(network).rsplit('/', 1)[-1]}` shows what its policies let through)"]
    return lines or ["(no endpoints: nothing leaves the VPC)"]


def policy_lines(report: Report) -> list[str]:
    lines = [f"airgap-guard ({len(POLICIES)} policies, as `pulumi preview --policy-pack policy` runs them): "
             f"{len(report.mandatory)} mandatory, {len(report.violations) - len(report.mandatory)} advisory, "
             f"{len(report.skipped)} skipped, evaluated in {report.seconds * 1000:.0f} ms"]
    for finding in report.violations:
        lines.append(f"  {finding.level.upper()} {finding.policy}: {finding.message.split(chr(10), 1)[-1]}")
    for finding in report.skipped:
        lines.append(f"  SKIPPED {finding.policy}: {finding.message}")
    for name, reason in report.not_applicable:
        lines.append(f"  not applicable yet: {name}: {reason}")
    return lines


def checks(analysis: graph.Analysis) -> list[str]:
    found = []
    paths = analysis.internet_paths
    found.append("internet path: none" if not paths else "internet path: " + "; ".join(paths))
    inline = analysis.inline_rules
    found.append("inline security-group rules: none" if not inline else "inline rules on: " + ", ".join(inline))
    one_sided = analysis.one_sided
    found.append("one-sided flows: none" if not one_sided else
                 "one-sided flows: " + ", ".join(f"{f.source} -> {f.target} {f.port}" for f in one_sided))
    return found


def _readable(value: object) -> object:
    if isinstance(value, dict):
        return {k: _readable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_readable(v) for v in value]
    if isinstance(value, float) and value.is_integer():  # protobuf Structs carry every number as a double
        return int(value)
    return graph.shown(value) if isinstance(value, str) else value


def _yaml(value: object) -> list[str]:
    return yaml.safe_dump(value, sort_keys=True, width=200).rstrip().splitlines()


def cost_lines(cap: Capture, overrides: dict[str, object],
               stack_outputs: dict[str, dict[str, Any]] | None = None, own_program: bool = True) -> list[str]:
    """The stack in each state it can be put in, priced side by side, and a working month. Another program (a
    directory given to `plan`) has no states airgap knows: it is priced as configured."""
    if not own_program:
        return cost.render("configured", {"configured": cost.estimate(cap)})
    asleep = cap.exports.get(Out.STATE) == StackState.ASLEEP
    mode = load_yaml(cap.config.get("airgap:bastion", "parked"))
    configured = "asleep" if asleep else mode
    # Each column: (config changes, the state it is deployed in).
    wanted = {"on": ({"bastion": "on"}, StackState.AWAKE), "parked": ({"bastion": "parked"}, StackState.AWAKE),
              "off": ({"bastion": "off"}, StackState.AWAKE), "asleep": ({}, StackState.ASLEEP)}
    estimates: dict[str, cost.Estimate] = {}
    refused: list[str] = []
    for state, (change, deployed) in wanted.items():
        try:
            estimates[state] = cost.estimate(cap if state == configured else capture(
                cap.stack, cap.mode, {**overrides, **change}, stack_outputs=stack_outputs,
                deployed={Out.STATE: deployed}))
        except ConfigError as err:  # a state this stack's config cannot be put in: not priced, not an error
            refused.append(f"{state} ({'; '.join(getattr(err, 'problems', [str(err)]))})")
        except Exception as err:
            refused.append(f"{state} (the program stops there: {type(err).__name__}: {err})")
    # Working: awake with sessions running (the bastion too, if the stack has one) for the awake hours.
    working_awake = "off" if mode == "off" else "on"
    if "asleep" in estimates and working_awake in estimates:
        estimates["working"] = cost.working_month(estimates["asleep"], estimates[working_awake])
    lines = cost.render(configured, estimates)
    return lines + ([f"  Not priced: {', '.join(refused)}"] if refused else [])


def render(cap: Capture, seconds: float, report: Report, overrides: dict[str, object] | None = None,
           stack_outputs: dict[str, dict[str, Any]] | None = None, own_program: bool = True,
           analysis: graph.Analysis | None = None) -> str:
    analysis = analysis or graph.Analysis(cap)
    mode = "first preview of a new stack (AWS-assigned values unknown)" if cap.mode == "preview" else \
        "update of an existing stack (AWS-assigned values simulated)"
    custom = [r for r in cap.resources if r.custom]
    counts = Counter(short_type(r.type) for r in custom)
    out = [
        f"airgap plan: stack {cap.stack}, region {cap.region}, {mode}",
        "Evaluated offline: __main__.py ran under Pulumi's mock runtime. No cloud was contacted, no credentials",
        "were read, nothing was created. A real `pulumi preview` runs this same program; only AWS's answers differ.",
        "",
        f"Resources: {len(custom)} AWS resources in {len(cap.resources) - len(custom)} components",
        *("  " + line for line in tree(cap)),
        "",
        "Counts by type:",
        *(f"  {n:>3}  {t}" for t, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))),
        "",
        "Security-group flows (each a standalone egress rule on the source and ingress rule on the target):",
        *flow_table(cap, analysis),
        "",
        "What may cross the VPC's edge (endpoint policies; anything not allowed is refused at the endpoint):",
        *("  " + line for line in edge(cap)),
        "",
        "Checks:",
        *(f"  the program says ({level.lower()}): {message}" for level, message in cap.diagnostics),
        *("  " + line for line in checks(analysis)),
        *("  " + line for line in policy_lines(report)),
        "",
        *cost_lines(cap, overrides or {}, stack_outputs, own_program),
        "",
        "Outputs:",
        *("  " + line for line in _yaml(_readable(cap.exports))),
        "",
        f"(evaluated in {seconds:.2f} s)",
    ]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    args = parser(__doc__.splitlines()[0]).parse_args(argv)
    root, own = args.program, args.program == ROOT
    started = time.perf_counter()
    try:
        stack = stack_name(args.stack, root) if args.stack else default_stack(root)
        overrides = set_overrides(args.overrides)
        stack_outputs = network_outputs(stack, overrides, args.network_outputs) if own else None
        cap = capture(stack, args.mode, overrides, stack_outputs=stack_outputs, root=root,
                      program=None if own else root / "__main__.py",
                      deployed={Out.STATE: args.state} if args.state else None)
    except ConfigError as err:
        print(f"airgap plan: stack {args.stack or default_stack(root)}: {err}", file=sys.stderr)
        return 2
    report, analysis = analyze(cap, args.policy_pack_config), graph.Analysis(cap)
    print(render(cap, time.perf_counter() - started, report, overrides, stack_outputs, own, analysis))
    note = environment_note(stack, root)
    if note:
        print(note)
    base = args.diagram_dir / f"{cap.stack}-architecture"
    base.with_suffix(".mmd").parent.mkdir(parents=True, exist_ok=True)
    base.with_suffix(".mmd").write_text(diagram.mermaid(cap, analysis))
    print(f"Diagram: {base.with_suffix('.mmd')} (Mermaid: GitHub renders it; `npx @mermaid-js/mermaid-cli -i "
          f"{base.with_suffix('.mmd')} -o diagram.svg` draws a picture)")
    # Like `pulumi preview --policy-pack`: a mandatory violation fails the command.
    return 1 if report.mandatory or report.skipped else 0


if __name__ == "__main__":
    sys.exit(main())
