"""The selector cache: what selectors and peers select, kept true from snapshot to snapshot,
and always the same answer as the pod-by-pod reference (`match_peer`, `selects`)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import yaml
from hypothesis import given, settings

from podwall.engine import Endpoint
from podwall.engine.identities import policy_blocks
from podwall.engine.peers import match_peer
from podwall.engine.selection import selects
from podwall.engine.selectorcache import SelectorCache
from podwall.model.cluster import Cluster
from podwall.model.convert import network_policy
from podwall.model.labels import Labels, LabelSelector
from podwall.model.policy import NetworkPolicy, Peer
from podwall.model.rawobject import RawObject
from tests.builders import make_cluster
from tests.strategies import objects, reviewed, to_cluster

# builders.BASE: namespaces x {team: red} and y {team: blue}; pods x/a {app: a}, x/b {app: b},
# y/a {app: a}, y/b {app: b, tier: db} and the host-network y/host (198.19.255.1).


def peer_of(namespace: str, text: str) -> tuple[NetworkPolicy, Peer]:
    """A policy of `namespace` whose one ingress rule has the one peer `text`."""
    body = {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": "p", "namespace": namespace},
        "spec": {"podSelector": {}, "ingress": [{"from": [yaml.safe_load(text)]}]},
    }
    policy = network_policy(RawObject(body=body))
    return policy, policy.ingress[0].peers[0]


def pods_of(cache: SelectorCache, cluster: Cluster, bits: int) -> set[str]:
    return {p.key for p in cluster.pods if bits >> cache.identities.of(p.key) & 1}


@dataclass(frozen=True)
class PeerCase:
    id: str
    namespace: str
    peer: str
    pods: set[str]


PEERS = [
    PeerCase("a podSelector alone selects in the policy's namespace",
             "x", "{podSelector: {matchLabels: {app: a}}}", {"x/a"}),
    PeerCase("an empty podSelector selects every pod of the namespace but host-network ones",
             "y", "{podSelector: {}}", {"y/a", "y/b"}),
    PeerCase("a namespaceSelector alone selects every pod of the namespaces it selects",
             "x", "{namespaceSelector: {matchLabels: {team: blue}}}", {"y/a", "y/b"}),
    PeerCase("an empty namespaceSelector selects pods of every namespace",
             "x", "{namespaceSelector: {}}", {"x/a", "x/b", "y/a", "y/b"}),
    PeerCase("a namespaceSelector and a podSelector must both match",
             "x", "{namespaceSelector: {}, podSelector: {matchLabels: {app: b}}}", {"x/b", "y/b"}),
    PeerCase("matchExpressions select namespaces by their labels",
             "x", "{namespaceSelector: {matchExpressions: [{key: team, operator: NotIn, values: [red]}]}}",
             {"y/a", "y/b"}),
    PeerCase("a namespaceSelector matching no namespace selects nothing",
             "x", "{namespaceSelector: {matchLabels: {team: green}}}", set()),
    PeerCase("an ipBlock selects pods with an address inside it, host-network ones too",
             "x", "{ipBlock: {cidr: 198.19.255.0/24}}", {"y/host"}),
    PeerCase("an ipBlock except leaves the pods in it out",
             "x", "{ipBlock: {cidr: 198.18.0.0/16, except: [198.18.1.0/24]}}", {"x/a", "x/b"}),
]  # fmt: skip


@pytest.mark.parametrize("split", [True, False], ids=["split by ipBlocks", "not split"])
@pytest.mark.parametrize("case", PEERS, ids=[c.id for c in PEERS])
def test_a_peer_selects_the_identities_of_its_pods(case: PeerCase, split: bool) -> None:
    cluster = make_cluster()
    policy, peer = peer_of(case.namespace, case.peer)
    cache = SelectorCache(blocks=policy_blocks([policy]) if split else ())
    cache.update(cluster)
    assert pods_of(cache, cluster, cache.peer(policy, peer)) == case.pods


@settings(max_examples=200)
@given(objects())
def test_the_cache_agrees_with_the_pod_by_pod_reference(objs: list[dict[str, Any]]) -> None:
    cluster = to_cluster(objs)
    cache = SelectorCache(blocks=policy_blocks(cluster.policies))
    cache.update(cluster)
    for policy in cluster.policies:
        selected = cache.selected(policy.namespace, policy.pod_selector)
        expected = {p.key for p in cluster.pods if selects(policy, p) and not p.host_network}
        assert pods_of(cache, cluster, selected) == expected, policy.key
    assert_peers_match(cache, cluster, cluster.policies)


def peers_of(policies: Iterable[NetworkPolicy]) -> Iterator[tuple[NetworkPolicy, Peer]]:
    for policy in policies:
        for rule in (*policy.ingress, *policy.egress):
            for peer in rule.peers:
                yield policy, peer


def assert_peers_match(
    cache: SelectorCache, cluster: Cluster, policies: Iterable[NetworkPolicy]
) -> None:
    """Each peer's cached identities hold the pods the pod-by-pod reference matches."""
    for policy, peer in peers_of(policies):
        matched = {
            p.key
            for p in cluster.pods
            if match_peer(cluster, policy, peer, Endpoint.of_pod(p)).matched
        }
        assert pods_of(cache, cluster, cache.peer(policy, peer)) == matched, peer


