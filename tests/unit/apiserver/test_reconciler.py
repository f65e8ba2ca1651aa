"""The controllers wired into a Store: each write is followed by the controllers' work.

A Store in a temporary directory with `mutating.Admission` and `reconciler.Reconciler`
installed, as `podwall up` runs them; objects go in as the API would store them (admission
defaults first). The controllers run in their own threads: `settle` waits until they are idle.
The kubelet's part is played by writing pod status by hand.
"""

from __future__ import annotations

import ipaddress
import random
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from podwall.apiserver import admission
from podwall.apiserver.bootstrap import bootstrap
from podwall.apiserver.errors import ApiError
from podwall.apiserver.mutating import Admission
from podwall.apiserver.reconciler import Reconciler
from podwall.apiserver.resources import by_kind
from podwall.apiserver.store import Store
from podwall.cluster.local import ensure_cluster_dns
from podwall.controllers import pod_running
from tests.unit.apiserver.controllerloops import admitted_store, running_loop, settle
from tests.unit.controllers.manifests import (
    backend_service,
    client_deployment,
    simple_app,
)

SERVICE_RANGE = ipaddress.ip_network("198.19.0.0/16")


@pytest.fixture
def loop(tmp_path: Path) -> Iterator[Reconciler]:
    with admitted_store(tmp_path / "state.db") as s, running_loop(s) as reconciler:
        yield reconciler


@pytest.fixture
def store(loop: Reconciler) -> Store:
    return loop.store


def put(store: Store, obj: dict[str, Any]) -> dict[str, Any]:
    """Create `obj` as the API's POST does: PrepareForCreate and defaults, then the Store."""
    resource = by_kind(obj["apiVersion"], obj["kind"])
    assert resource is not None
    admission.prepare_for_create(resource, obj)
    admission.default(resource, obj)
    return store.create(resource.key, obj)


def items(store: Store, resource: str, namespace: str = "default") -> list[dict[str, Any]]:
    return store.list(resource, namespace)[0]


def names(store: Store, resource: str, namespace: str = "default") -> list[str]:
    return [o["metadata"]["name"] for o in items(store, resource, namespace)]


def start_every_pod(store: Store, namespace: str = "default") -> None:
    """The kubelet's part: every pod Running and ready, with an address."""
    for i, pod in enumerate(items(store, "pods", namespace)):
        running = pod_running(pod, f"198.18.0.{i + 2}", datetime.now(UTC))
        store.mutate("pods", namespace, pod["metadata"]["name"], partial(_with_status, running))


def _with_status(source: dict[str, Any], current: dict[str, Any]) -> dict[str, Any]:
    return {**current, "status": source["status"]}


def test_applying_simple_app_creates_replicasets_and_scheduled_pods(loop: Reconciler) -> None:
    store = loop.store
    for obj in [*simple_app(), backend_service()]:
        put(store, obj)
    settle(loop)
    assert len(names(store, "replicasets.apps")) == 3
    pods = items(store, "pods")
    assert sorted(p["metadata"]["labels"]["app"] for p in pods) == [
        "backend",
        "frontend",
        "not-frontend",
    ]
    for pod in pods:
        assert pod["spec"]["nodeName"] == "podwall"
        assert pod["status"]["phase"] == "Pending"
        assert [c["type"] for c in pod["status"]["conditions"]] == ["PodScheduled"]
        owner = pod["metadata"]["ownerReferences"][0]
        assert owner["kind"] == "ReplicaSet"
        assert pod["metadata"]["name"].startswith(owner["name"] + "-")


def test_a_service_gets_a_cluster_ip_from_the_service_range_and_its_endpoints(
    loop: Reconciler,
) -> None:
    store = loop.store
    service = put(store, backend_service())
    settle(loop)
    ip = ipaddress.ip_address(service["spec"]["clusterIP"])
    assert ip in SERVICE_RANGE
    assert service["spec"]["clusterIPs"] == [str(ip)]
    assert "backend" in names(store, "endpoints")
    assert "backend" in [
        s["metadata"]["labels"]["kubernetes.io/service-name"]
        for s in items(store, "endpointslices.discovery.k8s.io")
    ]


