"""The clusters measured: gen_cluster.py output plus the benchmark's own pods, policies, services.

Generated clusters are cached in bench/out/dataplane/<size>/ (git-ignored). Extra objects are
written as YAML next to them and loaded through podwall's manifest reader, like any cluster:

- `bench.yaml`: namespace `pwbench` with a server pod (198.18.250.2) and a client pod
  (198.18.250.3), isolated both ways by a deny-all policy; the server is selected by three
  policies (deny-all, one that admits every backend of the cluster but not the client, one
  that admits the client) and the client by an egress policy to the server. So a new
  connection goes through both verdict maps and both class chains, and misses a 143-address
  set lookup before a rule accepts it.
- `services.yaml`: 1,000 ClusterIP services over the generated pods (198.19.100.0 and up) and
  `pwbench/server` at 198.19.250.1.
- `change-policy.yaml` and `change-pod.yaml`: the incremental changes (one ingress rule added to
  one policy; one new pod with the labels of an existing one).
"""

from __future__ import annotations

import copy
import subprocess
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from podwall.manifests import load_paths
from podwall.model.cluster import Cluster, Pod
from podwall.model.convert import cluster as convert
from podwall.model.policy import NetworkPolicy

ROOT = Path(__file__).resolve().parent.parent.parent
OUT = ROOT / "bench" / "out" / "dataplane"
GENERATOR = ROOT / "bench" / "gen_cluster.py"
BASE_FILES = ("namespaces.yaml", "pods.yaml", "policies.yaml", "bench.yaml")
SERVICE_IP = "198.19.250.1"
PORT_CRR = 5201
PORT_BULK = 5202
PORT_CLOSED = 5299  # allowed by no policy: a probe there shows the ruleset is enforced
SERVICES = 1000


@dataclass(frozen=True)
class Size:
    """gen_cluster.py parameters; `pods` and `policies` are per namespace."""

    label: str
    namespaces: int
    pods: str = "4-6"
    policies: str = "4-6"
    seed: int = 1

    @property
    def folder(self) -> Path:
        return OUT / f"ns{self.namespaces}-pods{self.pods}-pol{self.policies}-seed{self.seed}"

    @property
    def args(self) -> str:
        return f"--namespaces {self.namespaces} --pods {self.pods} --policies {self.policies}"


# 999 pods / 993 policies and 10,007 pods / 10,017 policies (plus the 2 pods and 4 policies
# of bench.yaml).
SIZES = {"1k": Size("1k", 200), "10k": Size("10k", 2000)}


@dataclass(frozen=True)
class Clusters:
    """The snapshots of one size: base, base + one changed policy, that + one new pod."""

    base: Cluster
    policy_changed: Cluster
    pod_added: Cluster
    changed_policy: str
    added_pod: str


def prepare(size: Size) -> Path:
    """Generate (once) the size's folder with every YAML file; return it."""
    folder = size.folder
    if not (folder / "policies.yaml").exists():
        cmd = [sys.executable, str(GENERATOR), *size.args.split(), "--seed", str(size.seed)]
        subprocess.run([*cmd, "--out", str(folder)], check=True, capture_output=True)
    pods = _docs(folder / "pods.yaml")
    _dump(folder / "bench.yaml", bench_objects())
    _dump(folder / "services.yaml", services(pods))
    _dump(folder / "change-policy.yaml", [changed_policy(_docs(folder / "policies.yaml"), pods)])
    _dump(folder / "change-pod.yaml", [added_pod(pods)])
    return folder


def load(folder: Path, files: Iterable[str]) -> Cluster:
    return convert(load_paths([str(folder / f) for f in files]).objects).cluster


def snapshots(folder: Path) -> Clusters:
    base = load(folder, BASE_FILES)
    policy = _one_policy(folder / "change-policy.yaml")
    pod = _one_pod(folder / "change-pod.yaml")
    changed = _rebuild(base, policies=[policy if p.key == policy.key else p for p in base.policies])
    added = _rebuild(changed, pods=[*changed.pods, pod])
    return Clusters(base, changed, added, policy.key, pod.key)


def _rebuild(
    c: Cluster, *, policies: list[NetworkPolicy] | None = None, pods: list[Pod] | None = None
) -> Cluster:
    return Cluster.build(
        namespaces=c.namespaces.values(),
        pods=c.pods if pods is None else pods,
        services=c.services,
        policies=c.policies if policies is None else policies,
        workloads=c.workloads,
    )


def _one_policy(path: Path) -> NetworkPolicy:
    policies = convert(load_paths([str(path)]).objects).cluster.policies
    assert len(policies) == 1, path
    return policies[0]


def _one_pod(path: Path) -> Pod:
    pods = convert(load_paths([str(path)]).objects).cluster.pods
    assert len(pods) == 1, path
    return pods[0]


# --- YAML ----------------------------------------------------------------------------------


# libyaml when PyYAML has it: reading 10k pods with the pure-Python parser takes ~20 s.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def _docs(path: Path) -> list[dict[str, Any]]:
    return [d for d in yaml.load_all(path.read_text(), Loader=_LOADER) if d]


