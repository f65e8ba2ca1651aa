"""The controller loop of a running cluster: the pure controllers hooked into the Store.

After every committed change to a workload, a pod, a Service or its endpoints, the namespace
of that change is reconciled to a fixpoint, in the Store's listener thread and before the API
answers (`Store.on_commit`): Deployments first, then ReplicaSets, then every Service's Endpoints and
EndpointSlices, until no controller has anything left to do. So `kubectl apply -f app.yaml`
returns with its Deployments' ReplicaSets and Pods stored and its Services' endpoints written.

The actions go through the Store's ordinary write path (`Create`: create; `Update`: everything
but status; `UpdateStatus`: status only; `Delete`: delete, then the garbage collector on what
the deleted object owned). Events are recorded with `events.record`, so repeats are counted.

One reconcile runs at a time (a lock); a write made by the loop itself only marks its namespace
dirty for the running loop, so the recursion of `on_commit` never nests reconciles.
"""

from __future__ import annotations

import contextlib
import logging
import random
import threading
from collections.abc import Callable
from datetime import UTC, datetime

from podwall.apiserver import errors
from podwall.apiserver.controllers import (
    Action,
    Create,
    Delete,
    UpdateStatus,
    collect,
    endpoint_actions,
    forget_service,
    reconcile_deployment,
    reconcile_endpoints,
    reconcile_replicaset,
    record,
    resource_of,
)
from podwall.apiserver.controllers.meta import meta
from podwall.apiserver.resources import RESOURCES, by_key
from podwall.apiserver.store import DELETED, Object, Store, WatchEvent

log = logging.getLogger(__name__)

WATCHED = frozenset(
    {
        "deployments.apps",
        "replicasets.apps",
        "pods",
        "services",
        "endpoints",
        "endpointslices.discovery.k8s.io",
    }
)
SLICES = "endpointslices.discovery.k8s.io"
MAX_ROUNDS = 100
Clock = Callable[[], datetime]


def _now() -> datetime:
    return datetime.now(UTC)


