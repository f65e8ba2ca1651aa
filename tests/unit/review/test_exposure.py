"""`exposure()`: who reaches a pod, held to `decide()` from pods and from outside addresses."""

from __future__ import annotations

import ipaddress
import itertools
from typing import Any

import pytest
from hypothesis import given, settings

from podwall.engine import Endpoint, Traffic, decide
from podwall.model.ports import ALL_PROTOCOLS
from podwall.review.exposure import exposure, ranked
from tests.builders import make_cluster, policy
from tests.strategies import PROBE_PORTS, objects, to_cluster

OUTSIDE_PROBES = [ipaddress.ip_address(a) for a in ("203.0.113.7", "198.18.0.3", "198.18.0.200")]


def _one(extra: str, key: str) -> Any:
    c = make_cluster(extra)
    (found,) = exposure(c, [c.pods_by_key[key]])
    return found


CASES = [
    ("no policy: anywhere, every port, every pod", "", "x/a",
     [("anywhere", "all")], {("x", ("x/b",), True, "all"), ("y", ("y/a", "y/b", "y/host"), True, "all")}),
    ("a default deny: nothing", policy("deny", "x", "podSelector: {}\npolicyTypes: [Ingress]"), "x/a",
     [], set()),
    ("an ipBlock on a named port resolved on the pod (http is 80 on x/a)",
     policy("p", "x", "podSelector: {matchLabels: {app: a}}\ningress: [{from: [{ipBlock: {cidr: 203.0.113.0/24}}], ports: [{port: http}]}]"),
     "x/a", [("203.0.113.0/24", "TCP 80")], set()),
    ("a rule without from: anywhere on its ports, pods too",
     policy("p", "x", "podSelector: {matchLabels: {app: a}}\ningress: [{ports: [{port: 443}]}]"),
     "x/a", [("anywhere", "TCP 443")],
     {("x", ("x/b",), True, "TCP 443"), ("y", ("y/a", "y/b", "y/host"), True, "TCP 443")}),
    ("pods of one namespace, some of them",
     policy("p", "y", "podSelector: {matchLabels: {app: a}}\ningress: [{from: [{podSelector: {matchLabels: {tier: db}}}]}]"),
     "y/a", [], {("y", ("y/b",), False, "all")}),
    ("a host-network pod is not subject to policy",
     policy("deny", "y", "podSelector: {}\npolicyTypes: [Ingress]"), "y/host",
     [("anywhere", "all")], {("x", ("x/a", "x/b"), True, "all"), ("y", ("y/a", "y/b"), True, "all")}),
]  # fmt: skip


@pytest.mark.parametrize(
    ("extra", "key", "outside", "sources"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_exposure_table(
    extra: str, key: str, outside: list[tuple[str, str]], sources: set[tuple[Any, ...]]
) -> None:
    found = _one(extra, key)
    assert [(o.block, o.ports.render()) for o in found.outside] == outside
    assert {(s.namespace, s.pods, s.every_pod, s.ports.render()) for s in found.sources} == sources


def test_ranked_puts_pods_reachable_from_anywhere_first() -> None:
    c = make_cluster(
        policy("deny", "x", "podSelector: {matchLabels: {app: a}}\npolicyTypes: [Ingress]")
    )
    order = [e.pod.key for e in ranked(c)]
    assert order[-1] == "x/a"
    assert all(e.anywhere for e in ranked(c)[:-1])


@settings(max_examples=150, deadline=None)
@given(objects(max_pods=5, max_policies=3))
def test_exposure_agrees_with_decide(objs: list[dict[str, Any]]) -> None:
    c = to_cluster(objs)
    for e in exposure(c, c.pods):
        dst = Endpoint.of_pod(e.pod)
        for port, proto in itertools.product(PROBE_PORTS, ALL_PROTOCOLS):
            for ip in OUTSIDE_PROBES:
                if any(ip in p.ips for p in c.pods):
                    continue  # an address of a pod is not outside the cluster
                t = Traffic(src=Endpoint.of_ip(ip), dst=dst, port=port, protocol=proto)
                admitted = any(o.admits(ip, proto, port) for o in e.outside)
                assert admitted == decide(c, t).allowed, t.render()
            for src in c.pods:
                if src.key == e.pod.key:
                    continue
                t = Traffic(src=Endpoint.of_pod(src), dst=dst, port=port, protocol=proto)
                listed = any(src.key in s.pods and s.ports.contains(proto, port) for s in e.sources)
                assert listed == decide(c, t).allowed, t.render()
