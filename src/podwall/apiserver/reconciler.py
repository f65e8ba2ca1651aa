"""The controller manager of a running cluster: informers, queues and a worker per controller.

As kube-controller-manager runs client-go controllers: one set of informers (`informers`) is
kept from `Store.on_commit`; each controller (`loops`: deployment, replicaset,
replicationcontroller, endpoints;
`daemonsetloop`: a pod per eligible node; `statefulsetloop`: pods `<set>-<ordinal>` in order;
`jobloop`: pods run to completion; `cronjobloop`: Jobs on a schedule; `collector`: the garbage
collector; `serviceaccountloop`: a `default` ServiceAccount per namespace;
`clusterroleaggregationloop`: the rules of aggregated ClusterRoles) has its handlers queue the
keys a change concerns, and a worker thread takes keys one at a time and syncs them.
A sync reads only what its key needs from the indexes and writes through the Store (`writes`);
then the worker waits until the caches hold what it wrote (`Informers.wait_for`), so its next
sync never starts from less (what upstream's expectations are for). A write the Store refuses
(a conflict, a name taken) retries the key after a back-off (`WorkQueue.add_rate_limited`).

Writes do not wait for the controllers: `kubectl apply -f app.yaml` returns once the
Deployment is stored, and its ReplicaSet and pods follow within milliseconds, as on a real
cluster. `wait_idle()` tells when every queue is empty and every change is in the caches (the
start-up pass of `podwall up`, and tests).

`install()` starts the informers (a list of what exists: every Deployment, ReplicaSet and Service
is queued, as an informer's first list adds them) and the workers; `remove()` stops both.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from podwall.apiserver import errors
from podwall.apiserver.clusterroleaggregationloop import ClusterRoleAggregationController
from podwall.apiserver.collector import GarbageCollector
from podwall.apiserver.cronjobloop import CronJobController
from podwall.apiserver.daemonsetloop import DaemonSetController
from podwall.apiserver.informers import Informers
from podwall.apiserver.jobloop import JobController
from podwall.apiserver.loops import (
    Controller,
    DeploymentController,
    EndpointsController,
    ReplicaSetController,
    ReplicationManager,
)
from podwall.apiserver.recorder import recorder_for, write_event
from podwall.apiserver.serviceaccountloop import ServiceAccountController
from podwall.apiserver.statefulsetloop import StatefulSetController
from podwall.apiserver.store import Store
from podwall.apiserver.workqueue import WorkQueue
from podwall.apiserver.writes import Writer
from podwall.clock import Clock, utc_now

__all__ = ["CONTROLLERS", "Reconciler", "write_event"]

log = logging.getLogger(__name__)

CONTROLLERS = (
    "deployment",
    "replicaset",
    "replicationcontroller",
    "daemonset",
    "statefulset",
    "job",
    "cronjob",
    "endpoints",
    "garbagecollector",
    "serviceaccount",
    "clusterrole-aggregation",
)
POLL_SECONDS = 0.5


class Reconciler:
    """Runs the controllers over one Store. `install()`, then `remove()`."""

    def __init__(
        self,
        store: Store,
        *,
        clock: Clock = utc_now,
        rng: random.Random | None = None,
        controllers: Iterable[str] = CONTROLLERS,
    ) -> None:
        self.store = store
        self.informers = Informers(store)
        self.writer = Writer(store, recorder_for(store))
        self._activity = threading.Condition()
        self._changes = 0  # counts notifications, so a wait never misses one
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        rng = rng or random.Random()
        makers: dict[str, Callable[[WorkQueue[Any]], Controller]] = {
            "deployment": lambda q: DeploymentController(self.informers, self.writer, q, clock),
            "replicaset": lambda q: ReplicaSetController(
                self.informers, self.writer, q, clock, rng
            ),
            "replicationcontroller": lambda q: ReplicationManager(
                self.informers, self.writer, q, clock, rng
            ),
            "daemonset": lambda q: DaemonSetController(self.informers, self.writer, q, clock, rng),
            "statefulset": lambda q: StatefulSetController(
                self.informers, self.writer, q, clock, rng
            ),
            "job": lambda q: JobController(self.informers, self.writer, q, clock, rng),
            "cronjob": lambda q: CronJobController(self.informers, self.writer, q, clock),
            "endpoints": lambda q: EndpointsController(self.informers, self.writer, q),
            "garbagecollector": lambda q: GarbageCollector(store, self.informers, q),
            "serviceaccount": lambda q: ServiceAccountController(self.informers, self.writer, q),
            "clusterrole-aggregation": lambda q: ClusterRoleAggregationController(
                self.informers, self.writer, q
            ),
        }
        wanted = set(controllers)
        if wanted - makers.keys():
            raise ValueError(f"unknown controllers: {sorted(wanted - makers.keys())}")
        self.controllers: list[Controller] = [
            makers[name](WorkQueue(name, on_change=self._notify))
            for name in CONTROLLERS
            if name in wanted
        ]
        self.informers.on_applied(self._notify)

    # -- lifecycle ---------------------------------------------------------------------------

    def install(self, *, workers: bool = True) -> None:
        """Start the informers (the start-up pass queues what exists), then the workers.

        Without workers nothing syncs but `step()`, in the caller's thread (tests that count).
        """
        self.informers.start()
        if not workers:
            return
        for controller in self.controllers:
            thread = threading.Thread(
                target=self._work, args=(controller,), name=f"podwall-{controller.name}",
                daemon=True,
            )  # fmt: skip
            thread.start()
            self._threads.append(thread)

    def remove(self) -> None:
        """Stop following the Store and stop the workers (each finishes its current key)."""
        self._stopping.set()
        for controller in self.controllers:
            controller.queue.shut_down()
        self.informers.stop()
        for thread in self._threads:
            thread.join(timeout=10)
        self._threads = []

    # -- the workers -------------------------------------------------------------------------

    def _work(self, controller: Controller) -> None:
        while not self._stopping.is_set():
            key = controller.queue.get(POLL_SECONDS)
            if key is not None:
                self._process(controller, key)

    def step(self) -> int:
        """Sync every key that is due, in this thread, until none is; how many were synced."""
        synced = 0
        progress = True
        while progress:
            progress = False
            for controller in self.controllers:
                while (key := controller.queue.get(timeout=0)) is not None:
                    self._process(controller, key)
                    synced += 1
                    progress = True
        return synced

    def _process(self, controller: Controller, key: Any) -> None:
        queue = controller.queue
        try:
            written = controller.sync(key)
            if written:
                self.informers.wait_for(written)
            queue.forget(key)
        except errors.ApiError as exc:
            self._retry(controller, key, exc)
        except Exception as exc:
            log.exception("controller sync failed controller=%s key=%s", controller.name, key)
            self._retry(controller, key, exc)
        finally:
            queue.done(key)

    def _retry(self, controller: Controller, key: Any, exc: Exception) -> None:
        if controller.queue.add_rate_limited(key):
            # A conflict or a name taken is a cache behind a write: routine, as upstream.
            routine = isinstance(exc, errors.ConflictError | errors.AlreadyExistsError)
            log.log(
                logging.DEBUG if routine else logging.INFO,
                "controller retries controller=%s key=%s error=%s", controller.name, key, exc,
            )  # fmt: skip
        else:
            log.warning(
                "controller dropped controller=%s key=%s error=%s", controller.name, key, exc
            )

    # -- idleness ----------------------------------------------------------------------------

    def _notify(self) -> None:
        with self._activity:
            self._changes += 1
            self._activity.notify_all()

    def idle(self) -> bool:
        """Every queue empty, no sync running, and every committed change in the caches."""
        return all(c.queue.pending() == 0 for c in self.controllers) and self.informers.caught_up()

    def wait_idle(self, timeout: float = 30.0) -> bool:
        """Block until `idle()`; False if it is not within `timeout` seconds.

        `idle()` is checked without the lock held (it asks the Store for its resourceVersion,
        which may wait for a writer that is delivering events to the listeners); a change seen
        meanwhile (`_changes`) makes it check again rather than wait.
        """
        deadline = time.monotonic() + timeout
        while True:
            with self._activity:
                seen = self._changes
            if self.idle():
                return True
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            with self._activity:
                if self._changes == seen:
                    self._activity.wait(min(remaining, POLL_SECONDS))

    @property
    def visited(self) -> int:
        """Objects the controllers have read from the caches so far (handlers and syncs)."""
        return self.informers.reads
