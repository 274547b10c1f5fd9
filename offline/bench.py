"""`python3 dev.py bench`: how long the offline run and the policy pack take, on dev and on a stack 100x larger.

The large stack is dev's captured graph copied N times (URNs and property dependencies renamed per copy), so the
pack sees N VPCs, each with its endpoints, workloads and rules: the graph policies' cost grows with it. Timings are
wall-clock on this machine, best of a few runs; they are a report, not a test.
"""

from __future__ import annotations

import argparse
import copy
import time

from offline.guard_run import POLICIES, analyze
from offline.harness import Capture, capture


def scaled(cap: Capture, copies: int) -> Capture:
    out = copy.deepcopy(cap)
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


def best(seconds: list[float]) -> str:
    return f"{min(seconds) * 1000:.0f} ms"


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
    parser.add_argument("--copies", type=_at_least_one, default=100, help="copies of dev in the large run (100)")
    parser.add_argument("--runs", type=_at_least_one, default=3, help="runs of each measurement; the best counts (3)")
    args = parser.parse_args(argv)

    print(f"airgap bench: {len(POLICIES)} policies; best of {args.runs} runs, wall clock")
    for mode in ("preview", "update"):
        runs, cap = [], None
        for _ in range(args.runs):
            started = time.perf_counter()
            cap = capture("dev", mode)
            runs.append(time.perf_counter() - started)
        assert cap is not None
        print(f"  program under mocks, dev, {mode}: {len(cap.resources)} registrations in {best(runs)}")
        for label, graph in (("dev", cap), (f"dev x{args.copies}", scaled(cap, args.copies))):
            timings, report = [], None
            for _ in range(args.runs):
                report = analyze(graph)
                timings.append(report.seconds)
            assert report is not None
            print(f"  policy pack, {label}, {mode}: {len(graph.resources)} resources in {best(timings)} "
                  f"({len(report.mandatory)} mandatory, {len(report.skipped)} skipped)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
