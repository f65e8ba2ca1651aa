"""Benchmark: one `podwall agent` against an API server holding 10k pods and 10k policies.

The cluster is `bench/gen_cluster.py --namespaces 2000 --pods 4-6 --policies 4-6 --seed 1`
(10,007 pods, 10,017 policies; cached in bench/out/agent/), its pods spread over 100 nodes
(`spec.nodeName`, round robin) and given no process: objects only. They are written straight
into the API server's store (`Store.create`, in this process, before the server starts): going
through HTTP would take minutes today, and the benchmark measures the agent, not the writes.
The API server then serves them over HTTPS on loopback, in this process.

One agent runs as its own process (`python -m podwall agent`) for node-007 (about 100 pods),
programming a network namespace this benchmark creates (`pw-b<hex>-agent`) and removes.
Measured:

1. first sync: from starting the agent process to `/readyz` answering 200 (interpreter start,
   lists of every kind over HTTPS, conversion, compile, one nft batch), and the sync itself
   (`podwall_agent_sync_duration_seconds{type="full"}`);
2. the agent's resident memory after it is ready and at the end (VmRSS, VmHWM);
3. ~50 policy changes, one at a time: a policy that selects a pod of node-007 gains an ingress
   rule (an ipBlock /32 and a port of its own, so the node's ruleset really changes), written
   with PUT; the time from the PUT's response to the nft commit that enforces it, read from the
   agent's metrics (`synced_resource_version` reaching the write's, then
   `last_commit_timestamp_seconds`, the same machine's wall clock);
4. the node's ruleset (the agent's `podwall_agent_ruleset_objects`) against the ruleset of the
   whole cluster (`compile_ruleset(cluster)`, every pod local), compiled here.

Usage (root, from the repository root): `.venv/bin/python -m bench.bench_agent [--quick]`.
The table goes to stdout, progress to stderr. Exit status 2 without root, nft or ip; 1 if the
agent failed or a change was never enforced.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make `bench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import yaml

from podwall.agent.client import Connection, Target
from podwall.apiserver import admission
from podwall.apiserver.resources import by_key
from podwall.apiserver.server import Server
from podwall.apiserver.store import Store, WatchEvent
from podwall.model.convert import cluster as convert
from podwall.model.rawobject import RawObject
from podwall.nft import runner
from podwall.nft.compile import compile_ruleset
from podwall.nft.ruleset import Ruleset

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out" / "agent"
GENERATOR = ROOT / "bench" / "gen_cluster.py"
STARTED = time.monotonic()
NODE_COUNT = 100
NODE = "node-007"
LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
POLICIES = "networkpolicies.networking.k8s.io"
STAMP = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d),(\d{3}) ")
# The first sync's goal is read on the wall clock and, as the machine is shared, on the
# agent's own CPU time too (imports, parsing, conversion, compile; nft's kernel work is in it).
GOALS = {"first sync s": 3.0, "first sync CPU s": 3.0, "memory MiB": 300.0, "change p99 ms": 50.0}


def progress(message: str) -> None:
    print(
        f"[{time.monotonic() - STARTED:6.1f}s load {os.getloadavg()[0]:.2f}] {message}",
        file=sys.stderr,
        flush=True,
    )


def missing_requirements() -> str | None:
    if os.geteuid() != 0:
        return "needs root: it creates a network namespace and loads nftables rulesets"
    if not runner.available() or shutil.which("ip") is None:
        return "needs nft and ip (Debian packages nftables and iproute2)"
    return None


# --- the cluster ---------------------------------------------------------------------------


def generate(namespaces: int) -> Path:
    folder = OUT / f"ns{namespaces}-pods4-6-pol4-6-seed1"
    if not (folder / "policies.yaml").exists():
        args = ["--namespaces", str(namespaces), "--pods", "4-6", "--policies", "4-6"]
        cmd = [sys.executable, str(GENERATOR), *args, "--seed", "1", "--out", str(folder)]
        subprocess.run(cmd, check=True, capture_output=True)
    return folder


def read(folder: Path, name: str) -> list[dict[str, Any]]:
    return [d for d in yaml.load_all((folder / name).read_text(), Loader=LOADER) if d]


@dataclass
class Objects:
    namespaces: list[dict[str, Any]]
    pods: list[dict[str, Any]]
    policies: list[dict[str, Any]]
    nodes: list[dict[str, Any]] = field(default_factory=list)


def objects(folder: Path) -> Objects:
    found = Objects(read(folder, "namespaces.yaml"), read(folder, "pods.yaml"), [])
    found.policies = read(folder, "policies.yaml")
    for i, pod in enumerate(found.pods):
        pod.setdefault("spec", {})["nodeName"] = f"node-{i % NODE_COUNT:03d}"
    found.nodes = [
        {
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": {"name": f"node-{i:03d}"},
            "status": {
                "addresses": [{"type": "InternalIP", "address": f"198.18.254.{i + 1}"}],
                "conditions": [{"type": "Ready", "status": "True"}],
            },
        }
        for i in range(NODE_COUNT)
    ]
    found.namespaces.append(
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "podwall-system"}}
    )
    return found


def load_store(state: Path, found: Objects) -> tuple[int, float]:
    """Write every object into a new store as the API server would keep it (defaulted)."""
    started = time.perf_counter()
    store = Store(state / "state.db")
    count = 0
    try:
        for key, items in (
            ("namespaces", found.namespaces),
            ("nodes", found.nodes),
            ("pods", found.pods),
            (POLICIES, found.policies),
        ):
            resource = by_key(key)
            for obj in items:
                admission.default(resource, obj)
                store.create(key, obj)
                count += 1
    finally:
        store.close()
    return count, time.perf_counter() - started


# --- the agent -----------------------------------------------------------------------------


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class AgentProcess:
    def __init__(self, kubeconfig: Path, netns: str, log: Path) -> None:
        self.port = free_port()
        self.log = log
        argv = [
            sys.executable, "-m", "podwall", "agent", "--kubeconfig", str(kubeconfig),
            "--node-name", NODE, "--netns", netns, "--metrics-port", str(self.port),
            "--startup-timeout", "300",
        ]  # fmt: skip
        env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
        self.started = time.monotonic()
        self.started_wall = time.time()
        with log.open("wb") as out:
            self.process = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, env=env)

    def get(self, path: str) -> tuple[int, str]:
        try:
            url = f"http://127.0.0.1:{self.port}{path}"
            with urllib.request.urlopen(url, timeout=5) as reply:
                return reply.status, reply.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, ""
        except OSError:
            return 0, ""

    def wait_ready(self, seconds: float = 300) -> float:
        deadline = time.monotonic() + seconds
        while self.get("/readyz")[0] != 200:
            if self.process.poll() is not None:
                raise RuntimeError(f"the agent exited:\n{self.log.read_text()[-3000:]}")
            if time.monotonic() > deadline:
                raise RuntimeError("the agent did not get ready")
            time.sleep(0.01)
        return time.monotonic() - self.started

    def metrics(self) -> dict[str, float]:
        out: dict[str, float] = {}
        for line in self.get("/metrics")[1].splitlines():
            if line and not line.startswith("#"):
                name, _, value = line.rpartition(" ")
                out[name] = float(value)
        return out

    def phases(self) -> dict[str, float]:
        """Seconds from the process start to: its first log line (imports done), the last
        `listed` line (every kind listed), the first sync committed; from the log's stamps."""
        stamps: dict[str, float] = {}
        for line in self.log.read_text(errors="replace").splitlines():
            match = STAMP.match(line)
            if match is None:
                continue
            when = time.mktime(time.strptime(match[1], "%Y-%m-%d %H:%M:%S")) + int(match[2]) / 1e3
            if "podwall agent for node" in line:
                stamps.setdefault("imported", when)
            elif "listed kind=" in line:
                stamps["listed"] = when
            elif "first sync committed" in line:
                stamps.setdefault("synced", when)
        return {k: v - self.started_wall for k, v in stamps.items()}

    def cpu_seconds(self) -> float:
        """User + system CPU time of the agent process so far (all its threads)."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def memory(self) -> dict[str, float]:
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        return {k: int(fields[k].split()[0]) / 1024 for k in ("VmRSS", "VmHWM")}

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                return self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                return self.process.wait(timeout=30)
        return self.process.returncode


# --- the measurements ----------------------------------------------------------------------


def sizes(ruleset: Ruleset) -> dict[str, int]:
    return {
        "chains": len(ruleset.chains),
        "sets": len(ruleset.sets),
        "elements": ruleset.element_count(),
        "rules": ruleset.rule_count(),
    }


def changeable(found: Objects, count: int) -> list[dict[str, Any]]:
    """Ingress policies that select a pod of NODE: changing one changes the node's ruleset."""
    snapshot = convert(
        [RawObject(body=o) for o in (*found.namespaces, *found.pods, *found.policies)]
    ).cluster
    local = [p for p in snapshot.pods if p.node == NODE]
    keys = {
        p.key
        for p in snapshot.policies
        if any(
            p.policy_types and pod.namespace == p.namespace and p.pod_selector.matches(pod.labels)
            for pod in local
        )
        and "Ingress" in {str(t) for t in p.policy_types}
    }
    chosen = [
        o for o in found.policies if f"{o['metadata']['namespace']}/{o['metadata']['name']}" in keys
    ]
    return chosen[:count]