APP_A = LabelSelector(match_labels=(("app", "a"),))
NEW_POD = """
apiVersion: v1
kind: Pod
metadata: {name: c, namespace: x, labels: {app: a}}
spec: {containers: [{name: c, ports: [{name: web, containerPort: 81}]}]}
status: {podIP: 198.18.0.3}
"""
TEAM_GREEN = """
apiVersion: v1
kind: Namespace
metadata: {name: y, labels: {team: green}}
"""


def test_a_cached_result_takes_in_a_new_identity_that_matches() -> None:
    cache = SelectorCache()
    cache.update(make_cluster())
    assert pods_of(cache, make_cluster(), cache.selected("x", APP_A)) == {"x/a"}
    after = make_cluster(NEW_POD)
    changes = cache.update(after)
    assert pods_of(cache, after, changes.identities) == {"x/c"}
    assert not changes.namespaces
    assert pods_of(cache, after, cache.selected("x", APP_A)) == {"x/a", "x/c"}


def test_new_namespace_labels_refresh_namespace_selector_results() -> None:
    green = LabelSelector(match_labels=(("team", "green"),))
    cache = SelectorCache()
    cache.update(make_cluster())
    assert cache.namespaces(green) == frozenset()
    changes = cache.update(make_cluster(TEAM_GREEN))
    assert changes.namespaces
    assert changes.identities == 0  # the pods are equal, only their namespace changed
    assert cache.namespaces(green) == {"y"}
    assert cache.selects_namespace(green, "y")
    assert cache.namespace_labels("y")["team"] == "green"


def test_an_unknown_namespace_has_no_labels_and_no_pods() -> None:
    cache = SelectorCache()
    cache.update(make_cluster())
    assert cache.namespace_labels("nowhere") == Labels()
    assert cache.selected("nowhere", LabelSelector()) == 0


def test_all_bits_cover_every_identity_host_network_ones_too() -> None:
    cache = SelectorCache()
    cluster = make_cluster()
    cache.update(cluster)
    assert pods_of(cache, cluster, cache.all_bits) == {p.key for p in cluster.pods}


@settings(max_examples=200)
@given(reviewed(objects()))
def test_cached_peers_stay_true_as_a_snapshot_adds_identities(
    sides: tuple[list[dict[str, Any]], list[dict[str, Any]]],
) -> None:
    before, after = (to_cluster(objs) for objs in sides)
    policies = (*before.policies, *after.policies)
    cache = SelectorCache(blocks=policy_blocks(policies))
    cache.update(before)
    for policy, peer in peers_of(policies):  # every answer cached over the first snapshot
        cache.peer(policy, peer)
    cache.update(after)
    assert_peers_match(cache, after, policies)
