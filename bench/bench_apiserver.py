"""Benchmark: podwall's API server, measured side by side with what bounds it.

1. Request latency: GET of one object, p50, against a bare ASGI app answering a constant over
   the same uvicorn + TLS setup (goal: within 3x).
2. Writes: a create's p50 with many objects stored vs with 100 (goal: within 1.5x); one
   writer's create vs one SQLite insert + fsync on the same disk (goal: within 3x); the
   throughput of 8 concurrent writers vs one (goal: at least 4x).
3. Scale: pods bound to nodes and NetworkPolicies created through the API by 8 writers while
   5 watchers per resource follow them (no event lost or out of order), then `kubectl get
   pods -A` (chunked by kubectl, 500 a request); time, the server's resident memory (goal:
   < 1 GiB) and the p99 of watch delivery (from the create being sent to the event arriving).

Every server is `podwall.apiserver.server.Server(state_dir, port=0)` (no kubelet, no
controllers) in a process of its own (bench/apiserver/serve.py), in a temporary directory
removed at the end. Usage, from the repository root:

    .venv/bin/python -m bench.bench_apiserver                # everything, ~3 minutes
    .venv/bin/python -m bench.bench_apiserver --quick        # smaller sizes, ~1 minute
    .venv/bin/python -m bench.bench_apiserver --json bench/out/apiserver.json

The table goes to stdout, progress to stderr. Exit status 1 if a watch lost or reordered an
event or a request failed; the speed goals are printed, never asserted.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make `bench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.apiserver import objects
from bench.apiserver.client import Api, Endpoint, Watcher
from bench.apiserver.process import ServerProcess

ROOT = Path(__file__).resolve().parent.parent
STARTED = time.monotonic()
CONFIGMAPS = "/api/v1/namespaces/default/configmaps"
MiB = 1024 * 1024


def progress(message: str) -> None:
    print(
        f"[{time.monotonic() - STARTED:6.1f}s load {os.getloadavg()[0]:.2f}] {message}",
        file=sys.stderr,
        flush=True,
    )


def _output(argv: list[str]) -> str:
    done = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, check=False)
    return done.stdout.strip()


def source_version() -> str:
    """podwall's commit, `+dirty` when src/ has uncommitted changes (read-only git calls)."""
    head = _output(["git", "rev-parse", "--short", "HEAD"]) or "unknown"
    dirty = _output(["git", "status", "--porcelain", "--", "src"])
    return head + ("+dirty" if dirty else "")


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f} ms"


@dataclass
class Goal:
    what: str
    figure: str
    met: bool

    def line(self) -> str:
        return f"{self.what}: {self.figure} ({'met' if self.met else 'NOT met'})"


@dataclass
class Results:
    lines: list[str] = field(default_factory=list)
    goals: list[Goal] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    raw: dict[str, Any] = field(default_factory=dict)


# 1. Request latency.


def timed_gets(api: Api, path: str, count: int, budget: float) -> list[float]:
    times: list[float] = []
    deadline = time.monotonic() + budget
    while len(times) < count and time.monotonic() < deadline:
        start = time.perf_counter()
        api.get(path)
        times.append(time.perf_counter() - start)
    return times


def latency(tmp: Path, rounds: int, results: Results) -> None:
    progress("latency: starting podwall's server and the bare ASGI app")
    with ServerProcess(tmp / "latency") as server, ServerProcess(tmp / "bare", bare=True) as bare:
        podwall_api, bare_api = Api(server.endpoint), Api(bare.endpoint)
        path = "/api/v1/namespaces/default"
        timed_gets(podwall_api, path, 20, 5)
        timed_gets(bare_api, "/", 20, 5)
        ours: list[float] = []
        theirs: list[float] = []
        for _ in range(rounds):  # interleaved, so both see the same machine load
            ours += timed_gets(podwall_api, path, 100, 2)
            theirs += timed_gets(bare_api, "/", 100, 2)
        podwall_api.close()
        bare_api.close()
    p50, base = statistics.median(ours), statistics.median(theirs)
    ratio = p50 / base
    results.raw["latency"] = {"podwall": ours, "bare": theirs}
    results.lines += [
        "",
        "Request latency: GET /api/v1/namespaces/default vs a bare ASGI app, same TLS + uvicorn",
        f"  podwall p50 {_ms(p50)} (p90 {_ms(percentile(ours, 0.9))}, {len(ours)} requests)",
        f"  bare    p50 {_ms(base)} (p90 {_ms(percentile(theirs, 0.9))}, {len(theirs)} requests)",
    ]
    results.goals.append(Goal("GET p50 within 3x of a bare ASGI app", f"{ratio:.2f}x", ratio <= 3))


