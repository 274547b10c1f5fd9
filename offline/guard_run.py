"""Run the airgap-guard pack in-process over a captured stack, through pulumi_policy's own analyzer servicer.

The requests are the engine's: an `AnalyzeRequest` per resource with its inputs (unknowns as the engine's sentinel)
and its provider, then one `AnalyzeStackRequest` with every resource's state, parent, dependencies and property
dependencies. Nothing is reimplemented: the servicer's unknown handling, not-applicable handling and enforcement
levels are pulumi_policy's.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from google.protobuf import json_format, struct_pb2
from pulumi.runtime.proto import analyzer_pb2
from pulumi_policy import EnforcementLevel, PolicyResource, StackValidationPolicy

from guard import PACK_NAME, PACK_VERSION, POLICIES, pack_initial_config  # policy/, on the path (offline package)
from guard.runtime import tuned
from guard.types import AWS_PROVIDER
from offline.harness import Capture, Registration
from program import pulumi_internals as internals

LEVELS = {analyzer_pb2.ADVISORY: "advisory", analyzer_pb2.MANDATORY: "mandatory",
          analyzer_pb2.REMEDIATE: "remediate", analyzer_pb2.DISABLED: "disabled"}
_POLICY_LEVEL = {EnforcementLevel.ADVISORY: analyzer_pb2.ADVISORY, EnforcementLevel.MANDATORY: analyzer_pb2.MANDATORY,
                 EnforcementLevel.REMEDIATE: analyzer_pb2.REMEDIATE, EnforcementLevel.DISABLED: analyzer_pb2.DISABLED}
Config = dict[str, Any]  # {"all": level, "<policy>": level | {"enforcementLevel": level, "<knob>": value}}


@dataclass(frozen=True)
class Finding:
    policy: str
    level: str
    message: str
    urn: str

    @property
    def skipped(self) -> bool:
        """pulumi_policy's own note for a policy that read an unknown value: it did not run."""
        return self.message.startswith("can't run policy")


@dataclass
class Report:
    findings: list[Finding] = field(default_factory=list)
    not_applicable: list[tuple[str, str]] = field(default_factory=list)  # (policy, reason)
    seconds: float = 0.0
    stack_seconds: float = 0.0  # of `seconds`, the one AnalyzeStack call

    @property
    def violations(self) -> list[Finding]:
        return [f for f in self.findings if not f.skipped]

    @property
    def mandatory(self) -> list[Finding]:
        return [f for f in self.violations if f.level == "mandatory"]

    @property
    def skipped(self) -> list[Finding]:
        return [f for f in self.findings if f.skipped]

    def by_policy(self, name: str) -> list[Finding]:
        return [f for f in self.violations if f.policy == name]


def _struct(values: dict[str, Any]) -> struct_pb2.Struct:
    return json_format.ParseDict(values, struct_pb2.Struct())


def _provider(capture: Capture) -> analyzer_pb2.AnalyzerProviderResource:
    """The default aws provider the engine creates from the stack's aws:* config."""
    name = "default"
    props = {key.split(":", 1)[1]: value for key, value in capture.config.items() if key.startswith("aws:")}
    urn = f"urn:pulumi:{capture.stack}::{capture.project}::pulumi:providers:aws::{name}"
    return analyzer_pb2.AnalyzerProviderResource(type=AWS_PROVIDER, urn=urn, name=name,
                                                 properties=_struct(props))


def _providers(capture: Capture) -> dict[str, analyzer_pb2.AnalyzerProviderResource]:
    """Explicit providers the program created, by URN, as the engine describes them to the analyzer."""
    return {r.urn: analyzer_pb2.AnalyzerProviderResource(type=r.type, urn=r.urn, name=r.name,
                                                         properties=_struct(r.inputs))
            for r in capture.resources if r.type.startswith("pulumi:providers:")}


def _options(r: Registration) -> analyzer_pb2.AnalyzerResourceOptions:
    return analyzer_pb2.AnalyzerResourceOptions(protect=r.protect, ignoreChanges=r.ignore_changes,
                                                parent=r.parent or "")


def _layer(config: Config) -> dict[str, tuple[EnforcementLevel | None, dict[str, Any]]]:
    """A config in the CLI's shape, as (level, properties) per name."""
    out: dict[str, tuple[EnforcementLevel | None, dict[str, Any]]] = {}
    for name, value in config.items():
        if isinstance(value, dict):
            props = {k: v for k, v in value.items() if k != "enforcementLevel"}
            level = value.get("enforcementLevel")
        else:
            props, level = {}, value
        out[name] = (EnforcementLevel(level) if isinstance(level, str) else level, props)
    return out


def reconcile(policies: list[Any], *layers: Config) -> dict[str, tuple[EnforcementLevel, dict[str, Any]]]:
    """Each policy's level and config as the CLI sends them to Configure: the policy's own level and its schema's
    defaults, then each layer (the pack's initial config, then the user's) — `all` first, then per policy
    (pulumi/pulumi pkg/resource/analyzer/config.go, ReconcilePolicyPackConfig and applyConfig)."""
    result = {p.name: (p.enforcement_level or EnforcementLevel.MANDATORY,
                       {k: v["default"] for k, v in (p.config_schema.properties if p.config_schema else {}).items()
                        if "default" in v}) for p in policies}
    for layer in map(_layer, layers):
        every = layer.pop("all", (None, {}))[0]
        if every is not None:
            result = {name: (every, props) for name, (_, props) in result.items()}
        for name, (level, props) in layer.items():
            if name not in result:
                raise KeyError(f"{name!r} is not a policy of {PACK_NAME}")
            old_level, old_props = result[name]
            result[name] = (level or old_level, {**old_props, **props})
    return result


