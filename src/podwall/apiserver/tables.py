"""Server-side Tables (meta.k8s.io/v1), with the columns of upstream's printers (§7).

kubectl prints what the server sends when it asks `as=Table`: the column names (upper-cased by
kubectl), the cells, and `rows[].object` for labels, sorting and the -A NAMESPACE column.
Priority 1 columns show with `-o wide` only.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from podwall.apiserver import crds
from podwall.apiserver.resources import REVIEWS
from podwall.apiserver.selectors import format_label_selector, format_labels

Object = Mapping[str, Any]
Cell = str | int | None  # None: a CRD column with no value (kubectl prints <none>)
Column = tuple[str, str, int]  # name, type, priority
TABLE_CONTENT_TYPE = "application/json;as=Table;v=v1;g=meta.k8s.io"


def wants_table(accept: str) -> bool:
    return "as=Table" in accept.replace(" ", "")


def human_duration(seconds_float: float) -> str:
    """apimachinery's duration.HumanDuration, exactly."""
    seconds = int(seconds_float)
    if seconds < -1:
        return "<invalid>"
    if seconds < 0:
        return "0s"
    if seconds < 60 * 2:
        return f"{seconds}s"
    minutes = seconds // 60
    if minutes < 10:
        s = seconds % 60
        return f"{minutes}m" if s == 0 else f"{minutes}m{s}s"
    if minutes < 60 * 3:
        return f"{minutes}m"
    hours = seconds // 3600
    if hours < 8:
        m = minutes % 60
        return f"{hours}h" if m == 0 else f"{hours}h{m}m"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        h = hours % 24
        return f"{hours // 24}d" if h == 0 else f"{hours // 24}d{h}h"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        dy = (hours // 24) % 365
        years = hours // 24 // 365
        return f"{years}y" if dy == 0 else f"{years}y{dy}d"
    return f"{hours // 24 // 365}y"


def _parse_time(value: object) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def age(timestamp: object, now: datetime | None = None) -> str:
    """translateTimestampSince: `<unknown>` without a timestamp."""
    when = _parse_time(timestamp)
    if when is None:
        return "<unknown>"
    now = now or datetime.now(UTC)
    return human_duration((now - when).total_seconds())


def _meta(obj: Object) -> Mapping[str, Any]:
    return obj.get("metadata") or {}


def _spec(obj: Object) -> Mapping[str, Any]:
    return obj.get("spec") or {}


def _status(obj: Object) -> Mapping[str, Any]:
    return obj.get("status") or {}


def _created(obj: Object, now: datetime) -> str:
    return age(_meta(obj).get("creationTimestamp"), now)


# Pods: printPod.


def _pod_status_reason(pod: Object) -> str:
    status = _status(pod)
    reason = str(status.get("phase") or "")
    if status.get("reason"):
        reason = str(status["reason"])
    for condition in status.get("conditions") or []:
        if condition.get("type") == "PodScheduled" and condition.get("reason") == "SchedulingGated":
            reason = "SchedulingGated"
    initializing = False
    init_specs = _spec(pod).get("initContainers") or []
    for i, container in enumerate(status.get("initContainerStatuses") or []):
        state = container.get("state") or {}
        terminated, waiting = state.get("terminated"), state.get("waiting")
        if terminated and terminated.get("exitCode") == 0:
            continue
        if terminated:
            if terminated.get("reason"):
                reason = "Init:" + str(terminated["reason"])
            elif terminated.get("signal"):
                reason = f"Init:Signal:{terminated['signal']}"
            else:
                reason = f"Init:ExitCode:{terminated.get('exitCode', 0)}"
        elif waiting and waiting.get("reason") and waiting.get("reason") != "PodInitializing":
            reason = "Init:" + str(waiting["reason"])
        else:
            reason = f"Init:{i}/{len(init_specs)}"
        initializing = True
        break
    if not initializing:
        has_running = False
        for container in reversed(status.get("containerStatuses") or []):
            state = container.get("state") or {}
            terminated, waiting = state.get("terminated"), state.get("waiting")
            if waiting and waiting.get("reason"):
                reason = str(waiting["reason"])
            elif terminated and terminated.get("reason"):
                reason = str(terminated["reason"])
            elif terminated:
                if terminated.get("signal"):
                    reason = f"Signal:{terminated['signal']}"
                else:
                    reason = f"ExitCode:{terminated.get('exitCode', 0)}"
            elif container.get("ready") and state.get("running") is not None:
                has_running = True
        if reason == "Completed" and has_running:
            ready = any(
                c.get("type") == "Ready" and c.get("status") == "True"
                for c in status.get("conditions") or []
            )
            reason = "Running" if ready else "NotReady"
    if _meta(pod).get("deletionTimestamp"):
        reason = "Unknown" if status.get("reason") == "NodeLost" else "Terminating"
    return reason


def _pod_restarts(pod: Object, now: datetime) -> str:
    restarts = 0
    last: datetime | None = None
    for container in _status(pod).get("containerStatuses") or []:
        restarts += int(container.get("restartCount") or 0)
        terminated = (container.get("lastState") or {}).get("terminated") or {}
        finished = _parse_time(terminated.get("finishedAt"))
        if finished is not None and (last is None or finished > last):
            last = finished
    if restarts and last is not None:
        return f"{restarts} ({human_duration((now - last).total_seconds())} ago)"
    return str(restarts)


def _pod_row(pod: Object, now: datetime) -> list[Cell]:
    containers = _spec(pod).get("containers") or []
    ready = sum(1 for c in _status(pod).get("containerStatuses") or [] if c.get("ready"))
    gates = _spec(pod).get("readinessGates") or []
    if gates:
        conditions = {c.get("type"): c.get("status") for c in _status(pod).get("conditions") or []}
        true = sum(1 for g in gates if conditions.get(g.get("conditionType")) == "True")
        gates_cell = f"{true}/{len(gates)}"
    else:
        gates_cell = "<none>"
    return [
        _meta(pod).get("name", ""),
        f"{ready}/{len(containers)}",
        _pod_status_reason(pod),
        _pod_restarts(pod, now),
        _created(pod, now),
        _status(pod).get("podIP") or "<none>",
        _spec(pod).get("nodeName") or "<none>",
        _status(pod).get("nominatedNodeName") or "<none>",
        gates_cell,
    ]


# Services: printService.


def _service_external_ip(svc: Object) -> str:
    spec = _spec(svc)
    kind = spec.get("type") or "ClusterIP"
    external = list(spec.get("externalIPs") or [])
    if kind in ("ClusterIP", "NodePort"):
        return ",".join(external) if external else "<none>"
    if kind == "LoadBalancer":
        ingress = (_status(svc).get("loadBalancer") or {}).get("ingress") or []
        ips = [
            i.get("ip") or i.get("hostname") for i in ingress if i.get("ip") or i.get("hostname")
        ]
        ips += external
        return ",".join(ips) if ips else "<pending>"
    if kind == "ExternalName":
        return str(spec.get("externalName") or "")
    return "<unknown>"


def _service_ports(svc: Object) -> str:
    parts = []
    for port in _spec(svc).get("ports") or []:
        protocol = port.get("protocol") or "TCP"
        if port.get("nodePort"):
            parts.append(f"{port.get('port')}:{port['nodePort']}/{protocol}")
        else:
            parts.append(f"{port.get('port')}/{protocol}")
    return ",".join(parts) if parts else "<none>"


def _service_row(svc: Object, now: datetime) -> list[Cell]:
    spec = _spec(svc)
    return [
        _meta(svc).get("name", ""),
        spec.get("type") or "ClusterIP",
        spec.get("clusterIP") or "<none>",
        _service_external_ip(svc),
        _service_ports(svc),
        _created(svc, now),
        format_labels(spec.get("selector")),
    ]


# Workloads.


def _containers(template_spec: Mapping[str, Any]) -> tuple[str, str]:
    containers = template_spec.get("containers") or []
    return (
        ",".join(str(c.get("name", "")) for c in containers),
        ",".join(str(c.get("image", "")) for c in containers),
    )


def _template_spec(obj: Object) -> Mapping[str, Any]:
    return (_spec(obj).get("template") or {}).get("spec") or {}


def _replicas(obj: Object) -> int:
    value = _spec(obj).get("replicas")
    return 1 if value is None else int(value)


def _deployment_row(deploy: Object, now: datetime) -> list[Cell]:
    status = _status(deploy)
    names, images = _containers(_template_spec(deploy))
    return [
        _meta(deploy).get("name", ""),
        f"{int(status.get('readyReplicas') or 0)}/{_replicas(deploy)}",
        int(status.get("updatedReplicas") or 0),
        int(status.get("availableReplicas") or 0),
        _created(deploy, now),
        names,
        images,
        format_label_selector(_spec(deploy).get("selector")),
    ]


def _replica_cells(rs: Object, now: datetime) -> list[Cell]:
    """A ReplicaSet's or a ReplicationController's row up to its selector."""
    status = _status(rs)
    names, images = _containers(_template_spec(rs))
    return [
        _meta(rs).get("name", ""),
        _replicas(rs),
        int(status.get("replicas") or 0),
        int(status.get("readyReplicas") or 0),
        _created(rs, now),
        names,
        images,
    ]


def _replicaset_row(rs: Object, now: datetime) -> list[Cell]:
    return [*_replica_cells(rs, now), format_label_selector(_spec(rs).get("selector"))]


def _replication_controller_row(rc: Object, now: datetime) -> list[Cell]:
    """printReplicationController: its selector is a plain label map (labels.FormatLabels)."""
    return [*_replica_cells(rc, now), format_labels(_spec(rc).get("selector"))]


def _daemonset_row(ds: Object, now: datetime) -> list[Cell]:
    status = _status(ds)
    names, images = _containers(_template_spec(ds))
    node_selector = _template_spec(ds).get("nodeSelector") or {}
    return [
        _meta(ds).get("name", ""),
        int(status.get("desiredNumberScheduled") or 0),
        int(status.get("currentNumberScheduled") or 0),
        int(status.get("numberReady") or 0),
        int(status.get("updatedNumberScheduled") or 0),
        int(status.get("numberAvailable") or 0),
        format_labels(node_selector) if node_selector else "<none>",
        _created(ds, now),
        names,
        images,
        format_label_selector(_spec(ds).get("selector")),
    ]


def _statefulset_row(sts: Object, now: datetime) -> list[Cell]:
    names, images = _containers(_template_spec(sts))
    ready = int(_status(sts).get("readyReplicas") or 0)
    return [_meta(sts).get("name", ""), f"{ready}/{_replicas(sts)}", _created(sts, now),
            names, images]  # fmt: skip


def _controller_revision_row(revision: Object, now: datetime) -> list[Cell]:
    """printControllerRevision: the controller as `kind.group/name` (`<none>` for none)."""
    controller = "<none>"
    for ref in _meta(revision).get("ownerReferences") or ():
        if ref.get("controller"):
            group = str(ref.get("apiVersion", "")).rpartition("/")[0]
            kind = f"{ref.get('kind', '')}.{group}" if group else str(ref.get("kind", ""))
            controller = f"{kind.lower()}/{ref.get('name', '')}"
    return [_meta(revision).get("name", ""), controller, int(revision.get("revision") or 0),
            _created(revision, now)]  # fmt: skip


def _has_condition(obj: Object, kind: str) -> bool:
    return any(
        c.get("type") == kind and c.get("status") == "True"
        for c in _status(obj).get("conditions") or ()
    )


def _job_status(job: Object) -> str:
    """printJob's STATUS: the first of Complete, Failed, Terminating, Suspended and
    FailureTarget that holds, else Running."""
    for kind in ("Complete", "Failed"):
        if _has_condition(job, kind):
            return kind
    if _meta(job).get("deletionTimestamp"):
        return "Terminating"
    for kind in ("Suspended", "FailureTarget"):
        if _has_condition(job, kind):
            return kind
    return "Running"


def _job_completions(job: Object) -> str:
    succeeded = int(_status(job).get("succeeded") or 0)
    completions = _spec(job).get("completions")
    if completions is not None:
        return f"{succeeded}/{completions}"
    parallelism = int(_spec(job).get("parallelism") or 0)
    return f"{succeeded}/1 of {parallelism}" if parallelism > 1 else f"{succeeded}/1"


def _job_duration(job: Object, now: datetime) -> str:
    start = _parse_time(_status(job).get("startTime"))
    if start is None:
        return ""
    end = _parse_time(_status(job).get("completionTime")) or now
    return human_duration((end - start).total_seconds())


def _job_row(job: Object, now: datetime) -> list[Cell]:
    names, images = _containers(_template_spec(job))
    return [
        _meta(job).get("name", ""),
        _job_status(job),
        _job_completions(job),
        _job_duration(job, now),
        _created(job, now),
        names,
        images,
        format_label_selector(_spec(job).get("selector")),
    ]


def _cronjob_row(cronjob: Object, now: datetime) -> list[Cell]:
    spec, status = _spec(cronjob), _status(cronjob)
    job_spec = (spec.get("jobTemplate") or {}).get("spec") or {}
    names, images = _containers((job_spec.get("template") or {}).get("spec") or {})
    suspend = spec.get("suspend")
    last = status.get("lastScheduleTime")
    return [
        _meta(cronjob).get("name", ""),
        str(spec.get("schedule") or ""),
        str(spec.get("timeZone") or "<none>"),
        "<unset>" if suspend is None else ("True" if suspend else "False"),
        len(status.get("active") or ()),
        age(last, now) if last else "<none>",
        _created(cronjob, now),
        names,
        images,
        format_label_selector(job_spec.get("selector")),
    ]


def _service_account_row(sa: Object, now: datetime) -> list[Cell]:
    return [_meta(sa).get("name", ""), len(sa.get("secrets") or []), _created(sa, now)]


def _role_row(role: Object, now: datetime) -> list[Cell]:
    return [_meta(role).get("name", ""), str(_meta(role).get("creationTimestamp") or "")]


def _binding_row(binding: Object, now: datetime) -> list[Cell]:
    """NAME ROLE AGE, and with -o wide the users, groups and ServiceAccounts bound."""
    ref = binding.get("roleRef") or {}
    subjects = [s for s in binding.get("subjects") or [] if isinstance(s, Mapping)]

    def named(kind: str) -> str:
        return ", ".join(str(s.get("name", "")) for s in subjects if s.get("kind") == kind)

    accounts = ", ".join(
        f"{s.get('namespace', '')}/{s.get('name', '')}"
        for s in subjects
        if s.get("kind") == "ServiceAccount"
    )
    return [
        _meta(binding).get("name", ""),
        f"{ref.get('kind', '')}/{ref.get('name', '')}",
        _created(binding, now),
        named("User"),
        named("Group"),
        accounts,
    ]


def _network_policy_row(policy: Object, now: datetime) -> list[Cell]:
    return [
        _meta(policy).get("name", ""),
        format_label_selector(_spec(policy).get("podSelector")),
        _created(policy, now),
    ]


def _namespace_row(ns: Object, now: datetime) -> list[Cell]:
    return [_meta(ns).get("name", ""), _status(ns).get("phase") or "", _created(ns, now)]


def _event_row(event: Object, now: datetime) -> list[Cell]:
    first = event.get("firstTimestamp") or event.get("eventTime")
    last = event.get("lastTimestamp") or first
    series = event.get("series") or {}
    if series.get("lastObservedTime"):
        last = series["lastObservedTime"]
    involved = event.get("involvedObject") or {}
    source = event.get("source") or {}
    source_text = str(source.get("component") or event.get("reportingComponent") or "")
    if source.get("host"):
        source_text += f", {source['host']}"
    count = int(series.get("count") or event.get("count") or 1)
    return [
        age(last, now),
        event.get("type") or "",
        event.get("reason") or "",
        f"{str(involved.get('kind', '')).lower()}/{involved.get('name', '')}",
        involved.get("fieldPath") or "",
        source_text,
        str(event.get("message") or "").strip(),
        age(first, now),
        count,
        _meta(event).get("name", ""),
    ]


def _endpoints_text(endpoints: Object) -> str:
    addresses = []
    for subset in endpoints.get("subsets") or []:
        ports = subset.get("ports") or []
        for address in subset.get("addresses") or []:
            ip = address.get("ip", "")
            if ports:
                addresses += [f"{ip}:{p.get('port')}" for p in ports]
            else:
                addresses.append(str(ip))
    if not addresses:
        return "<none>"
    shown = ",".join(addresses[:3])
    return shown + (f" + {len(addresses) - 3} more..." if len(addresses) > 3 else "")


def _endpoints_row(endpoints: Object, now: datetime) -> list[Cell]:
    return [_meta(endpoints).get("name", ""), _endpoints_text(endpoints), _created(endpoints, now)]


def _endpoint_slice_row(slice_: Object, now: datetime) -> list[Cell]:
    ports = ",".join(str(p.get("port")) for p in slice_.get("ports") or []) or "<unset>"
    addresses = [a for e in slice_.get("endpoints") or [] for a in e.get("addresses") or []]
    shown = ",".join(addresses[:3]) or "<unset>"
    if len(addresses) > 3:
        shown += f" + {len(addresses) - 3} more..."
    return [
        _meta(slice_).get("name", ""),
        slice_.get("addressType") or "",
        ports,
        shown,
        _created(slice_, now),
    ]


def _config_map_row(cm: Object, now: datetime) -> list[Cell]:
    count = len(cm.get("data") or {}) + len(cm.get("binaryData") or {})
    return [_meta(cm).get("name", ""), count, _created(cm, now)]


def _secret_row(secret: Object, now: datetime) -> list[Cell]:
    count = len(secret.get("data") or {})
    return [_meta(secret).get("name", ""), secret.get("type", ""), count, _created(secret, now)]


# Nodes and Leases: printNode, printLease.

NODE_ROLE_PREFIX = "node-role.kubernetes.io/"


def _node_roles(node: Object) -> str:
    """findNodeRoles: `node-role.kubernetes.io/ROLE` labels and the `kubernetes.io/role` one."""
    roles: set[str] = set()
    for key, value in (_meta(node).get("labels") or {}).items():
        if key.startswith(NODE_ROLE_PREFIX) and key[len(NODE_ROLE_PREFIX) :]:
            roles.add(key[len(NODE_ROLE_PREFIX) :])
        elif key == "kubernetes.io/role" and value:
            roles.add(str(value))
    return ",".join(sorted(roles)) or "<none>"


def _node_status(node: Object) -> str:
    status = []
    for condition in _status(node).get("conditions") or []:
        if condition.get("type") == "Ready":
            status = ["Ready" if condition.get("status") == "True" else "NotReady"]
    status = status or ["Unknown"]
    if _spec(node).get("unschedulable"):
        status.append("SchedulingDisabled")
    return ",".join(status)


def _node_address(node: Object, kind: str) -> str:
    for address in _status(node).get("addresses") or []:
        if address.get("type") == kind:
            return str(address.get("address") or "")
    return "<none>"


def _node_row(node: Object, now: datetime) -> list[Cell]:
    info = _status(node).get("nodeInfo") or {}
    return [
        _meta(node).get("name", ""),
        _node_status(node),
        _node_roles(node),
        _created(node, now),
        info.get("kubeletVersion") or "",
        _node_address(node, "InternalIP"),
        _node_address(node, "ExternalIP"),
        info.get("osImage") or "<unknown>",
        info.get("kernelVersion") or "<unknown>",
        info.get("containerRuntimeVersion") or "<unknown>",
    ]


def _lease_row(lease: Object, now: datetime) -> list[Cell]:
    return [
        _meta(lease).get("name", ""),
        _spec(lease).get("holderIdentity") or "",
        _created(lease, now),
    ]


def _created_at_row(obj: Object, now: datetime) -> list[Cell]:
    """The default table convertor's row (CRDs): the name and the creation time, RFC 3339."""
    return [_meta(obj).get("name", ""), str(_meta(obj).get("creationTimestamp") or "")]


def _default_row(obj: Object, now: datetime) -> list[Cell]:
    return [_meta(obj).get("name", ""), _created(obj, now)]


_NAME: Column = ("Name", "string", 0)
_AGE: Column = ("Age", "string", 0)
_SELECTOR_WIDE: list[Column] = [
    ("Containers", "string", 1),
    ("Images", "string", 1),
    ("Selector", "string", 1),
]

_CREATED_AT: Column = ("Created At", "date", 0)
_BINDING_COLUMNS: list[Column] = [
    _NAME, ("Role", "string", 0), _AGE, ("Users", "string", 1), ("Groups", "string", 1),
    ("ServiceAccounts", "string", 1),
]  # fmt: skip

PRINTERS: dict[str, tuple[list[Column], Callable[[Object, datetime], list[Cell]]]] = {
    "pods": (
        [_NAME, ("Ready", "string", 0), ("Status", "string", 0), ("Restarts", "string", 0), _AGE,
         ("IP", "string", 1), ("Node", "string", 1), ("Nominated Node", "string", 1),
         ("Readiness Gates", "string", 1)],
        _pod_row,
    ),
    "services": (
        [_NAME, ("Type", "string", 0), ("Cluster-IP", "string", 0),
         ("External-IP", "string", 0), ("Port(s)", "string", 0), _AGE,
         ("Selector", "string", 1)],
        _service_row,
    ),
    "deployments.apps": (
        [_NAME, ("Ready", "string", 0), ("Up-to-date", "integer", 0),
         ("Available", "integer", 0), _AGE, *_SELECTOR_WIDE],
        _deployment_row,
    ),
    "replicasets.apps": (
        [_NAME, ("Desired", "integer", 0), ("Current", "integer", 0), ("Ready", "integer", 0),
         _AGE, *_SELECTOR_WIDE],
        _replicaset_row,
    ),
    "replicationcontrollers": (
        [_NAME, ("Desired", "integer", 0), ("Current", "integer", 0), ("Ready", "integer", 0),
         _AGE, *_SELECTOR_WIDE],
        _replication_controller_row,
    ),
    "daemonsets.apps": (
        [_NAME, ("Desired", "integer", 0), ("Current", "integer", 0), ("Ready", "integer", 0),
         ("Up-to-date", "integer", 0), ("Available", "integer", 0),
         ("Node Selector", "string", 0), _AGE, *_SELECTOR_WIDE],
        _daemonset_row,
    ),
    "statefulsets.apps": (
        [_NAME, ("Ready", "string", 0), _AGE, *_SELECTOR_WIDE[:2]],
        _statefulset_row,
    ),
    "controllerrevisions.apps": (
        [_NAME, ("Controller", "string", 0), ("Revision", "integer", 0), _AGE],
        _controller_revision_row,
    ),
    "cronjobs.batch": (
        [_NAME, ("Schedule", "string", 0), ("Timezone", "string", 0),
         ("Suspend", "boolean", 0), ("Active", "integer", 0), ("Last Schedule", "string", 0),
         _AGE, *_SELECTOR_WIDE],
        _cronjob_row,
    ),
    "jobs.batch": (
        [_NAME, ("Status", "string", 0), ("Completions", "string", 0),
         ("Duration", "string", 0), _AGE, *_SELECTOR_WIDE],
        _job_row,
    ),
    "serviceaccounts": ([_NAME, ("Secrets", "string", 0), _AGE], _service_account_row),
    "roles.rbac.authorization.k8s.io": ([_NAME, _CREATED_AT], _role_row),
    "clusterroles.rbac.authorization.k8s.io": ([_NAME, _CREATED_AT], _role_row),
    "rolebindings.rbac.authorization.k8s.io": (_BINDING_COLUMNS, _binding_row),
    "clusterrolebindings.rbac.authorization.k8s.io": (_BINDING_COLUMNS, _binding_row),
    **{review: ([_NAME, _AGE], _default_row) for review in REVIEWS},
    "networkpolicies.networking.k8s.io": (
        [_NAME, ("Pod-Selector", "string", 0), _AGE],
        _network_policy_row,
    ),
    "namespaces": ([_NAME, ("Status", "string", 0), _AGE], _namespace_row),
    "events": (
        [("Last Seen", "string", 0), ("Type", "string", 0), ("Reason", "string", 0),
         ("Object", "string", 0), ("Subobject", "string", 1), ("Source", "string", 1),
         ("Message", "string", 0), ("First Seen", "string", 1), ("Count", "string", 1),
         ("Name", "string", 1)],
        _event_row,
    ),
    "endpoints": ([_NAME, ("Endpoints", "string", 0), _AGE], _endpoints_row),
    "endpointslices.discovery.k8s.io": (
        [_NAME, ("AddressType", "string", 0), ("Ports", "string", 0),
         ("Endpoints", "string", 0), _AGE],
        _endpoint_slice_row,
    ),
    "configmaps": ([_NAME, ("Data", "string", 0), _AGE], _config_map_row),
    "secrets": ([_NAME, ("Type", "string", 0), ("Data", "string", 0), _AGE], _secret_row),
    "nodes": (
        [_NAME, ("Status", "string", 0), ("Roles", "string", 0), _AGE,
         ("Version", "string", 0), ("Internal-IP", "string", 1), ("External-IP", "string", 1),
         ("OS-Image", "string", 1), ("Kernel-Version", "string", 1),
         ("Container-Runtime", "string", 1)],
        _node_row,
    ),
    "leases.coordination.k8s.io": ([_NAME, ("Holder", "string", 0), _AGE], _lease_row),
    # Served for `kubectl apply --prune` to list, never stored: there is never a row to print.
    **{
        key: ([_NAME, _AGE], _default_row)
        for key in ("persistentvolumeclaims", "persistentvolumes", "ingresses.networking.k8s.io")
    },
    "customresourcedefinitions.apiextensions.k8s.io": (
        [_NAME, ("Created At", "date", 0)], _created_at_row,
    ),
}  # fmt: skip


def _custom_columns(key: str, version: str) -> list[dict[str, Any]]:
    """A CRD's columns, as apiextensions' tableconvertor declares them: Name, then its
    additionalPrinterColumns."""
    name = {"name": "Name", "type": "string", "format": "name", "priority": 0}
    return [{**name, "description": crds.NAME_DESCRIPTION}] + [
        {
            "name": c.name,
            "type": c.type,
            "format": c.format,
            "description": c.description,
            "priority": c.priority,
        }
        for c in crds.printer_columns(key, version)
    ]


def _custom_cell(column: crds.PrinterColumn, value: object, now: datetime) -> Cell:
    """The tableconvertor's cell: nil for a missing value, a `string` column's value as
    JSONPath prints it, a `date` column's age, an `integer` column's number."""
    if value is None:
        return None
    if column.type == "date":
        return age(value, now)
    if column.type == "integer" and isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


def _custom_printer(key: str, version: str) -> Callable[[Object, datetime], list[Cell]]:
    columns = crds.printer_columns(key, version)

    def row(obj: Object, now: datetime) -> list[Cell]:
        cells = [_custom_cell(c, crds.json_path_value(obj, c.json_path), now) for c in columns]
        return [_meta(obj).get("name", ""), *cells]

    return row


@functools.cache
def _custom(key: str) -> tuple[list[dict[str, Any]], Callable[[Object, datetime], list[Cell]]]:
    """A CRD's columns and printer, read from its definition when first asked."""
    version = crds.served_version(key)
    return _custom_columns(key, version), _custom_printer(key, version)


def columns_for(resource_key: str) -> list[dict[str, Any]]:
    if resource_key in crds.resource_keys():
        return _custom(resource_key)[0]
    columns, _ = PRINTERS.get(resource_key, ([_NAME, _AGE], _default_row))
    return [
        {
            "name": name,
            "type": kind,
            "format": "name" if (name, kind, priority) == _NAME else "",
            "description": "",
            "priority": priority,
        }
        for name, kind, priority in columns
    ]


def _row_object(obj: Object, include: str) -> dict[str, Any] | None:
    if include == "None":
        return None
    if include == "Object":
        return dict(obj)
    return {
        "kind": "PartialObjectMetadata",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": dict(_meta(obj)),
    }


def table(
    resource_key: str,
    objects: Sequence[Object],
    resource_version: str | None,
    *,
    include_object: str = "Metadata",
    with_columns: bool = True,
    now: datetime | None = None,
) -> dict[str, Any]:
    """A Table of `objects`; `include_object` is the query's Metadata, Object or None."""
    now = now or datetime.now(UTC)
    if resource_key in crds.resource_keys():
        printer = _custom(resource_key)[1]
    else:
        _, printer = PRINTERS.get(resource_key, ([_NAME, _AGE], _default_row))
    rows = []
    for obj in objects:
        row: dict[str, Any] = {"cells": printer(obj, now)}
        row_object = _row_object(obj, include_object)
        if row_object is not None:
            row["object"] = row_object
        rows.append(row)
    metadata: dict[str, Any] = {}
    if resource_version is not None:
        metadata["resourceVersion"] = resource_version
    return {
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": metadata,
        "columnDefinitions": columns_for(resource_key) if with_columns else [],
        "rows": rows,
    }
