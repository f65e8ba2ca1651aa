"""The Deployment, ReplicaSet and endpoints controllers as client-go controllers.

Each is a queue of keys (namespace, name), informer handlers that say which keys a change
concerns, and a sync that reads only what its key needs from the informers' indexes, runs the
pure controller (`reconcile_deployment`, `reconcile_replicaset`, `reconcile_endpoints` and
`endpoint_actions`) and has its actions written (`writes.Writer`):

| controller  | a change to…                  | queues                                       |
|-------------|-------------------------------|----------------------------------------------|
| deployment  | a Deployment                  | it                                           |
|             | a ReplicaSet                  | its controlling Deployment (old and new)     |
|             | a pod, deleted                | its ReplicaSet's Deployment (Recreate waits) |
| replicaset  | a ReplicaSet                  | it                                           |
|             | a pod                         | its controlling ReplicaSet (old and new)     |
| endpoints   | a Service                     | it                                           |
|             | a pod, in what endpoints hold | the Services of its namespace whose selector |
|             | of it (`endpoint_view`)       | matches its old or its new labels            |
|             | an Endpoints or EndpointSlice | its Service, while there is one              |

The replicationcontroller controller is the replicaset one over ReplicationControllers.
A sync reads: the Deployment, the ReplicaSets it controls (by controller uid) and, for Recreate,
their pods; the ReplicaSet and the pods it controls; the Service, the pods its selector picks (by
namespace and label), its Endpoints and its EndpointSlices (by service name). Never a namespace.
Handlers run in the thread that delivers the Store's events: they only read the caches and queue.
"""

from __future__ import annotations

import random
from collections.abc import Hashable, Iterable, Mapping
from typing import Any, Protocol

from podwall.apiserver.informers import Handler, Informers, Key, key_of
from podwall.apiserver.store import Object
from podwall.apiserver.workqueue import WorkQueue
from podwall.apiserver.writes import Writer
from podwall.clock import Clock
from podwall.controllers import (
    Action,
    endpoint_actions,
    forget_service,
    reconcile_deployment,
    reconcile_endpoints,
    reconcile_replicaset,
)
from podwall.controllers.endpoints import (
    MANAGED_BY,
    MANAGED_BY_LABEL,
    SERVICE_NAME_LABEL,
    endpoint_view,
)
from podwall.controllers.meta import (
    controller_uid,
    labels_of,
    meta,
    namespace_of,
    uid_of,
)
from podwall.model.labels import LabelSelector

CONTROLLER, NAMESPACE, LABEL, SERVICE = "controller", "namespace", "label", "service"
SLICES = "endpointslices.discovery.k8s.io"


class Controller(Protocol):
    """What the controller manager runs: a named queue, and a sync for each of its keys."""

    name: str
    queue: WorkQueue[Any]

    def sync(self, key: Any) -> int:
        """Bring `key` in line; the highest resourceVersion written (0: none)."""
        ...


def controlling(obj: Mapping[str, Any] | None, kind: str) -> Key | None:
    """(namespace, name) of the `kind` controlling `obj` (its controller ownerReference)."""
    if obj is None:
        return None
    for ref in meta(obj).get("ownerReferences") or ():
        if ref.get("controller") and ref.get("kind") == kind:
            return namespace_of(obj), str(ref.get("name", ""))
    return None


def enqueue_itself(queue: WorkQueue[Key]) -> Handler:
    """A handler that queues the changed object's own key."""

    def changed(old: Object | None, new: Object | None) -> None:
        queue.add(key_of(new or old or {}))

    return changed


def enqueue_controller(queue: WorkQueue[Key], kind: str) -> Handler:
    """A handler that queues the `kind` controlling the object, before and after the change."""

    def changed(old: Object | None, new: Object | None) -> None:
        for obj in (old, new):
            owner = controlling(obj, kind)
            if owner is not None:
                queue.add(owner)

    return changed


def controller_index(obj: Mapping[str, Any]) -> Iterable[Hashable]:
    """The uid of the object's controller: the index every pod-owning controller reads."""
    uid = controller_uid(obj)
    return (uid,) if uid else ()


def _namespace_index(obj: Mapping[str, Any]) -> Iterable[Hashable]:
    return (namespace_of(obj),)


def _label_index(obj: Mapping[str, Any]) -> Iterable[Hashable]:
    namespace = namespace_of(obj)
    return [(namespace, key, value) for key, value in labels_of(obj).items()]


def _service_index(obj: Mapping[str, Any]) -> Iterable[Hashable]:
    labels = labels_of(obj)
    if labels.get(MANAGED_BY_LABEL) != MANAGED_BY or SERVICE_NAME_LABEL not in labels:
        return ()
    return ((namespace_of(obj), labels[SERVICE_NAME_LABEL]),)


class DeploymentController:
    """syncDeployment per key; ReplicaSet changes reach their Deployment."""

    name = "deployment"

    def __init__(
        self, informers: Informers, writer: Writer, queue: WorkQueue[Key], clock: Clock
    ) -> None:
        self.queue, self.writer, self.clock = queue, writer, clock
        self.deployments = informers.informer("deployments.apps")
        self.replicasets = informers.informer("replicasets.apps")
        self.pods = informers.informer("pods")
        self.replicasets.add_index(CONTROLLER, controller_index)
        self.pods.add_index(CONTROLLER, controller_index)
        self.deployments.add_handler(enqueue_itself(queue))
        self.replicasets.add_handler(enqueue_controller(queue, "Deployment"))
        self.pods.add_handler(self._pod_changed)

    def _pod_changed(self, old: Object | None, new: Object | None) -> None:
        owner = controlling(old, "ReplicaSet") if new is None else None
        if owner is None:
            return
        rs = self.replicasets.get(*owner)
        deployment = controlling(rs, "Deployment")
        if deployment is not None:
            self.queue.add(deployment)

    def sync(self, key: Key) -> int:
        deploy = self.deployments.get(*key)
        if deploy is None:
            return 0
        rss = self.replicasets.by_index(CONTROLLER, uid_of(deploy))
        pods: list[Object] = []
        if ((deploy.get("spec") or {}).get("strategy") or {}).get("type") == "Recreate":
            pods = [p for rs in rss for p in self.pods.by_index(CONTROLLER, uid_of(rs))]
        taken = self.replicasets.names_in(key[0])
        actions = reconcile_deployment(deploy, rss, pods, self.clock(), taken)
        return self.writer.apply(actions, {"deployments.apps": [deploy], "replicasets.apps": rss})


