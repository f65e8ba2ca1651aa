"""What the agent keeps of each object: a model object, or nothing."""

from __future__ import annotations

from typing import Any

import pytest

from podwall.agent import kinds
from podwall.model import convert
from podwall.model.cluster import Node, Pod
from podwall.model.clusterpolicy import (
    BASELINE_ADMIN_PRIORITY,
    Action,
    ClusterNetworkPolicy,
    ClusterPeer,
    ClusterRule,
    Tier,
)
from podwall.model.labels import LabelSelector
from podwall.model.policy import NetworkPolicy, PolicyType
from podwall.model.rawobject import RawObject
from tests.unit.agent.objects import (
    DENY_ALL,
    admin_network_policy,
    baseline_admin_network_policy,
    cluster_policy,
    node,
    pod,
    policy,
)


def test_collections_are_cluster_wide_paths() -> None:
    assert kinds.PODS.path == "/api/v1/pods"
    assert kinds.NETWORK_POLICIES.path == "/apis/networking.k8s.io/v1/networkpolicies"


def test_services_are_watched_only_for_service_dnat() -> None:
    assert kinds.SERVICES not in kinds.watched(service_dnat=False)
    assert kinds.SERVICES in kinds.watched(service_dnat=True)


def test_a_running_pod_becomes_a_model_pod_with_its_node_and_address() -> None:
    model = kinds.model_of(kinds.PODS, pod("web", "198.18.0.5", app="web"))
    assert isinstance(model, Pod)
    assert (model.key, model.node, [str(ip) for ip in model.ips]) == (
        "default/web",
        "node-1",
        ["198.18.0.5"],
    )


@pytest.mark.parametrize("phase", ["Succeeded", "Failed"])
def test_a_finished_pod_is_left_out_its_address_may_be_reused(phase: str) -> None:
    assert kinds.model_of(kinds.PODS, pod("job", "198.18.0.5", phase=phase)) is None


def test_a_host_network_pod_is_kept_and_marked() -> None:
    model = kinds.model_of(kinds.PODS, pod("agent", "198.18.255.1", host_network=True))
    assert isinstance(model, Pod)
    assert model.host_network


def test_a_node_becomes_its_labels_and_addresses() -> None:
    model = kinds.model_of(kinds.NODES, node("node-1", "1", "198.18.255.1"))
    assert isinstance(model, Node)
    assert (model.name, [str(a) for a in model.addresses]) == ("node-1", ["198.18.255.1"])


def test_cluster_network_policies_are_optional_at_their_crd_version() -> None:
    cnps = kinds.CLUSTER_NETWORK_POLICIES
    assert cnps.path == "/apis/policy.networking.k8s.io/v1alpha2/clusternetworkpolicies"
    assert cnps.optional
    assert not kinds.PODS.optional
    assert cnps in kinds.watched(service_dnat=False)


def test_a_readable_cluster_policy_converts_as_manifests_do() -> None:
    body = cluster_policy("deny-a")
    model = kinds.model_of(kinds.CLUSTER_NETWORK_POLICIES, body)
    assert model == convert.cluster_network_policy(RawObject(body=body))


DENY = (ClusterRule(name="unreadable", action=Action.DENY, peers=(ClusterPeer(),)),)
UNREADABLE_CNPS: list[tuple[str, dict[str, Any], tuple[Tier, int] | None]] = [
    (
        "a bad action denies all at its tier and priority",
        {"tier": "Baseline", "priority": 3, "subject": {"namespaces": {}},
         "ingress": [{"action": "Allow", "from": [{"namespaces": {}}]}]},
        (Tier.BASELINE, 3),
    ),
    (
        "an unreadable tier denies all first in the Admin tier",
        {"tier": "Top", "subject": {"pods": {"podSelector": {}}}},
        (Tier.ADMIN, 0),
    ),
    (
        "with an unreadable subject too it is left out",
        {"tier": "Admin", "priority": 1, "subject": 7,
         "ingress": [{"action": "Allow", "from": [{"namespaces": {}}]}]},
        None,
    ),
]  # fmt: skip


