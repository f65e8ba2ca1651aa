"""Benchmark: podwall's nftables dataplane, in network namespaces of its own.

1. Ruleset load: compile + `nft -f` of the whole ruleset (podwall's `Dataplane.sync`, first
   call) into a fresh node namespace, for ~1k pods / ~1k policies and ~10k / ~10k.
2. Incremental change: the next syncs after one policy gains an ingress rule, then after one
   pod is added, split into compile, transaction (diff) + render, and `nft -f`.
3. Traffic, server and client pods behind one node: new TCP connections per second and bulk
   throughput with no ruleset, a conntrack-only ruleset, podwall's 1k ruleset (direct, then
   through a ClusterIP with 1k services), and a naive linear chain of 10k rules. Runs are
   interleaved and repeated; medians and ratios are printed.

Usage (root, from the repository root):

    .venv/bin/python bench/bench_dataplane.py            # everything, ~3.5 minutes (root)
    .venv/bin/python bench/bench_dataplane.py --quick    # 1k only, fewer and shorter runs
    .venv/bin/python bench/bench_dataplane.py --json bench/out/dataplane.json

The table goes to stdout, progress to stderr. Exit status 2 without root, `nft` or `ip`; 1 if
a configuration did not behave as expected (a closed port answering through a ruleset, or
connections failing).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make `bench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.dataplane import clusters, loadtime, report, traffic
from podwall.nft import runner

ROOT = Path(__file__).resolve().parent.parent
STARTED = time.monotonic()
LINEAR_RULES = 10_000


def progress(message: str) -> None:
    print(
        f"[{time.monotonic() - STARTED:6.1f}s load {os.getloadavg()[0]:.2f}] {message}",
        file=sys.stderr,
        flush=True,
    )


def missing_requirements() -> str | None:
    if os.geteuid() != 0:
        return "needs root: it creates network namespaces and loads nftables rulesets"
    if not runner.available():
        return "needs the nft binary (Debian package nftables)"
    if shutil.which("ip") is None:
        return "needs the ip binary (Debian package iproute2)"
    return None


def _output(argv: list[str]) -> str:
    done = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, check=False)
    return done.stdout.strip()


def source_version() -> str:
    """podwall's commit, `+dirty` when src/ has uncommitted changes (read-only git calls)."""
    head = _output(["git", "rev-parse", "--short", "HEAD"]) or "unknown"
    dirty = _output(["git", "status", "--porcelain", "--", "src"])
    return head + ("+dirty" if dirty else "")


def machine() -> dict[str, Any]:
    return {
        "nproc": os.cpu_count(),
        "kernel": platform.release(),
        "nft": _output(["nft", "--version"]),
        "podwall": source_version(),
        "python": platform.python_version(),
        "loadavg": os.getloadavg()[0],
        "date": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
    }


def run_load(labels: list[str], repeats: dict[str, int]) -> dict[str, list[loadtime.Round]]:
    results: dict[str, list[loadtime.Round]] = {}
    for label in labels:
        size = clusters.SIZES[label]
        progress(f"{label}: gen_cluster.py {size.args} (cached in {size.folder.name})")
        snaps = clusters.snapshots(clusters.prepare(size))
        rounds = []
        for rep in range(repeats[label]):
            r = loadtime.one_round(snaps)
            rounds.append(r)
            policy = statistics.median(s.total for s in r.policy) * 1000
            pod = statistics.median(s.total for s in r.pod) * 1000
            times = f"full {r.full.total:.3f} s, policy {policy:.1f} ms, pod {pod:.1f} ms"
            progress(f"{label} rep {rep + 1}/{repeats[label]}: {times} (medians of cycles)")
        results[label] = rounds
    return results


def traffic_configs() -> list[traffic.Config]:
    folder = clusters.prepare(clusters.SIZES["1k"])
    base = clusters.load(folder, clusters.BASE_FILES)
    with_services = clusters.load(folder, (*clusters.BASE_FILES, "services.yaml"))
    progress(f"traffic: compiling 1k rulesets ({len(with_services.services)} services)")
    podwall = loadtime.full_script(base)
    podwall_svc = loadtime.full_script(with_services)
    return [
        traffic.direct("no ruleset", None, "refused"),
        traffic.direct("conntrack only", traffic.CONNTRACK_ONLY, "refused"),
        traffic.direct("podwall", podwall, "timeout"),
        traffic.via_service("podwall + services", podwall_svc),
        traffic.direct(
            f"linear {LINEAR_RULES // 1000}k", traffic.linear_script(LINEAR_RULES), "timeout"
        ),
    ]


