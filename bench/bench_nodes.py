"""Benchmark: the local cluster on several nodes (issue 9), each node its own agent process.

Measured, side by side in one run:

1. `podwall up --nodes N` -> ready, as a user runs it (the CLI, the daemon, N agents, each
   node Ready and cluster DNS running), for N = 1 and N = 3, `--runs` times each (median),
   then `podwall down`;
2. the lab on `podwall up --nodes 3` (a `LocalCluster` in this process, three agent
   processes, real pods): a NetworkPolicy created or deleted over HTTPS -> enforced on every
   node, over `--changes` changes;
3. 1k pods / 1k policies on 3 nodes: `bench/gen_cluster.py --namespaces 200 --pods 4-6
   --policies 4-6 --seed 1` (about 1,000 of each), written straight into a new store, the pods
   bound to node-1 … node-3 round robin and run by no one (objects only: a thousand processes
   would measure this machine, not enforcement). Three node namespaces on the sandbox fabric,
   and in each one `podwall agent --node-name node-I --netns ...` (the enforcing half of
   `podwall agent --sandbox`, the same code, without the kubelet); then `--changes` policy
   changes (an ingress rule gained, PUT), each -> enforced on every node.

"Enforced on every node" is the time from just before the write is sent to the latest nft
commit that includes it among the nodes that run pods of the policy's namespace (the others
have nothing to enforce, and do not compile that namespace's policies at all): each agent's
`/metrics` shows
`podwall_agent_synced_resource_version{kind="networkpolicies"}` reaching the write's, then its
`podwall_agent_last_commit_timestamp_seconds` (the same machine's clock) says when. Printed as
p50 and p99 (goal: p99 < 100 ms), with the load average, as the machine is shared.

Usage (root, from the repository root): `.venv/bin/python -m bench.bench_nodes [--quick]`.
Everything is removed at the end.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import shutil
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make `bench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import yaml

from bench.bench_agent import change, generate, load_store, missing_requirements, objects
from podwall.cluster.local import LocalCluster
from podwall.runtime.netns import NodeSandbox
from podwall.runtime.underlay import Underlay

ROOT = Path(__file__).resolve().parent.parent
TUTORIAL = ROOT / "examples" / "tutorial"
POLICIES = "/apis/networking.k8s.io/v1/namespaces/{namespace}/networkpolicies"
NODES = ["node-1", "node-2", "node-3"]
SYNCED = 'podwall_agent_synced_resource_version{kind="networkpolicies"}'
COMMITTED = "podwall_agent_last_commit_timestamp_seconds"
STARTED = time.monotonic()
GOAL_UP_SECONDS = 3.0
GOAL_P99_MS = 100.0


def progress(message: str) -> None:
    print(
        f"[{time.monotonic() - STARTED:6.1f}s load {os.getloadavg()[0]:.2f}] {message}",
        file=sys.stderr,
        flush=True,
    )


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    rank = q * (len(ordered) - 1)
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


# --- talking to the API server and to the agents ------------------------------------------


class Api:
    def __init__(self, url: str, state: Path, token: str) -> None:
        self.url = url
        self.context = ssl.create_default_context(cafile=str(state / "ca.crt"))
        self.token = token

    def request(self, method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        sent = urllib.request.Request(
            f"{self.url}{path}",
            data=data,
            method=method,
            headers={"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(sent, context=self.context, timeout=30) as reply:
            return json.loads(reply.read())


def metrics(base: str) -> dict[str, float]:
    out: dict[str, float] = {}
    try:
        with urllib.request.urlopen(f"{base}/metrics", timeout=5) as reply:
            text = reply.read().decode()
    except OSError:
        return out
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            with contextlib.suppress(ValueError):
                out[name] = float(value)
    return out


def enforced_everywhere(agents: list[str], rv: int, sent: float, timeout: float = 30.0) -> float:
    """Seconds from `sent` (wall clock) to the last agent's commit that includes `rv`."""
    deadline = time.monotonic() + timeout
    commits = []
    for base in agents:
        while True:
            m = metrics(base)
            if m.get(SYNCED, 0) >= rv:
                commits.append(m[COMMITTED])
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"{base}: resourceVersion {rv} not enforced in {timeout}s")
            time.sleep(0.002)
    return max(commits) - sent