def servicer(config: Config | None = None, policies: list[Any] | None = None) -> Any:
    """The pack's servicer, as `pulumi preview --policy-pack policy` starts it and configures it: the pack's initial
    config and then `config` (a --policy-pack-config file's content), optionally with only some of its policies."""
    policies = POLICIES if policies is None else policies
    analyzer = internals.policy_analyzer(PACK_NAME, PACK_VERSION, policies, EnforcementLevel.MANDATORY)
    initial = {name: value for name, value in plain_levels(pack_initial_config()).items()
               if name == "all" or name in {p.name for p in policies}}
    unknown = set(config or {}) - {p.name for p in POLICIES} - {"all"}
    if unknown:
        raise KeyError(f"not policies of {PACK_NAME}: {sorted(unknown)}")
    given = {name: value for name, value in (config or {}).items()
             if name == "all" or name in {p.name for p in policies}}
    request = analyzer_pb2.ConfigureAnalyzerRequest(policyConfig={
        name: analyzer_pb2.PolicyConfig(enforcementLevel=_POLICY_LEVEL[level], properties=_struct(props))
        for name, (level, props) in reconcile(policies, initial, given).items()})
    analyzer.Configure(request, None)
    return analyzer


def plain_levels(config: dict[str, Any]) -> Config:
    """pulumi_policy's initial config (EnforcementLevel members) in the CLI's plain shape."""
    def plain(value: Any) -> Any:
        return value.value if isinstance(value, EnforcementLevel) else value

    return {name: {k: plain(v) for k, v in value.items()} if isinstance(value, dict) else plain(value)
            for name, value in config.items()}


def analyze(capture: Capture, config: Config | None = None,
            only: tuple[str, ...] | None = None, policies: list[Any] | None = None) -> Report:
    """The pack's verdict on `capture`: each resource through Analyze, then the stack through AnalyzeStack, as the
    engine sends them. `only` runs just the named policies; `policies` runs others in their place (the bench).
    `Report.seconds` counts only the time inside the pack's servicer, not building the engine's requests."""
    chosen = POLICIES if policies is None else policies
    analyzer = servicer(config, [p for p in chosen if p.name in only] if only is not None else chosen)
    provider = _provider(capture)
    explicit = _providers(capture)
    report = Report()

    def collect(call: Any, request: Any) -> float:
        started = time.perf_counter()
        response = call(request, None)
        seconds = time.perf_counter() - started
        for d in response.diagnostics:
            report.findings.append(Finding(d.policyName, LEVELS.get(d.enforcementLevel, "?"), d.message, d.urn))
        report.not_applicable += [(n.policy_name, n.reason) for n in response.not_applicable]
        report.seconds += seconds
        return seconds

    aws = {r.urn for r in capture.resources if r.custom and r.type.startswith("aws:")}
    # The analyzer process's garbage-collector settings (policy/__main__.py), only while the pack runs.
    with tuned():
        for r in capture.resources:
            request = analyzer_pb2.AnalyzeRequest(type=r.type, properties=_struct(r.inputs), urn=r.urn, name=r.name,
                                                  options=_options(r))
            if r.urn in aws:
                request.provider.CopyFrom(explicit.get(r.provider or "", provider))
            collect(analyzer.Analyze, request)
        report.stack_seconds = collect(analyzer.AnalyzeStack, _stack_request(capture))
    return report


def _stack_request(capture: Capture) -> analyzer_pb2.AnalyzeStackRequest:
    """The stack as the engine sends it to AnalyzeStack: every resource's state, parents, dependencies and
    property dependencies, with its provider."""
    provider = _provider(capture)
    explicit = _providers(capture)
    aws = {r.urn for r in capture.resources if r.custom and r.type.startswith("aws:")}
    resources = [analyzer_pb2.AnalyzerResource(type=provider.type, urn=provider.urn, name=provider.name,
                                               properties=provider.properties)]
    for r in capture.resources:
        resource = analyzer_pb2.AnalyzerResource(
            type=r.type, properties=_struct(r.state if r.custom else {}), urn=r.urn, name=r.name,
            options=_options(r), parent=r.parent or "", dependencies=r.dependencies,
            propertyDependencies={k: analyzer_pb2.AnalyzerPropertyDependencies(urns=v)
                                  for k, v in r.property_dependencies.items()})
        if r.urn in aws:
            resource.provider.CopyFrom(explicit.get(r.provider or "", provider))
        resources.append(resource)
    return analyzer_pb2.AnalyzeStackRequest(resources=resources)


def stack_resources(capture: Capture) -> list[PolicyResource]:
    """The stack's resources exactly as pulumi_policy builds them for a stack policy (values unknown in a first
    preview raise on access, references resolved): what the pack's own model is built from."""
    seen: list[PolicyResource] = []
    probe = StackValidationPolicy(name="airgap-stack-model", description="hands the stack to the offline tools",
                                  validate=lambda args, report: seen.extend(args.resources))
    servicer(policies=[probe]).AnalyzeStack(_stack_request(capture), None)
    return seen
