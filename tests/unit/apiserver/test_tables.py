"""Server-side Tables print what upstream's printers print."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from podwall.apiserver import crds
from podwall.apiserver.tables import PRINTERS, human_duration, table

NOW = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
CREATED = (NOW - timedelta(seconds=197)).strftime("%Y-%m-%dT%H:%M:%SZ")

DURATIONS = [
    ("more than a second in the future is invalid", -2, "<invalid>"),
    ("a second in the future is now", -0.5, "0s"),
    ("seconds up to two minutes", 119, "119s"),
    ("minutes and seconds under ten minutes", 197, "3m17s"),
    ("whole minutes drop the seconds", 180, "3m"),
    ("minutes only from ten minutes", 45 * 60 + 30, "45m"),
    ("minutes up to three hours", 179 * 60, "179m"),
    ("hours and minutes under eight hours", 3 * 3600 + 5 * 60, "3h5m"),
    ("hours only from eight hours", 20 * 3600 + 59 * 60, "20h"),
    ("days and hours under eight days", 3 * 86400 + 4 * 3600, "3d4h"),
    ("whole days", 2 * 86400, "2d"),
    ("days only up to two years", 400 * 86400, "400d"),
    ("years and days up to eight years", (3 * 365 + 10) * 86400, "3y10d"),
    ("years only after eight years", 9 * 365 * 86400, "9y"),
]


@pytest.mark.parametrize(
    ("seconds", "expected"), [d[1:] for d in DURATIONS], ids=[d[0] for d in DURATIONS]
)
def test_human_duration(seconds: float, expected: str) -> None:
    assert human_duration(seconds) == expected


def meta(name: str, **extra: Any) -> dict[str, Any]:
    return {"name": name, "namespace": "default", "creationTimestamp": CREATED, **extra}


def cells(resource: str, obj: dict[str, Any], wide: bool = False) -> dict[str, Any]:
    result = table(resource, [obj], "1", now=NOW)
    columns = result["columnDefinitions"]
    row = result["rows"][0]["cells"]
    return {c["name"]: v for c, v in zip(columns, row, strict=True) if wide or c["priority"] == 0}


def running_pod(**status: Any) -> dict[str, Any]:
    return {
        "metadata": meta("backend-65f7c794cc-b9j66"),
        "spec": {"containers": [{"name": "c"}], "nodeName": "node-1"},
        "status": {
            "phase": "Running",
            "podIP": "198.18.0.5",
            "containerStatuses": [
                {"name": "c", "ready": True, "restartCount": 0, "state": {"running": {}}}
            ],
            **status,
        },
    }


def test_pod_columns() -> None:
    assert cells("pods", running_pod()) == {
        "Name": "backend-65f7c794cc-b9j66",
        "Ready": "1/1",
        "Status": "Running",
        "Restarts": "0",
        "Age": "3m17s",
    }


def test_pod_wide_columns() -> None:
    wide = cells("pods", running_pod(), wide=True)
    assert (wide["IP"], wide["Node"], wide["Nominated Node"], wide["Readiness Gates"]) == (
        "198.18.0.5",
        "node-1",
        "<none>",
        "<none>",
    )


def test_a_waiting_container_shows_its_reason() -> None:
    pod = running_pod(phase="Pending")
    pod["status"]["containerStatuses"] = [
        {"name": "c", "ready": False, "restartCount": 0,
         "state": {"waiting": {"reason": "ContainerCreating"}}}
    ]  # fmt: skip
    assert cells("pods", pod)["Status"] == "ContainerCreating"
    assert cells("pods", pod)["Ready"] == "0/1"


def test_a_pod_being_deleted_is_terminating() -> None:
    pod = running_pod()
    pod["metadata"]["deletionTimestamp"] = CREATED
    assert cells("pods", pod)["Status"] == "Terminating"


def test_restarts_show_how_long_ago_the_last_one_was() -> None:
    pod = running_pod()
    pod["status"]["containerStatuses"][0]["restartCount"] = 2
    finished = (NOW - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%SZ")
    pod["status"]["containerStatuses"][0]["lastState"] = {"terminated": {"finishedAt": finished}}
    assert cells("pods", pod)["Restarts"] == "2 (5m ago)"


def test_service_columns() -> None:
    svc = {
        "metadata": meta("backend"),
        "spec": {
            "type": "ClusterIP",
            "clusterIP": "198.19.3.7",
            "selector": {"app": "backend"},
            "ports": [{"port": 8080, "protocol": "TCP"}, {"port": 53, "protocol": "UDP"}],
        },
    }
    assert cells("services", svc, wide=True) == {
        "Name": "backend",
        "Type": "ClusterIP",
        "Cluster-IP": "198.19.3.7",
        "External-IP": "<none>",
        "Port(s)": "8080/TCP,53/UDP",
        "Age": "3m17s",
        "Selector": "app=backend",
    }


def test_a_load_balancer_without_an_address_is_pending() -> None:
    svc = {"metadata": meta("lb"), "spec": {"type": "LoadBalancer", "ports": [
        {"port": 80, "nodePort": 30080, "protocol": "TCP"}]}}  # fmt: skip
    row = cells("services", svc)
    assert (row["External-IP"], row["Port(s)"], row["Cluster-IP"]) == (
        "<pending>",
        "80:30080/TCP",
        "<none>",
    )


def workload(kind_status: dict[str, Any]) -> dict[str, Any]:
    return {
        "metadata": meta("frontend"),
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": "frontend"}},
            "template": {"spec": {"containers": [{"name": "c", "image": "curl:1"}]}},
        },
        "status": kind_status,
    }


def test_deployment_columns() -> None:
    row = cells("deployments.apps", workload({"readyReplicas": 1, "updatedReplicas": 2,
                                              "availableReplicas": 1}), wide=True)  # fmt: skip
    assert row == {
        "Name": "frontend",
        "Ready": "1/2",
        "Up-to-date": 2,
        "Available": 1,
        "Age": "3m17s",
        "Containers": "c",
        "Images": "curl:1",
        "Selector": "app=frontend",
    }


def test_replicaset_columns() -> None:
    row = cells("replicasets.apps", workload({"replicas": 2, "readyReplicas": 1}))
    assert row == {"Name": "frontend", "Desired": 2, "Current": 2, "Ready": 1, "Age": "3m17s"}


def test_replication_controller_columns_print_its_plain_selector() -> None:
    rc = {**workload({"replicas": 1}), "spec": {**workload({})["spec"], "selector": {
        "role": "frontend", "app": "stars"}}}  # fmt: skip
    assert cells("replicationcontrollers", rc, wide=True) == {
        "Name": "frontend",
        "Desired": 2,
        "Current": 1,
        "Ready": 0,
        "Age": "3m17s",
        "Containers": "c",
        "Images": "curl:1",
        "Selector": "app=stars,role=frontend",
    }


def test_statefulset_columns() -> None:
    row = cells("statefulsets.apps", workload({"replicas": 2, "readyReplicas": 1}), wide=True)
    assert row == {
        "Name": "frontend",
        "Ready": "1/2",
        "Age": "3m17s",
        "Containers": "c",
        "Images": "curl:1",
    }


@pytest.mark.parametrize(
    ("refs", "controller"),
    [
        pytest.param([{"apiVersion": "apps/v1", "kind": "StatefulSet", "name": "web",
                       "controller": True}], "statefulset.apps/web", id="a-statefulset"),
        pytest.param([{"apiVersion": "apps/v1", "kind": "DaemonSet", "name": "agent",
                       "controller": False}], "<none>", id="no-controller"),
        pytest.param([], "<none>", id="an-orphan"),
    ],
)  # fmt: skip
def test_controller_revision_columns(refs: list[dict[str, Any]], controller: str) -> None:
    revision = {"metadata": meta("web-6d5f", ownerReferences=refs), "revision": 3}
    assert cells("controllerrevisions.apps", revision) == {
        "Name": "web-6d5f",
        "Controller": controller,
        "Revision": 3,
        "Age": "3m17s",
    }


SELECTORS = [
    ("match labels", {"matchLabels": {"app": "backend"}}, "app=backend"),
    ("an empty selector selects everything and prints <none>", {}, "<none>"),
    (
        "labels and expressions sorted by key",
        {
            "matchLabels": {"tier": "web", "app": "x"},
            "matchExpressions": [
                {"key": "env", "operator": "In", "values": ["prod", "dev"]},
                {"key": "zz", "operator": "DoesNotExist"},
                {"key": "b", "operator": "Exists"},
            ],
        },
        "app=x,b,env in (dev,prod),tier=web,!zz",
    ),
]


@pytest.mark.parametrize(
    ("selector", "expected"), [s[1:] for s in SELECTORS], ids=[s[0] for s in SELECTORS]
)
def test_network_policy_pod_selector_column(selector: dict[str, Any], expected: str) -> None:
    policy = {"metadata": meta("p"), "spec": {"podSelector": selector}}
    assert cells("networkpolicies.networking.k8s.io", policy) == {
        "Name": "p",
        "Pod-Selector": expected,
        "Age": "3m17s",
    }


def test_namespace_columns() -> None:
    ns = {"metadata": meta("default"), "status": {"phase": "Active"}}
    assert cells("namespaces", ns) == {"Name": "default", "Status": "Active", "Age": "3m17s"}


def test_event_columns() -> None:
    event = {
        "metadata": meta("frontend.1"),
        "involvedObject": {"kind": "Pod", "name": "frontend-x"},
        "reason": "Started",
        "message": "Started container c ",
        "type": "Normal",
        "source": {"component": "kubelet", "host": "node-1"},
        "count": 3,
        "firstTimestamp": CREATED,
        "lastTimestamp": CREATED,
    }
    assert cells("events", event, wide=True) == {
        "Last Seen": "3m17s",
        "Type": "Normal",
        "Reason": "Started",
        "Object": "pod/frontend-x",
        "Subobject": "",
        "Source": "kubelet, node-1",
        "Message": "Started container c",
        "First Seen": "3m17s",
        "Count": 3,
        "Name": "frontend.1",
    }


def test_endpoints_columns() -> None:
    endpoints = {
        "metadata": meta("backend"),
        "subsets": [{"addresses": [{"ip": f"198.18.0.{i}"} for i in range(1, 5)],
                     "ports": [{"port": 8080}]}],
    }  # fmt: skip
    assert cells("endpoints", endpoints)["Endpoints"] == (
        "198.18.0.1:8080,198.18.0.2:8080,198.18.0.3:8080 + 1 more..."
    )


def node(**extra: Any) -> dict[str, Any]:
    ready = {"type": "Ready", "status": "True"}
    return {
        "metadata": meta("node-1", labels={"node-role.kubernetes.io/control-plane": ""}),
        "spec": {},
        "status": {
            "conditions": [{"type": "MemoryPressure", "status": "False"}, ready],
            "addresses": [
                {"type": "Hostname", "address": "node-1"},
                {"type": "InternalIP", "address": "198.18.255.1"},
            ],
            "nodeInfo": {"kubeletVersion": "v1.32.0", "kernelVersion": "6.1.0"},
        },
        **extra,
    }


def test_node_columns() -> None:
    assert cells("nodes", node(), wide=True) == {
        "Name": "node-1",
        "Status": "Ready",
        "Roles": "control-plane",
        "Age": "3m17s",
        "Version": "v1.32.0",
        "Internal-IP": "198.18.255.1",
        "External-IP": "<none>",
        "OS-Image": "<unknown>",
        "Kernel-Version": "6.1.0",
        "Container-Runtime": "<unknown>",
    }


NODE_STATUS = [
    ("a node without conditions is Unknown", {"status": {}}, "Unknown"),
    (
        "a false Ready condition is NotReady",
        {"status": {"conditions": [{"type": "Ready", "status": "False"}]}},
        "NotReady",
    ),
    (
        "a cordoned node says SchedulingDisabled",
        {"spec": {"unschedulable": True}, "status": {}},
        "Unknown,SchedulingDisabled",
    ),
]


@pytest.mark.parametrize(
    ("changes", "expected"), [c[1:] for c in NODE_STATUS], ids=[c[0] for c in NODE_STATUS]
)
def test_node_status_column(changes: dict[str, Any], expected: str) -> None:
    assert cells("nodes", {**node(), **changes})["Status"] == expected


def test_node_roles_come_from_both_role_labels_sorted() -> None:
    labels = {"node-role.kubernetes.io/worker": "", "kubernetes.io/role": "edge", "app": "x"}
    assert cells("nodes", {**node(), "metadata": meta("n", labels=labels)})["Roles"] == (
        "edge,worker"
    )
    assert cells("nodes", {**node(), "metadata": meta("n")})["Roles"] == "<none>"


def test_lease_columns() -> None:
    lease = {"metadata": meta("node-1"), "spec": {"holderIdentity": "podwall-agent-x2x"}}
    assert cells("leases.coordination.k8s.io", lease) == {
        "Name": "node-1",
        "Holder": "podwall-agent-x2x",
        "Age": "3m17s",
    }


def test_secret_columns() -> None:
    secret = {"metadata": meta("tls"), "type": "kubernetes.io/tls", "data": {"a": "", "b": ""}}
    assert cells("secrets", secret) == {
        "Name": "tls",
        "Type": "kubernetes.io/tls",
        "Data": 2,
        "Age": "3m17s",
    }


def job(spec: dict[str, Any], status: dict[str, Any], **extra: Any) -> dict[str, Any]:
    template = {"spec": {"containers": [{"name": "probe", "image": "busybox"}]}}
    selector = {"matchLabels": {"batch.kubernetes.io/controller-uid": "u1"}}
    return {
        "metadata": meta("probe", **extra),
        "spec": {"selector": selector, "template": template, **spec},
        "status": status,
    }


def condition(kind: str) -> dict[str, str]:
    return {"type": kind, "status": "True"}


STARTED = (NOW - timedelta(seconds=90)).strftime("%Y-%m-%dT%H:%M:%SZ")
ENDED = (NOW - timedelta(seconds=60)).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_job_columns() -> None:
    done = {"succeeded": 1, "startTime": STARTED, "completionTime": ENDED,
            "conditions": [condition("SuccessCriteriaMet"), condition("Complete")]}  # fmt: skip
    row = cells("jobs.batch", job({"completions": 1, "parallelism": 1}, done), wide=True)
    assert row == {
        "Name": "probe",
        "Status": "Complete",
        "Completions": "1/1",
        "Duration": "30s",
        "Age": "3m17s",
        "Containers": "probe",
        "Images": "busybox",
        "Selector": "batch.kubernetes.io/controller-uid=u1",
    }


@pytest.mark.parametrize(
    ("spec", "status", "extra", "expected"),
    [
        pytest.param({"completions": 3}, {"succeeded": 1}, {}, ("Running", "1/3", ""),
                     id="running, not started yet: no duration"),
        pytest.param({"parallelism": 4}, {"startTime": STARTED}, {}, ("Running", "0/1 of 4", "90s"),
                     id="a work queue of 4, running for 90 s"),
        pytest.param({}, {"conditions": [condition("Failed")]}, {}, ("Failed", "0/1", ""),
                     id="failed"),
        pytest.param({"completions": 1}, {"conditions": [condition("FailureTarget")]}, {},
                     ("FailureTarget", "0/1", ""), id="failing: its pods are going"),
        pytest.param({"completions": 1}, {"conditions": [condition("Suspended")]},
                     {"deletionTimestamp": ENDED}, ("Terminating", "0/1", ""),
                     id="being deleted comes before suspended"),
    ],
)  # fmt: skip
def test_job_status_completions_and_duration(
    spec: dict[str, Any], status: dict[str, Any], extra: dict[str, Any], expected: tuple[str, ...]
) -> None:
    row = cells("jobs.batch", job(spec, status, **extra))
    assert (row["Status"], row["Completions"], row["Duration"]) == expected


def test_cronjob_columns() -> None:
    template = {"spec": {"template": {"spec": {"containers": [{"name": "c", "image": "b"}]}}}}
    cronjob = {
        "metadata": meta("nightly"),
        "spec": {"schedule": "0 3 * * *", "suspend": False, "jobTemplate": template},
        "status": {"active": [{"name": "nightly-1"}], "lastScheduleTime": STARTED},
    }
    assert cells("cronjobs.batch", cronjob) == {
        "Name": "nightly",
        "Schedule": "0 3 * * *",
        "Timezone": "<none>",
        "Suspend": "False",
        "Active": 1,
        "Last Schedule": "90s",
        "Age": "3m17s",
    }


def test_every_served_kind_has_a_printer() -> None:
    from podwall.apiserver.resources import RESOURCES

    built_in = {r.key for r in RESOURCES if not r.custom}
    assert built_in <= set(PRINTERS)
    assert {r.key for r in RESOURCES if r.custom} <= set(crds.resource_keys())


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ({"tier": "Admin", "priority": 10}, {"Tier": "Admin", "Priority": "10"}),
        ({"tier": "Baseline", "priority": 0}, {"Tier": "Baseline", "Priority": "0"}),
        ({}, {"Tier": None, "Priority": None}),
    ],
    ids=["admin", "baseline at priority 0", "missing fields are nil cells"],
)
def test_cluster_network_policy_columns_follow_the_crd(
    spec: dict[str, Any], expected: dict[str, Any]
) -> None:
    obj = {"metadata": {"name": "p", "creationTimestamp": CREATED}, "spec": spec}
    assert cells(crds.CLUSTER_NETWORK_POLICIES, obj) == {"Name": "p", **expected, "Age": "3m17s"}


def test_an_object_without_a_timestamp_is_unknown_age() -> None:
    row = cells("namespaces", {"metadata": {"name": "x"}, "status": {"phase": "Active"}})
    assert row["Age"] == "<unknown>"
