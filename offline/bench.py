"""`python3 dev.py bench`: how long the offline run and the policy pack take, and whether the pack stays linear.

The pack runs on dev's captured graph copied 1, 10, 100 and 160 times (URNs and property dependencies renamed per
copy), so it sees N VPCs, each with its endpoints, workloads and rules — about 10,000 resources at 160x. For each
size and harness mode it reports the time inside the pack's servicer per resource, and the share of it spent in the
pack's own code (the policies' validate callbacks, timed one by one) rather than in pulumi_policy's per-policy work
(deserialising every resource for every policy). Linear means ms per resource does not grow with the copies.
Timings are wall-clock on this machine, best of a few runs; they are a report, not a test.
"""

from __future__ import annotations

import argparse
import copy
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pulumi_policy import ResourceValidationPolicy, StackValidationPolicy

from offline.guard_run import POLICIES, analyze
from offline.harness import MODES, Capture, capture

SIZES = (1, 10, 100, 160)
# The targets: ms/resource at the largest size within this factor of 10x; own code at most this share.
LINEAR_WITHIN = 1.3
OWN_SHARE_AT_MOST = 0.05


def scaled(cap: Capture, copies: int) -> Capture:
    out = copy.copy(cap)
    out.resources = []
    for i in range(copies):
        def rename(urn: str, i: int = i) -> str:
            return f"{urn}-copy{i}"

        for r in copy.deepcopy(cap.resources):
            r.urn, r.parent = rename(r.urn), rename(r.parent) if r.parent else None
            r.name = f"{r.name}-copy{i}"
            r.dependencies = [rename(d) for d in r.dependencies]
            r.property_dependencies = {k: [rename(u) for u in v] for k, v in r.property_dependencies.items()}
            out.resources.append(r)
    return out


class OwnClock:
    """Time spent inside the pack's validate callbacks: the pack's own code (and the property reads it makes)."""

    def __init__(self) -> None:
        self.seconds = 0.0

    def wrap(self, validate: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
        def timed(args: Any, report: Any) -> Any:
            started = time.perf_counter()
            try:
                return validate(args, report)
            finally:
                self.seconds += time.perf_counter() - started

        return timed

    def policies(self) -> list[Any]:
        """The pack's policies, each with its validate timed; names, levels, severities and schemas unchanged."""
        timed: list[Any] = []
        for p in POLICIES:
            kind = ResourceValidationPolicy if isinstance(p, ResourceValidationPolicy) else StackValidationPolicy
            timed.append(kind(name=p.name, description=p.description, validate=self.wrap(p.validate),
                              enforcement_level=p.enforcement_level, config_schema=p.config_schema,
                              severity=p.severity))
        return timed


@dataclass
class Row:
    mode: str
    copies: int
    resources: int
    seconds: float
    stack_seconds: float
    own_seconds: float
    mandatory: int
    skipped: int

    @property
    def ms_per_resource(self) -> float:
        return self.seconds * 1000 / self.resources

    @property
    def own_share(self) -> float:
        return self.own_seconds / self.seconds if self.seconds else 0.0


def measure(cap: Capture, copies: int, runs: int) -> Row:
    graph = scaled(cap, copies)
    best: Row | None = None
    for _ in range(runs):
        clock = OwnClock()
        report = analyze(graph, policies=clock.policies())
        row = Row(cap.mode, copies, len(graph.resources), report.seconds, report.stack_seconds, clock.seconds,
                  len(report.mandatory), len(report.skipped))
        best = row if best is None or row.seconds < best.seconds else best
    assert best is not None
    return best


def table(rows: list[Row]) -> list[str]:
    out = [f"  {'mode':<8} {'copies':>6} {'resources':>9} {'pack ms':>9} {'ms/res':>7} {'stack ms':>9} "
           f"{'own ms':>8} {'own':>6} {'mandatory':>9} {'skipped':>7}"]
    for r in rows:
        out.append(f"  {r.mode:<8} {r.copies:>5}x {r.resources:>9} {r.seconds * 1000:>9.0f} "
                   f"{r.ms_per_resource:>7.3f} {r.stack_seconds * 1000:>9.0f} {r.own_seconds * 1000:>8.0f} "
                   f"{r.own_share:>6.1%} {r.mandatory:>9} {r.skipped:>7}")
    return out


def verdict(rows: list[Row], sizes: tuple[int, ...]) -> list[str]:
    """Linearity (largest size against 10x, or the smallest above 1x) and the own-code share at the largest."""
    lines = []
    base = 10 if 10 in sizes else min((s for s in sizes if s > 1), default=sizes[0])
    top = max(sizes)
    for mode in MODES:
        by = {r.copies: r for r in rows if r.mode == mode}
        growth = by[top].ms_per_resource / by[base].ms_per_resource
        share = by[top].own_share
        lines.append(f"  {mode}: ms/resource at {top}x is {growth:.2f}x that at {base}x "
                     f"({'within' if growth <= LINEAR_WITHIN else 'OVER'} {LINEAR_WITHIN}x); own code {share:.1%} "
                     f"at {top}x ({'within' if share <= OWN_SHARE_AT_MOST else 'OVER'} {OWN_SHARE_AT_MOST:.0%})")
    return lines


def _sizes(text: str) -> tuple[int, ...]:
    """`1,10,100`: each a number of copies, 1 or more."""
    return tuple(sorted({_at_least_one(part.strip()) for part in text.split(",")}))


def _at_least_one(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value}: expected 1 or more")
    return value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="dev.py bench", description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=_sizes, default=",".join(map(str, SIZES)),
                        help="copies of dev to run the pack on, comma-separated (default %(default)s)")
    parser.add_argument("--runs", type=_at_least_one, default=2, help="runs per size; the best is shown (2)")
    args = parser.parse_args(argv)
    sizes = args.sizes

    stack = sum(isinstance(p, StackValidationPolicy) for p in POLICIES)
    print(f"airgap bench: {len(POLICIES)} policies ({len(POLICIES) - stack} resource, {stack} stack); best of "
          f"{args.runs} runs, wall clock")
    rows: list[Row] = []
    for mode in MODES:
        runs, cap = [], None
        for _ in range(args.runs):
            started = time.perf_counter()
            cap = capture("dev", mode)
            runs.append(time.perf_counter() - started)
        assert cap is not None
        print(f"  program under mocks, dev, {mode}: {len(cap.resources)} registrations in {min(runs) * 1000:.0f} ms")
        rows += [measure(cap, copies, args.runs) for copies in sizes]
    print("policy pack (time inside its servicer: Analyze per resource, then AnalyzeStack; own = the pack's "
          "validate callbacks):")
    print("\n".join(table(rows)))
    if len(sizes) > 1:
        print("\n".join(verdict(rows, sizes)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
