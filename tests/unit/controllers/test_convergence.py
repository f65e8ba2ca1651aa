"""Properties: repeated reconciles converge on the desired replica count and then rest."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from podwall.controllers import Update, reconcile_replicaset

from .cluster import FakeCluster, by_name
from .manifests import backend_deployment


@settings(max_examples=40)
@given(counts=st.lists(st.integers(min_value=0, max_value=7), min_size=1, max_size=4))
def test_a_deployment_scaled_through_random_counts_ends_at_the_last_one(counts: list[int]) -> None:
    cluster = FakeCluster()
    cluster.add(backend_deployment())
    cluster.run()
    for replicas in counts:
        deploy = cluster.get("deployments.apps", "backend")
        deploy["spec"]["replicas"] = replicas
        cluster.apply(Update(deploy))
        cluster.run()
    desired = counts[-1]
    running = [p for p in cluster.items("pods") if p["status"]["phase"] == "Running"]
    assert len(running) == desired
    status = cluster.get("deployments.apps", "backend")["status"]
    assert status.get("availableReplicas", 0) == desired
    assert cluster.reconcile_once() == []


@settings(max_examples=40)
@given(
    start=st.integers(min_value=0, max_value=9),
    target=st.integers(min_value=0, max_value=9),
    seed=st.integers(min_value=0, max_value=2**16),
)
def test_a_replicaset_reaches_any_count_in_one_reconcile_and_then_rests(
    start: int, target: int, seed: int
) -> None:
    cluster = FakeCluster(seed)
    cluster.add(
        {
            "apiVersion": "apps/v1",
            "kind": "ReplicaSet",
            "metadata": {"name": "web-abc"},
            "spec": {
                "replicas": start,
                "selector": {"matchLabels": {"app": "web"}},
                "template": {
                    "metadata": {"labels": {"app": "web"}},
                    "spec": {"containers": [{"name": "c", "image": "x:1"}]},
                },
            },
        }
    )
    cluster.run()
    rs = cluster.get("replicasets.apps", "web-abc")
    rs["spec"]["replicas"] = target
    cluster.apply(Update(rs))
    rs = cluster.get("replicasets.apps", "web-abc")
    for action in reconcile_replicaset(rs, cluster.items("pods"), cluster.now, random.Random(seed)):
        cluster.apply(action)
    assert len(cluster.items("pods")) == target
    cluster.run()
    assert cluster.reconcile_once() == []
    assert len(by_name(cluster.items("pods"))) == target


@settings(max_examples=25)
@given(
    changes=st.lists(
        st.tuples(st.integers(min_value=0, max_value=6), st.sampled_from(["1.2", "1.3", "1.4"])),
        min_size=1,
        max_size=4,
    ),
    strategy=st.sampled_from(["RollingUpdate", "Recreate"]),
)
def test_random_scalings_and_template_changes_end_fully_rolled_out(
    changes: list[tuple[int, str]], strategy: str
) -> None:
    cluster = FakeCluster()
    deploy = backend_deployment()
    deploy["spec"]["strategy"] = {"type": strategy}
    cluster.add(deploy)
    cluster.run()
    for replicas, version in changes:
        deploy = cluster.get("deployments.apps", "backend")
        deploy["spec"]["replicas"] = replicas
        container = deploy["spec"]["template"]["spec"]["containers"][0]
        container["image"] = f"docker.io/cilium/json-mock:{version}"
        cluster.apply(Update(deploy))
        cluster.run(rounds=40)
    desired, version = changes[-1]
    pods = cluster.items("pods")
    assert len(pods) == desired
    assert all(p["spec"]["containers"][0]["image"].endswith(version) for p in pods)
    active = [rs for rs in cluster.items("replicasets.apps") if rs["spec"]["replicas"] > 0]
    assert len(active) <= 1
    status = cluster.get("deployments.apps", "backend")["status"]
    assert status.get("updatedReplicas", 0) == status.get("availableReplicas", 0) == desired
    assert cluster.reconcile_once() == []
