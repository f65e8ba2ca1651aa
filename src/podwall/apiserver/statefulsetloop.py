"""The StatefulSet controller as a client-go controller: keys are (namespace, name) of sets.

| a change to…                         | queues                                     |
|--------------------------------------|--------------------------------------------|
| a StatefulSet                        | it                                         |
| a pod or a ControllerRevision        | its controlling StatefulSet (old and new)  |

A sync reads the set, and the pods and ControllerRevisions it controls (by controller uid),
runs `reconcile_statefulset` and has its actions written; when a ready pod waits out
minReadySeconds, the key comes back after it. Handlers run in the thread that delivers the
Store's events: they only read caches and queue.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from podwall.apiserver.informers import Informers, Key, key_of
from podwall.apiserver.loops import CONTROLLER, PodOwner, controller_index
from podwall.apiserver.store import Object
from podwall.controllers import UpdateStatus
from podwall.controllers.meta import meta, namespace_of, uid_of
from podwall.controllers.revisions import RESOURCE as REVISIONS
from podwall.controllers.statefulsets import reconcile_statefulset, resync_after

STATEFULSETS = "statefulsets.apps"


def _statefulset_of(obj: Mapping[str, Any] | None) -> Key | None:
    """The StatefulSet controlling a pod or a ControllerRevision."""
    for ref in meta(obj or {}).get("ownerReferences") or ():
        if ref.get("controller") and ref.get("kind") == "StatefulSet":
            return namespace_of(obj or {}), str(ref.get("name", ""))
    return None


class StatefulSetController(PodOwner):
    """syncStatefulSet per key; pod and revision changes reach the set that controls them."""

    name = "statefulset"

    def watch(self, informers: Informers) -> None:
        self.statefulsets = informers.informer(STATEFULSETS)
        self.pods = informers.informer("pods")
        self.revisions = informers.informer(REVISIONS)
        self.pods.add_index(CONTROLLER, controller_index)
        self.revisions.add_index(CONTROLLER, controller_index)
        self.statefulsets.add_handler(self._statefulset_changed)
        self.pods.add_handler(self._owned_changed)
        self.revisions.add_handler(self._owned_changed)

    def _statefulset_changed(self, old: Object | None, new: Object | None) -> None:
        self.queue.add(key_of(new or old or {}))

    def _owned_changed(self, old: Object | None, new: Object | None) -> None:
        for obj in (old, new):
            owner = _statefulset_of(obj)
            if owner is not None:
                self.queue.add(owner)

    def sync(self, key: Key) -> int:
        sts = self.statefulsets.get(*key)
        if sts is None:
            return 0  # its pods and revisions are the garbage collector's
        pods = self.pods.by_index(CONTROLLER, uid_of(sts))
        history = self.revisions.by_index(CONTROLLER, uid_of(sts))
        actions = reconcile_statefulset(sts, pods, history, self.clock())
        written = self.writer.apply(actions, {STATEFULSETS: [sts], REVISIONS: history})
        status = next((a.obj["status"] for a in actions if isinstance(a, UpdateStatus)), None)
        delay = resync_after(sts, status if status is not None else sts.get("status") or {})
        if delay is not None:
            self.queue.add_after(key, delay)
        return written
