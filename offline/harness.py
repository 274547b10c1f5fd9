"""Run __main__.py offline, under Pulumi's mock runtime, and capture what the engine would see.

One harness for the tests, the plan and the policy checks. For a stack's config (Pulumi.yaml defaults merged under
Pulumi.<stack>.yaml, as the engine does) it runs the real program with `pulumi.runtime.set_mocks` and a
`MockMonitor` subclass that records, per registration: type, name, URN, parent, the inputs exactly as the SDK
serialized them (unknowns as the engine's sentinel), dependencies and property dependencies — and the state the
engine would hold afterwards.

Modes:
- "preview": a first `pulumi preview` of a new stack. Nothing exists, so every id and computed value is unknown.
- "update":  a `pulumi up` (or a preview of an existing stack): everything is known.

No cloud is contacted: the provider plugin is never loaded; `offline.aws_model` stands in for what AWS computes.
"""

from __future__ import annotations

import logging
import os
import runpy
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import grpc
import pulumi
from google.protobuf import json_format
from pulumi.runtime import mocks as pulumi_mocks

from guard.types import AWS_PROVIDER, EGRESS, INGRESS, ROOT_STACK, SG, STACK_REFERENCE
from offline import aws_model
from offline.stack_files import PROJECT, ROOT, project_name, stack_config
from program import pulumi_internals as internals
from program.contract import MOVE_VARIABLE

# A self-managed backend's organization; a stack's qualified name is <organization>/<project>/<stack>.
ORGANIZATION = "organization"
UNKNOWN = aws_model.UNKNOWN
Mode = Literal["preview", "update"]
MODES: tuple[Mode, Mode] = ("preview", "update")


@dataclass
class Registration:
    urn: str
    type: str
    name: str
    parent: str | None
    custom: bool
    inputs: dict[str, Any]  # as serialized by the SDK: what the engine (and Analyze) receives
    state: dict[str, Any]  # what the engine holds after the step (AnalyzeStack receives these)
    id: str
    dependencies: list[str]
    property_dependencies: dict[str, list[str]]
    protect: bool
    ignore_changes: list[str] = field(default_factory=list)
    delete_before_replace: bool = False
    retain_on_delete: bool = False
    provider: str | None = None  # an explicit provider's URN (None: the default provider for its package)
    # URNs this resource also answers to (its aliases, as the engine resolves alias specs): a resource in the old
    # state under one of these is this resource renamed, not one to delete.
    aliases: list[str] = field(default_factory=list)


@dataclass
class Capture:
    stack: str
    mode: Mode
    region: str
    config: dict[str, str]
    resources: list[Registration]
    exports: dict[str, Any]
    invokes: list[str] = field(default_factory=list)
    project: str = PROJECT
    # What the program logged (pulumi.log): (level, message), e.g. ("WARNING", "network asleep: …").
    diagnostics: list[tuple[str, str]] = field(default_factory=list)

    def __iter__(self) -> Iterator[Registration]:
        return iter(self.resources)

    def of_type(self, type_: str) -> list[Registration]:
        return [r for r in self.resources if r.type == type_]

    def by_urn(self) -> dict[str, Registration]:
        return {r.urn: r for r in self.resources}

    def named(self, type_: str, name: str) -> Registration:
        found = [r for r in self.of_type(type_) if r.name == name]
        if len(found) != 1:
            raise LookupError(f"{len(found)} {type_} named {name!r}: {[r.name for r in self.of_type(type_)]}")
        return found[0]

    def children(self, urn: str) -> list[Registration]:
        return [r for r in self.resources if r.parent == urn]


_ProviderError = aws_model.ProviderError
READ_STACK_OUTPUTS = "pulumi:pulumi:readStackOutputs"


