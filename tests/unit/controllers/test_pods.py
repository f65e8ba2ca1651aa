"""Pods: create-time defaults, scheduling, QoS, and the kubelet's status transitions."""

from __future__ import annotations

from datetime import datetime, timedelta
from fractions import Fraction
from typing import Any

import pytest

from podwall.controllers import (
    default_pod,
    pod_pending,
    pod_restarted,
    pod_running,
    pod_terminated,
    pod_waiting,
    schedule_pod,
)
from podwall.controllers.pods import default_pod_template
from podwall.controllers.podstatus import CONDITION_ORDER, is_pod_ready
from podwall.controllers.qos import parse_quantity, pod_qos

from .manifests import CURL, JSON_MOCK

T0 = datetime.fromisoformat("2026-11-26T10:00:00+00:00")


def pod(*containers: dict[str, Any], **spec: Any) -> dict[str, Any]:
    return {
        "metadata": {"name": "backend-65f7c794cc-b9j66", "namespace": "default", "uid": "u-1"},
        "spec": {"containers": list(containers) or [{"name": "c", "image": JSON_MOCK}], **spec},
    }


def started() -> dict[str, Any]:
    return pod_running(pod_pending(schedule_pod(default_pod(pod()), T0), T0), "198.18.0.5", T0)


def kubectl_row(obj: dict[str, Any]) -> tuple[str, str, int]:
    """READY, STATUS and RESTARTS as kubectl's pod printer computes them (printers.go)."""
    status = obj["status"]
    reason = status.get("reason") or status["phase"]
    ready = restarts = 0
    has_running = False
    for container in reversed(status.get("containerStatuses") or []):
        restarts += container["restartCount"]
        state = container["state"]
        if state.get("waiting", {}).get("reason"):
            reason = state["waiting"]["reason"]
        elif state.get("terminated", {}).get("reason"):
            reason = state["terminated"]["reason"]
        elif container["ready"] and "running" in state:
            has_running = True
            ready += 1
    if reason == "Completed" and has_running:
        reason = "Running" if is_pod_ready(obj) else "NotReady"
    if obj["metadata"].get("deletionTimestamp"):
        reason = "Terminating"
    return f"{ready}/{len(obj['spec']['containers'])}", reason, restarts


# -- defaults ------------------------------------------------------------------------------