class Reconciler:
    """Runs the controllers over one Store. `install()` hooks in and settles every namespace."""

    def __init__(
        self, store: Store, *, clock: Clock = _now, rng: random.Random | None = None
    ) -> None:
        self.store = store
        self.clock = clock
        self.rng = rng or random.Random()
        self._lock = threading.RLock()
        self._dirty_lock = threading.Lock()
        self._dirty: set[str] = set()
        self._pending: list[Action] = []
        self._local = threading.local()
        self._undo: Callable[[], None] | None = None

    def install(self) -> None:
        self._undo = self.store.on_commit(self._on_commit)
        namespaces, _ = self.store.list("namespaces")
        with self._dirty_lock:
            self._dirty.update(meta(ns)["name"] for ns in namespaces)
        self._drain()

    def remove(self) -> None:
        if self._undo is not None:
            self._undo()
            self._undo = None

    # -- the loop ------------------------------------------------------------------------

    def _on_commit(self, resource: str, event: WatchEvent) -> None:
        if resource not in WATCHED:
            return
        namespace = str(meta(event.object).get("namespace") or "")
        with self._dirty_lock:
            if resource == "services" and event.type == DELETED:
                self._pending += forget_service(event.object)
            self._dirty.add(namespace)
        if getattr(self._local, "active", False):
            return  # the loop below, further up this thread's stack, picks it up
        self._drain(wait=False)

    def _drain(self, wait: bool = True) -> None:
        """Reconcile until nothing is dirty. Without `wait` (the Store's listener thread) it
        leaves the work to a thread already reconciling: that thread may be waiting for this
        one to deliver its own writes, and it checks for dirty namespaces after it is done."""
        while True:
            if not self._lock.acquire(blocking=wait):
                return
            self._local.active = True
            try:
                self._drain_locked()
            finally:
                self._local.active = False
                self._lock.release()
            with self._dirty_lock:
                if not self._pending and not self._dirty:
                    return

    def _drain_locked(self) -> None:
        while True:
            with self._dirty_lock:
                pending, self._pending = self._pending, []
                if not pending and not self._dirty:
                    return
                namespace = self._dirty.pop() if self._dirty else None
            for action in pending:
                self.apply(action)
            if namespace is not None:
                self.settle(namespace)

    def settle(self, namespace: str) -> int:
        """Reconcile `namespace` until nothing is left to do; the number of rounds it took."""
        for rounds in range(MAX_ROUNDS):
            actions = self.reconcile_once(namespace)
            if not actions:
                return rounds
            for action in actions:
                self.apply(action)
        log.error("controllers did not settle namespace=%s rounds=%d", namespace, MAX_ROUNDS)
        return MAX_ROUNDS

    def reconcile_once(self, namespace: str) -> list[Action]:
        """One round, in the order upstream's controllers converge fastest."""
        now = self.clock()
        pods = self._items("pods", namespace)
        rss = self._items("replicasets.apps", namespace)
        actions: list[Action] = []
        for deploy in self._items("deployments.apps", namespace):
            actions += reconcile_deployment(deploy, rss, pods, now)
        if actions:
            return actions
        for rs in rss:
            actions += reconcile_replicaset(rs, pods, now, self.rng)
        if actions:
            return actions
        endpoints = {meta(e)["name"]: e for e in self._items("endpoints", namespace)}
        slices = self._items(SLICES, namespace)
        for service in self._items("services", namespace):
            desired = reconcile_endpoints(service, pods)
            if desired is not None:
                stored = endpoints.get(meta(service)["name"])
                actions += endpoint_actions(desired, stored, slices)
        return actions

    def _items(self, resource: str, namespace: str) -> list[Object]:
        items, _ = self.store.list(resource, namespace)
        return items

    # -- the write path ------------------------------------------------------------------

    def apply(self, action: Action) -> None:
        """Write one action through the Store; a conflict with a concurrent write is logged."""
        try:
            self._apply(action)
        except errors.ApiError as exc:
            log.warning("controller action failed action=%s error=%s", _describe(action), exc)

    def _apply(self, action: Action) -> None:
        if isinstance(action, Delete):
            self._delete(action)
            return
        obj = action.obj
        resource = resource_of(obj)
        if isinstance(action, Create) and resource == "events":
            write_event(self.store, obj)
            return
        if isinstance(action, Create):
            self.store.create(resource, obj)
        elif isinstance(action, UpdateStatus):
            status = obj.get("status") or {}
            m = meta(obj)
            self.store.mutate(
                resource,
                str(m.get("namespace") or ""),
                m["name"],
                lambda cur: {**cur, "status": status},
            )
        else:
            preserve = ("status",) if by_key(resource).subresource("status") else ()
            self.store.update(resource, obj, preserve=preserve)

    def _delete(self, action: Delete) -> None:
        with contextlib.suppress(errors.NotFoundError):
            gone = self.store.delete(action.resource, action.namespace, action.name)
            self.collect(str(meta(gone).get("uid") or ""), action.namespace)

    def collect(self, owner_uid: str, namespace: str) -> None:
        """The garbage collector after a deletion: what the owner alone owned goes too."""
        if not owner_uid:
            return
        objects: list[Object] = []
        for resource in RESOURCES:
            if resource.namespaced:
                objects += self._items(resource.key, namespace)
        for follow in collect(owner_uid, objects):
            self.apply(follow)


def write_event(store: Store, event: Object) -> None:
    """Store an Event, or count it on the stored one it repeats (`events.record`)."""
    existing, _ = store.list("events", str(meta(event).get("namespace") or ""))
    action = record(event, existing)
    if isinstance(action, Create):
        store.create("events", action.obj)
    else:
        store.update("events", action.obj)


def _describe(action: Action) -> str:
    if isinstance(action, Delete):
        return f"Delete {action.resource} {action.namespace}/{action.name}"
    m = meta(action.obj)
    return f"{type(action).__name__} {action.obj.get('kind')} {m.get('namespace')}/{m.get('name')}"