class _Mocks(pulumi_mocks.Mocks):
    def __init__(self, mode: Mode, region: str, invokes: list[str],
                 stack_outputs: Mapping[str, Mapping[str, Any]]) -> None:
        self.mode, self.region, self.invokes, self.stack_outputs = mode, region, invokes, stack_outputs
        # This stack's own last deployment, for a program that reads it (`self_name` is its qualified name).
        self.self_name, self.deployed = "", dict[str, Any]()
        # Explicit AWS providers by URN -> their region: what they create in and what their invokes answer for.
        self.provider_regions: dict[str, str] = {}
        # (type, name) -> the name it had before a rename (its first alias): the resource keeps that identity.
        self.former_names: dict[tuple[str, str], str] = {}

    def region_of(self, provider: str | None) -> str:
        """The region of the provider a request names ("<urn>::<id>"), or the stack's (the default provider)."""
        if not provider:
            return self.region
        return self.provider_regions.get(provider.rsplit("::", 1)[0], self.region)

    def _outputs_of(self, stack: str) -> dict[str, Any]:
        # The engine's built-in provider: the named stack's outputs, or an error for a stack it cannot find.
        if stack == self.self_name:  # a stack never deployed has no outputs
            return {"name": stack, "outputs": dict(self.deployed), "secretOutputNames": []}
        supplied = {self.qualify(name): outputs for name, outputs in self.stack_outputs.items()}
        if self.qualify(stack) not in supplied:
            raise LookupError(f"stack '{stack}' not found (offline: no outputs were supplied for it; give them with "
                              "`dev.py plan --network-outputs FILE`)")
        return {"name": stack, "outputs": dict(supplied[self.qualify(stack)]), "secretOutputNames": []}

    def qualify(self, stack: str) -> str:
        """A stack name as the backend resolves it: `net` is this project's, in this organization."""
        parts = stack.split("/")
        head = self.self_name.split("/")
        return stack if len(parts) == 3 else "/".join([head[0], *(parts if len(parts) == 2 else [head[1], stack])])

    def new_resource(self, args: pulumi_mocks.MockResourceArgs) -> tuple[str | None, dict]:
        if args.typ == STACK_REFERENCE:
            name = str(args.inputs.get("name") or args.resource_id)
            return name, self._outputs_of(name)
        if not args.custom:
            return "", {}
        # Stack, type and name identify a resource (names are unique per type in a stack); ids derive from them,
        # so two stacks never share an id. A renamed resource keeps the id it had under its former name, as the
        # engine keeps it when an alias matches.
        name = self.former_names.get((args.typ, args.name), args.name)
        seed = f"{pulumi.get_stack()}::{args.typ}::{name}"
        return aws_model.resource_state(args.typ, args.name, seed, args.inputs, self.region_of(args.provider),
                                        self.mode == "preview")

    def call(self, args: pulumi_mocks.MockCallArgs) -> tuple[dict, list | None]:
        self.invokes.append(args.token)
        if args.token == READ_STACK_OUTPUTS:
            return self._outputs_of(str(args.args["name"])), []
        if args.token not in aws_model.INVOKES:
            raise NotImplementedError(
                f"invoke {args.token} is not modelled offline; add it to offline.aws_model.INVOKES only if the "
                "real provider has it"
            )
        return aws_model.INVOKES[args.token](dict(args.args), self.region_of(args.provider)), []


class EngineRefusal(Exception):
    """The program registered something the real engine refuses outright (and so refuses the whole program)."""


class _EngineError(grpc.RpcError):
    """An invoke the engine answers with an error: over gRPC, as the real monitor does. (A plain exception from
    the mocks would be recorded by the SDK as an unhandled RPC failure, which a real engine's error is not: the
    program may catch it.)"""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def code(self) -> grpc.StatusCode:
        return grpc.StatusCode.UNKNOWN

    def details(self) -> str:
        return self.message