def test_ready_pods_become_endpoints_and_ready_replicas(loop: Reconciler) -> None:
    store = loop.store
    for obj in [*simple_app(), backend_service()]:
        put(store, obj)
    settle(loop)
    start_every_pod(store)
    settle(loop)
    endpoints = store.get("endpoints", "default", "backend")
    addresses = endpoints["subsets"][0]["addresses"]
    assert len(addresses) == 1
    assert endpoints["subsets"][0]["ports"][0]["port"] == 8080
    for deploy in items(store, "deployments.apps"):
        assert deploy["status"]["readyReplicas"] == 1
        assert deploy["status"]["availableReplicas"] == 1


def test_scaling_a_deployment_creates_and_deletes_pods(loop: Reconciler) -> None:
    store = loop.store
    put(store, client_deployment("frontend"))

    def scale(to: int) -> None:
        def change(cur: dict[str, Any]) -> dict[str, Any]:
            cur["spec"]["replicas"] = to
            return cur

        store.mutate("deployments.apps", "default", "frontend", change, preserve=("status",))
        settle(loop)

    scale(3)
    assert len(names(store, "pods")) == 3
    scale(1)
    assert len(names(store, "pods")) == 1


def test_deleting_a_replicaset_collects_its_pods_and_the_deployment_makes_new_ones(
    loop: Reconciler,
) -> None:
    store = loop.store
    put(store, client_deployment("frontend"))
    settle(loop)
    (rs,) = names(store, "replicasets.apps")
    (before,) = names(store, "pods")
    store.delete("replicasets.apps", "default", rs)
    settle(loop)
    assert names(store, "replicasets.apps") == [rs]  # same template, same hash
    (after,) = names(store, "pods")
    assert after != before


def test_deleting_a_service_deletes_its_endpoints_and_slices(loop: Reconciler) -> None:
    store = loop.store
    put(store, backend_service())
    settle(loop)
    assert len(items(store, "endpointslices.discovery.k8s.io")) == 1
    store.delete("services", "default", "backend")
    settle(loop)
    assert "backend" not in names(store, "endpoints")
    assert items(store, "endpointslices.discovery.k8s.io") == []


def test_a_requested_cluster_ip_that_is_taken_is_refused_with_the_field_named(
    store: Store,
) -> None:
    first = put(store, backend_service())
    second = backend_service()
    second["metadata"]["name"] = "again"
    second["spec"]["clusterIP"] = first["spec"]["clusterIP"]
    with pytest.raises(ApiError) as caught:
        put(store, second)
    assert caught.value.code == 422
    assert "provided IP is already allocated" in str(caught.value)
    assert "again" not in names(store, "services")


def test_an_update_without_cluster_ip_keeps_the_allocated_one(store: Store) -> None:
    created = put(store, backend_service())
    replacement = backend_service()
    replacement["metadata"]["labels"] = {"app": "backend", "tier": "api"}
    updated = store.update("services", replacement)
    assert updated["spec"]["clusterIP"] == created["spec"]["clusterIP"]


def test_cluster_dns_runs_as_a_coredns_pod_behind_kube_dns(loop: Reconciler) -> None:
    store = loop.store
    ensure_cluster_dns(store)
    ensure_cluster_dns(store)  # a restart finds them: nothing changes
    settle(loop)
    service = store.get("services", "kube-system", "kube-dns")
    assert service["spec"]["clusterIP"] == "198.19.0.10"
    (pod,) = items(store, "pods", "kube-system")
    assert pod["metadata"]["labels"]["k8s-app"] == "kube-dns"
    assert pod["metadata"]["name"].startswith("coredns-")


def test_events_record_what_the_controllers_did(loop: Reconciler) -> None:
    store = loop.store
    put(store, client_deployment("frontend"))
    settle(loop)
    reasons = sorted(e["reason"] for e in items(store, "events"))
    assert reasons == ["ScalingReplicaSet", "SuccessfulCreate"]


def test_concurrent_writers_each_get_exactly_their_pods(loop: Reconciler) -> None:
    store = loop.store
    errors: list[BaseException] = []

    def create(n: int) -> None:
        try:
            put(store, client_deployment(f"app{n}"))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=create, args=(n,)) for n in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    settle(loop)
    assert errors == []
    pods = items(store, "pods")
    assert sorted(p["metadata"]["labels"]["app"] for p in pods) == sorted(
        f"app{n}" for n in range(12)
    )