class PodOwner:
    """A controller that creates pods: it names them at random (`rng`) and stamps them with
    the time (`clock`); `watch` subscribes it to the informers it reads."""

    def __init__(
        self,
        informers: Informers,
        writer: Writer,
        queue: WorkQueue[Key],
        clock: Clock,
        rng: random.Random,
    ) -> None:
        self.queue, self.writer, self.clock, self.rng = queue, writer, clock, rng
        self.watch(informers)

    def watch(self, informers: Informers) -> None:
        raise NotImplementedError


class ReplicaSetController(PodOwner):
    """syncReplicaSet per key; pod changes reach the ReplicaSet that controls them."""

    name = "replicaset"
    kind, resource = "ReplicaSet", "replicasets.apps"  # what it runs: the set and its store key

    def watch(self, informers: Informers) -> None:
        queue = self.queue
        self.replicasets = informers.informer(self.resource)
        self.pods = informers.informer("pods")
        self.pods.add_index(CONTROLLER, controller_index)
        self.replicasets.add_handler(enqueue_itself(queue))
        self.pods.add_handler(enqueue_controller(queue, self.kind))

    def sync(self, key: Key) -> int:
        rs = self.replicasets.get(*key)
        if rs is None:
            return 0  # its pods are the garbage collector's
        pods = self.pods.by_index(CONTROLLER, uid_of(rs))
        taken = self.pods.names_in(key[0])
        actions = reconcile_replicaset(rs, pods, self.clock(), self.rng, taken)
        # A pod released is written as read: a kubelet's change meanwhile is a conflict.
        return self.writer.apply(actions, {self.resource: [rs], "pods": pods})


class ReplicationManager(ReplicaSetController):
    """The same sync over ReplicationControllers, as upstream's ReplicationManager is the
    ReplicaSet controller run over them (pkg/controller/replication)."""

    name = "replicationcontroller"
    kind, resource = "ReplicationController", "replicationcontrollers"


class EndpointsController:
    """Endpoints and EndpointSlices per Service; pod changes reach the Services they match."""

    name = "endpoints"

    def __init__(self, informers: Informers, writer: Writer, queue: WorkQueue[Key]) -> None:
        self.queue, self.writer = queue, writer
        self.services = informers.informer("services")
        self.pods = informers.informer("pods")
        self.endpoints = informers.informer("endpoints")
        self.slices = informers.informer(SLICES)
        self.services.add_index(NAMESPACE, _namespace_index)
        self.pods.add_index(NAMESPACE, _namespace_index)
        self.pods.add_index(LABEL, _label_index)
        self.slices.add_index(SERVICE, _service_index)
        self.services.add_handler(enqueue_itself(queue))
        self.pods.add_handler(self._pod_changed)
        self.endpoints.add_handler(self._endpoints_changed)
        self.slices.add_handler(self._slice_changed)

    def _pod_changed(self, old: Object | None, new: Object | None) -> None:
        if endpoint_view(old) == endpoint_view(new):
            return  # nothing endpoints hold changed (a pod without an IP yet, say)
        pods = [p for p in (old, new) if p is not None]
        for service in self.services.by_index(NAMESPACE, namespace_of(pods[0])):
            selector = (service.get("spec") or {}).get("selector")
            if selector is None:
                continue
            chosen = LabelSelector.from_set(selector)
            if any(chosen.matches(labels_of(p)) for p in pods):
                self.queue.add(key_of(service))

    def _endpoints_changed(self, old: Object | None, new: Object | None) -> None:
        key = key_of(new or old or {})
        if self.services.has(*key):
            self.queue.add(key)

    def _slice_changed(self, old: Object | None, new: Object | None) -> None:
        for obj in (old, new):
            for key in _service_index(obj or {}):
                assert isinstance(key, tuple)
                if self.services.has(*key):
                    self.queue.add(key)

    def selected(self, namespace: str, selector: Mapping[str, str]) -> list[Object]:
        """The pods of `namespace` with every label of `selector` (all of them for `{}`)."""
        if not selector:
            return self.pods.by_index(NAMESPACE, namespace)
        return self.pods.matching(LABEL, [(namespace, k, v) for k, v in selector.items()])

    def sync(self, key: Key) -> int:
        service = self.services.get(*key)
        if service is None:
            gone = self.endpoints.get(*key)
            return self.writer.apply(forget_service(gone) if gone is not None else [])
        selector = (service.get("spec") or {}).get("selector")
        if selector is None:
            return 0  # endpoints managed by someone else, as upstream
        desired = reconcile_endpoints(service, self.selected(key[0], selector))
        if desired is None:
            return 0
        slices = self.slices.by_index(SERVICE, key)
        stored = self.endpoints.get(*key)
        actions: list[Action] = endpoint_actions(desired, stored, slices)
        return self.writer.apply(actions, {"endpoints": [stored] if stored else [], SLICES: slices})
