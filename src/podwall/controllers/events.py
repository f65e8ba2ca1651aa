"""Event objects as upstream's components record them (core/v1 Events).

Mirrors `record.EventRecorder` (k8s.io/client-go/tools/record/event.go: `makeEvent`, names
`<object>.<UnixNano in hex>`, `reportingComponent` = `source.component`) and its correlator,
which turns a repeat of the same event into `count + 1` and a new `lastTimestamp`
(events_cache.go `eventLogger`). Reasons and messages are the ones the Deployment and
ReplicaSet controllers (pkg/controller/deployment/sync.go, pkg/controller/controller_utils.go),
the scheduler and the kubelet (pkg/kubelet/kuberuntime/kuberuntime_container.go, 1.32 wording)
record. Pure: the time is passed in.

The scheduler records through events.k8s.io upstream; here its `Scheduled` event carries
`source`, `firstTimestamp`, `lastTimestamp` and `count` too, like the others, so every printer
(`kubectl get events`, `describe`) shows it without a special case.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from podwall.controllers.actions import Create, Obj, Update
from podwall.controllers.meta import (
    deep,
    meta,
    name_of,
    namespace_of,
    rfc3339,
    uid_of,
    unconditional,
)
from podwall.controllers.naming import fnv32a

NORMAL = "Normal"
WARNING = "Warning"
DEPLOYMENT_CONTROLLER = "deployment-controller"
REPLICASET_CONTROLLER = "replicaset-controller"
REPLICATION_CONTROLLER = "replication-controller"
SCHEDULER = "default-scheduler"
KUBELET = "kubelet"

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def object_reference(obj: Mapping[str, Any], field_path: str | None = None) -> dict[str, Any]:
    """reference.GetReference: what `involvedObject` says about the object."""
    ref: dict[str, Any] = {
        "kind": obj.get("kind", ""),
        "namespace": namespace_of(obj),
        "name": name_of(obj),
        "uid": uid_of(obj),
        "apiVersion": obj.get("apiVersion", ""),
    }
    if meta(obj).get("resourceVersion"):
        ref["resourceVersion"] = meta(obj)["resourceVersion"]
    if field_path:
        ref["fieldPath"] = field_path
    return ref


def _event_name(involved: Mapping[str, Any], reason: str, message: str, now: datetime) -> str:
    """`<name>.<hex UnixNano>`; the sub-microsecond digits tell apart events made at once."""
    nanos = (now - _EPOCH) // timedelta(microseconds=1) * 1000
    nanos += fnv32a(f"{reason}\0{message}".encode()) % 1000
    return f"{name_of(involved)}.{nanos:x}"


def new_event(
    involved: Mapping[str, Any],
    *,
    reason: str,
    message: str,
    now: datetime,
    component: str,
    type_: str = NORMAL,
    host: str = "",
    field_path: str | None = None,
) -> Obj:
    """recorder.Eventf: a new Event about `involved`, counted once."""
    stamp = rfc3339(now)
    source = {"component": component, **({"host": host} if host else {})}
    return {
        "kind": "Event",
        "apiVersion": "v1",
        "metadata": {
            "name": _event_name(involved, reason, message, now),
            "namespace": namespace_of(involved) or "default",
        },
        "involvedObject": object_reference(involved, field_path),
        "reason": reason,
        "message": message,
        "source": source,
        "firstTimestamp": stamp,
        "lastTimestamp": stamp,
        "count": 1,
        "type": type_,
        "eventTime": None,
        "reportingComponent": component,
        "reportingInstance": host,
    }


def similarity_key(event: Mapping[str, Any]) -> tuple[str, ...]:
    """events_cache.go getEventKey: the fields that make two events the same event."""
    involved = event.get("involvedObject", {})
    source = event.get("source", {})
    return (
        str(source.get("component", "")),
        str(source.get("host", "")),
        *(str(involved.get(k, "")) for k in ("kind", "namespace", "name", "uid", "apiVersion")),
        str(involved.get("fieldPath", "")),
        str(event.get("type", "")),
        str(event.get("reason", "")),
        str(event.get("message", "")),
    )


def repeated(stored: Mapping[str, Any], event: Mapping[str, Any]) -> Obj:
    """The stored event counted once more, last seen when `event` was made."""
    bumped = unconditional(deep(stored))
    bumped["count"] = int(stored.get("count") or 1) + 1
    bumped["lastTimestamp"] = event["lastTimestamp"]
    return bumped


def next_name(event: Mapping[str, Any]) -> Obj:
    """The event under the next nanosecond's name, for when its name is taken."""
    fresh = deep(event)
    prefix, _, nanos = name_of(fresh).rpartition(".")
    fresh["metadata"]["name"] = f"{prefix}.{int(nanos, 16) + 1:x}"
    return fresh


def record(event: Obj, existing: Iterable[Mapping[str, Any]]) -> Create | Update:
    """Create `event`, or count it on the stored event it repeats (`(x3 over 5m)` in describe).

    `existing` are stored events it may repeat (a recorder's cache of what it recorded, or all
    of the namespace). A new event whose name is taken among them (two events about one object
    in the same microsecond) moves to the next free nanosecond.
    """
    stored_events = list(existing)
    key = similarity_key(event)
    for stored in stored_events:
        if similarity_key(stored) == key:
            return Update(repeated(stored, event))
    taken = {name_of(stored) for stored in stored_events}
    fresh = deep(event)
    while name_of(fresh) in taken:
        fresh = next_name(fresh)
    return Create(fresh)


