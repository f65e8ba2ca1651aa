#!/usr/bin/env python3
"""Deterministic generator of synthetic Kubernetes clusters for NetworkPolicy benchmarks.

Writes a folder with three multi-document YAML files:

    namespaces.yaml   Namespace objects (labels: team, env, tier-ish)
    pods.yaml         Pod objects (labels, containerPorts with names, status.podIP)
    policies.yaml     networking.k8s.io/v1 NetworkPolicy objects
    meta.json         the parameters and the object counts

The same (namespaces, pods-per-ns range, policies-per-ns range, seed) always gives
byte-identical output, so the inputs can be fed to several analyzers
(network-config-analyzer, podwall, ...) and compared.

Pod IPs come from 198.18.0.0/16 and ipBlock peers from 198.19.0.0/16 (RFC 2544
benchmarking range); one policy template also uses the common
"0.0.0.0/0 except the cluster range" egress pattern.

Only the standard library is used (the YAML is emitted by a tiny writer).

Usage:
    gen_cluster.py --namespaces 50 --pods 5-10 --policies 1-3 --seed 1 --out DIR
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import os
import random
import sys

TEAMS = ["payments", "search", "identity", "ads", "infra", "data", "mobile", "web"]
ENVS = ["prod", "staging", "dev"]
# app name -> (tier, [(port name, port number, protocol)])
APPS = {
    "frontend": ("web", [("http", 8080, "TCP"), ("metrics", 9090, "TCP")]),
    "backend": ("api", [("http", 8080, "TCP"), ("grpc", 9000, "TCP")]),
    "api": ("api", [("https", 8443, "TCP"), ("metrics", 9090, "TCP")]),
    "db": ("data", [("postgres", 5432, "TCP")]),
    "cache": ("data", [("redis", 6379, "TCP")]),
    "worker": ("batch", [("metrics", 9090, "TCP")]),
    "queue": ("data", [("amqp", 5672, "TCP"), ("mgmt", 15672, "TCP")]),
    "dns-proxy": ("infra", [("dns", 53, "UDP"), ("dns-tcp", 53, "TCP")]),
}
APP_NAMES = sorted(APPS)
POD_NET = ipaddress.ip_network("198.18.0.0/16")
EXT_NET = ipaddress.ip_network("198.19.0.0/16")


# --------------------------------------------------------------------------- YAML
def _scalar(v):
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    return json.dumps(str(v))  # a JSON string is a valid YAML double-quoted scalar


def _emit(v, indent, out):
    pad = "  " * indent
    if isinstance(v, dict):
        if not v:
            out.append(pad + "{}")
            return
        for k, item in v.items():
            key = (
                _scalar(k)
                if not str(k)
                .replace("-", "")
                .replace("_", "")
                .replace(".", "")
                .replace("/", "")
                .isalnum()
                else str(k)
            )
            if isinstance(item, (dict, list)) and item:
                out.append(f"{pad}{key}:")
                _emit(item, indent + 1, out)
            elif isinstance(item, dict):
                out.append(f"{pad}{key}: {{}}")
            elif isinstance(item, list):
                out.append(f"{pad}{key}: []")
            else:
                out.append(f"{pad}{key}: {_scalar(item)}")
    elif isinstance(v, list):
        for item in v:
            if isinstance(item, (dict, list)) and item:
                sub = []
                _emit(item, indent + 1, sub)
                first = sub[0].lstrip()
                out.append(f"{pad}- {first}")
                out.extend(sub[1:])
            elif isinstance(item, dict):
                out.append(f"{pad}- {{}}")
            elif isinstance(item, list):
                out.append(f"{pad}- []")
            else:
                out.append(f"{pad}- {_scalar(item)}")
    else:
        out.append(pad + _scalar(v))


def dump_docs(docs):
    chunks = []
    for d in docs:
        lines = []
        _emit(d, 0, lines)
        chunks.append("---\n" + "\n".join(lines) + "\n")
    return "".join(chunks)


# ----------------------------------------------------------------------- generator
def parse_range(s):
    if "-" in s:
        a, b = s.split("-", 1)
        return int(a), int(b)
    return int(s), int(s)


class Gen:
    def __init__(self, n_ns, pods_rng, pol_rng, seed):
        self.rng = random.Random(seed)
        self.n_ns = n_ns
        self.pods_rng = pods_rng
        self.pol_rng = pol_rng
        self.namespaces = []  # dicts
        self.pods = []
        self.policies = []
        self.ns_apps = {}  # ns -> list of app names present
        self.ns_labels = {}
        self._ip = int(POD_NET.network_address) + 10

    def next_ip(self):
        ip = ipaddress.ip_address(self._ip)
        self._ip += 1
        if ip not in POD_NET:
            raise SystemExit("too many pods for 198.18.0.0/16")
        return str(ip)

    def build(self):
        r = self.rng
        # kube-system with DNS, so DNS egress rules have a real target
        self.add_namespace("kube-system", {"team": "infra", "env": "prod"})
        for i in range(2):
            self.add_pod(
                "kube-system", f"coredns-{i}", "dns-proxy", extra_labels={"k8s-app": "kube-dns"}
            )
        for n in range(self.n_ns):
            ns = f"ns-{n:04d}"
            labels = {"team": r.choice(TEAMS), "env": r.choice(ENVS)}
            if r.random() < 0.3:
                labels["monitoring"] = "enabled"
            self.add_namespace(ns, labels)
            k_apps = r.randint(2, 4)
            apps = r.sample(
                [a for a in APP_NAMES if a != "dns-proxy"], k_apps
            )  # dns-proxy only in kube-system
            self.ns_apps[ns] = apps
            n_pods = r.randint(*self.pods_rng)
            for p in range(n_pods):
                app = apps[p % len(apps)]
                self.add_pod(
                    ns, f"{app}-{p:03d}", app, extra_labels={"version": r.choice(["v1", "v2"])}
                )
        for n in range(self.n_ns):
            ns = f"ns-{n:04d}"
            k = r.randint(*self.pol_rng)
            for j in range(k):
                self.policies.append(self.make_policy(ns, j))
        return self

    def add_namespace(self, name, labels):
        labels = dict(labels)
        labels["kubernetes.io/metadata.name"] = name
        self.ns_labels[name] = labels
        self.namespaces.append(
            {
                "apiVersion": "v1",
                "kind": "Namespace",
                "metadata": {"name": name, "labels": labels},
            }
        )

    def add_pod(self, ns, name, app, extra_labels=None):
        tier, ports = APPS[app]
        labels = {"app": app, "tier": tier}
        labels.update(extra_labels or {})
        self.pods.append(
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {"name": name, "namespace": ns, "labels": labels},
                "spec": {
                    "containers": [
                        {
                            "name": app,
                            "image": "registry.invalid/" + app + ":1",
                            "ports": [
                                {"name": pn, "containerPort": pp, "protocol": proto}
                                for pn, pp, proto in ports
                            ],
                        }
                    ]
                },
                "status": {"phase": "Running", "podIP": self.next_ip()},
            }
        )

    # -- policy templates ----------------------------------------------------
    def _port(self, app, named_ok=True):
        r = self.rng
        pn, pp, proto = r.choice(APPS[app][1])
        if named_ok and r.random() < 0.3:
            return {"protocol": proto, "port": pn}
        return {"protocol": proto, "port": pp}

    @staticmethod
    def _dedup(ports):
        out = []
        for p in ports:
            if p not in out:
                out.append(p)
        return out

    def _other_ns(self, ns):
        names = [f"ns-{i:04d}" for i in range(self.n_ns)]
        cand = [x for x in names if x != ns] or names
        return self.rng.choice(cand)

    def make_policy(self, ns, j):
        r = self.rng
        apps = self.ns_apps[ns]
        target = r.choice(apps)
        kind = r.choices(
            [
                "deny-ingress",
                "same-ns",
                "cross-ns",
                "ns-and-pod",
                "ipblock",
                "egress",
                "exprs",
                "port-range",
                "deny-all",
            ],
            weights=[2, 4, 3, 2, 2, 3, 2, 1, 1],
        )[0]
        name = f"{kind}-{j}"
        spec = {"podSelector": {"matchLabels": {"app": target}}}
        if kind == "deny-ingress":
            spec = {"podSelector": {}, "policyTypes": ["Ingress"]}
        elif kind == "deny-all":
            spec = {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
        elif kind == "same-ns":
            src = r.choice(apps)
            spec["policyTypes"] = ["Ingress"]
            spec["ingress"] = [
                {
                    "from": [{"podSelector": {"matchLabels": {"app": src}}}],
                    "ports": [self._port(target)],
                }
            ]
        elif kind == "cross-ns":
            team = r.choice(TEAMS)
            spec["policyTypes"] = ["Ingress"]
            spec["ingress"] = [
                {
                    "from": [{"namespaceSelector": {"matchLabels": {"team": team}}}],
                    "ports": [self._port(target)],
                }
            ]
        elif kind == "ns-and-pod":
            other = self._other_ns(ns)
            src = r.choice(self.ns_apps[other])
            spec["policyTypes"] = ["Ingress"]
            spec["ingress"] = [
                {
                    "from": [
                        {
                            "namespaceSelector": {
                                "matchLabels": {"kubernetes.io/metadata.name": other}
                            },
                            "podSelector": {"matchLabels": {"app": src}},
                        },
                        {
                            "namespaceSelector": {"matchLabels": {"monitoring": "enabled"}},
                        },
                    ],
                    "ports": self._dedup([self._port(target), {"protocol": "TCP", "port": 9090}]),
                }
            ]
        elif kind == "ipblock":
            a = r.randrange(0, 256)
            cidr = f"{EXT_NET.network_address.exploded.rsplit('.', 2)[0]}.{a}.0/24"
            exc = f"{EXT_NET.network_address.exploded.rsplit('.', 2)[0]}.{a}.128/25"
            spec["policyTypes"] = ["Ingress"]
            spec["ingress"] = [
                {
                    "from": [{"ipBlock": {"cidr": cidr, "except": [exc]}}],
                    "ports": [self._port(target, named_ok=False)],
                }
            ]
        elif kind == "egress":
            env = r.choice(ENVS)
            spec["policyTypes"] = ["Egress"]
            spec["egress"] = [
                {
                    "to": [
                        {
                            "namespaceSelector": {
                                "matchLabels": {"kubernetes.io/metadata.name": "kube-system"}
                            },
                            "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
                        }
                    ],
                    "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}],
                },
                {
                    "to": [
                        {
                            "namespaceSelector": {"matchLabels": {"env": env}},
                            "podSelector": {"matchLabels": {"tier": "data"}},
                        }
                    ],
                    "ports": [{"protocol": "TCP", "port": 5432}, {"protocol": "TCP", "port": 6379}],
                },
            ]
            if r.random() < 0.5:
                spec["egress"].append(
                    {
                        "to": [{"ipBlock": {"cidr": "0.0.0.0/0", "except": [str(POD_NET)]}}],
                        "ports": [{"protocol": "TCP", "port": 443}],
                    }
                )
        elif kind == "exprs":
            spec = {
                "podSelector": {
                    "matchExpressions": [
                        {"key": "tier", "operator": "In", "values": ["web", "api"]},
                        {"key": "version", "operator": "NotIn", "values": ["v0"]},
                    ]
                },
                "policyTypes": ["Ingress"],
                "ingress": [
                    {
                        "from": [
                            {
                                "podSelector": {
                                    "matchExpressions": [
                                        {"key": "app", "operator": "Exists"},
                                        {"key": "tier", "operator": "NotIn", "values": ["data"]},
                                    ]
                                }
                            }
                        ],
                    }
                ],
            }
        elif kind == "port-range":
            spec["policyTypes"] = ["Ingress"]
            spec["ingress"] = [
                {
                    "from": [{"namespaceSelector": {}}],
                    "ports": [{"protocol": "TCP", "port": 8000, "endPort": 9100}],
                }
            ]
        return {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": {"name": name, "namespace": ns},
            "spec": spec,
        }


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--namespaces", type=int, required=True)
    ap.add_argument("--pods", default="5-10", help="pods per namespace, N or A-B")
    ap.add_argument("--policies", default="1-3", help="policies per namespace, N or A-B")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", required=True)
    a = ap.parse_args(argv)
    g = Gen(a.namespaces, parse_range(a.pods), parse_range(a.policies), a.seed).build()
    os.makedirs(a.out, exist_ok=True)
    for fname, docs in (
        ("namespaces.yaml", g.namespaces),
        ("pods.yaml", g.pods),
        ("policies.yaml", g.policies),
    ):
        with open(os.path.join(a.out, fname), "w") as f:
            f.write(dump_docs(docs))
    meta = {
        "generator": "gen_cluster.py",
        "seed": a.seed,
        "namespaces_arg": a.namespaces,
        "pods_per_ns": a.pods,
        "policies_per_ns": a.policies,
        "counts": {
            "namespaces": len(g.namespaces),
            "pods": len(g.pods),
            "policies": len(g.policies),
        },
    }
    with open(os.path.join(a.out, "meta.json"), "w") as f:
        json.dump(meta, f, indent=1, sort_keys=True)
        f.write("\n")
    print(json.dumps(meta["counts"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