class _CapturingMonitor(pulumi_mocks.MockMonitor):
    """The mock monitor, recording each registration as the engine would receive it."""

    mocks: _Mocks

    def __init__(self, mocks: _Mocks) -> None:
        super().__init__(mocks)
        self.registrations: list[Registration] = []
        self.urns: set[str] = set()

    def _admit(self, urn: str, parent: str) -> None:
        """What the engine refuses before any step: a URN registered twice (two resources of one type and name
        under one parent), and a parent it has never been told of."""
        if urn in self.urns:
            raise EngineRefusal(f"Duplicate resource URN '{urn}'; try giving it a unique name")
        if parent and parent not in self.urns and not parent.split("::")[-2].endswith(ROOT_STACK):
            raise EngineRefusal(f"resource '{urn}' names parent '{parent}', which was never registered")
        self.urns.add(urn)

    def Invoke(self, request: Any) -> Any:
        try:
            return super().Invoke(request)
        except (LookupError, _ProviderError) as err:
            raise _EngineError(str(err)) from err

    def ReadResource(self, request: Any) -> Any:
        """A read (a StackReference): the engine holds its state too, and AnalyzeStack sees it."""
        response = super().ReadResource(request)
        self._admit(response.urn, request.parent)
        self.registrations.append(Registration(
            urn=response.urn, type=request.type, name=request.name, parent=request.parent or None, custom=True,
            inputs=json_format.MessageToDict(request.properties),
            state=json_format.MessageToDict(response.properties), id=request.id,
            dependencies=list(request.dependencies), property_dependencies={}, protect=False,
            provider=request.provider.rsplit("::", 1)[0] if request.provider else None))
        return response

    def RegisterResource(self, request: Any) -> Any:
        former = [a.spec.name for a in request.aliases if a.HasField("spec") and a.spec.name]
        if former:
            self.mocks.former_names[(request.type, request.name)] = former[0]
        response = super().RegisterResource(request)
        if request.type == ROOT_STACK:
            self.urns.add(response.urn)
            return response
        self._admit(response.urn, request.parent)
        if request.type == AWS_PROVIDER:
            self.mocks.provider_regions[response.urn] = str(
                json_format.MessageToDict(request.object).get("region") or self.mocks.region)
        self.registrations.append(
            Registration(
                urn=response.urn,
                type=request.type,
                name=request.name,
                parent=request.parent or None,
                custom=request.custom,
                inputs=json_format.MessageToDict(request.object),
                state=json_format.MessageToDict(response.object) if request.custom else {},
                id=response.id,
                dependencies=list(request.dependencies),
                property_dependencies={k: list(v.urns) for k, v in request.propertyDependencies.items()},
                protect=bool(request.protect),
                ignore_changes=list(request.ignoreChanges),
                delete_before_replace=bool(request.deleteBeforeReplace),
                retain_on_delete=bool(request.retainOnDelete),
                provider=request.provider.rsplit("::", 1)[0] if request.provider else None,
                aliases=[_alias_urn(response.urn, a.spec.name) for a in request.aliases
                         if a.HasField("spec") and a.spec.name],
            )
        )
        return response


def _alias_urn(urn: str, old_name: str) -> str:
    """The URN an alias spec with only a name resolves to: same stack, project, parent type chain and type."""
    return f"{urn.rsplit('::', 1)[0]}::{old_name}"


def capture(
    stack: str = "dev",
    mode: Mode = "preview",
    overrides: Mapping[str, Any] | None = None,
    program: Path | None = None,
    sink: list[Registration] | None = None,
    root: Path = ROOT,
    stack_outputs: Mapping[str, Mapping[str, Any]] | None = None,
    deployed: Mapping[str, Any] | None = None,
    move: str | None = None,
) -> Capture:
    """Run the program for `stack` in `mode` and return every registration. Exceptions from the program (e.g. a
    ConfigError) propagate, after the runtime has settled; pass `sink` to see what was registered before that.

    Other stacks' outputs (for airgap:networkStack) come from `stack_outputs`; failing that, from the plan of the
    sibling stack of that name in this project, as it would stand after its `pulumi up`. `deployed` is this stack's
    own last deployment's outputs (none: a new stack); `move` the state change the ops commands would ask for."""
    config = stack_config(stack, overrides, root)
    region = config.get("aws:region", "")
    invokes: list[str] = []
    if stack_outputs is None:
        stack_outputs = sibling_outputs(config, root)
    mocks = _Mocks(mode, region, invokes, stack_outputs)
    monitor = _CapturingMonitor(mocks)
    if sink is not None:
        monitor.registrations = sink

    internals.reset_root()
    internals.set_config(config)
    project = project_name(root)
    mocks.self_name, mocks.deployed = f"{ORGANIZATION}/{project}/{stack}", dict(deployed or {})
    logged = _Diagnostics()
    pulumi.runtime.set_mocks(monitor.mocks, project=project, stack=stack, preview=mode == "preview",
                             monitor=monitor, organization=ORGANIZATION, logger=logged.logger)
    main = program or ROOT / "__main__.py"
    if str(main.parent) not in sys.path:
        sys.path.insert(0, str(main.parent))

    def run() -> None:
        # The move reaches the program as the CLI's environment does; nothing else is read from it.
        previous = os.environ.pop(MOVE_VARIABLE, None)
        if move is not None:
            os.environ[MOVE_VARIABLE] = move
        try:
            runpy.run_path(str(main), run_name="__main__")
        finally:
            os.environ.pop(MOVE_VARIABLE, None)
            if previous is not None:
                os.environ[MOVE_VARIABLE] = previous

    internals.run_program(run)
    if mode == "update":
        reflect_rules(monitor.registrations)
    exports = internals.root_exports()
    return Capture(
        stack=stack,
        mode=mode,
        region=region,
        config=config,
        resources=monitor.registrations,
        exports=json_format.MessageToDict(exports),
        invokes=invokes,
        project=project,
        diagnostics=logged.records,
    )