def summary(label: str, values: list[float]) -> str:
    ms = [v * 1000 for v in values]
    p99 = percentile(ms, 0.99)
    verdict = "met" if p99 < GOAL_P99_MS else "NOT met"
    return (
        f"{label}: p50 {percentile(ms, 0.5):.1f} ms, p99 {p99:.1f} ms over {len(ms)} changes "
        f"(goal p99 < {GOAL_P99_MS:.0f} ms: {verdict})"
    )


# --- 1. podwall up --nodes N --------------------------------------------------------------


def podwall(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    argv = [sys.executable, "-m", "podwall", *args]
    return subprocess.run(argv, capture_output=True, text=True, timeout=300, env=env, check=False)


def time_up(nodes: int, runs: int, tmp: Path) -> list[float]:
    seconds = []
    for run in range(runs):
        state = tmp / f"up-{nodes}-{run}"
        started = time.perf_counter()
        done = podwall("up", "--nodes", str(nodes), "--state-dir", str(state), "--port", "0")
        seconds.append(time.perf_counter() - started)
        podwall("down", "--state-dir", str(state))
        if done.returncode != 0:
            raise RuntimeError(f"podwall up --nodes {nodes} failed:\n{done.stderr[-2000:]}")
        progress(f"podwall up --nodes {nodes}: {seconds[-1]:.2f} s")
    return seconds


# --- 2. the lab on three nodes ------------------------------------------------------------


def lab(changes: int, tmp: Path) -> list[float]:
    cluster = LocalCluster(tmp / "lab", port=0, nodes=3)
    try:
        cluster.start()
        api = Api(cluster.server.url, cluster.state_dir, cluster.server.token)
        kubectl = ["kubectl", "--kubeconfig", str(cluster.server.kubeconfig_path)]
        kubectl += ["--cache-dir", str(tmp / "cache")]
        subprocess.run([*kubectl, "apply", "-f", str(TUTORIAL / "simple-app.yaml")], check=True)
        while not all(pod_ready(p) for p in cluster.store.list("pods", "default")[0]):
            time.sleep(0.01)
        # Only a node that runs pods of the policy's namespace has anything to enforce: the
        # others do not even compile its policies (and so never sync for them).
        pods, _ = cluster.store.list("pods", "default")
        local = sorted({p["spec"]["nodeName"] for p in pods})
        progress(f"the lab's pods run on {', '.join(local)}")
        agents = [
            json.loads((cluster.run_dir / n / "agent.json").read_text())["health"] for n in local
        ]
        deny = yaml.safe_load((TUTORIAL / "backend-ingress-deny.yaml").read_text())
        path = POLICIES.format(namespace="default")
        out = []
        for i in range(changes):
            sent = time.time()
            if i % 2 == 0:
                answer = api.request("POST", path, deny)
            else:
                answer = api.request("DELETE", f"{path}/backend-ingress-deny")
            rv = int(answer["metadata"]["resourceVersion"])
            out.append(enforced_everywhere(agents, rv, sent))
        return out
    finally:
        cluster.stop()


# --- 3. 1k pods, 1k policies, three agents ------------------------------------------------


def big(changes: int, namespaces: int, tmp: Path) -> tuple[list[float], dict[str, int]]:
    from podwall.apiserver.server import Server

    found = objects(generate(namespaces))
    for i, pod in enumerate(found.pods):
        pod["spec"]["nodeName"] = NODES[i % len(NODES)]
    found.nodes = [
        {
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": {"name": n},
            "status": {"conditions": [{"type": "Ready", "status": "True"}]},
        }
        for n in NODES
    ]
    counts = {"pods": len(found.pods), "policies": len(found.policies)}
    state = tmp / "big"
    state.mkdir()
    load_store(state, found)
    server = Server(state, 0)
    ident = "b" + secrets.token_hex(3)
    underlay = Underlay(ident)
    sandboxes = [NodeSandbox(ident, n, i, underlay=underlay.netns) for i, n in enumerate(NODES)]
    processes: list[subprocess.Popen[bytes]] = []
    try:
        server.start()
        underlay.create()
        ports = []
        for node, sandbox in zip(NODES, sandboxes, strict=True):
            sandbox.create()
            port = free_port()
            ports.append(port)
            argv = [
                sys.executable, "-m", "podwall", "agent",
                "--kubeconfig", str(server.kubeconfig_path), "--node-name", node,
                "--netns", sandbox.netns, "--metrics-port", str(port),
                "--startup-timeout", "300",
            ]  # fmt: skip
            log = (tmp / f"agent-{node}.log").open("wb")
            env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
            processes.append(subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env=env))
        agents = [f"http://127.0.0.1:{p}" for p in ports]
        for base in agents:
            wait_ready(base, processes)
        progress("three agents ready")
        api = Api(server.url, state, server.token)
        chosen = everywhere(found)[:changes]
        out = []
        for i, policy in enumerate(chosen):
            meta = policy["metadata"]
            path = POLICIES.format(namespace=meta["namespace"]) + f"/{meta['name']}"
            current = api.request("GET", path)
            body = change(current, i)
            sent = time.time()
            answer = api.request("PUT", path, body)
            out.append(
                enforced_everywhere(agents, int(answer["metadata"]["resourceVersion"]), sent)
            )
        return out, counts
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=30)
        server.stop()
        for sandbox in sandboxes:
            with contextlib.suppress(Exception):
                sandbox.destroy()
        with contextlib.suppress(Exception):
            underlay.destroy()