def change(policy: dict[str, Any], i: int) -> dict[str, Any]:
    body = json.loads(json.dumps(policy))
    rule = {
        "from": [{"ipBlock": {"cidr": f"198.19.{200 + i // 250}.{i % 250 + 1}/32"}}],
        "ports": [{"protocol": "TCP", "port": 20000 + i}],
    }
    body["spec"]["ingress"] = [*(body["spec"].get("ingress") or []), rule]
    body["spec"]["policyTypes"] = sorted({*body["spec"].get("policyTypes", []), "Ingress"})
    return body


class Commits:
    """When the API server committed each policy write (its store's commit hook, in this
    process): the instant the write is durable and its watch event leaves, before the
    server answers the PUT."""

    def __init__(self, server: Server) -> None:
        self.at: dict[int, float] = {}
        assert server.store is not None
        self.undo = server.store.on_commit(self._record)

    def _record(self, resource: str, event: WatchEvent) -> None:
        if resource == POLICIES:
            self.at[event.resource_version] = time.time()


def measure_change(
    api: Connection, agent: AgentProcess, commits: Commits, policy: dict[str, Any], i: int
) -> dict[str, float]:
    meta = policy["metadata"]
    path = (
        f"/apis/networking.k8s.io/v1/namespaces/{meta['namespace']}/networkpolicies/{meta['name']}"
    )
    current = api.request("GET", path)
    body = change(policy, i)
    body["metadata"] = {
        **body["metadata"],
        "resourceVersion": current["metadata"]["resourceVersion"],
    }
    before = agent.metrics().get("podwall_agent_nft_operations_total", 0.0)
    sent = time.time()
    answer = api.request("PUT", path, body=body)
    answered = time.time()
    rv = int(answer["metadata"]["resourceVersion"])
    deadline = time.monotonic() + 10
    while True:
        # The commit's own timestamp is read, so polling often adds nothing but load on the
        # agent (each /metrics costs it a millisecond or two).
        time.sleep(0.025)
        m = agent.metrics()
        if m.get('podwall_agent_synced_resource_version{kind="networkpolicies"}', 0) >= rv:
            break
        if time.monotonic() > deadline:
            raise RuntimeError(f"change {i} ({meta['namespace']}/{meta['name']}) not enforced")
    committed = m["podwall_agent_last_commit_timestamp_seconds"]
    return {
        "ms_from_store_commit": (committed - commits.at[rv]) * 1000,
        "ms_from_response": (committed - answered) * 1000,
        "ms_from_request": (committed - sent) * 1000,
        "write_ms": (answered - sent) * 1000,
        "operations": m["podwall_agent_nft_operations_total"] - before,
    }


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    rank = q * (len(ordered) - 1)
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def run(args: argparse.Namespace) -> tuple[list[str], dict[str, Any], bool]:
    raw: dict[str, Any] = {}
    folder = generate(args.namespaces)
    progress(f"cluster: {folder.name}")
    found = objects(folder)
    progress(f"{len(found.pods)} pods, {len(found.policies)} policies over {NODE_COUNT} nodes")
    work = Path(tempfile.mkdtemp(prefix="podwall-bench-agent-"))
    netns = f"pw-b{secrets.token_hex(3)}-agent"
    server: Server | None = None
    agent: AgentProcess | None = None
    try:
        state = work / "state"
        state.mkdir(mode=0o700)
        count, seconds = load_store(state, found)
        raw["store"] = {"objects": count, "seconds": seconds}
        progress(f"store: {count} objects written with Store.create in {seconds:.1f} s")
        server = Server(state, 0)
        server.start()
        raw["load_at_start"] = os.getloadavg()[0]
        subprocess.run(["ip", "netns", "add", netns], check=True)
        progress(f"API server {server.url}; starting the agent for {NODE} in {netns}")
        server_cpu = time.process_time()  # this process: the API server's threads, mostly
        agent = AgentProcess(server.kubeconfig_path, netns, work / "agent.log")
        ready = agent.wait_ready()
        agent_cpu = agent.cpu_seconds()
        server_cpu = time.process_time() - server_cpu
        phases = agent.phases()
        memory_ready = agent.memory()
        m = agent.metrics()
        full_sync = m['podwall_agent_sync_duration_seconds_sum{type="full"}']
        full_nft = m["podwall_agent_nft_commit_duration_seconds_sum"]
        node_sizes = {
            k: int(m[f'podwall_agent_ruleset_objects{{object="{k}"}}'])
            for k in ("chains", "sets", "elements", "rules")
        }
        local = int(m["podwall_agent_local_pods"])
        applying = int(m["podwall_agent_policies"])
        progress(
            f"ready in {ready:.2f} s (sync {full_sync:.3f} s), {memory_ready['VmRSS']:.0f} MiB"
        )
        api = Connection.open(Target(kubeconfig=server.kubeconfig_path))
        commits = Commits(server)
        changes = []
        try:
            for i, policy in enumerate(changeable(found, args.changes)):
                changes.append(measure_change(api, agent, commits, policy, i))
                time.sleep(0.1)
        finally:
            commits.undo()
            api.close()
        latencies = [c["ms_from_store_commit"] for c in changes]
        progress(f"{len(changes)} changes: median {statistics.median(latencies):.1f} ms")
        memory_end = agent.memory()
        before_changes = m
        m = agent.metrics()
        raw["inside_ms"] = inside(before_changes, m)
        whole = compile_ruleset(
            convert(
                [RawObject(body=o) for o in (*found.namespaces, *found.pods, *found.policies)]
            ).cluster
        )
        whole_sizes = sizes(whole)
        exit_code = agent.stop()
    finally:
        if agent is not None:
            agent.stop()
        subprocess.run(["ip", "netns", "del", netns], check=False, capture_output=True)
        if server is not None:
            server.stop()
        shutil.rmtree(work, ignore_errors=True)
    raw |= {
        "ready_seconds": ready,
        "phases": phases,
        "agent_cpu_seconds": agent_cpu,
        "server_cpu_seconds": server_cpu,
        "full_sync_seconds": full_sync,
        "full_nft_seconds": full_nft,
        "memory_ready_mib": memory_ready,
        "memory_end_mib": memory_end,
        "node_ruleset": node_sizes,
        "cluster_ruleset": whole_sizes,
        "local_pods": local,
        "policies_applying": applying,
        "changes": changes,
        "agent_latency_mean_ms": 1000
        * m["podwall_agent_enforce_latency_seconds_sum"]
        / max(1.0, m["podwall_agent_enforce_latency_seconds_count"]),
        "sigterm_exit": exit_code,
    }
    return report(raw, found), raw, exit_code == 0 and all(c["operations"] > 0 for c in changes)


