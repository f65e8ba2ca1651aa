"""Hypothesis strategies for ClusterNetworkPolicies and Nodes, as raw Kubernetes objects.

They draw on `strategies`' small world (namespaces x and y, pods at 198.18.0.<i+1>, labels
app/tier = a/b), add nodes whose addresses are some pods' (so `nodes` peers meet host-network
pods), and include what validation would refuse but the engine must still fail closed on:
empty peers.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from tests.strategies import CIDRS, NAMESPACES, labels, objects, selector

PRIORITIES = (0, 5, 5, 1000)
NODE_LABELS = st.dictionaries(st.just("role"), st.sampled_from(("a", "b")), max_size=1)


@st.composite
def namespaced_pod(draw: st.DrawFn) -> dict[str, Any]:
    out: dict[str, Any] = {"podSelector": draw(selector())}
    if draw(st.booleans()):
        out["namespaceSelector"] = draw(selector())
    return out


@st.composite
def subject(draw: st.DrawFn) -> dict[str, Any]:
    if draw(st.booleans()):
        return {"namespaces": draw(selector())}
    return {"pods": draw(namespaced_pod())}


@st.composite
def peer(draw: st.DrawFn, egress: bool) -> dict[str, Any]:
    shapes = ["namespaces", "pods", "empty"] + (["networks", "nodes"] if egress else [])
    shape = draw(st.sampled_from(shapes))
    if shape == "namespaces":
        return {"namespaces": draw(selector())}
    if shape == "pods":
        return {"pods": draw(namespaced_pod())}
    if shape == "networks":
        return {
            "networks": draw(st.lists(st.sampled_from(CIDRS), min_size=1, max_size=2, unique=True))
        }
    if shape == "nodes":
        return {"nodes": {"matchLabels": draw(NODE_LABELS)}}
    return {}  # no field podwall knows: fails closed


@st.composite
def protocol(draw: st.DrawFn) -> dict[str, Any]:
    kind = draw(st.sampled_from(("tcp", "udp", "sctp", "named")))
    if kind == "named":
        return {
            "destinationNamedPort": draw(st.sampled_from(("http", "alt", "dns", "sctp", "nope")))
        }
    if draw(st.booleans()):
        port: dict[str, Any] = {"number": draw(st.sampled_from((53, 80, 81)))}
    else:
        start = draw(st.sampled_from((52, 79, 80)))
        port = {"range": {"start": start, "end": start + draw(st.integers(1, 2))}}
    return {kind: {"destinationPort": port}}


@st.composite
def rule(draw: st.DrawFn, egress: bool) -> dict[str, Any]:
    out: dict[str, Any] = {
        "action": draw(st.sampled_from(("Accept", "Deny", "Pass"))),
        "to" if egress else "from": draw(st.lists(peer(egress), min_size=1, max_size=2)),
    }
    if draw(st.booleans()):
        out["protocols"] = draw(st.lists(protocol(), min_size=1, max_size=2))
    if draw(st.booleans()):
        out["name"] = f"r{draw(st.integers(0, 9))}"
    return out


@st.composite
def cluster_policy(draw: st.DrawFn, index: int, tier: str | None = None) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "tier": tier or draw(st.sampled_from(("Admin", "Baseline"))),
        "priority": draw(st.sampled_from(PRIORITIES)),
        "subject": draw(subject()),
    }
    ingress = draw(st.lists(rule(egress=False), max_size=3))
    egress = draw(st.lists(rule(egress=True), max_size=3))
    if ingress:
        spec["ingress"] = ingress
    if egress:
        spec["egress"] = egress
    return {
        "apiVersion": "policy.networking.k8s.io/v1alpha2",
        "kind": "ClusterNetworkPolicy",
        "metadata": {"name": f"c{index}"},
        "spec": spec,
    }


@st.composite
def node(draw: st.DrawFn, index: int) -> dict[str, Any]:
    pods = draw(st.lists(st.integers(1, 6), min_size=1, max_size=2, unique=True))
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": f"n{index}", "labels": draw(NODE_LABELS)},
        "status": {"addresses": [{"type": "InternalIP", "address": f"198.18.0.{i}"} for i in pods]},
    }


@st.composite
def with_cluster_policies(
    draw: st.DrawFn, max_pods: int = 6, max_policies: int = 3, max_cluster_policies: int = 3
) -> list[dict[str, Any]]:
    base = draw(objects(max_pods=max_pods, max_policies=max_policies))
    nodes = [draw(node(i)) for i in range(draw(st.integers(0, 2)))]
    count = draw(st.integers(1, max_cluster_policies))
    return [*base, *nodes, *(draw(cluster_policy(i)) for i in range(count))]


__all__ = ["NAMESPACES", "cluster_policy", "labels", "with_cluster_policies"]