def scaling_replica_set(
    deploy: Mapping[str, Any], rs_name: str, old: int, new: int, now: datetime
) -> Obj:
    """`Scaled up replica set backend-65f7c794cc from 0 to 1` (sync.go scaleReplicaSet)."""
    direction = "up" if new > old else "down"
    message = f"Scaled {direction} replica set {rs_name} from {old} to {new}"
    return new_event(
        deploy,
        reason="ScalingReplicaSet",
        message=message,
        now=now,
        component=DEPLOYMENT_CONTROLLER,
    )


def successful_create(rs: Mapping[str, Any], pod_name: str, now: datetime) -> Obj:
    """`Created pod: backend-65f7c794cc-b9j66` (controller_utils.go CreatePods)."""
    return _pod_control(rs, "Create", pod_name, now)


def successful_delete(rs: Mapping[str, Any], pod_name: str, now: datetime) -> Obj:
    """`Deleted pod: backend-65f7c794cc-b9j66` (controller_utils.go DeletePod)."""
    return _pod_control(rs, "Delete", pod_name, now)


def _pod_control(rs: Mapping[str, Any], verb: str, pod_name: str, now: datetime) -> Obj:
    """RealPodControl's event on the ReplicaSet: Successful<verb>, `<verb>d pod: <name>`.

    A ReplicationController's events come from its own recorder (`replication-controller`),
    as upstream's ReplicationManager runs the ReplicaSet controller with one of its own."""
    component = _POD_CONTROLLERS.get(str(rs.get("kind", "")), REPLICASET_CONTROLLER)
    return new_event(
        rs,
        reason=f"Successful{verb}",
        message=f"{verb}d pod: {pod_name}",
        now=now,
        component=component,
    )


_POD_CONTROLLERS = {"ReplicationController": REPLICATION_CONTROLLER}


def scheduled(pod: Mapping[str, Any], node: str, now: datetime) -> Obj:
    """`Successfully assigned default/x to podwall` (the scheduler's binding)."""
    message = f"Successfully assigned {namespace_of(pod)}/{name_of(pod)} to {node}"
    return new_event(pod, reason="Scheduled", message=message, now=now, component=SCHEDULER)


def _kubelet(
    pod: Mapping[str, Any],
    container: str,
    reason: str,
    message: str,
    now: datetime,
    type_: str = NORMAL,
) -> Obj:
    node = str(pod.get("spec", {}).get("nodeName", ""))
    return new_event(
        pod,
        reason=reason,
        message=message,
        now=now,
        component=KUBELET,
        type_=type_,
        host=node,
        field_path=f"spec.containers{{{container}}}",
    )


def pulled(pod: Mapping[str, Any], container: str, image: str, now: datetime) -> Obj:
    """`Container image "docker.io/cilium/json-mock:1.2" already present on machine`."""
    message = f'Container image "{image}" already present on machine'
    return _kubelet(pod, container, "Pulled", message, now)


def created(pod: Mapping[str, Any], container: str, now: datetime) -> Obj:
    """`Created container: backend-container` (1.32 wording)."""
    return _kubelet(pod, container, "Created", f"Created container: {container}", now)


def started(pod: Mapping[str, Any], container: str, now: datetime) -> Obj:
    """`Started container backend-container`."""
    return _kubelet(pod, container, "Started", f"Started container {container}", now)


def killing(pod: Mapping[str, Any], container: str, now: datetime, *, changed: bool = False) -> Obj:
    """`Stopping container backend-container` (graceful deletion), or, when the container's
    spec `changed`, `Container backend-container definition changed, will be restarted`."""
    message = f"Stopping container {container}"
    if changed:
        message = f"Container {container} definition changed, will be restarted"
    return _kubelet(pod, container, "Killing", message, now)


def failed(pod: Mapping[str, Any], container: str, message: str, now: datetime) -> Obj:
    """A Warning `Failed` event, e.g. `Error: ImageNotSupported`."""
    return _kubelet(pod, container, "Failed", message, now, WARNING)


def failed_mount(pod: Mapping[str, Any], volume: str, message: str, now: datetime) -> Obj:
    """`MountVolume.SetUp failed for volume "kube-api-access" : failed to fetch token: ...`
    (a Warning about the pod: its ServiceAccount token could not be had)."""
    return new_event(
        pod,
        reason="FailedMount",
        message=f'MountVolume.SetUp failed for volume "{volume}" : {message}',
        now=now,
        component=KUBELET,
        type_=WARNING,
        host=str(pod.get("spec", {}).get("nodeName", "")),
    )


def back_off(pod: Mapping[str, Any], container: str, now: datetime) -> Obj:
    """`Back-off restarting failed container x in pod y_default(uid)` (CrashLoopBackOff)."""
    pod_id = f"{name_of(pod)}_{namespace_of(pod)}({uid_of(pod)})"
    message = f"Back-off restarting failed container {container} in pod {pod_id}"
    return _kubelet(pod, container, "BackOff", message, now, WARNING)