@pytest.mark.parametrize(
    ("spec", "closed"), [u[1:] for u in UNREADABLE_CNPS], ids=[u[0] for u in UNREADABLE_CNPS]
)
def test_an_unreadable_cluster_policy_fails_closed_on_its_subject(
    spec: dict[str, Any], closed: tuple[Tier, int] | None
) -> None:
    model = kinds.model_of(kinds.CLUSTER_NETWORK_POLICIES, cluster_policy("x", spec))
    if closed is None:
        assert model is None
        return
    assert isinstance(model, ClusterNetworkPolicy)
    assert (model.tier, model.priority, model.ingress, model.egress) == (*closed, DENY, DENY)


def test_keys_are_namespace_and_name_or_the_name_alone() -> None:
    assert kinds.key_of(pod("web")) == "default/web"
    assert kinds.key_of(node("node-1")) == "node-1"


UNREADABLE: list[tuple[str, dict[str, Any], LabelSelector, frozenset[PolicyType]]] = [
    (
        "a bad port protocol keeps its selector and declared type",
        {
            "podSelector": {"matchLabels": {"app": "db"}},
            "policyTypes": ["Ingress"],
            "ingress": [{"ports": [{"protocol": "ICMP"}]}],
        },
        LabelSelector(match_labels=(("app", "db"),)),
        frozenset({PolicyType.INGRESS}),
    ),
    (
        "an unreadable selector isolates the whole namespace both ways",
        {"podSelector": {"matchExpressions": [{"key": "a", "operator": "Near"}]}},
        LabelSelector(),
        frozenset({PolicyType.INGRESS, PolicyType.EGRESS}),
    ),
]


@pytest.mark.parametrize(
    ("spec", "selector", "types"), [u[1:] for u in UNREADABLE], ids=[u[0] for u in UNREADABLE]
)
def test_a_policy_that_cannot_be_read_isolates_and_allows_nothing(
    spec: dict[str, Any], selector: LabelSelector, types: frozenset[PolicyType]
) -> None:
    model = kinds.model_of(kinds.NETWORK_POLICIES, policy("odd", spec))
    assert model == NetworkPolicy(
        namespace="default", name="odd", pod_selector=selector, policy_types=types
    )


def test_a_readable_policy_converts_as_manifests_do() -> None:
    model = kinds.model_of(kinds.NETWORK_POLICIES, policy("deny", DENY_ALL))
    assert isinstance(model, NetworkPolicy)
    assert model.policy_types == frozenset({PolicyType.INGRESS})
    assert model.ingress == ()


def test_endpointslices_are_watched_with_services_for_selectorless_ones() -> None:
    assert kinds.ENDPOINT_SLICES in kinds.watched(service_dnat=True)
    assert kinds.ENDPOINT_SLICES not in kinds.watched(service_dnat=False)
    assert kinds.ENDPOINT_SLICES.path == "/apis/discovery.k8s.io/v1/endpointslices"


def _slice(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "metadata": {
            "name": "kubernetes",
            "namespace": "default",
            "labels": {"kubernetes.io/service-name": "kubernetes"},
            "resourceVersion": "3",
        },
        "addressType": "IPv4",
        "endpoints": [{"addresses": ["198.18.255.254"], "conditions": {"ready": True}}],
        "ports": [{"name": "https", "port": 6443, "protocol": "TCP"}],
    }
    body.update(changes)
    return body


@pytest.mark.parametrize(
    ("body", "addresses"),
    [
        (_slice(), ["198.18.255.254"]),
        (_slice(endpoints=[{"addresses": ["198.18.0.7"]}]), ["198.18.0.7"]),
        (_slice(endpoints=[{"addresses": ["198.18.0.7"], "conditions": {"ready": False}}]), []),
        (_slice(endpoints=["junk", {"addresses": ["198.18.0.8"]}]), ["198.18.0.8"]),
        (_slice(ports=[{"name": "https", "port": "6443"}]), []),
    ],
    ids=[
        "a ready endpoint",
        "no conditions means ready",
        "a not ready endpoint is left out",
        "a malformed endpoint is skipped",
        "a port that is not a number is skipped",
    ],
)
def test_a_slice_keeps_its_ready_addresses_times_its_ports(
    body: dict[str, Any], addresses: list[str]
) -> None:
    found = kinds.model_of(kinds.ENDPOINT_SLICES, body)
    assert isinstance(found, kinds.SliceBackends)
    assert found.service_key == "default/kubernetes"
    assert [b.address for b in found.backends] == addresses
    assert all(b.name == "https" and b.port == 6443 for b in found.backends)


