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

import json
import re
import runpy
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import grpc
import pulumi
import yaml
from google.protobuf import json_format
from pulumi.runtime import mocks as pulumi_mocks

from guard.types import AWS_PROVIDER, EGRESS, INGRESS, ROOT_STACK, SG, STACK_REFERENCE
from offline import aws_model
from program import pulumi_internals as internals
from program.config import ConfigError

ROOT = Path(__file__).resolve().parent.parent
PROJECT = "airgap"
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
        if stack not in self.stack_outputs:
            raise LookupError(f"stack '{stack}' not found (offline: no outputs were supplied for it)")
        return {"name": stack, "outputs": dict(self.stack_outputs[stack]), "secretOutputNames": []}

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
                provider=request.provider.rsplit("::", 1)[0] if request.provider else None,
                aliases=[_alias_urn(response.urn, a.spec.name) for a in request.aliases
                         if a.HasField("spec") and a.spec.name],
            )
        )
        return response


def _alias_urn(urn: str, old_name: str) -> str:
    """The URN an alias spec with only a name resolves to: same stack, project, parent type chain and type."""
    return f"{urn.rsplit('::', 1)[0]}::{old_name}"


class Yaml12Loader(yaml.SafeLoader):
    """Stack files as the Pulumi CLI reads them. PyYAML reads YAML 1.1, where on/off/yes/no are booleans; the CLI
    reads YAML 1.2 (only true/false are), so `airgap:bastion: on` is the string "on" there and must be here too.
    And the CLI's YAML library refuses a key written twice, where PyYAML would keep the last one silently."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            line = key_node.start_mark.line + 1
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"key {key!r} appears twice (lines {seen[key]} and {line})", key_node.start_mark)
            seen[key] = line
        return super().construct_mapping(node, deep=deep)


Yaml12Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
Yaml12Loader.add_implicit_resolver("tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
                                   list("tTfF"))


def load_yaml(text: str) -> Any:
    return yaml.load(text, Loader=Yaml12Loader)


class StackFileError(ConfigError):
    """A stack or project file the Pulumi CLI would refuse, said as the config error it is."""

    FIX = "Fix the file (the Pulumi CLI refuses it too) and run again."


def _read_yaml_file(path: Path) -> Any:
    try:
        return load_yaml(path.read_text())
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(err, "problem", None) or str(err)
        raise StackFileError([f"{path.name} is not valid YAML{where}: {problem}"]) from None


def _engine_string(value: Any) -> str:
    """Config values reach the program as strings; structured ones as JSON (what the CLI does)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, dict)):
        return json.dumps(value)
    return str(value)


def stack_config(stack: str, overrides: Mapping[str, Any] | None = None, root: Path = ROOT) -> dict[str, str]:
    """The config the engine would hand the program: project defaults, then the stack file, then overrides.
    A stack file the CLI would refuse raises `StackFileError`, naming the file and what is wrong."""
    project = _read_yaml_file(root / "Pulumi.yaml") or {}
    name = project_name(root)
    values: dict[str, Any] = {}
    for key, spec in (project.get("config") or {}).items():
        full = key if ":" in key else f"{name}:{key}"
        if isinstance(spec, dict) and "default" in spec:
            values[full] = spec["default"]
    stack_file = root / f"Pulumi.{stack}.yaml"
    if not stack_file.exists():
        present = ", ".join(stacks(root)) or "none"
        raise StackFileError([f"{stack_file.name} does not exist in {root}: no stack {stack!r} here (stacks with a "
                              f"file: {present}); create it with `pulumi stack init {stack}` and set aws:region"])
    document = _read_yaml_file(stack_file)
    if document is None:
        document = {}
    if not isinstance(document, dict) or not isinstance(document.get("config") or {}, dict):
        raise StackFileError([f"{stack_file.name}: expected a mapping with a `config:` mapping of `<namespace>:<key>: "
                              "<value>` entries"])
    problems = []
    for key, value in (document.get("config") or {}).items():
        if ":" not in str(key):
            problems.append(f"{stack_file.name}: config key {key!r} has no namespace; the Pulumi CLI reads only "
                            f"`<namespace>:<name>` keys in a stack file: write `{name}:{key}`")
        values[str(key)] = value
    if problems:
        raise StackFileError(problems)
    for key, value in (overrides or {}).items():
        full = key if ":" in key else f"{name}:{key}"
        if value is None:
            values.pop(full, None)
        else:
            values[full] = value
    return {k: _engine_string(v) for k, v in values.items()}


def project_name(root: Path = ROOT) -> str:
    """The project's name (Pulumi.yaml `name`): the namespace of its config keys and part of every URN."""
    return str((_read_yaml_file(root / "Pulumi.yaml") or {}).get("name") or PROJECT)


def stacks(root: Path = ROOT) -> list[str]:
    """The stacks shipped with the project (one Pulumi.<stack>.yaml each)."""
    return sorted(p.name[len("Pulumi."):-len(".yaml")] for p in root.glob("Pulumi.*.yaml"))


def capture(
    stack: str = "dev",
    mode: Mode = "preview",
    overrides: Mapping[str, Any] | None = None,
    program: Path | None = None,
    sink: list[Registration] | None = None,
    root: Path = ROOT,
    stack_outputs: Mapping[str, Mapping[str, Any]] | None = None,
) -> Capture:
    """Run the program for `stack` in `mode` and return every registration. Exceptions from the program (e.g. a
    ConfigError) propagate, after the runtime has settled; pass `sink` to see what was registered before that.

    Other stacks' outputs (for airgap:networkStack) come from `stack_outputs`; failing that, from the plan of the
    sibling stack of that name in this project, as it would stand after its `pulumi up`."""
    config = stack_config(stack, overrides, root)
    region = config.get("aws:region", "")
    invokes: list[str] = []
    if stack_outputs is None:
        stack_outputs = sibling_outputs(config, root)
    monitor = _CapturingMonitor(_Mocks(mode, region, invokes, stack_outputs))
    if sink is not None:
        monitor.registrations = sink

    internals.reset_root()
    internals.set_config(config)
    project = project_name(root)
    pulumi.runtime.set_mocks(monitor.mocks, project=project, stack=stack, preview=mode == "preview",
                             monitor=monitor)
    main = program or ROOT / "__main__.py"
    if str(main.parent) not in sys.path:
        sys.path.insert(0, str(main.parent))

    def run() -> None:
        runpy.run_path(str(main), run_name="__main__")

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
    )


def sibling_outputs(config: Mapping[str, str], root: Path = ROOT) -> dict[str, dict[str, Any]]:
    """The outputs of the network stack this stack's config names, when that stack's file is in this project: the
    program run for it in update mode (everything known, as after its `pulumi up`)."""
    named = config.get(f"{PROJECT}:networkStack", "")
    if not named:
        return {}
    sibling = named.rsplit("/", 1)[-1]
    if not (root / f"Pulumi.{sibling}.yaml").exists():
        return {}
    return {named: capture(sibling, "update", root=root, stack_outputs={}).exports}


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