class _Diagnostics(logging.Handler):
    """The engine's log, as the mock engine passes it on: what `pulumi preview` would print as diagnostics."""

    def __init__(self) -> None:
        super().__init__()
        self.records: list[tuple[str, str]] = []
        self.logger = logging.Logger("airgap-offline-engine", level=logging.INFO)
        self.logger.addHandler(self)

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append((record.levelname, record.getMessage()))


def sibling_outputs(config: Mapping[str, str], root: Path = ROOT) -> dict[str, dict[str, Any]]:
    """The outputs of the network stack this stack's config names, when that stack's file is in this project: the
    program run for it in update mode (everything known, as after its `pulumi up`)."""
    named = config.get(f"{PROJECT}:networkStack", "")
    parts = named.split("/")
    # Only a stack of this project (and, fully qualified, of the self-managed backend's organization) is a sibling;
    # any other is read from its backend, which offline means --network-outputs.
    ours = len(parts) == 1 or (parts[-2] == project_name(root) and (len(parts) == 2 or parts[0] == ORGANIZATION))
    if not named or not ours or not (root / f"Pulumi.{parts[-1]}.yaml").exists():
        return {}
    try:
        return {named: capture(parts[-1], "update", root=root, stack_outputs={}).exports}
    except Exception:  # a sibling that cannot be planned (itself, a workload stack) has no outputs to offer
        return {}


_STANDALONE = {INGRESS: "ingress",
               EGRESS: "egress"}


def reflect_rules(registrations: list[Registration]) -> None:
    """What the provider reads back once the groups exist: every rule on a group, standalone ones included, appears
    in that group's `ingress`/`egress` state. (Inputs are untouched: the program never wrote those.)"""
    groups = {r.urn: r for r in registrations if r.type == SG}
    for group in groups.values():
        group.state.setdefault("ingress", [])
        group.state.setdefault("egress", [])
    for rule in registrations:
        direction = _STANDALONE.get(rule.type)
        owner = groups.get((rule.property_dependencies.get("securityGroupId") or [""])[0])
        if direction is None or owner is None:
            continue
        s = rule.state
        protocol = s.get("ipProtocol")
        owner.state[direction].append({
            "protocol": protocol,
            "fromPort": 0 if protocol == "-1" else s.get("fromPort"),
            "toPort": 0 if protocol == "-1" else s.get("toPort"),
            "cidrBlocks": [s["cidrIpv4"]] if s.get("cidrIpv4") else [],
            "ipv6CidrBlocks": [s["cidrIpv6"]] if s.get("cidrIpv6") else [],
            "prefixListIds": [s["prefixListId"]] if s.get("prefixListId") else [],
            "securityGroups": [s["referencedSecurityGroupId"]] if s.get("referencedSecurityGroupId") else [],
            "self": False,
            "description": s.get("description", ""),
        })