def pod_ready(pod: dict[str, Any]) -> bool:
    conditions = (pod.get("status") or {}).get("conditions") or ()
    return any(c["type"] == "Ready" and c["status"] == "True" for c in conditions)


def everywhere(found: Any) -> list[dict[str, Any]]:
    """Policies whose namespace has pods on every node: each node's agent compiles them."""
    nodes_of: dict[str, set[str]] = {}
    for pod in found.pods:
        nodes_of.setdefault(pod["metadata"]["namespace"], set()).add(pod["spec"]["nodeName"])
    return [p for p in found.policies if nodes_of.get(p["metadata"]["namespace"]) == set(NODES)]


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_ready(base: str, processes: list[subprocess.Popen[bytes]], seconds: float = 300) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(f"{base}/readyz", timeout=5) as reply:
                if reply.status == 200:
                    return
        except urllib.error.HTTPError:
            pass
        except OSError:
            pass
        if any(p.poll() is not None for p in processes):
            raise RuntimeError("an agent exited")
        if time.monotonic() > deadline:
            raise RuntimeError(f"{base} did not get ready")
        time.sleep(0.05)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--changes", type=int, default=100)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--namespaces", type=int, default=200)
    parser.add_argument("--quick", action="store_true", help="10 changes, 1 run, 40 namespaces")
    args = parser.parse_args()
    if args.quick:
        args.changes, args.runs, args.namespaces = 10, 1, 40
    missing = missing_requirements()
    if missing:
        print(f"bench_nodes: {missing}", file=sys.stderr)
        raise SystemExit(2)
    tmp = Path(tempfile.mkdtemp(prefix="podwall-bench-nodes-"))
    lines = []
    try:
        for nodes in (1, 3):
            seconds = time_up(nodes, args.runs, tmp)
            median = statistics.median(seconds)
            met = "met" if median < GOAL_UP_SECONDS else "NOT met"
            verdict = f" (goal < {GOAL_UP_SECONDS:.0f} s: {met})" if nodes == 3 else ""
            lines.append(
                f"podwall up --nodes {nodes} -> ready: median {median:.2f} s of {len(seconds)}"
                + verdict
            )
        lines.append(
            summary(
                "lab, 3 nodes: policy applied -> enforced on every node", lab(args.changes, tmp)
            )
        )
        values, counts = big(args.changes, args.namespaces, tmp)
        lines.append(summary(
            f"{counts['pods']} pods / {counts['policies']} policies, 3 nodes: policy changed "
            "-> enforced on every node", values,
        ))  # fmt: skip
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    load = os.getloadavg()
    print(f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on {os.cpu_count()} CPUs")
    for line in lines:
        print(line)


if __name__ == "__main__":
    main()