def _dump(path: Path, docs: list[dict[str, Any]]) -> None:
    path.write_text(yaml.dump_all(docs, Dumper=_DUMPER, sort_keys=False))


def _meta(kind: str, name: str, namespace: str | None = None) -> dict[str, Any]:
    api = "networking.k8s.io/v1" if kind == "NetworkPolicy" else "v1"
    meta: dict[str, Any] = {"name": name}
    if namespace is not None:
        meta["namespace"] = namespace
    return {"apiVersion": api, "kind": kind, "metadata": meta}


def _app(app: str) -> dict[str, Any]:
    return {"matchLabels": {"app": app}}


def _tcp(*ports: int) -> list[dict[str, Any]]:
    return [{"protocol": "TCP", "port": p} for p in ports]


def _policy(name: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {**_meta("NetworkPolicy", name, "pwbench"), "spec": spec}


def _bench_pod(name: str, ip: str, app: str) -> dict[str, Any]:
    ports = [
        {"name": "crr", "containerPort": PORT_CRR},
        {"name": "bulk", "containerPort": PORT_BULK},
    ]
    return {
        **_meta("Pod", name, "pwbench"),
        "metadata": {"name": name, "namespace": "pwbench", "labels": {"app": app}},
        "spec": {"containers": [{"name": app, "image": "bench.invalid/tcp:1", "ports": ports}]},
        "status": {"phase": "Running", "podIP": ip},
    }


def bench_objects() -> list[dict[str, Any]]:
    ns = {**_meta("Namespace", "pwbench"), "metadata": {"name": "pwbench"}}
    ns["metadata"]["labels"] = {"team": "bench", "env": "bench"}
    server, client = _app("bench-server"), _app("bench-client")
    return [
        ns,
        _bench_pod("server", "198.18.250.2", "bench-server"),
        _bench_pod("client", "198.18.250.3", "bench-client"),
        _policy("a-deny-all", {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}),
        _policy(
            "b-other",
            {
                "podSelector": server,
                "policyTypes": ["Ingress"],
                # Every backend of the cluster (a big set, looked up and missed), not the client.
                "ingress": [
                    {
                        "from": [{"namespaceSelector": {}, "podSelector": _app("backend")}],
                        "ports": _tcp(80),
                    }
                ],
            },
        ),
        _policy(
            "c-allow-client",
            {
                "podSelector": server,
                "policyTypes": ["Ingress"],
                "ingress": [{"from": [{"podSelector": client}], "ports": _tcp(5201, 5202)}],
            },
        ),
        _policy(
            "d-client-egress",
            {
                "podSelector": client,
                "policyTypes": ["Egress"],
                "egress": [{"to": [{"podSelector": server}], "ports": _tcp(5201, 5202)}],
            },
        ),
    ]


def services(pods: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """`SERVICES` ClusterIPs over the generated pods' apps, then the benchmark server's."""
    docs = []
    for i in range(SERVICES):
        pod = pods[i % len(pods)]
        container = pod["spec"]["containers"][0]["ports"][0]
        ip = f"198.19.{100 + i // 250}.{i % 250 + 1}"
        spec = {
            "clusterIP": ip,
            "selector": {"app": pod["metadata"]["labels"]["app"]},
            "ports": [{"port": 80, "targetPort": container["containerPort"], "protocol": "TCP"}],
        }
        docs.append(
            {**_meta("Service", f"svc-{i:04d}", pod["metadata"]["namespace"]), "spec": spec}
        )
    ports = [{"name": n, "port": p, "targetPort": p} for n, p in (("crr", 5201), ("bulk", 5202))]
    spec = {"clusterIP": SERVICE_IP, "selector": {"app": "bench-server"}, "ports": ports}
    docs.append({**_meta("Service", "server", "pwbench"), "spec": spec})
    return docs


def changed_policy(policies: list[dict[str, Any]], pods: list[dict[str, Any]]) -> dict[str, Any]:
    """The first `same-ns-*` policy with one more ingress rule: TCP 9090 from the `app` of a
    pod of its namespace, so that the change really adds rules."""
    doc = next(p for p in policies if p["metadata"]["name"].startswith("same-ns-"))
    doc = copy.deepcopy(doc)
    namespace = doc["metadata"]["namespace"]
    app = next(
        p["metadata"]["labels"]["app"] for p in pods if p["metadata"]["namespace"] == namespace
    )
    rule = {"from": [{"podSelector": _app(app)}], "ports": _tcp(9090)}
    doc["spec"]["ingress"] = [*doc["spec"]["ingress"], rule]
    return doc


def added_pod(pods: list[dict[str, Any]]) -> dict[str, Any]:
    """A copy of the first pod of ns-0000 with a new name and address (same labels)."""
    doc = copy.deepcopy(next(p for p in pods if p["metadata"]["namespace"] == "ns-0000"))
    doc["metadata"]["name"] = "added-000"
    doc["status"]["podIP"] = "198.18.251.10"
    return doc