@pytest.mark.parametrize(
    "body",
    [_slice(addressType="IPv6"), _slice(metadata={"name": "x", "namespace": "default"})],
    ids=["another address type", "a slice of no Service"],
)
def test_a_slice_the_dataplane_cannot_use_has_no_model(body: dict[str, Any]) -> None:
    assert kinds.model_of(kinds.ENDPOINT_SLICES, body) is None


@pytest.mark.parametrize(
    ("kind", "path"),
    [
        (kinds.ADMIN_NETWORK_POLICIES,
         "/apis/policy.networking.k8s.io/v1alpha1/adminnetworkpolicies"),
        (kinds.BASELINE_ADMIN_NETWORK_POLICIES,
         "/apis/policy.networking.k8s.io/v1alpha1/baselineadminnetworkpolicies"),
    ],
    ids=["anp", "banp"],
)  # fmt: skip
def test_v1alpha1_policies_are_optional_at_their_crd_version(kind: kinds.Kind, path: str) -> None:
    assert kind.path == path
    assert kind.optional
    assert kind in kinds.watched(service_dnat=False)


@pytest.mark.parametrize(
    ("kind", "body"),
    [
        (kinds.ADMIN_NETWORK_POLICIES, admin_network_policy("deny-a")),
        (kinds.BASELINE_ADMIN_NETWORK_POLICIES, baseline_admin_network_policy()),
    ],
    ids=["anp", "banp"],
)
def test_a_readable_v1alpha1_policy_converts_as_manifests_do(
    kind: kinds.Kind, body: dict[str, Any]
) -> None:
    expected = convert.admin_network_policy(RawObject(body=body))
    assert kinds.model_of(kind, body) == expected
    # A list's items may leave the kind out: the watched kind decides the reading.
    bare = {k: v for k, v in body.items() if k != "kind"}
    assert kinds.model_of(kind, bare) == expected


UNREADABLE_V1ALPHA1: list[tuple[str, kinds.Kind, dict[str, Any], tuple[Tier, int, str]]] = [
    (
        "an AdminNetworkPolicy with a bad action denies all at its priority",
        kinds.ADMIN_NETWORK_POLICIES,
        admin_network_policy("x", {"priority": 3, "subject": {"namespaces": {}},
                                   "ingress": [{"action": "Accept", "from": []}]}),
        (Tier.ADMIN, 3, "anp/x"),
    ),
    (
        "a BaselineAdminNetworkPolicy with a bad action denies all at the baseline",
        kinds.BASELINE_ADMIN_NETWORK_POLICIES,
        baseline_admin_network_policy({"subject": {"namespaces": {}},
                                       "egress": [{"action": "Pass", "to": [{"pods": {}}]}]}),
        (Tier.BASELINE, BASELINE_ADMIN_PRIORITY, "banp/default"),
    ),
]  # fmt: skip


@pytest.mark.parametrize(
    ("kind", "body", "closed"),
    [u[1:] for u in UNREADABLE_V1ALPHA1],
    ids=[u[0] for u in UNREADABLE_V1ALPHA1],
)
def test_an_unreadable_v1alpha1_policy_fails_closed_on_its_subject(
    kind: kinds.Kind, body: dict[str, Any], closed: tuple[Tier, int, str]
) -> None:
    model = kinds.model_of(kind, body)
    assert isinstance(model, ClusterNetworkPolicy)
    assert (model.tier, model.priority, model.key) == closed
    assert (model.ingress, model.egress) == (DENY, DENY)
