"""The objects the API benchmark creates, in the shapes of ../shared/bench/gen_cluster.py.

Deterministic for a seed: namespaces `ns-0000`…, pods with app/tier/version labels and named
container ports, bound (`spec.nodeName`) to `node-000`…, nodes that nothing runs; and
NetworkPolicies drawn from gen_cluster's templates (deny, same-namespace, cross-namespace,
ipBlock, egress). Pod addresses come from 198.18.0.0/16, ipBlocks from 198.19.0.0/16.
"""

from __future__ import annotations

import random
from typing import Any

Object = dict[str, Any]
APPS: dict[str, tuple[str, list[tuple[str, int, str]]]] = {
    "frontend": ("web", [("http", 8080, "TCP"), ("metrics", 9090, "TCP")]),
    "backend": ("api", [("http", 8080, "TCP"), ("grpc", 9000, "TCP")]),
    "api": ("api", [("https", 8443, "TCP"), ("metrics", 9090, "TCP")]),
    "db": ("data", [("postgres", 5432, "TCP")]),
    "cache": ("data", [("redis", 6379, "TCP")]),
    "worker": ("batch", [("metrics", 9090, "TCP")]),
}
TEAMS = ("payments", "search", "identity", "ads", "infra", "data")


def namespace(name: str, rng: random.Random) -> Object:
    labels = {"team": rng.choice(TEAMS), "kubernetes.io/metadata.name": name}
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels}}


def pod(ns: str, index: int, nodes: int, rng: random.Random) -> Object:
    app = sorted(APPS)[index % len(APPS)]
    tier, ports = APPS[app]
    labels = {"app": app, "tier": tier, "version": rng.choice(("v1", "v2"))}
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": f"{app}-{index:05d}", "namespace": ns, "labels": labels},
        "spec": {
            "nodeName": f"node-{index % nodes:03d}",
            "containers": [
                {
                    "name": app,
                    "image": f"registry.invalid/{app}:1",
                    "ports": [
                        {"name": n, "containerPort": p, "protocol": proto} for n, p, proto in ports
                    ],
                }
            ],
        },
    }


def policy(ns: str, index: int, rng: random.Random) -> Object:
    target = rng.choice(sorted(APPS))
    kind = rng.choice(("deny", "same-ns", "cross-ns", "ipblock", "egress"))
    spec: Object = {"podSelector": {"matchLabels": {"app": target}}}
    port = {"protocol": "TCP", "port": APPS[target][1][0][1]}
    if kind == "deny":
        spec = {"podSelector": {}, "policyTypes": ["Ingress"]}
    elif kind == "same-ns":
        source = {"podSelector": {"matchLabels": {"app": rng.choice(sorted(APPS))}}}
        spec |= {"policyTypes": ["Ingress"], "ingress": [{"from": [source], "ports": [port]}]}
    elif kind == "cross-ns":
        source = {"namespaceSelector": {"matchLabels": {"team": rng.choice(TEAMS)}}}
        spec |= {"policyTypes": ["Ingress"], "ingress": [{"from": [source], "ports": [port]}]}
    elif kind == "ipblock":
        block = {"cidr": f"198.19.{rng.randrange(256)}.0/24"}
        spec |= {"policyTypes": ["Ingress"], "ingress": [{"from": [{"ipBlock": block}]}]}
    else:
        dns = {
            "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
            "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
        }
        ports = [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]
        spec |= {"policyTypes": ["Egress"], "egress": [{"to": [dns], "ports": ports}]}
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": f"{kind}-{index:05d}", "namespace": ns},
        "spec": spec,
    }


def config_map(name: str) -> Object:
    """A small object for the write timings (no admission beyond the generic one)."""
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "labels": {"bench": "writes"}},
        "data": {"key": "value " * 20},
    }
