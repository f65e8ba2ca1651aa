"""Timings of `podwall up` (issue 4): ready, the tutorial's app Ready, policy changes enforced.

Run as root: `.venv/bin/python -m bench.bench_cluster [--changes 100]`. It starts a
`LocalCluster` in this process on a temporary state directory and a free port, and measures

- start -> ready (API serving, node up, cluster DNS Ready);
- `kubectl apply -f simple-app.yaml` (the real kubectl) -> all three pods Ready;
- a NetworkPolicy created or deleted over HTTPS -> the node's ruleset reflects it (its
  agent's metrics: the synced resourceVersion reaching the write's), and -> a real
  connection from the frontend pod to the backend Service agrees (probed every 20 ms), p50
  and p99 over `--changes` changes.

Everything is removed at the end.
"""

from __future__ import annotations

import argparse
import json
import shutil
import ssl
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

import yaml

from bench.bench_nodes import enforced_everywhere
from podwall.cluster.local import LocalCluster
from podwall.model.ports import Protocol
from podwall.runtime.connect import Attempt, try_once

TUTORIAL = Path(__file__).resolve().parents[1] / "examples" / "tutorial"
POLICIES = "/apis/networking.k8s.io/v1/namespaces/default/networkpolicies"


def request(cluster: LocalCluster, method: str, path: str, body: Any = None) -> Any:
    context = ssl.create_default_context(cafile=str(cluster.state_dir / "ca.crt"))
    data = None if body is None else json.dumps(body).encode()
    sent = urllib.request.Request(
        f"{cluster.server.url}{path}",
        data=data,
        method=method,
        headers={
            "Authorization": f"Bearer {cluster.server.token}",
            "Content-Type": "application/json",
        },
    )
    with urllib.request.urlopen(sent, context=context, timeout=10) as reply:
        return json.loads(reply.read())


def ready_pods(cluster: LocalCluster) -> int:
    pods, _ = cluster.store.list("pods", "default")
    return sum(
        1
        for pod in pods
        for c in (pod.get("status") or {}).get("conditions") or ()
        if c["type"] == "Ready" and c["status"] == "True"
    )


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] * 1000


def measure(changes: int) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="podwall-bench-"))
    cluster = LocalCluster(tmp / "state", port=0)
    try:
        started = time.perf_counter()
        cluster.start()
        print(f"start -> ready: {time.perf_counter() - started:.2f} s")

        kubectl = ["kubectl", "--kubeconfig", str(cluster.server.kubeconfig_path)]
        kubectl += ["--cache-dir", str(tmp / "cache")]
        started = time.perf_counter()
        subprocess.run([*kubectl, "apply", "-f", str(TUTORIAL / "simple-app.yaml")], check=True)
        while ready_pods(cluster) < 3:
            time.sleep(0.005)
        seconds = time.perf_counter() - started
        print(f"kubectl apply -f simple-app.yaml -> 3 pods Ready: {seconds:.2f} s")

        deny = yaml.safe_load((TUTORIAL / "backend-ingress-deny.yaml").read_text())
        pods, _ = cluster.store.list(
            "pods", "default", lambda p: p["metadata"]["labels"].get("app") == "frontend"
        )
        source = cluster.pods.exec_target("default", pods[0]["metadata"]["name"], None).netns
        (node,) = cluster.node_names
        agent = json.loads((cluster.run_dir / node / "agent.json").read_text())["health"]
        address = cluster.store.get("services", "default", "backend")["spec"]["clusterIP"]
        attempt = Attempt(netns=source, address=address, port=8080, protocol=Protocol.TCP)
        ruleset, packets = [], []
        for i in range(changes):
            started = time.perf_counter()
            if i % 2 == 0:
                answer = request(cluster, "POST", POLICIES, deny)
            else:
                answer = request(cluster, "DELETE", f"{POLICIES}/backend-ingress-deny")
            enforced_everywhere([agent], int(answer["metadata"]["resourceVersion"]), time.time())
            ruleset.append(time.perf_counter() - started)
            allowed = i % 2 == 1
            while try_once(attempt, 0.02) != allowed:
                pass
            packets.append(time.perf_counter() - started)
        for label, values in (("ruleset loaded", ruleset), ("connections agree", packets)):
            print(
                f"policy change -> {label}: p50 {percentile(values, 0.5):.1f} ms, "
                f"p99 {percentile(values, 0.99):.1f} ms ({len(values)} changes)"
            )
    finally:
        cluster.stop()
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--changes", type=int, default=100)
    measure(parser.parse_args().changes)


if __name__ == "__main__":
    main()
