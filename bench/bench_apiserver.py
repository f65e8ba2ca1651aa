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

    .venv/bin/python -m bench.bench_apiserver                # everything, 1-2 minutes
    .venv/bin/python -m bench.bench_apiserver --quick        # smaller sizes, ~30 s
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
from bench.apiserver.client import Api, Endpoint, Seen
from bench.apiserver.process import ServerProcess, WatcherProcess

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
    acked: dict[str, float] | None = None,
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
                if acked is not None:
                    acked[obj["metadata"]["name"]] = time.monotonic()
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


class RawSqlite:
    """One INSERT + COMMIT (WAL, synchronous=FULL) at a time: what one durable write costs."""

    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(folder / "raw.db", isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.execute("CREATE TABLE t (k TEXT PRIMARY KEY, body TEXT NOT NULL)")
        self.body = json.dumps(objects.config_map("x"))
        self.rows = 0

    def timed_inserts(self, count: int) -> list[float]:
        times = []
        for _ in range(count):
            self.rows += 1
            start = time.perf_counter()
            self.db.execute("BEGIN IMMEDIATE")
            self.db.execute("INSERT INTO t VALUES (?, ?)", (str(self.rows), self.body))
            self.db.execute("COMMIT")
            times.append(time.perf_counter() - start)
        return times

    def close(self) -> None:
        self.db.close()


def config_maps(prefix: str, count: int) -> list[dict[str, Any]]:
    return [objects.config_map(f"{prefix}-{i:05d}") for i in range(count)]


@dataclass
class Paired:
    """Per-round medians of two things measured one after the other, and their ratios."""

    first: list[float] = field(default_factory=list)
    second: list[float] = field(default_factory=list)

    def add(self, first: Sequence[float], second: Sequence[float]) -> None:
        self.first.append(statistics.median(first))
        self.second.append(statistics.median(second))

    def ratio(self) -> float:
        """The median over rounds of first / second."""
        return statistics.median(a / b for a, b in zip(self.first, self.second, strict=True))


def alternating_creates(
    small: ServerProcess, big: ServerProcess, raw: RawSqlite, prefix: str, count: int
) -> tuple[list[float], list[float], list[float]]:
    """One create on each server and one raw insert, in a random order each time.

    Close together, so the disk's mood is shared; shuffled, since an fsync right after
    another on this filesystem waits longer than one after a pause.
    """
    apis = Api(small.endpoint), Api(big.endpoint)
    times: tuple[list[float], list[float], list[float]] = ([], [], [])
    order = random.Random(prefix)
    try:
        for i in range(count):
            for which in order.sample(range(3), 3):
                if which == 2:
                    times[2].extend(raw.timed_inserts(1))
                    continue
                obj = objects.config_map(f"{prefix}-{i:05d}")
                start = time.perf_counter()
                apis[which].create(CONFIGMAPS, obj)
                times[which].append(time.perf_counter() - start)
    finally:
        for api in apis:
            api.close()
    return times


def writes(tmp: Path, stored: int, rounds: int, results: Results) -> None:
    progress("writes: starting two servers")
    with ServerProcess(tmp / "small") as small, ServerProcess(tmp / "big") as big:
        create_many(small.endpoint, CONFIGMAPS, config_maps("fill", 100), 4)
        progress(f"writes: filling one to {stored:,} stored objects (8 writers)")
        fill_start = time.perf_counter()
        create_many(big.endpoint, CONFIGMAPS, config_maps("fill", stored), 8)
        fill = time.perf_counter() - fill_start
        raw = RawSqlite(tmp / "sqlite")
        scaling, disk = Paired(), Paired()
        cpu = [small.cpu_seconds(), big.cpu_seconds()]
        for r in range(rounds):  # interleaved create by create: the shared disk's fsync time moves
            at_small, at_big, inserts = alternating_creates(small, big, raw, f"r{r}", 25)
            scaling.add(at_big, at_small)
            disk.add(at_small, inserts)
        creates = 25 * rounds
        cpu = [(small.cpu_seconds() - cpu[0]) / creates, (big.cpu_seconds() - cpu[1]) / creates]
        raw.close()
        progress("writes: one writer vs 8 concurrent writers")
        throughput = Paired()
        # CPU per create of the server and of this (client) process, by writer count.
        spent: dict[int, list[float]] = {1: [0.0, 0.0, 0], 8: [0.0, 0.0, 0]}
        for r in range(rounds):
            rates = {}
            for writers, prefix, count in ((1, "one", 5000), (8, "eight", 20000)):
                server_cpu, client_cpu = small.cpu_seconds(), time.process_time()
                _, elapsed, done = timed_creates(
                    small.endpoint, CONFIGMAPS, config_maps(f"{prefix}{r}", count), writers, 0.5
                )
                spent[writers][0] += small.cpu_seconds() - server_cpu
                spent[writers][1] += time.process_time() - client_cpu
                spent[writers][2] += done
                rates[writers] = done / elapsed
            throughput.first.append(rates[8])
            throughput.second.append(rates[1])
        per_create = {w: (s / n, c / n) for w, (s, c, n) in spent.items()}
    results.raw["writes"] = {
        "p50_small": scaling.second,
        "p50_big": scaling.first,
        "p50_sqlite": disk.second,
        "cpu_per_create": cpu,
        "rate_1": throughput.second,
        "rate_8": throughput.first,
        "cpu_per_create_by_writers": per_create,
        "fill_s": fill,
    }
    med = statistics.median
    # What 8 writers could reach at best with this CPU per create: the server's event loop is
    # one thread, and the server and the writers share the machine's cores.
    server8, client8 = per_create[8]
    cores = len(os.sched_getaffinity(0))
    ceiling = min(1 / server8, cores / (server8 + client8)) / med(throughput.second)
    results.raw["writes"]["ceiling_8_vs_1"] = ceiling
    results.lines += [
        "",
        f"Writes: POST of a ConfigMap, one writer; {rounds} rounds of 25, the servers and SQLite"
        " in turn (medians)",
        f"  100 stored: {_ms(med(scaling.second))}; {stored:,} stored: {_ms(med(scaling.first))}"
        f" (filling took {fill:.1f} s with 8 writers)",
        f"  server CPU per create: 100 stored {_ms(cpu[0])}, {stored:,} stored {_ms(cpu[1])}",
        f"  one SQLite INSERT + COMMIT (WAL, synchronous=FULL), same disk: {_ms(med(disk.second))}",
        f"  throughput: 1 writer {med(throughput.second):,.0f}/s,"
        f" 8 writers {med(throughput.first):,.0f}/s",
        "  CPU per create, server / client (the 8 writers are threads of this process):"
        f" 1 writer {_ms(per_create[1][0])} / {_ms(per_create[1][1])},"
        f" 8 writers {_ms(per_create[8][0])} / {_ms(per_create[8][1])}",
        f"  so 8 writers can reach at most {ceiling:.2f}x one writer's throughput here"
        f" (the server's loop alone {1 / server8:,.0f}/s; {cores} cores for server and writers"
        f" {cores / (server8 + client8):,.0f}/s)",
    ]
    results.goals += [
        Goal(
            f"create p50 at {stored:,} stored within 1.5x of at 100",
            f"{scaling.ratio():.2f}x (CPU {cpu[1] / cpu[0]:.2f}x)",
            scaling.ratio() <= 1.5,
        ),
        Goal(
            "one writer's create within 3x of SQLite insert + fsync",
            f"{disk.ratio():.2f}x",
            disk.ratio() <= 3,
        ),
        Goal(
            "8 writers' throughput at least 4x one writer's",
            f"{throughput.ratio():.2f}x",
            throughput.ratio() >= 4,
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


def check_watch(path: str, error: str | None, events: list[Seen], names: set[str]) -> list[str]:
    """What a watch got wrong: lost, duplicated or reordered events."""
    problems = [error] if error else []
    got = [e.name for e in events if e.type == "ADDED"]
    if set(got) != names or len(got) != len(names):
        problems.append(f"{path}: {len(set(got) & names)} of {len(names)} objects seen once")
    versions = [e.resource_version for e in events if e.type != "BOOKMARK"]
    if any(b <= a for a, b in itertools.pairwise(versions)):
        problems.append(f"{path}: resourceVersions out of order")
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


TABLE = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"


def chunked_table(endpoint: Endpoint, path: str, limit: int = 500) -> tuple[list[float], int]:
    """What `kubectl get -A` asks for: Table chunks of `limit`; each chunk's time, the rows."""
    api = Api(endpoint)
    times: list[float] = []
    rows = 0
    token = ""
    try:
        while True:
            query = f"?limit={limit}" + (f"&continue={token}" if token else "")
            start = time.perf_counter()
            body = json.loads(api.get(path + query, accept=TABLE))
            times.append(time.perf_counter() - start)
            rows += len(body["rows"])
            token = body["metadata"].get("continue", "")
            if not token or len(times) > 10_000:
                return times, rows
    finally:
        api.close()


def scale(tmp: Path, pods: int, policies: int, watchers: int, results: Results) -> None:
    data = cluster(pods, policies)
    progress(f"scale: {pods:,} pods, {policies:,} policies in {len(data.namespaces)} namespaces")
    with ServerProcess(tmp / "scale") as server:
        endpoint = server.endpoint
        create_many(endpoint, "/api/v1/namespaces", data.namespaces, 4)
        since = _rv(endpoint)
        wanted = [
            (f"{base}?watch=true&resourceVersion={since}", count)
            for base, count in (
                ("/api/v1/pods", pods),
                ("/apis/networking.k8s.io/v1/networkpolicies", policies),
            )
            for _ in range(watchers)
        ]
        watching = WatcherProcess(endpoint, wanted, seconds=360)
        sent: dict[str, float] = {}
        acked: dict[str, float] = {}
        cpu = server.cpu_seconds()
        try:
            _, pod_s, _ = timed_creates(
                endpoint, _collection("/api/v1", "pods"), data.pods, 8, 150, sent, acked
            )
            _, pol_s, _ = timed_creates(
                endpoint,
                _collection("/apis/networking.k8s.io/v1", "networkpolicies"),
                data.policies,
                8,
                150,
                sent,
                acked,
            )
            cpu = server.cpu_seconds() - cpu
            progress(f"scale: created in {pod_s:.1f} + {pol_s:.1f} s; waiting for the watches")
            streams = watching.report()
        finally:
            watching.stop()
        progress("scale: kubectl get pods -A / networkpolicies -A")
        get_pods, pod_lines = kubectl_get(server.kubeconfig, "pods", "-A")
        get_pols, _ = kubectl_get(server.kubeconfig, "networkpolicies", "-A")
        chunks, rows = chunked_table(endpoint, "/api/v1/pods")
        rss, peak = server.memory()
    pod_names = {p["metadata"]["name"] for p in data.pods}
    pol_names = {p["metadata"]["name"] for p in data.policies}
    delays: list[float] = []
    after_ack: list[float] = []
    for path, error, events in streams:
        names = pod_names if "/pods" in path else pol_names
        results.problems += check_watch(path, error, events, names)
        added = [e for e in events if e.type == "ADDED" and e.name in acked]
        delays += [e.at - sent[e.name] for e in added]
        after_ack += [e.at - acked[e.name] for e in added]
    if pod_lines != pods + 1:
        results.problems.append(f"kubectl get pods -A printed {pod_lines} lines for {pods} pods")
    if rows != pods:
        results.problems.append(f"the chunked Table list had {rows} rows for {pods} pods")
    head, tail = chunks[: max(1, len(chunks) // 4)], chunks[-max(1, len(chunks) // 4) :]
    p99 = percentile(delays, 0.99)
    results.raw["scale"] = {
        "create_s": [pod_s, pol_s],
        "kubectl_s": [get_pods, get_pols],
        "table_chunks_s": chunks,
        "rss": rss,
        "peak_rss": peak,
        "server_cpu_s": cpu,
        "delivery_p50": percentile(delays, 0.5),
        "delivery_p99": p99,
        "after_ack_p50": percentile(after_ack, 0.5),
        "after_ack_p99": percentile(after_ack, 0.99),
    }
    results.lines += [
        "",
        f"Scale: {pods:,} pods + {policies:,} NetworkPolicies, 8 writers, {watchers} watchers"
        " per resource",
        f"  create pods {pod_s:.1f} s ({pods / pod_s:,.0f}/s), policies {pol_s:.1f} s"
        f" ({policies / pol_s:,.0f}/s); server CPU {cpu:.1f} s",
        f"  kubectl get pods -A {get_pods:.2f} s, get networkpolicies -A {get_pols:.2f} s",
        f"  pods as Table in {len(chunks)} chunks of 500: {sum(chunks):.2f} s; a chunk of the"
        f" first quarter {_ms(statistics.median(head))},"
        f" of the last {_ms(statistics.median(tail))}",
        f"  watch delivery (create sent -> event read): p50 {_ms(percentile(delays, 0.5))},"
        f" p99 {_ms(p99)}, {len(delays):,} events; after the create's response:"
        f" p50 {_ms(percentile(after_ack, 0.5))}, p99 {_ms(percentile(after_ack, 0.99))}",
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
            writes(tmp, stored, 4 if args.quick else 8, results)
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
