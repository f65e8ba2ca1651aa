"""A node's scope leaves out the policies of namespaces without a pod of the node; its
ruleset keeps every chain, rule and verdict-map element, and the scope keeps identities."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from podwall.agent.scope import NodeScope
from podwall.model import convert
from podwall.model.cluster import Cluster
from podwall.model.rawobject import RawObject
from podwall.model.record import replace
from podwall.nft.compile import compile_ruleset
from tests.strategies import objects, to_cluster
from tests.unit.agent.objects import cluster_policy, node


def spread(cluster: Cluster, nodes: list[str | None]) -> Cluster:
    pods = [replace(p, node=nodes[i % len(nodes)]) for i, p in enumerate(cluster.pods)]
    return replace(cluster, pods=tuple(pods))


@settings(max_examples=150)
@given(
    objs=objects(max_pods=8, max_policies=6),
    nodes=st.lists(st.sampled_from(["n1", "n2", "n3", None]), min_size=1, max_size=4),
)
def test_the_node_s_ruleset_is_the_same_without_the_policies_out_of_scope(
    objs: list[dict[str, Any]], nodes: list[str | None]
) -> None:
    cluster = spread(to_cluster(objs), nodes)
    whole = compile_ruleset(cluster, "n1")
    scoped = compile_ruleset(NodeScope("n1").apply(cluster), "n1")
    assert scoped.chains == whole.chains
    assert scoped.rules == whole.rules
    assert set(scoped.sets) <= set(whole.sets)
    for name in scoped.elements:
        assert scoped.elements[name] == whole.elements[name]
    assert set(whole.elements) - set(scoped.elements) <= set(whole.sets) - set(scoped.sets)


def test_policies_of_namespaces_without_a_local_pod_are_left_out() -> None:
    cluster = spread(to_cluster([*objects_in("a", "b")]), ["n2"])
    one = replace(cluster.pods[0], node="n1")
    cluster = replace(cluster, pods=(one, *cluster.pods[1:]))
    scoped = NodeScope("n1").apply(cluster)
    assert {p.namespace for p in scoped.policies} == {one.namespace}


def test_unchanged_inputs_give_the_very_same_tuple() -> None:
    cluster = spread(to_cluster([*objects_in("a", "b")]), ["n1"])
    scope = NodeScope("n1")
    first = scope.apply(cluster).policies
    assert scope.apply(replace(cluster)).policies is first
    moved = tuple(replace(p, node="n2") for p in cluster.pods)
    assert scope.apply(replace(cluster, pods=moved)).policies == ()


def objects_in(*namespaces: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for i, ns in enumerate(namespaces):
        out.append({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})
        out.append(
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {"name": "p", "namespace": ns},
                "status": {"podIP": f"198.18.0.{i + 1}"},
            }
        )
        out.append(
            {
                "apiVersion": "networking.k8s.io/v1",
                "kind": "NetworkPolicy",
                "metadata": {"name": "deny", "namespace": ns},
                "spec": {"podSelector": {}},
            }
        )
    return out


def test_cluster_policies_and_nodes_are_kept_whole() -> None:
    objs = [cluster_policy("deny-a"), node("node-2", "1", "198.18.255.2")]
    cluster = convert.cluster(RawObject(body=o) for o in objs).cluster
    scoped = NodeScope("node-1").apply(cluster)
    assert scoped.cluster_policies is cluster.cluster_policies
    assert scoped.nodes is cluster.nodes