# 2. Writes.


def create_many(
    endpoint: Endpoint, path: str, objs: Sequence[dict[str, Any]], writers: int
) -> None:
    """Create `objs` with `writers` concurrent connections (no timing kept)."""
    timed_creates(endpoint, path, objs, writers, budget=600)


def timed_creates(
    endpoint: Endpoint,
    path: str | Callable[[dict[str, Any]], str],
    objs: Sequence[dict[str, Any]],
    writers: int,
    budget: float,
    sent: dict[str, float] | None = None,
) -> tuple[list[float], float, int]:
    """Each create's latency, the elapsed time and the count, `writers` connections at once."""
    lock = threading.Lock()
    position = iter(range(len(objs)))
    times: list[float] = []
    errors: list[str] = []
    deadline = time.monotonic() + budget

    def writer() -> None:
        api = Api(endpoint)
        mine: list[float] = []
        try:
            while time.monotonic() < deadline:
                with lock:
                    index = next(position, None)
                if index is None:
                    break
                obj = objs[index]
                target = path if isinstance(path, str) else path(obj)
                start = time.perf_counter()
                if sent is not None:
                    sent[obj["metadata"]["name"]] = time.monotonic()
                api.create(target, obj)
                mine.append(time.perf_counter() - start)
        except Exception as exc:  # reported, not raised: the other writers go on
            errors.append(str(exc))
        finally:
            api.close()
            with lock:
                times.extend(mine)

    threads = [threading.Thread(target=writer) for _ in range(writers)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    if errors:
        raise RuntimeError(f"{len(errors)} writer(s) failed, first: {errors[0]}")
    return times, elapsed, len(times)


def sqlite_fsync(folder: Path, count: int) -> list[float]:
    """One INSERT + COMMIT (WAL, synchronous=FULL) at a time: what one durable write costs."""
    folder.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(folder / "raw.db", isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.execute("CREATE TABLE t (k TEXT PRIMARY KEY, body TEXT NOT NULL)")
    body = json.dumps(objects.config_map("x"))
    times = []
    for i in range(count):
        start = time.perf_counter()
        db.execute("BEGIN IMMEDIATE")
        db.execute("INSERT INTO t VALUES (?, ?)", (str(i), body))
        db.execute("COMMIT")
        times.append(time.perf_counter() - start)
    db.close()
    return times


def config_maps(prefix: str, count: int) -> list[dict[str, Any]]:
    return [objects.config_map(f"{prefix}-{i:05d}") for i in range(count)]


def writes(tmp: Path, stored: int, samples: int, results: Results) -> None:
    progress("writes: starting a server")
    with ServerProcess(tmp / "writes") as server:
        endpoint = server.endpoint
        create_many(endpoint, CONFIGMAPS, config_maps("fill", 100), 4)
        small, _, _ = timed_creates(endpoint, CONFIGMAPS, config_maps("small", samples), 1, 30)
        raw = sqlite_fsync(tmp / "sqlite", samples)
        progress(f"writes: filling to {stored} stored objects (8 writers)")
        fill_start = time.perf_counter()
        create_many(endpoint, CONFIGMAPS, config_maps("more", stored - 100 - samples), 8)
        fill = time.perf_counter() - fill_start
        big, _, _ = timed_creates(endpoint, CONFIGMAPS, config_maps("big", samples), 1, 30)
        progress("writes: one writer vs 8 concurrent writers")
        one = timed_creates(endpoint, CONFIGMAPS, config_maps("one", 2000), 1, 4)
        eight = timed_creates(endpoint, CONFIGMAPS, config_maps("eight", 8000), 8, 4)
    p_small, p_big, p_raw = (statistics.median(x) for x in (small, big, raw))
    rate_one, rate_eight = one[2] / one[1], eight[2] / eight[1]
    results.raw["writes"] = {"small": small, "big": big, "sqlite": raw, "fill_s": fill}
    results.lines += [
        "",
        "Writes: POST of a ConfigMap, one writer (p50 of each run)",
        f"  100 stored: {_ms(p_small)}; {stored:,} stored: {_ms(p_big)}"
        f" (filling took {fill:.1f} s with 8 writers)",
        f"  one SQLite INSERT + COMMIT (WAL, synchronous=FULL), same disk: {_ms(p_raw)}",
        f"  throughput: 1 writer {rate_one:,.0f}/s, 8 writers {rate_eight:,.0f}/s",
    ]
    results.goals += [
        Goal(
            f"create p50 at {stored:,} stored within 1.5x of at 100",
            f"{p_big / p_small:.2f}x",
            p_big / p_small <= 1.5,
        ),
        Goal(
            "one writer's create within 3x of SQLite insert + fsync",
            f"{p_small / p_raw:.2f}x",
            p_small / p_raw <= 3,
        ),
        Goal(
            "8 writers' throughput at least 4x one writer's",
            f"{rate_eight / rate_one:.2f}x",
            rate_eight / rate_one >= 4,
        ),
    ]


# 3. Scale.


@dataclass(frozen=True)
class Cluster:
    namespaces: list[dict[str, Any]]
    pods: list[dict[str, Any]]
    policies: list[dict[str, Any]]


def cluster(pods: int, policies: int, per_namespace: int = 100, nodes: int = 100) -> Cluster:
    rng = random.Random(1)
    count = max(1, -(-max(pods, policies) // per_namespace))
    names = [f"ns-{n:04d}" for n in range(count)]
    return Cluster(
        [objects.namespace(n, rng) for n in names],
        [objects.pod(names[i // per_namespace], i, nodes, rng) for i in range(pods)],
        [objects.policy(names[i // per_namespace], i, rng) for i in range(policies)],
    )


def _collection(group_prefix: str, resource: str) -> Callable[[dict[str, Any]], str]:
    def path(obj: dict[str, Any]) -> str:
        return f"{group_prefix}/namespaces/{obj['metadata']['namespace']}/{resource}"

    return path


def check_watch(watcher: Watcher, names: set[str]) -> list[str]:
    """What a watcher got wrong: lost, duplicated or reordered events."""
    problems = []
    if watcher.error:
        problems.append(watcher.error)
    added = [e for e in watcher.events if e.type == "ADDED"]
    got = [e.name for e in added]
    if set(got) != names or len(got) != len(names):
        problems.append(f"{watcher.path}: {len(set(got) & names)} of {len(names)} objects seen")
    versions = [e.resource_version for e in watcher.events if e.type != "BOOKMARK"]
    if any(b <= a for a, b in itertools.pairwise(versions)):
        problems.append(f"{watcher.path}: resourceVersions out of order")
    return problems


def kubectl_get(kubeconfig: Path, *args: str) -> tuple[float, int]:
    start = time.perf_counter()
    done = subprocess.run(
        ["kubectl", "--kubeconfig", str(kubeconfig), "get", *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"kubectl get {' '.join(args)}: {done.stderr.strip()[:300]}")
    return elapsed, len(done.stdout.splitlines())


def scale(tmp: Path, pods: int, policies: int, watchers: int, results: Results) -> None:
    data = cluster(pods, policies)
    progress(f"scale: {pods:,} pods, {policies:,} policies in {len(data.namespaces)} namespaces")
    with ServerProcess(tmp / "scale") as server:
        endpoint = server.endpoint
        create_many(endpoint, "/api/v1/namespaces", data.namespaces, 4)
        streams = [
            Watcher(endpoint, f"{base}?watch=true&resourceVersion={_rv(endpoint)}")
            for base in ("/api/v1/pods", "/apis/networking.k8s.io/v1/networkpolicies")
            for _ in range(watchers)
        ]
        for w in streams:
            w.start()
        sent: dict[str, float] = {}
        cpu = server.cpu_seconds()
        _, pod_s, _ = timed_creates(
            endpoint, _collection("/api/v1", "pods"), data.pods, 8, 300, sent
        )
        _, pol_s, _ = timed_creates(
            endpoint,
            _collection("/apis/networking.k8s.io/v1", "networkpolicies"),
            data.policies,
            8,
            300,
            sent,
        )
        cpu = server.cpu_seconds() - cpu
        progress(f"scale: created in {pod_s:.1f} + {pol_s:.1f} s; waiting for the watches")
        _settle(streams, pods, policies, watchers, deadline=time.monotonic() + 60)
        for w in streams:
            w.stop()
        progress("scale: kubectl get pods -A / networkpolicies -A")
        get_pods, pod_lines = kubectl_get(server.kubeconfig, "pods", "-A")
        get_pols, _ = kubectl_get(server.kubeconfig, "networkpolicies", "-A")
        rss, peak = server.memory()
    pod_names = {p["metadata"]["name"] for p in data.pods}
    pol_names = {p["metadata"]["name"] for p in data.policies}
    delays: list[float] = []
    for w in streams:
        names = pod_names if "/pods" in w.path else pol_names
        results.problems += check_watch(w, names)
        delays += [e.at - sent[e.name] for e in w.events if e.type == "ADDED" and e.name in sent]
    if pod_lines != pods + 1:
        results.problems.append(f"kubectl get pods -A printed {pod_lines} lines for {pods} pods")
    p99 = percentile(delays, 0.99)
    results.raw["scale"] = {
        "create_s": [pod_s, pol_s],
        "kubectl_s": [get_pods, get_pols],
        "rss": rss,
        "peak_rss": peak,
        "server_cpu_s": cpu,
        "delivery_p50": percentile(delays, 0.5),
        "delivery_p99": p99,
    }
    results.lines += [
        "",
        f"Scale: {pods:,} pods + {policies:,} NetworkPolicies, 8 writers, {watchers} watchers"
        " per resource",
        f"  create pods {pod_s:.1f} s ({pods / pod_s:,.0f}/s), policies {pol_s:.1f} s"
        f" ({policies / pol_s:,.0f}/s); server CPU {cpu:.1f} s",
        f"  kubectl get pods -A {get_pods:.2f} s, get networkpolicies -A {get_pols:.2f} s",
        f"  watch delivery (create sent -> event read): p50 {_ms(percentile(delays, 0.5))},"
        f" p99 {_ms(p99)}, {len(delays):,} events",
        f"  server memory: resident {rss / MiB:,.0f} MiB, peak {peak / MiB:,.0f} MiB",
    ]
    results.goals.append(
        Goal("server resident memory < 1 GiB", f"{peak / MiB:,.0f} MiB", peak < 1024 * MiB)
    )


def _rv(endpoint: Endpoint) -> str:
    api = Api(endpoint)
    try:
        body = json.loads(api.get("/api/v1/namespaces?limit=1"))
    finally:
        api.close()
    return str(body["metadata"]["resourceVersion"])


def _settle(streams: list[Watcher], pods: int, policies: int, per: int, deadline: float) -> None:
    def done() -> bool:
        want = [pods] * per + [policies] * per
        return all(
            sum(1 for e in w.events if e.type == "ADDED") >= n
            for w, n in zip(streams, want, strict=True)
        )

    while not done() and time.monotonic() < deadline:
        time.sleep(0.1)


# Main.


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="1k stored, 2k pods and policies")
    ap.add_argument("--stored", type=int, help="objects stored for the create timing (10k)")
    ap.add_argument("--pods", type=int, help="pods in the scale run (10k)")
    ap.add_argument("--policies", type=int, help="NetworkPolicies in the scale run (10k)")
    ap.add_argument("--skip", action="append", default=[], choices=("latency", "writes", "scale"))
    ap.add_argument("--json", type=Path, help="write every raw figure to this file")
    return ap.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if shutil.which("kubectl") is None and "scale" not in args.skip:
        print("bench_apiserver: the scale part needs kubectl on PATH", file=sys.stderr)
        return 2
    stored = args.stored or (1000 if args.quick else 10_000)
    pods = args.pods or (2000 if args.quick else 10_000)
    policies = args.policies or (2000 if args.quick else 10_000)
    results = Results()
    date = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())
    header = [
        f"podwall API server benchmark, {date}, podwall {source_version()}",
        f"machine: {os.cpu_count()} CPUs, Python {platform.python_version()},"
        f" load average {os.getloadavg()[0]:.2f}",
    ]
    tmp = Path(tempfile.mkdtemp(prefix="pw-bench-api-"))
    try:
        if "latency" not in args.skip:
            latency(tmp, 3 if args.quick else 10, results)
        if "writes" not in args.skip:
            writes(tmp, stored, 200, results)
        if "scale" not in args.skip:
            scale(tmp, pods, policies, 5, results)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    lines = header + results.lines + ["", "Goals:"] + ["  " + g.line() for g in results.goals]
    lines += [f"PROBLEM: {p}" for p in results.problems]
    print("\n".join(lines))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(
            json.dumps({"goals": [g.__dict__ for g in results.goals], **results.raw})
        )
    progress(f"done in {time.monotonic() - STARTED:.0f} s")
    return 1 if results.problems else 0


if __name__ == "__main__":
    sys.exit(main())
