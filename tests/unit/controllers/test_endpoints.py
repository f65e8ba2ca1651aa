"""Endpoints and EndpointSlices: ready pods only, named target ports resolved per pod."""

from __future__ import annotations

import copy
from datetime import datetime
from typing import Any

import pytest

from podwall.controllers import (
    Create,
    Delete,
    Update,
    default_pod,
    endpoint_actions,
    forget_service,
    pod_running,
    reconcile_endpoints,
)
from podwall.controllers.endpoints import endpoint_view

T0 = datetime.fromisoformat("2026-11-26T10:00:00+00:00")


def service(target: int | str = 8080, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {
            "name": "backend",
            "namespace": "default",
            "uid": "svc-1",
            "labels": {"app": "backend"},
        },
        "spec": {
            "selector": {"app": "backend"},
            "ports": [{"name": "http", "port": 80, "protocol": "TCP", "targetPort": target}],
            "clusterIP": "198.19.3.3",
            **spec,
        },
    }


def backend_pod(
    name: str,
    ip: str | None,
    *,
    port: int = 8080,
    labels: dict[str, str] | None = None,
    namespace: str = "default",
) -> dict[str, Any]:
    pod = default_pod(
        {
            "metadata": {
                "name": name,
                "namespace": namespace,
                "uid": f"uid-{name}",
                "labels": labels or {"app": "backend"},
            },
            "spec": {
                "nodeName": "podwall",
                "containers": [
                    {
                        "name": "c",
                        "image": "x:1",
                        "ports": [{"name": "http", "containerPort": port}],
                    }
                ],
            },
        }
    )
    return pod_running(pod, ip, T0) if ip else pod


def addresses(subset: dict[str, Any], field: str = "addresses") -> list[str]:
    return [a["ip"] for a in subset.get(field, [])]


def test_ready_pods_are_addresses_and_unready_ones_not_ready_addresses() -> None:
    unready = backend_pod("b", None)
    unready["status"]["podIP"] = "198.18.0.3"
    result = reconcile_endpoints(service(), [backend_pod("a", "198.18.0.2"), unready])
    assert result is not None
    (subset,) = result.endpoints["subsets"]
    assert addresses(subset) == ["198.18.0.2"]
    assert addresses(subset, "notReadyAddresses") == ["198.18.0.3"]
    assert subset["ports"] == [{"name": "http", "port": 8080, "protocol": "TCP"}]
    assert subset["addresses"][0]["targetRef"] == {
        "kind": "Pod",
        "namespace": "default",
        "name": "a",
        "uid": "uid-a",
    }
    assert subset["addresses"][0]["nodeName"] == "podwall"


def test_pods_without_an_address_other_labels_or_namespace_are_left_out() -> None:
    pods = [
        backend_pod("no-ip", None),
        backend_pod("other", "198.18.0.4", labels={"app": "frontend"}),
        backend_pod("elsewhere", "198.18.0.5", namespace="kube-system"),
    ]
    result = reconcile_endpoints(service(), pods)
    assert result is not None
    assert "subsets" not in result.endpoints


def test_a_named_target_port_resolves_per_pod() -> None:
    pods = [backend_pod("a", "198.18.0.2", port=8080), backend_pod("b", "198.18.0.3", port=9090)]
    result = reconcile_endpoints(service(target="http"), pods)
    assert result is not None
    subsets = result.endpoints["subsets"]
    assert [(addresses(s), s["ports"][0]["port"]) for s in subsets] == [
        (["198.18.0.2"], 8080),
        (["198.18.0.3"], 9090),
    ]
    assert sorted(s["ports"][0]["port"] for s in result.slices) == [8080, 9090]


def test_a_pod_without_the_named_port_is_not_an_endpoint() -> None:
    pod = backend_pod("a", "198.18.0.2")
    pod["spec"]["containers"][0]["ports"] = [{"name": "metrics", "containerPort": 9100}]
    result = reconcile_endpoints(service(target="http"), [pod])
    assert result is not None
    assert "subsets" not in result.endpoints


def test_terminating_pods_leave_the_endpoints_but_stay_in_slices_as_terminating() -> None:
    pod = backend_pod("a", "198.18.0.2")
    pod["metadata"]["deletionTimestamp"] = "2026-11-26T10:01:00Z"
    result = reconcile_endpoints(service(), [pod])
    assert result is not None
    assert "subsets" not in result.endpoints
    (endpoint,) = result.slices[0]["endpoints"]
    assert endpoint["conditions"] == {"ready": False, "serving": True, "terminating": True}


def test_slices_are_labelled_owned_and_carry_conditions() -> None:
    result = reconcile_endpoints(service(), [backend_pod("a", "198.18.0.2")])
    assert result is not None
    (endpoint_slice,) = result.slices
    assert endpoint_slice["metadata"]["name"].startswith("backend-")
    assert endpoint_slice["metadata"]["labels"] == {
        "app": "backend",
        "kubernetes.io/service-name": "backend",
        "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io",
    }
    assert endpoint_slice["metadata"]["ownerReferences"][0]["uid"] == "svc-1"
    assert endpoint_slice["addressType"] == "IPv4"
    assert endpoint_slice["endpoints"][0]["conditions"]["ready"] is True
    assert endpoint_slice["ports"] == [{"name": "http", "port": 8080, "protocol": "TCP"}]


