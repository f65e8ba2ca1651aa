"""The controllers, as pure reconcile functions over Kubernetes JSON dicts.

No I/O, no store, no clock: each function takes the objects it needs and the time, and returns
`Action`s (`Create`, `Update`, `UpdateStatus`, `Delete`) for the server to apply through its
ordinary write path. Modules: `deployments`, `replicasets`, `daemonsets`, `statefulsets`, `jobs`
and `cronjobs` (the workload controllers; `daemonpods`, `daemonupdate` and `nodefit` are the
DaemonSet's parts, `statefulpods` the StatefulSet's, `revisions` the ControllerRevision history
of both, `jobspec` and `jobpods` the Job's, `cronschedule` the CronJob's),
`pods` and `podstatus` (defaults, scheduling and the kubelet's status), `services` and
`endpoints` (ClusterIPs, Endpoints, EndpointSlices), `garbage` (cascading deletion), `events`
(Event objects), with `naming`, `meta`, `qos` and `deploymentutil` as their helpers.

A layer of its own, below both the API server (whose loops run these functions) and the node
agent (whose sandbox kubelet writes pod statuses and Events with them); it imports only the model
(and croniter, for schedules).
"""

from podwall.controllers.actions import Action, Create, Delete, Obj, Update, UpdateStatus
from podwall.controllers.daemonpods import prepare_daemonset
from podwall.controllers.daemonsets import reconcile_daemonset
from podwall.controllers.deployments import default_deployment, reconcile_deployment
from podwall.controllers.endpoints import (
    ServiceEndpoints,
    endpoint_actions,
    forget_service,
    reconcile_endpoints,
)
from podwall.controllers.events import record
from podwall.controllers.garbage import collect, orphan, resource_of
from podwall.controllers.pods import default_pod, schedule_pod
from podwall.controllers.podstatus import (
    pod_pending,
    pod_restarted,
    pod_running,
    pod_terminated,
    pod_waiting,
)
from podwall.controllers.replicasets import default_replicaset, reconcile_replicaset
from podwall.controllers.services import (
    ClusterIPError,
    default_service,
    keep_allocation,
    kube_dns_service,
    kubernetes_endpoints,
    kubernetes_endpointslice,
    kubernetes_service,
)

__all__ = [
    "Action",
    "ClusterIPError",
    "Create",
    "Delete",
    "Obj",
    "ServiceEndpoints",
    "Update",
    "UpdateStatus",
    "collect",
    "default_deployment",
    "default_pod",
    "default_replicaset",
    "default_service",
    "endpoint_actions",
    "forget_service",
    "keep_allocation",
    "kube_dns_service",
    "kubernetes_endpoints",
    "kubernetes_endpointslice",
    "kubernetes_service",
    "orphan",
    "pod_pending",
    "pod_restarted",
    "pod_running",
    "pod_terminated",
    "pod_waiting",
    "prepare_daemonset",
    "reconcile_daemonset",
    "reconcile_deployment",
    "reconcile_endpoints",
    "reconcile_replicaset",
    "record",
    "resource_of",
    "schedule_pod",
]
