"""Law of the v1alpha1 kinds: an Admin-tier ClusterNetworkPolicy rewritten as the
AdminNetworkPolicy that says the same (Allow for Accept, `ports` for `protocols`) decides every
connection as it did, in `decide()` and in the connectivity map; so does a Baseline-tier one
rewritten as the BaselineAdminNetworkPolicy."""

from __future__ import annotations

import copy
import itertools
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from podwall.engine import Endpoint, Traffic, connectivity, decide
from podwall.model.ports import ALL_PROTOCOLS
from tests.strategies import PROBE_PORTS, objects, to_cluster
from tests.strategies_cnp import cluster_policy, node

Object = dict[str, Any]
_PROTOCOLS = {"tcp": "TCP", "udp": "UDP", "sctp": "SCTP"}


def _port(protocol: Object) -> Object:
    if "destinationNamedPort" in protocol:
        return {"namedPort": protocol["destinationNamedPort"]}
    ((field, value),) = protocol.items()
    port = value["destinationPort"]
    if "range" in port:
        span = port["range"]
        return {"portRange": {"protocol": _PROTOCOLS[field], **span}}
    return {"portNumber": {"protocol": _PROTOCOLS[field], "port": port["number"]}}


def _peer(peer: Object) -> Object:
    if "pods" in peer:  # v1alpha1 requires the namespaceSelector; absent means all namespaces
        return {"pods": {"namespaceSelector": {}, **peer["pods"]}}
    return copy.deepcopy(peer)


def _rule(rule: Object, peers: str) -> Object:
    out: Object = {"action": "Allow" if rule["action"] == "Accept" else rule["action"]}
    out[peers] = [_peer(p) for p in rule[peers]]
    if "protocols" in rule:
        out["ports"] = [_port(p) for p in rule["protocols"]]
    if "name" in rule:
        out["name"] = rule["name"]
    return out


def rewritten(cnp: Object, *, baseline: bool = False) -> Object:
    """The v1alpha1 policy that means what `cnp` means."""
    spec = cnp["spec"]
    out: Object = {"subject": _peer(spec["subject"])}
    if not baseline:
        out["priority"] = spec["priority"]
    for direction, peers in (("ingress", "from"), ("egress", "to")):
        if direction in spec:
            out[direction] = [_rule(r, peers) for r in spec[direction]]
    kind = "BaselineAdminNetworkPolicy" if baseline else "AdminNetworkPolicy"
    name = "default" if baseline else cnp["metadata"]["name"]
    return {
        "apiVersion": "policy.networking.k8s.io/v1alpha1",
        "kind": kind,
        "metadata": {"name": name},
        "spec": out,
    }


def _without_pass(cnp: Object) -> Object:
    """A Baseline policy as the BaselineAdminNetworkPolicy can say it: no Pass."""
    out = copy.deepcopy(cnp)
    for direction in ("ingress", "egress"):
        for rule in out["spec"].get(direction, ()):
            if rule["action"] == "Pass":
                rule["action"] = "Deny"
    return out


@st.composite
def worlds(draw: st.DrawFn) -> tuple[list[Object], list[Object], list[Object]]:
    """The common objects, the ClusterNetworkPolicies, and their v1alpha1 rewrites."""
    base = draw(objects(max_pods=5, max_policies=2))
    nodes = [draw(node(i)) for i in range(draw(st.integers(0, 1)))]
    admins = [draw(cluster_policy(i, tier="Admin")) for i in range(draw(st.integers(0, 2)))]
    cnps, anps = list(admins), [rewritten(c) for c in admins]
    if draw(st.booleans()):
        baseline = _without_pass(draw(cluster_policy(9, tier="Baseline")))
        cnps.append(baseline)
        anps.append(rewritten(baseline, baseline=True))
    return [*base, *nodes], cnps, anps


@settings(max_examples=150)
@given(worlds())
def test_a_rewritten_policy_decides_every_connection_the_same(
    world: tuple[list[Object], list[Object], list[Object]],
) -> None:
    common, cnps, anps = world
    before, after = to_cluster([*common, *cnps]), to_cluster([*common, *anps])
    assert [p.kind for p in after.cluster_policies].count("ClusterNetworkPolicy") == 0
    by_key = {p.key: p for p in after.pods}
    for s, d in itertools.product(before.pods, repeat=2):
        for port, proto in itertools.product(PROBE_PORTS, ALL_PROTOCOLS):
            t = Traffic(src=Endpoint.of_pod(s), dst=Endpoint.of_pod(d), port=port, protocol=proto)
            u = Traffic(
                src=Endpoint.of_pod(by_key[s.key]),
                dst=Endpoint.of_pod(by_key[d.key]),
                port=port,
                protocol=proto,
            )
            assert decide(before, t).allowed == decide(after, u).allowed, t.render()
    assert connectivity(before).to_json() == connectivity(after).to_json()
