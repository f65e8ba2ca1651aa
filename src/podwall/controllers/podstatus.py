"""The pod status the kubelet reports, as pure transitions over a pod dict.

Mirrors the kubelet's status manager (pkg/kubelet/status/generate.go: `GeneratePodReadyCondition`,
`GenerateContainersReadyCondition`, `GeneratePodInitializedCondition`,
`GeneratePodReadyToStartContainersCondition`; pkg/kubelet/kubelet_pods.go: `getPhase`,
`convertToAPIContainerStatuses`) and `podutil.IsPodReady` / `IsPodAvailable`
(pkg/api/v1/pod/util.go). Each transition returns a changed copy; times are passed in.
Conditions keep their `lastTransitionTime` while their status does not change, and come in the
kubelet's order: PodReadyToStartContainers, Initialized, Ready, ContainersReady, PodScheduled.

`imageID` and `containerID` are stand-ins (podwall pulls no image and runs no container
runtime): `<image>@sha256:<sha256 of the image reference>` and `podwall://<64 hex>`, stable
for a pod, a container and its restart count.

Transitions take `container=None` for every container, or one container's name.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from podwall.controllers.actions import Obj
from podwall.controllers.meta import deep, parse_time, rfc3339, uid_of

CONDITION_ORDER = (
    "PodReadyToStartContainers",
    "Initialized",
    "Ready",
    "ContainersReady",
    "PodScheduled",
)
CONTAINER_CREATING = "ContainerCreating"

ContainerState = Callable[[dict[str, Any]], None]


def is_pod_ready(pod: Mapping[str, Any]) -> bool:
    """podutil.IsPodReady: the Ready condition is True."""
    return _condition_status(pod, "Ready") == "True"


def is_pod_available(pod: Mapping[str, Any], min_ready_seconds: int, now: datetime) -> bool:
    """podutil.IsPodAvailable: ready, and for at least `min_ready_seconds`."""
    if not is_pod_ready(pod):
        return False
    if min_ready_seconds <= 0:
        return True
    since = _condition(pod, "Ready").get("lastTransitionTime")
    return since is not None and parse_time(since) + timedelta(seconds=min_ready_seconds) < now


def _condition(pod: Mapping[str, Any], kind: str) -> dict[str, Any]:
    for condition in (pod.get("status") or {}).get("conditions") or ():
        if condition.get("type") == kind:
            return dict(condition)
    return {}


def _condition_status(pod: Mapping[str, Any], kind: str) -> str | None:
    return _condition(pod, kind).get("status")


def _stand_in_id(*parts: object) -> str:
    return hashlib.sha256("\0".join(str(p) for p in parts).encode()).hexdigest()


def _image_id(image: str) -> str:
    repository = image.partition("@")[0].rsplit(":", 1)[0] if "/" in image else image
    return f"{repository}@sha256:{_stand_in_id(image)}"


def _container_id(pod: Mapping[str, Any], name: str, restarts: int) -> str:
    return f"podwall://{_stand_in_id(uid_of(pod), name, restarts)}"


def _fresh_statuses(pod: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One status per container, in spec order, carrying over what the pod already reports."""
    known = {s.get("name"): s for s in (pod.get("status") or {}).get("containerStatuses") or ()}
    statuses = []
    for container in (pod.get("spec") or {}).get("containers") or ():
        name = container.get("name", "")
        status = deep(known.get(name) or {})
        status.setdefault("name", name)
        status["image"] = container.get("image", "")
        status.setdefault("imageID", "")
        status.setdefault("lastState", {})
        status.setdefault("ready", False)
        status.setdefault("restartCount", 0)
        status.setdefault("started", False)
        status.setdefault("state", {"waiting": {"reason": CONTAINER_CREATING}})
        statuses.append(status)
    return statuses


def _set_condition(status: dict[str, Any], kind: str, value: str, now: str, **extra: str) -> None:
    """Set one condition; the transition time moves only when its status changes."""
    old: dict[str, Any] = next(
        (c for c in status.get("conditions", ()) if c.get("type") == kind), {}
    )
    since = old.get("lastTransitionTime") if old.get("status") == value else now
    condition: dict[str, Any] = {"type": kind, "status": value, "lastProbeTime": None}
    condition["lastTransitionTime"] = since
    condition.update(extra)
    others = [c for c in status.get("conditions", ()) if c.get("type") != kind]
    order = {name: index for index, name in enumerate(CONDITION_ORDER)}
    merged = [*others, condition]
    status["conditions"] = sorted(merged, key=lambda c: order.get(c.get("type", ""), 99))


def _ready_conditions(status: dict[str, Any], now: str) -> None:
    """GeneratePodReadyCondition and GenerateContainersReadyCondition."""
    unready = [s["name"] for s in status["containerStatuses"] if not s.get("ready")]
    terminal = status.get("phase") in ("Succeeded", "Failed")
    for kind in ("Ready", "ContainersReady"):
        if terminal:
            _set_condition(status, kind, "False", now, reason="PodCompleted")
        elif unready:
            message = f"containers with unready status: [{' '.join(unready)}]"
            _set_condition(status, kind, "False", now, reason="ContainersNotReady", message=message)
        else:
            _set_condition(status, kind, "True", now)