def test_a_tutorial_pod_gets_the_defaults_upstream_gives_it() -> None:
    stored = default_pod(
        pod({"name": "backend-container", "image": JSON_MOCK, "ports": [{"containerPort": 8080}]})
    )
    spec = stored["spec"]
    assert {k: spec[k] for k in ("restartPolicy", "dnsPolicy", "schedulerName")} == {
        "restartPolicy": "Always",
        "dnsPolicy": "ClusterFirst",
        "schedulerName": "default-scheduler",
    }
    assert spec["terminationGracePeriodSeconds"] == 30
    assert spec["serviceAccountName"] == spec["serviceAccount"] == "default"
    assert spec["enableServiceLinks"] is True
    assert spec["priority"] == 0
    assert spec["securityContext"] == {}
    assert spec["tolerations"] == [
        {"key": key, "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300}
        for key in ("node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable")
    ]
    (container,) = spec["containers"]
    assert container["imagePullPolicy"] == "IfNotPresent"
    assert container["terminationMessagePath"] == "/dev/termination-log"
    assert container["terminationMessagePolicy"] == "File"
    assert container["resources"] == {}
    assert container["ports"] == [{"containerPort": 8080, "protocol": "TCP"}]
    assert stored["status"] == {"phase": "Pending", "qosClass": "BestEffort"}


def test_defaulting_twice_changes_nothing() -> None:
    once = default_pod(pod())
    assert default_pod(once) == once


@pytest.mark.parametrize(
    ("image", "policy"),
    [
        pytest.param("nginx", "Always", id="an untagged image is always pulled"),
        pytest.param("nginx:latest", "Always", id="a latest tag is always pulled"),
        pytest.param(CURL, "IfNotPresent", id="a tagged image is pulled if not present"),
        pytest.param("localhost:5000/app", "Always", id="a registry port is not a tag"),
        pytest.param("nginx@sha256:" + "a" * 64, "IfNotPresent", id="a digest is not latest"),
    ],
)
def test_image_pull_policy(image: str, policy: str) -> None:
    assert (
        default_pod(pod({"name": "c", "image": image}))["spec"]["containers"][0]["imagePullPolicy"]
        == policy
    )


def test_a_template_gets_the_pod_spec_defaults_but_not_the_pod_only_ones() -> None:
    template = default_pod_template({"metadata": {}, "spec": pod()["spec"]})
    assert template["spec"]["restartPolicy"] == "Always"
    assert "enableServiceLinks" not in template["spec"]
    assert "tolerations" not in template["spec"]


def test_a_toleration_of_every_taint_stops_the_defaults() -> None:
    stored = default_pod(pod(tolerations=[{"operator": "Exists"}]))
    assert stored["spec"]["tolerations"] == [{"operator": "Exists"}]


@pytest.mark.parametrize(
    ("resources", "qos"),
    [
        pytest.param({}, "BestEffort", id="no requests or limits is best effort"),
        pytest.param({"requests": {"cpu": "100m"}}, "Burstable", id="a request alone is burstable"),
        pytest.param(
            {"limits": {"cpu": "1", "memory": "128Mi"}},
            "Guaranteed",
            id="limits on cpu and memory are guaranteed once requests default to them",
        ),
        pytest.param(
            {
                "limits": {"cpu": "1", "memory": "128Mi"},
                "requests": {"cpu": "1000m", "memory": "134217728"},
            },
            "Guaranteed",
            id="requests equal to limits in other units are still guaranteed",
        ),
        pytest.param(
            {"limits": {"cpu": "1", "memory": "128Mi"}, "requests": {"cpu": "500m"}},
            "Burstable",
            id="a request below its limit is burstable",
        ),
        pytest.param({"limits": {"cpu": "1"}}, "Burstable", id="a limit on cpu alone is burstable"),
    ],
)
def test_qos_class(resources: dict[str, Any], qos: str) -> None:
    stored = default_pod(pod({"name": "c", "image": CURL, "resources": resources}))
    assert stored["status"]["qosClass"] == qos


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("100m", Fraction(1, 10)),
        ("1Gi", 2**30),
        ("1e3", 1000),
        ("2k", 2000),
        ("0.5", Fraction(1, 2)),
    ],
)
def test_quantities(text: str, value: Fraction | int) -> None:
    assert parse_quantity(text) == value


def test_a_bad_quantity_is_refused() -> None:
    with pytest.raises(ValueError, match="quantities must match"):
        parse_quantity("lots")


def test_qos_of_an_empty_spec_is_best_effort() -> None:
    assert pod_qos({}) == "BestEffort"


# -- scheduling ----------------------------------------------------------------------------


def test_scheduling_binds_the_pod_to_the_podwall_node() -> None:
    scheduled = schedule_pod(default_pod(pod()), T0)
    assert scheduled["spec"]["nodeName"] == "podwall"
    assert scheduled["status"]["conditions"] == [
        {
            "type": "PodScheduled",
            "status": "True",
            "lastProbeTime": None,
            "lastTransitionTime": "2026-11-26T10:00:00Z",
        }
    ]
    assert schedule_pod(scheduled, T0 + timedelta(seconds=5)) == scheduled


# -- status transitions, as kubectl get pods shows them ------------------------------------

LATER = T0 + timedelta(seconds=30)


@pytest.mark.parametrize(
    ("make", "row"),
    [
        pytest.param(lambda: default_pod(pod()), ("0/1", "Pending", 0), id="a new pod is Pending"),
        pytest.param(
            lambda: pod_pending(schedule_pod(default_pod(pod()), T0), T0),
            ("0/1", "ContainerCreating", 0),
            id="a pod on its node is ContainerCreating",
        ),
        pytest.param(started, ("1/1", "Running", 0), id="a started pod is 1/1 Running"),
        pytest.param(
            lambda: pod_waiting(
                pod_pending(default_pod(pod()), T0), "ImageNotSupported", "no stand-in", T0
            ),
            ("0/1", "ImageNotSupported", 0),
            id="an image podwall cannot run shows its waiting reason",
        ),
        pytest.param(
            lambda: pod_terminated(started(), 1, "Error", LATER),
            ("0/1", "Error", 0),
            id="a container that failed shows Error",
        ),
        pytest.param(
            lambda: pod_restarted(pod_terminated(started(), 1, "Error", LATER), LATER),
            ("1/1", "Running", 1),
            id="a restarted container counts one restart",
        ),
        pytest.param(
            lambda: pod_waiting(
                pod_terminated(started(), 2, "Error", LATER), "CrashLoopBackOff", "back-off", LATER
            ),
            ("0/1", "CrashLoopBackOff", 0),
            id="a container waiting to restart shows CrashLoopBackOff",
        ),
        pytest.param(
            lambda: {**started(), "metadata": {**started()["metadata"], "deletionTimestamp": "x"}},
            ("1/1", "Terminating", 0),
            id="a pod being deleted is Terminating",
        ),
    ],
)
def test_what_kubectl_get_pods_shows(make: Any, row: tuple[str, str, int]) -> None:
    assert kubectl_row(make()) == row