def test_install_settles_what_was_stored_before(tmp_path: Path) -> None:
    s = Store(tmp_path / "state.db")
    bootstrap(s)
    put(s, client_deployment("frontend"))  # no controllers yet: no ReplicaSet
    assert names(s, "replicasets.apps") == []
    Admission(s).install()
    loop = Reconciler(s)
    loop.install()
    settle(loop)
    assert len(names(s, "replicasets.apps")) == 1
    assert len(names(s, "pods")) == 1
    loop.remove()
    s.close()


def test_on_write_hooks_change_objects_on_every_path_and_can_be_removed(tmp_path: Path) -> None:
    s = Store(tmp_path / "state.db")
    bootstrap(s)
    seen: list[bool] = []

    def stamp(new: dict[str, Any], stored: dict[str, Any] | None) -> dict[str, Any]:
        seen.append(stored is None)
        new["metadata"].setdefault("annotations", {})["stamped"] = "yes"
        return new

    undo = s.on_write("configmaps", stamp)
    obj = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "a", "namespace": "default"},
    }
    assert s.create("configmaps", obj)["metadata"]["annotations"] == {"stamped": "yes"}
    s.mutate("configmaps", "default", "a", lambda cur: {**cur, "data": {"k": "v"}})
    assert seen == [True, False]
    undo()
    s.create("configmaps", {**obj, "metadata": {"name": "b", "namespace": "default"}})
    assert "annotations" not in s.get("configmaps", "default", "b")["metadata"]
    s.close()


def _work_per_write(filler: int) -> tuple[int, int, int]:
    """Objects the controllers read, writes they made and Store lists they asked for, over a
    few writes to an app in a namespace that also holds `filler` pods nothing selects.

    The controllers sync in this thread (`step`), so the count does not depend on timing.
    """
    s = Store(":memory:")
    bootstrap(s)
    for i in range(filler):
        s.create("pods", bare_pod(f"filler-{i:04d}", {"x": "y"}))
    Admission(s).install()
    loop = Reconciler(s, rng=random.Random(7), clock=lambda: T0)
    loop.install(workers=False)
    put(s, client_deployment("web"))
    put(s, {**backend_service(), "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]}})
    loop.step()
    lists = 0
    real_list = s.list

    def counting_list(*args: Any, **kwargs: Any) -> Any:
        nonlocal lists
        lists += 1
        return real_list(*args, **kwargs)

    s.list = counting_list  # type: ignore[method-assign]
    visited, writes = loop.visited, loop.writer.writes
    put(s, bare_pod("extra", {"app": "web"}))
    loop.step()
    s.mutate("deployments.apps", "default", "web", partial(_scaled, 3))
    loop.step()
    for i, pod in enumerate(p for p in real_list("pods", "default")[0] if _is_web(p)):
        running = pod_running(pod, f"198.18.0.{i + 2}", T0)
        s.mutate("pods", "default", pod["metadata"]["name"], partial(_with_status, running))
    loop.step()
    s.delete("pods", "default", "extra")
    loop.step()
    loop.informers.stop()
    s.close()
    return loop.visited - visited, loop.writer.writes - writes, lists


T0 = datetime(2026, 11, 26, tzinfo=UTC)


def bare_pod(name: str, labels: dict[str, str]) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": "default", "labels": labels},
        "spec": {"containers": [{"name": "c", "image": "busybox"}]},
    }


def _scaled(replicas: int, current: dict[str, Any]) -> dict[str, Any]:
    return {**current, "spec": {**current["spec"], "replicas": replicas}}


def _is_web(pod: dict[str, Any]) -> bool:
    return str(pod["metadata"]["name"]).startswith("web-")


def test_the_work_per_write_does_not_grow_with_the_namespace() -> None:
    small = _work_per_write(10)
    large = _work_per_write(1000)
    assert large == small
    visited, writes, lists = large
    assert lists == 0, "no controller lists a resource after the start-up pass"
    assert writes > 0
    assert visited < 100, "a few objects per write, not the namespace's 1000 pods"
