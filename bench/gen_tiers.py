#!/usr/bin/env python3
"""Deterministic generator of ClusterNetworkPolicies for a gen_cluster.py cluster.

Writes one multi-document YAML file of `--count` ClusterNetworkPolicies
(policy.networking.k8s.io/v1alpha2), half in the Admin tier and half in the Baseline tier,
over the labels gen_cluster.py gives namespaces (team, env) and pods (app, tier): per-team
guardrails that Pass intra-team traffic and Deny the rest on some ports, monitoring Accepts,
environment isolation on some ports, egress to the outside world through `networks`
(198.19.0.0/16), and for one Baseline policy in eight a team's default deny (DNS accepted
first, then everything denied, 0.0.0.0/0 included). Priorities spread over 0..1000, some
equal.

Only the standard library is used; the same arguments always give byte-identical output.

Usage:
    gen_tiers.py --count 200 --seed 1 --out FILE
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from typing import Any

TEAMS = ["payments", "search", "identity", "ads", "infra", "data", "mobile", "web"]
ENVS = ["prod", "staging", "dev"]
APPS = ["frontend", "backend", "api", "db", "cache", "worker", "queue", "dns-proxy"]
KUBE_SYSTEM = {"kubernetes.io/metadata.name": "kube-system"}
PORTS = [("tcp", 8080), ("tcp", 9090), ("tcp", 5432), ("tcp", 6379), ("udp", 53), ("tcp", 443)]


def _ns(**labels: str) -> dict[str, Any]:
    return {"namespaces": {"matchLabels": labels}}


def _pods(ns: dict[str, str], pod: dict[str, str]) -> dict[str, Any]:
    return {"pods": {"namespaceSelector": {"matchLabels": ns}, "podSelector": {"matchLabels": pod}}}


def _port(rnd: random.Random) -> dict[str, Any]:
    proto, number = rnd.choice(PORTS)
    if rnd.random() < 0.2:
        return {proto: {"destinationPort": {"range": {"start": number, "end": number + 10}}}}
    return {proto: {"destinationPort": {"number": number}}}


def _rule(name: str, action: str, peers_field: str, peers: list[Any], rnd: random.Random,
          ports: float = 0.6) -> dict[str, Any]:  # fmt: skip
    """A rule; with probability `ports` it matches one or two ports only."""
    rule: dict[str, Any] = {"name": name, "action": action, peers_field: peers}
    if rnd.random() < ports:
        rule["protocols"] = [_port(rnd) for _ in range(rnd.randint(1, 2))]
    return rule


def admin(i: int, rnd: random.Random) -> dict[str, Any]:
    team, env = rnd.choice(TEAMS), rnd.choice(ENVS)
    kind = i % 4
    if kind == 0:  # a team's guardrail: its own traffic is the team's business
        spec = {
            "subject": _ns(team=team),
            "ingress": [
                _rule("pass-own-team", "Pass", "from", [_ns(team=team)], rnd, ports=0),
                _rule("accept-monitoring", "Accept", "from",
                      [_pods({"team": "infra"}, {"app": "worker"})], rnd),
                _rule("deny-dev", "Deny", "from", [_ns(env="dev")], rnd, ports=1),
            ],
        }  # fmt: skip
    elif kind == 1:  # egress to the outside world only through the proxy
        spec = {
            "subject": {"pods": {"namespaceSelector": {"matchLabels": {"env": env}},
                                 "podSelector": {"matchLabels": {"app": rnd.choice(APPS)}}}},
            "egress": [
                _rule("accept-proxy", "Accept", "to", [{"networks": ["198.19.0.0/24"]}], rnd),
                _rule("deny-outside", "Deny", "to", [{"networks": ["198.19.0.0/16"]}], rnd),
            ],
        }  # fmt: skip
    elif kind == 2:  # a sensitive app is reachable from its own tier only
        app = rnd.choice(APPS)
        spec = {
            "subject": _pods({}, {"app": app}),
            "ingress": [
                _rule("accept-api", "Accept", "from", [_pods({"team": team}, {"tier": "api"})],
                      rnd),
                _rule("deny-others", "Deny", "from", [{"namespaces": {}}], rnd, ports=1),
            ],
        }  # fmt: skip
    else:  # environments do not mix
        spec = {
            "subject": _ns(env=env),
            "egress": [
                _rule("pass-same-env", "Pass", "to", [_ns(env=env)], rnd, ports=0),
                _rule("deny-other-envs", "Deny", "to", [{"namespaces": {"matchExpressions": [
                    {"key": "env", "operator": "NotIn", "values": [env]}]}}], rnd, ports=1),
            ],
        }  # fmt: skip
    return _policy(f"admin-{i:03d}", "Admin", rnd.randrange(0, 1001, 10), spec)


def baseline(i: int, rnd: random.Random) -> dict[str, Any]:
    team = rnd.choice(TEAMS)
    if i % 8 == 0:  # a team's default deny, DNS first
        spec = {
            "subject": _ns(team=team),
            "egress": [
                _rule("accept-dns", "Accept", "to",
                      [_pods(KUBE_SYSTEM, {"k8s-app": "kube-dns"})],
                      rnd, ports=0),
                _rule("deny-all", "Deny", "to", [{"networks": ["0.0.0.0/0"]}], rnd, ports=0),
            ],
            "ingress": [_rule("deny-all", "Deny", "from", [{"namespaces": {}}], rnd, ports=0)],
        }  # fmt: skip
    else:  # a team accepts its own, denies the rest on its sensitive ports
        spec = {
            "subject": _ns(team=team),
            "ingress": [
                _rule("accept-own-team", "Accept", "from", [_ns(team=team)], rnd),
                _rule("deny-rest", "Deny", "from", [{"namespaces": {}}], rnd, ports=1),
            ],
        }  # fmt: skip
    return _policy(f"baseline-{i:03d}", "Baseline", rnd.randrange(0, 1001, 50), spec)


def _policy(name: str, tier: str, priority: int, spec: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "policy.networking.k8s.io/v1alpha2",
        "kind": "ClusterNetworkPolicy",
        "metadata": {"name": name},
        "spec": {"tier": tier, "priority": priority, **spec},
    }


def generate(count: int, seed: int) -> list[dict[str, Any]]:
    rnd = random.Random(seed)
    half = count // 2
    return [admin(i, rnd) for i in range(half)] + [baseline(i, rnd) for i in range(count - half)]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--count", type=int, default=200)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", required=True)
    args = ap.parse_args(argv)
    # JSON is YAML: one document per line keeps the file byte-identical and readable enough.
    text = "".join(
        f"---\n{json.dumps(p, sort_keys=True)}\n" for p in generate(args.count, args.seed)
    )
    with open(args.out, "w", encoding="utf-8") as out:
        out.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