def test_a_running_pod_carries_what_describe_and_wait_read() -> None:
    running = started()
    status = running["status"]
    assert [c["type"] for c in status["conditions"]] == list(CONDITION_ORDER)
    assert all(c["status"] == "True" for c in status["conditions"])
    assert status["podIP"] == "198.18.0.5"
    assert status["podIPs"] == [{"ip": "198.18.0.5"}]
    assert status["startTime"] == "2026-11-26T10:00:00Z"
    assert status["qosClass"] == "BestEffort"
    (container,) = status["containerStatuses"]
    assert container["state"] == {"running": {"startedAt": "2026-11-26T10:00:00Z"}}
    assert (container["ready"], container["started"], container["restartCount"]) == (True, True, 0)
    assert container["image"] == JSON_MOCK
    assert container["imageID"].startswith("docker.io/cilium/json-mock@sha256:")
    assert container["containerID"].startswith("podwall://")


def test_host_ip_is_reported_when_given() -> None:
    running = pod_running(default_pod(pod()), "198.18.0.5", T0, host_ip="198.18.0.1")
    assert running["status"]["hostIP"] == "198.18.0.1"
    assert running["status"]["hostIPs"] == [{"ip": "198.18.0.1"}]


def test_ready_keeps_its_transition_time_while_it_stays_true() -> None:
    running = started()
    again = pod_running(running, "198.18.0.5", LATER)
    ready = next(c for c in again["status"]["conditions"] if c["type"] == "Ready")
    assert ready["lastTransitionTime"] == "2026-11-26T10:00:00Z"


def test_an_unready_pod_says_which_containers_are_not_ready() -> None:
    two = pod({"name": "a", "image": CURL}, {"name": "b", "image": CURL})
    half = pod_running(pod_pending(default_pod(two), T0), "198.18.0.5", T0, container="a")
    ready = next(c for c in half["status"]["conditions"] if c["type"] == "Ready")
    assert (ready["status"], ready["reason"], ready["message"]) == (
        "False",
        "ContainersNotReady",
        "containers with unready status: [b]",
    )
    assert kubectl_row(half) == ("1/2", "ContainerCreating", 0)


def test_a_restart_keeps_the_previous_exit_in_last_state() -> None:
    restarted = pod_restarted(pod_terminated(started(), 137, "Error", LATER), LATER)
    (container,) = restarted["status"]["containerStatuses"]
    assert container["lastState"]["terminated"]["exitCode"] == 137
    assert container["lastState"]["terminated"]["finishedAt"] == "2026-11-26T10:00:30Z"


@pytest.mark.parametrize(
    ("policy", "code", "phase"),
    [
        pytest.param(
            "Always", 0, "Running", id="always restarts even a clean exit so stays Running"
        ),
        pytest.param("Never", 0, "Succeeded", id="never restarting a clean exit is Succeeded"),
        pytest.param("Never", 1, "Failed", id="never restarting a failure is Failed"),
        pytest.param("OnFailure", 0, "Succeeded", id="on failure a clean exit is Succeeded"),
        pytest.param(
            "OnFailure", 1, "Running", id="on failure a failure restarts so stays Running"
        ),
    ],
)
def test_phase_after_the_container_exits(policy: str, code: int, phase: str) -> None:
    running = pod_running(default_pod(pod(restartPolicy=policy)), "198.18.0.5", T0)
    done = pod_terminated(running, code, "Completed" if code == 0 else "Error", LATER)
    assert done["status"]["phase"] == phase


def test_transitions_do_not_change_their_input() -> None:
    before = default_pod(pod())
    snapshot = repr(before)
    pod_running(before, "198.18.0.5", T0)
    assert repr(before) == snapshot