def _phase(pod: Mapping[str, Any], statuses: list[dict[str, Any]]) -> str:
    """kubelet getPhase, for pods without init containers."""
    states = [next(iter(s.get("state") or {"waiting": {}})) for s in statuses]
    ever_ran = any(s.get("restartCount") or s.get("lastState") for s in statuses)
    if "running" in states or (ever_ran and "terminated" not in states):
        return "Running"
    if "waiting" in states or not states:
        return "Pending"
    policy = (pod.get("spec") or {}).get("restartPolicy", "Always")
    failed = any(s["state"]["terminated"].get("exitCode", 0) != 0 for s in statuses)
    if policy == "Always" or (policy == "OnFailure" and failed):
        return "Running"
    return "Failed" if failed else "Succeeded"


def _transition(
    pod: Mapping[str, Any], now: datetime, container: str | None, change: ContainerState
) -> Obj:
    """Apply `change` to the chosen container statuses, then recompute phase and conditions."""
    out = deep(pod)
    status = out.setdefault("status", {})
    statuses = _fresh_statuses(out)
    for entry in statuses:
        if container is None or entry["name"] == container:
            change(entry)
    status["containerStatuses"] = statuses
    status["phase"] = _phase(out, statuses)
    stamp = rfc3339(now)
    sandbox = "False" if status["phase"] in ("Succeeded", "Failed") else "True"
    _set_condition(status, "PodReadyToStartContainers", sandbox, stamp)
    _set_condition(status, "Initialized", "True", stamp)
    _ready_conditions(status, stamp)
    return out


def _host(status: dict[str, Any], host_ip: str | None, now: datetime) -> None:
    if host_ip is not None:
        status["hostIP"] = host_ip
        status["hostIPs"] = [{"ip": host_ip}]
    status.setdefault("startTime", rfc3339(now))


def pod_pending(pod: Mapping[str, Any], now: datetime, *, host_ip: str | None = None) -> Obj:
    """The kubelet has the pod: its containers are `ContainerCreating` (phase Pending)."""

    def creating(entry: dict[str, Any]) -> None:
        entry.update(ready=False, started=False, state={"waiting": {"reason": CONTAINER_CREATING}})

    out = _transition(pod, now, None, creating)
    _set_condition(out["status"], "PodReadyToStartContainers", "False", rfc3339(now))
    _host(out["status"], host_ip, now)
    return out


def pod_running(
    pod: Mapping[str, Any],
    pod_ip: str,
    started_at: datetime,
    *,
    host_ip: str | None = None,
    container: str | None = None,
) -> Obj:
    """Containers started and ready: what `kubectl get pods` shows as `1/1 Running`."""
    stamp = rfc3339(started_at)

    def running(entry: dict[str, Any]) -> None:
        restarts = int(entry.get("restartCount", 0))
        entry.update(ready=True, started=True, state={"running": {"startedAt": stamp}})
        entry["imageID"] = _image_id(entry["image"])
        entry["containerID"] = _container_id(pod, entry["name"], restarts)

    out = _transition(pod, started_at, container, running)
    status = out["status"]
    status["podIP"] = pod_ip
    status["podIPs"] = [{"ip": pod_ip}]
    _host(status, host_ip, started_at)
    return out


def pod_waiting(
    pod: Mapping[str, Any],
    reason: str,
    message: str,
    now: datetime,
    *,
    container: str | None = None,
) -> Obj:
    """A container that cannot run (`ImageNotSupported`, `CrashLoopBackOff`): not ready."""

    def waiting(entry: dict[str, Any]) -> None:
        state = {"reason": reason, **({"message": message} if message else {})}
        entry.update(ready=False, started=False, state={"waiting": state})

    return _transition(pod, now, container, waiting)


def pod_terminated(
    pod: Mapping[str, Any],
    exit_code: int,
    reason: str,
    now: datetime,
    *,
    container: str | None = None,
) -> Obj:
    """A container exited (`Completed` for 0, else `Error`); the phase follows restartPolicy."""

    def terminated(entry: dict[str, Any]) -> None:
        running = (entry.get("state") or {}).get("running") or {}
        state: dict[str, Any] = {"exitCode": exit_code, "reason": reason}
        state["startedAt"] = running.get("startedAt", rfc3339(now))
        state["finishedAt"] = rfc3339(now)
        if entry.get("containerID"):
            state["containerID"] = entry["containerID"]
        entry.update(ready=False, started=False, state={"terminated": state})

    return _transition(pod, now, container, terminated)


def pod_restarted(
    pod: Mapping[str, Any], started_at: datetime, *, container: str | None = None
) -> Obj:
    """The kubelet started a container again: restartCount + 1, the exit kept in lastState."""
    stamp = rfc3339(started_at)

    def restarted(entry: dict[str, Any]) -> None:
        previous = (entry.get("state") or {}).get("terminated")
        if previous:
            entry["lastState"] = {"terminated": previous}
        restarts = int(entry.get("restartCount", 0)) + 1
        entry.update(restartCount=restarts, ready=True, started=True)
        entry["state"] = {"running": {"startedAt": stamp}}
        entry["imageID"] = _image_id(entry["image"])
        entry["containerID"] = _container_id(pod, entry["name"], restarts)

    return _transition(pod, started_at, container, restarted)