def inside(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    """Mean ms per update sync inside the agent over the changes: the whole sync (snapshot,
    compile, nft) and nft's commit alone, from the agent's histograms."""
    sync = 'podwall_agent_sync_duration_seconds_{}{{type="update"}}'
    nft = "podwall_agent_nft_commit_duration_seconds_{}"

    def mean(name: str) -> float:
        total = after.get(name.format("sum"), 0.0) - before.get(name.format("sum"), 0.0)
        count = after.get(name.format("count"), 0.0) - before.get(name.format("count"), 0.0)
        return 1000 * total / count if count else 0.0

    return {"sync": mean(sync), "nft": mean(nft)}


def spread(values: list[float]) -> str:
    return (
        f"median {statistics.median(values):6.1f}  p90 {percentile(values, 0.9):6.1f}  "
        f"p99 {percentile(values, 0.99):6.1f}  max {max(values):6.1f}"
    )


def report(raw: dict[str, Any], found: Objects) -> list[str]:
    changes = raw["changes"]
    of = {key: [c[key] for c in changes] for key in changes[0]}
    # The goal is judged on the later of the two starting points, so on the stricter figure.
    strict = [
        max(a, b) for a, b in zip(of["ms_from_store_commit"], of["ms_from_response"], strict=True)
    ]
    memory_ready, memory_end = raw["memory_ready_mib"], raw["memory_end_mib"]
    phases = raw["phases"]
    lines = [
        f"podwall agent benchmark, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, "
        f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}",
        f"cluster: {len(found.pods)} pods, {len(found.policies)} policies, "
        f"{len(found.namespaces)} namespaces, {NODE_COUNT} nodes; agent for {NODE} "
        f"({raw['local_pods']} pods, {raw['policies_applying']} policies of their namespaces)",
        f"objects loaded straight into the store (Store.create, {raw['store']['seconds']:.1f} s),"
        " not through the API; served over HTTPS by podwall's API server in the bench process",
        "",
        f"first sync: agent process start to ready {raw['ready_seconds']:.2f} s: imports "
        f"{phases.get('imported', 0):.2f} s, every kind listed at {phases.get('listed', 0):.2f} s,"
        f" first sync committed at {phases.get('synced', 0):.2f} s (the sync itself "
        f"{raw['full_sync_seconds']:.3f} s, of which nft {raw['full_nft_seconds']:.3f} s)",
        f"  CPU meanwhile: the agent {raw['agent_cpu_seconds']:.2f} s, the API server (this "
        f"process) {raw['server_cpu_seconds']:.2f} s; 2 cores shared, load average "
        f"{raw['load_at_start']:.1f}",
        f"memory (VmRSS): {memory_ready['VmRSS']:.0f} MiB when ready, "
        f"{memory_end['VmRSS']:.0f} MiB at the end; peak (VmHWM) {memory_end['VmHWM']:.0f} MiB",
        "",
        f"{len(changes)} policy changes, ms to the nft commit that enforces each:",
        f"  from the API server's commit   {spread(of['ms_from_store_commit'])}",
        f"  from the PUT's response        {spread(of['ms_from_response'])}",
        f"  from sending the PUT           {spread(of['ms_from_request'])}",
        f"  (the PUT took {statistics.median(of['write_ms']):.1f} ms, median; the agent's own "
        f"watch-event-to-commit mean {raw['agent_latency_mean_ms']:.1f} ms; nft operations per "
        f"change {statistics.median(of['operations']):.0f})",
        f"  inside the agent, per update sync: {raw['inside_ms']['sync']:.1f} ms (snapshot, "
        f"compile, nft), of which the nft commit {raw['inside_ms']['nft']:.1f} ms (means)",
        "",
        "ruleset     node  whole cluster  ratio",
    ]
    for key in ("chains", "sets", "elements", "rules"):
        node, whole = raw["node_ruleset"][key], raw["cluster_ruleset"][key]
        lines.append(f"  {key:<9}{node:>6}  {whole:>13}  {node / max(whole, 1):.3f}")
    figures = {
        "first sync s": raw["ready_seconds"],
        "first sync CPU s": raw["agent_cpu_seconds"],
        "memory MiB": max(memory_ready["VmRSS"], memory_end["VmRSS"]),
        "change p99 ms": percentile(strict, 0.99),
    }
    lines += ["", "Goals"]
    for name, goal in GOALS.items():
        met = "met" if figures[name] < goal else "NOT MET"
        lines.append(f"  {name:<16} {figures[name]:8.2f} < {goal:g}: {met}")
    return lines


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="200 namespaces (~1k pods), 20 changes")
    ap.add_argument("--changes", type=int, default=50, help="policy changes measured (50)")
    ap.add_argument("--json", type=Path, help="write every raw figure to this file")
    args = ap.parse_args(argv)
    args.namespaces = 200 if args.quick else 2000
    if args.quick:
        args.changes = min(args.changes, 20)
    missing = missing_requirements()
    if missing:
        print(f"bench_agent: {missing}", file=sys.stderr)
        return 2
    lines, raw, ok = run(args)
    print("\n".join(lines))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(raw, indent=1) + "\n")
    progress(f"done in {time.monotonic() - STARTED:.0f} s")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