def problems(configs: list[traffic.Config], figures: dict[str, traffic.Figures]) -> list[str]:
    out = []
    for c in configs:
        f = figures[c.name]
        if f.probe != c.expect_closed:
            out.append(f"{c.name}: closed port answered {f.probe!r}, expected {c.expect_closed!r}")
        if sum(f.conn_errors):
            out.append(f"{c.name}: {sum(f.conn_errors)} connections failed")
    return out


def traffic_load(args: argparse.Namespace) -> traffic.Load:
    quick = traffic.Load(rounds=8, seconds=0.3, latency_seconds=0.2, bulk_seconds=0.2)
    default = quick if args.quick else traffic.Load()
    return traffic.Load(
        rounds=args.rounds or default.rounds,
        seconds=args.seconds or default.seconds,
        latency_seconds=default.latency_seconds,
        bulk_seconds=default.bulk_seconds,
    )


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="1k only, fewer and shorter runs")
    ap.add_argument("--json", type=Path, help="write every raw figure to this file")
    ap.add_argument("--skip-traffic", action="store_true", help="ruleset load times only")
    ap.add_argument("--skip-load", action="store_true", help="traffic only")
    ap.add_argument("--rounds", type=int, help="traffic rounds (30; quick 8)")
    ap.add_argument(
        "--seconds", type=float, help="seconds per slice of connections (0.5; quick 0.3)"
    )
    return ap.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    missing = missing_requirements()
    if missing:
        print(f"bench_dataplane: {missing}", file=sys.stderr)
        return 2
    info = machine()
    lines = [
        f"podwall dataplane benchmark, {info['date']}, podwall {info['podwall']}",
        f"machine: {info['nproc']} CPUs, kernel {info['kernel']}, {info['nft']}, "
        f"Python {info['python']}, load average {info['loadavg']:.2f}",
    ]
    labels = ["1k"] if args.quick else ["1k", "10k"]
    repeats = {"1k": 3, "10k": 1} if args.quick else {"1k": 5, "10k": 3}
    raw: dict[str, Any] = {"machine": info}
    goals: list[report.Goal] = []
    if not args.skip_load:
        results = run_load(labels, repeats)
        raw["load"] = {k: [asdict(r) for r in v] for k, v in results.items()}
        lines += ["", "Ruleset (base snapshot of each size)", *report.ruleset_sizes(results)]
        lines += ["", "Syncs: full load, then one policy change, then one pod added (medians)"]
        lines += report.sync_times(results)
        goals += report.load_goals(results)
    issues: list[str] = []
    if not args.skip_traffic:
        load = traffic_load(args)
        configs = traffic_configs()
        figures = traffic.measure(configs, load, progress)
        raw["traffic"] = {
            "load": asdict(load),
            "figures": {k: asdict(v) for k, v in figures.items()},
        }
        each = (
            f"{load.seconds:g} s of connections, {load.latency_seconds:g} s of sequential ones"
            f" and {load.bulk_seconds:g} s bulk"
        )
        lines += ["", f"Traffic, 1k pods / 1k policies: {load.rounds} rounds of {each} each;"]
        lines += ["rates are medians, ratios medians of same-round ratios"]
        lines += report.traffic_table(figures)
        lines += ["", "Time added to one new connection (medians over rounds)"]
        lines += report.latency_lines(figures)
        goals += report.traffic_goals(figures)
        issues = problems(configs, figures)
    lines += ["", "Goals", *report.goal_lines(goals)]
    lines += [f"  PROBLEM: {p}" for p in issues]
    print("\n".join(lines))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(raw, indent=1) + "\n")
        progress(f"raw figures in {args.json}")
    progress(f"done in {time.monotonic() - STARTED:.0f} s")
    return 1 if issues else 0


if __name__ == "__main__":
    sys.exit(main())
