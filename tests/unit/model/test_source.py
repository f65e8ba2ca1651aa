"""Where a record came from takes no part in its equality or hash (`field(compare=False)`)."""

from __future__ import annotations

import pytest

from podwall.model.cluster import Cluster, Node, Pod, Service
from podwall.model.clusterpolicy import ClusterNetworkPolicy, Subject, Tier
from podwall.model.labels import Labels, LabelSelector
from podwall.model.policy import NetworkPolicy, PolicyType
from podwall.model.record import Record, replace
from podwall.model.source import Source

HERE, THERE = Source(file="a.yaml", line=3), Source(file="b.yaml", line=9, document=2)
EVERYTHING = LabelSelector()
RECORDS: dict[str, Record] = {
    "pod": Pod(namespace="x", name="a", labels=Labels({"app": "a"}), source=HERE),
    "node": Node(name="n1", labels=Labels({}), source=HERE),
    "service": Service(namespace="x", name="s", selector=EVERYTHING, source=HERE),
    "policy": NetworkPolicy(
        namespace="x",
        name="deny",
        pod_selector=EVERYTHING,
        policy_types=frozenset({PolicyType.INGRESS}),
        source=HERE,
    ),
    "cluster policy": ClusterNetworkPolicy(
        name="admin",
        tier=Tier.ADMIN,
        priority=1,
        subject=Subject(namespaces=EVERYTHING),
        source=HERE,
    ),
}
# A field that == compares, changed, for each record.
CHANGED = {
    "pod": {"name": "b"},
    "node": {"labels": Labels({"zone": "a"})},
    "service": {"cluster_ip": "198.19.0.9"},
    "policy": {"audit": True},
    "cluster policy": {"priority": 2},
}


@pytest.mark.parametrize("kind", RECORDS)
def test_the_same_record_read_elsewhere_is_equal_and_hashes_alike(kind: str) -> None:
    here = RECORDS[kind]
    there = replace(here, source=THERE)
    assert there.source == THERE
    assert here == there
    assert not here != there  # noqa: SIM202 (__ne__ agrees with __eq__)
    assert hash(here) == hash(there)
    assert len({here, there}) == 1


@pytest.mark.parametrize("kind", RECORDS)
def test_a_compared_field_still_tells_records_apart(kind: str) -> None:
    here = RECORDS[kind]
    other = replace(here, **CHANGED[kind])
    assert here != other
    assert not here == other  # noqa: SIM201 (__eq__ itself, not only __ne__)
    assert len({here, other}) == 2


def test_a_policy_s_declared_types_are_not_compared() -> None:
    """`types_declared` only tells a reviewer how the manifest read: the policy is the same."""
    policy = RECORDS["policy"]
    assert isinstance(policy, NetworkPolicy)
    assert replace(policy, types_declared=False) == policy


def test_records_of_different_kinds_are_never_equal() -> None:
    pod = RECORDS["pod"]
    assert pod != RECORDS["node"]
    assert pod != (pod.namespace, pod.name)


def test_a_replaced_cluster_computes_its_cached_indexes_afresh() -> None:
    """A Cluster keeps cached properties in its __dict__: replace() must not carry them over."""
    pod = RECORDS["pod"]
    assert isinstance(pod, Pod)
    cluster = Cluster.build(pods=[pod])
    assert cluster.pods_by_key == {"x/a": pod}
    moved = replace(cluster, pods=(replace(pod, name="b"),))
    assert set(moved.pods_by_key) == {"x/b"}
