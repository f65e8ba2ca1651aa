"""The cache keeps unchanged objects as the very same model objects, snapshot after snapshot,
so the compiler's identity diffs see only what really changed."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from podwall.agent import kinds
from podwall.agent.cache import Cache
from podwall.model.cluster import Service
from podwall.runtime.dataplane import Dataplane
from tests.unit.agent.objects import (
    DENY_ALL,
    Object,
    admin_network_policy,
    baseline_admin_network_policy,
    cluster_policy,
    namespace,
    node,
    pod,
    policy,
)

WATCHED = kinds.watched(service_dnat=False)


def listed(
    *,
    pods: Sequence[Object] = (),
    policies: Sequence[Object] = (),
    nodes: Sequence[Object] = (),
    cluster_policies: Sequence[Object] = (),
) -> Cache:
    cache = Cache(WATCHED, clock=lambda: 100.0)
    for kind, items in (
        (kinds.NAMESPACES, [namespace("default")]),
        (kinds.PODS, pods),
        (kinds.NETWORK_POLICIES, policies),
        (kinds.NODES, nodes),
        (kinds.CLUSTER_NETWORK_POLICIES, cluster_policies),
    ):
        relist = cache.relist(kind)
        for item in items:
            relist.add(item)
        relist.commit("10")
    return cache


def test_a_snapshot_waits_for_every_kind_to_be_listed() -> None:
    cache = Cache(WATCHED)
    cache.relist(kinds.PODS).commit("1")
    assert not cache.listed()
    for kind in WATCHED:
        cache.relist(kind).commit("1")
    assert cache.listed()


def test_an_event_with_the_same_resource_version_changes_nothing() -> None:
    cache = listed(pods=[pod("web", "198.18.0.5", rv="5")])
    before = cache.snapshot()
    cache.apply(kinds.PODS, "MODIFIED", pod("web", "198.18.0.5", rv="5"))
    after = cache.snapshot()
    assert after.version == before.version
    assert after.cluster.pods is before.cluster.pods


def test_a_status_only_change_keeps_the_very_pod_object() -> None:
    cache = listed(pods=[pod("web", "198.18.0.5", rv="5", app="web")])
    before = cache.snapshot().cluster.pods[0]
    changed = pod("web", "198.18.0.5", rv="6", app="web")
    changed["status"]["conditions"] = [{"type": "Ready", "status": "False"}]
    cache.apply(kinds.PODS, "MODIFIED", changed)
    snapshot = cache.snapshot()
    assert snapshot.cluster.pods[0] is before
    assert snapshot.resource_versions["pods"] == "6"
    assert snapshot.arrivals == ()  # nothing to enforce, nothing to time


def test_a_label_change_gives_a_new_object_and_keeps_the_others() -> None:
    cache = listed(pods=[pod("a", "198.18.0.5", app="a"), pod("b", "198.18.0.6", app="b")])
    a, b = cache.snapshot().cluster.pods
    cache.apply(kinds.PODS, "MODIFIED", pod("a", "198.18.0.5", rv="7", app="new"))
    snapshot = cache.snapshot()
    new_a, same_b = snapshot.cluster.pods
    assert new_a is not a
    assert new_a.labels["app"] == "new"
    assert same_b is b
    assert snapshot.arrivals == (100.0,)


def test_an_unchanged_kind_is_the_very_tuple_of_the_last_snapshot() -> None:
    cache = listed(pods=[pod("a", "198.18.0.5")], policies=[policy("deny", DENY_ALL)])
    first = cache.snapshot().cluster
    cache.apply(kinds.PODS, "ADDED", pod("b", "198.18.0.6", rv="11"))
    second = cache.snapshot().cluster
    assert second.policies is first.policies
    assert second.pods is not first.pods


def test_a_relist_keeps_unchanged_objects_and_drops_vanished_ones() -> None:
    cache = listed(pods=[pod("a", "198.18.0.5", rv="3"), pod("b", "198.18.0.6", rv="4")])
    a = cache.snapshot().cluster.pods[0]
    relist = cache.relist(kinds.PODS)
    relist.add(pod("a", "198.18.0.5", rv="3"))
    relist.commit("20")
    snapshot = cache.snapshot()
    assert snapshot.cluster.pods == (a,)
    assert snapshot.cluster.pods[0] is a
    assert snapshot.resource_versions["pods"] == "20"


def test_a_relist_that_changes_nothing_keeps_the_version() -> None:
    cache = listed(pods=[pod("a", "198.18.0.5", rv="3")])
    version = cache.snapshot().version
    relist = cache.relist(kinds.PODS)
    relist.add(pod("a", "198.18.0.5", rv="3"))
    relist.commit("30")
    assert cache.snapshot().version == version


def test_a_deleted_object_leaves_the_snapshot() -> None:
    cache = listed(policies=[policy("deny", DENY_ALL)])
    cache.apply(kinds.NETWORK_POLICIES, "DELETED", policy("deny", DENY_ALL, rv="12"))
    assert cache.snapshot().cluster.policies == ()


def test_nodes_are_known_by_name() -> None:
    assert listed(nodes=[node("node-1"), node("node-2")]).snapshot().nodes == {"node-1", "node-2"}


def test_cluster_policies_and_node_addresses_reach_the_snapshot() -> None:
    cache = listed(
        nodes=[node("node-1", "1", "198.18.255.1")], cluster_policies=[cluster_policy("deny-a")]
    )
    first = cache.snapshot().cluster
    assert [p.key for p in first.cluster_policies] == ["admin/deny-a"]
    assert [str(a) for n in first.nodes for a in n.addresses] == ["198.18.255.1"]
    heartbeat = node("node-1", "2", "198.18.255.1")
    heartbeat["status"]["conditions"] = [{"type": "Ready", "status": "True"}]
    cache.apply(kinds.NODES, "MODIFIED", heartbeat)
    cache.apply(kinds.CLUSTER_NETWORK_POLICIES, "MODIFIED", cluster_policy("deny-a", rv="1"))
    again = cache.snapshot().cluster
    assert again.nodes is first.nodes  # a node's status heartbeat changes no model object
    assert again.cluster_policies is first.cluster_policies


def test_a_cluster_policy_change_and_delete_reach_the_snapshot() -> None:
    cache = listed(cluster_policies=[cluster_policy("deny-a")])
    changed = cluster_policy("deny-a", rv="5")
    changed["spec"]["priority"] = 20
    cache.apply(kinds.CLUSTER_NETWORK_POLICIES, "MODIFIED", changed)
    assert [p.priority for p in cache.snapshot().cluster.cluster_policies] == [20]
    cache.apply(kinds.CLUSTER_NETWORK_POLICIES, "DELETED", changed)
    assert cache.snapshot().cluster.cluster_policies == ()


def test_a_status_only_change_costs_the_dataplane_no_operation() -> None:
    cache = listed(pods=[pod("a", "198.18.0.5", app="a")], policies=[policy("deny", DENY_ALL)])
    dataplane = Dataplane(None, "node-1", apply=lambda script, netns: None)
    assert dataplane.sync(cache.snapshot().cluster).operations > 0
    changed = pod("a", "198.18.0.5", rv="9", app="a")
    changed["status"]["phase"] = "Running"
    changed["metadata"]["annotations"] = {"checked": "now"}
    cache.apply(kinds.PODS, "MODIFIED", changed)
    assert dataplane.sync(cache.snapshot().cluster).operations == 0


def test_a_label_change_costs_the_dataplane_a_small_update() -> None:
    pods = [pod(f"p{i}", f"198.18.0.{i + 2}", app=f"a{i % 5}") for i in range(50)]
    isolate_a0 = policy("a0", {"podSelector": {"matchLabels": {"app": "a0"}}})
    cache = listed(pods=pods, policies=[isolate_a0])
    dataplane = Dataplane(None, "node-1", apply=lambda script, netns: None)
    full = dataplane.sync(cache.snapshot().cluster)
    cache.apply(kinds.PODS, "MODIFIED", pod("p0", "198.18.0.2", rv="99", app="other"))
    update = dataplane.sync(cache.snapshot().cluster)
    assert full.full
    assert not update.full
    assert 0 < update.operations < full.operations / 10


def scoped(*, pods: Sequence[Object] = (), policies: Sequence[Object] = ()) -> Cache:
    cache = Cache(WATCHED, clock=lambda: 100.0, node="node-1")
    for kind, items in (
        (kinds.NAMESPACES, [namespace("default"), namespace("far")]),
        (kinds.PODS, pods),
        (kinds.NETWORK_POLICIES, policies),
        (kinds.NODES, []),
    ):
        relist = cache.relist(kind)
        for item in items:
            relist.add(item)
        relist.commit("10")
    return cache


FAR_POLICY = policy("deny", DENY_ALL, namespace="far")


def policy_keys(cache: Cache) -> set[str]:
    return {p.key for p in cache.snapshot().cluster.policies}


def test_policies_of_namespaces_without_a_pod_of_the_node_wait_unconverted() -> None:
    cache = scoped(
        pods=[pod("web", "198.18.0.5"), pod("x", "198.18.1.5", namespace="far", node="node-2")],
        policies=[policy("deny", DENY_ALL), FAR_POLICY],
    )
    assert policy_keys(cache) == {"default/deny"}
    version = cache.snapshot().version
    cache.apply(kinds.NETWORK_POLICIES, "MODIFIED", policy("deny", {}, namespace="far", rv="11"))
    assert cache.snapshot().version == version  # nothing this node enforces changed


def test_a_pod_landing_in_a_new_namespace_brings_its_policies_in_the_same_snapshot() -> None:
    cache = scoped(pods=[pod("web", "198.18.0.5")], policies=[FAR_POLICY])
    assert policy_keys(cache) == set()
    cache.apply(kinds.PODS, "ADDED", pod("db", "198.18.0.9", namespace="far", rv="12"))
    snapshot = cache.snapshot()
    assert {p.key for p in snapshot.cluster.pods} == {"default/web", "far/db"}
    assert {p.key for p in snapshot.cluster.policies} == {"far/deny"}


def test_a_policy_written_after_its_namespace_came_into_scope_is_converted() -> None:
    cache = scoped(pods=[pod("db", "198.18.0.9", namespace="far")])
    cache.snapshot()
    cache.apply(kinds.NETWORK_POLICIES, "ADDED", policy("late", DENY_ALL, namespace="far"))
    relist = cache.relist(kinds.NETWORK_POLICIES)
    relist.add(policy("listed", DENY_ALL, namespace="far"))
    relist.commit("20")
    assert policy_keys(cache) == {"far/listed"}


def test_a_deferred_policy_that_raced_the_scope_is_converted_when_written() -> None:
    cache = scoped(pods=[pod("web", "198.18.0.5")])
    body = policy("raced", DENY_ALL, namespace="far")
    deferred = cache._entry(kinds.NETWORK_POLICIES, body, None)  # decided before the pod came
    assert deferred.deferred is not None
    cache.apply(kinds.PODS, "ADDED", pod("db", "198.18.0.9", namespace="far", rv="12"))
    cache.snapshot()
    relist = cache.relist(kinds.NETWORK_POLICIES)
    relist._new["far/raced"] = deferred
    relist.commit("30")
    assert policy_keys(cache) == {"far/raced"}


def _service(name: str, selector: dict[str, str] | None) -> Object:
    spec: dict[str, Any] = {"clusterIP": "198.19.0.1", "ports": [{"name": "https", "port": 443}]}
    if selector is not None:
        spec["selector"] = selector
    meta = {"name": name, "namespace": "default", "resourceVersion": "5"}
    return {"metadata": meta, "spec": spec}


def _api_slice(address: str, rv: str = "6") -> Object:
    return {
        "metadata": {
            "name": "kubernetes",
            "namespace": "default",
            "resourceVersion": rv,
            "labels": {"kubernetes.io/service-name": "kubernetes"},
        },
        "addressType": "IPv4",
        "endpoints": [{"addresses": [address]}],
        "ports": [{"name": "https", "port": 6443, "protocol": "TCP"}],
    }


def dnat_cache() -> Cache:
    cache = Cache(kinds.watched(service_dnat=True), clock=lambda: 100.0)
    for kind, items in (
        (kinds.NAMESPACES, [namespace("default")]),
        (kinds.PODS, []),
        (kinds.NETWORK_POLICIES, []),
        (kinds.NODES, []),
        (kinds.CLUSTER_NETWORK_POLICIES, []),
        (kinds.SERVICES, [_service("kubernetes", None), _service("web", {"app": "web"})]),
        (kinds.ENDPOINT_SLICES, [_api_slice("198.18.255.254")]),
    ):
        relist = cache.relist(kind)
        for item in items:
            relist.add(item)
        relist.commit("10")
    return cache


def _by_name(cache: Cache) -> dict[str, Service]:
    return {s.name: s for s in cache.snapshot().cluster.services}


def test_a_service_without_a_selector_gets_its_slices_backends() -> None:
    services = _by_name(dnat_cache())
    assert [(b.address, b.port, b.name) for b in services["kubernetes"].backends] == [
        ("198.18.255.254", 6443, "https")
    ]
    assert services["web"].backends == ()  # its pods are its endpoints


def test_the_joined_services_stay_the_same_tuple_until_a_slice_changes() -> None:
    cache = dnat_cache()
    first = cache.snapshot().cluster.services
    assert cache.snapshot().cluster.services is first
    cache.apply(kinds.ENDPOINT_SLICES, "MODIFIED", _api_slice("198.18.255.253", rv="7"))
    after = cache.snapshot().cluster.services
    assert after is not first
    web = next(s for s in after if s.name == "web")
    assert web is next(s for s in first if s.name == "web")
    assert [b.address for s in after for b in s.backends] == ["198.18.255.253"]


RICH_SPECS: dict[str, Object] = {
    "selectors and ipBlocks": {
        "podSelector": {
            "matchLabels": {"app": "web", "tier": None},
            "matchExpressions": [{"key": "env", "operator": "In", "values": ["prod", "ünï"]}],
        },
        "policyTypes": ["Ingress", "Egress"],
        "ingress": [
            {
                "from": [
                    {"ipBlock": {"cidr": "198.18.0.0/16", "except": ["198.18.3.0/24"]}},
                    {"namespaceSelector": {}, "podSelector": {"matchLabels": {"a": "b"}}},
                ],
                "ports": [{"protocol": "UDP", "port": 53}, {"port": "http"}],
            }
        ],
        "egress": [{"to": [], "ports": [{"port": 8000, "endPort": 8100}]}],
    },
    "no rules": {"podSelector": {}},
    "types left to defaulting": {"podSelector": {}, "egress": [{}]},
}


@pytest.mark.parametrize("spec", list(RICH_SPECS.values()), ids=list(RICH_SPECS))
def test_a_deferred_policy_converts_to_what_converting_it_at_once_gives(spec: Object) -> None:
    cache = scoped(pods=[pod("web", "198.18.0.5")])
    body = policy("rich", spec, namespace="far")
    deferred = cache._entry(kinds.NETWORK_POLICIES, body, None)
    assert deferred.model is None
    assert deferred.deferred is not None
    cache.apply(kinds.PODS, "ADDED", pod("db", "198.18.0.9", namespace="far", rv="12"))
    relist = cache.relist(kinds.NETWORK_POLICIES)
    relist._new["far/rich"] = deferred
    relist.commit("30")
    (converted,) = cache.snapshot().cluster.policies
    assert converted == kinds.model_of(kinds.NETWORK_POLICIES, body)


def test_every_kind_of_cluster_policy_reaches_one_stable_tuple() -> None:
    cache = listed(cluster_policies=[cluster_policy("deny-a")])
    for kind, body in (
        (kinds.ADMIN_NETWORK_POLICIES, admin_network_policy("deny-a")),
        (kinds.BASELINE_ADMIN_NETWORK_POLICIES, baseline_admin_network_policy()),
    ):
        relist = cache.relist(kind)
        relist.add(body)
        relist.commit("10")
    first = cache.snapshot().cluster.cluster_policies
    assert [p.key for p in first] == ["admin/deny-a", "anp/deny-a", "banp/default"]
    cache.apply(kinds.ADMIN_NETWORK_POLICIES, "MODIFIED", admin_network_policy("deny-a", rv="2"))
    assert cache.snapshot().cluster.cluster_policies is first  # nothing the model holds changed
    cache.apply(kinds.ADMIN_NETWORK_POLICIES, "DELETED", admin_network_policy("deny-a", rv="3"))
    assert [p.key for p in cache.snapshot().cluster.cluster_policies] == [
        "admin/deny-a",
        "banp/default",
    ]