def test_an_unnamed_service_port_is_named_empty_in_the_slice_and_unnamed_in_endpoints() -> None:
    spec = service()
    del spec["spec"]["ports"][0]["name"]
    result = reconcile_endpoints(spec, [backend_pod("a", "198.18.0.2")])
    assert result is not None
    (endpoint_slice,) = result.slices
    assert endpoint_slice["ports"] == [{"name": "", "port": 8080, "protocol": "TCP"}]
    assert result.endpoints["subsets"][0]["ports"] == [{"port": 8080, "protocol": "TCP"}]


def test_a_service_with_no_pods_gets_a_placeholder_slice() -> None:
    result = reconcile_endpoints(service(), [])
    assert result is not None
    (placeholder,) = result.slices
    assert placeholder["endpoints"] == []
    assert placeholder["ports"] is None


def test_a_service_without_a_selector_is_not_managed() -> None:
    spec = service()
    del spec["spec"]["selector"]
    assert reconcile_endpoints(spec, [backend_pod("a", "198.18.0.2")]) is None


def test_publish_not_ready_addresses_lists_unready_pods_as_ready() -> None:
    unready = backend_pod("b", None)
    unready["status"]["podIP"] = "198.18.0.3"
    result = reconcile_endpoints(service(publishNotReadyAddresses=True), [unready])
    assert result is not None
    assert addresses(result.endpoints["subsets"][0]) == ["198.18.0.3"]


def test_actions_create_then_update_then_nothing() -> None:
    pods = [backend_pod("a", "198.18.0.2")]
    desired = reconcile_endpoints(service(), pods)
    assert desired is not None
    first = endpoint_actions(desired, None, [])
    assert [type(a) for a in first] == [Create, Create]
    stored_endpoints, stored_slice = (a.obj for a in first)  # type: ignore[union-attr]
    assert endpoint_actions(desired, stored_endpoints, [stored_slice]) == []
    more = reconcile_endpoints(service(), [*pods, backend_pod("b", "198.18.0.3")])
    assert more is not None
    changed = endpoint_actions(more, stored_endpoints, [stored_slice])
    assert [type(a) for a in changed] == [Update, Update]


def test_slices_no_longer_wanted_are_deleted() -> None:
    desired = reconcile_endpoints(service(), [])
    assert desired is not None
    stale = {
        "metadata": {
            "name": "backend-zzzzz",
            "namespace": "default",
            "labels": {
                "kubernetes.io/service-name": "backend",
                "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io",
            },
        }
    }
    foreign = {"metadata": {"name": "other", "labels": {"kubernetes.io/service-name": "backend"}}}
    actions = endpoint_actions(desired, desired.endpoints, [stale, foreign])
    assert Delete("endpointslices.discovery.k8s.io", "default", "backend-zzzzz") in actions
    assert not any(isinstance(a, Delete) and a.name == "other" for a in actions)


def test_a_deleted_service_takes_its_endpoints_along() -> None:
    assert forget_service(service()) == [Delete("endpoints", "default", "backend")]


def _changed(pod: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    out = copy.deepcopy(pod)
    *parents, leaf = path.split(".")
    target = out
    for part in parents:
        target = target.setdefault(part, {})
    target[leaf] = value
    return out


RUNNING = backend_pod("a", "198.18.0.2")


@pytest.mark.parametrize(
    ("after", "same"),
    [
        (_changed(RUNNING, "status.containerStatuses", []), True),
        (_changed(RUNNING, "metadata.annotations", {"note": "x"}), True),
        (_changed(RUNNING, "status.podIP", "198.18.0.9"), False),
        (_changed(RUNNING, "metadata.labels", {"app": "other"}), False),
        (_changed(RUNNING, "metadata.deletionTimestamp", "2026-11-26T10:00:00Z"), False),
        (_changed(RUNNING, "status.conditions", []), False),
        (_changed(RUNNING, "status.phase", "Succeeded"), False),
    ],
    ids=[
        "container statuses: same view",
        "annotations: same view",
        "another address",
        "other labels",
        "terminating",
        "no longer ready",
        "finished",
    ],
)
def test_endpoint_view_changes_with_what_endpoints_hold(after: dict[str, Any], same: bool) -> None:
    assert (endpoint_view(RUNNING) == endpoint_view(after)) is same


def test_a_pod_endpoints_cannot_hold_has_no_view() -> None:
    assert endpoint_view(None) is None
    assert endpoint_view(backend_pod("pending", None)) is None


@pytest.mark.parametrize(
    ("identity", "hostname"),
    [
        pytest.param({"hostname": "db-0", "subdomain": "backend"}, "db-0", id="its-subdomain"),
        pytest.param({"hostname": "db-0", "subdomain": "other"}, None, id="another-subdomain"),
        pytest.param({"hostname": "db-0"}, None, id="no-subdomain"),
        pytest.param({"subdomain": "backend"}, None, id="no-hostname"),
    ],
)
def test_a_pods_hostname_is_published_under_the_service_of_its_subdomain(
    identity: dict[str, str], hostname: str | None
) -> None:
    pod = backend_pod("db-0", "198.18.0.2")
    pod["spec"].update(identity)
    result = reconcile_endpoints(service(clusterIP="None"), [pod])
    assert result is not None
    (subset,) = result.endpoints["subsets"]
    assert subset["addresses"][0].get("hostname") == hostname
    (slice_,) = result.slices
    assert slice_["endpoints"][0].get("hostname") == hostname
