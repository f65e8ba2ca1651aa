"""The DaemonSet controller as a client-go controller: keys are (namespace, name) of DaemonSets.

| a change to…                                  | queues                                      |
|-----------------------------------------------|---------------------------------------------|
| a DaemonSet                                   | it                                          |
| a pod or a ControllerRevision                 | its controlling DaemonSet (old and new)     |
| a Node added or deleted                       | every DaemonSet                             |
| a Node's labels, taints, name, cordon or      | the DaemonSets for which whether the node   |
| conditions' statuses (not its heartbeats)     | should run or keep a pod changed            |

As upstream's `addNode`/`updateNode`/`deleteNode`: a node change is weighed against the
DaemonSets (few, against many pods), never a pass over pods. A sync reads the DaemonSet, the
Nodes and the pods and ControllerRevisions it controls (by controller uid), runs
`reconcile_daemonset` and has its actions written; when a ready pod waits out
minReadySeconds, the key comes back after it.
Handlers run in the thread that delivers the Store's events: they only read caches and queue.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from typing import Any

from podwall.apiserver.informers import Informers, Key, key_of
from podwall.apiserver.loops import CONTROLLER, PodOwner, controller_index
from podwall.apiserver.store import Object
from podwall.controllers import UpdateStatus
from podwall.controllers.daemonpods import node_should_run
from podwall.controllers.daemonsets import reconcile_daemonset, resync_after
from podwall.controllers.meta import meta, namespace_of, uid_of
from podwall.controllers.revisions import RESOURCE as REVISIONS

DAEMONSETS = "daemonsets.apps"
ALL = "all"


def _all_index(obj: Mapping[str, Any]) -> Iterable[Hashable]:
    return ("",)


def _daemonset_of(pod: Mapping[str, Any] | None) -> Key | None:
    """The DaemonSet controlling a pod or a ControllerRevision."""
    for ref in meta(pod or {}).get("ownerReferences") or ():
        if ref.get("controller") and ref.get("kind") == "DaemonSet":
            return namespace_of(pod or {}), str(ref.get("name", ""))
    return None


def node_view(node: Mapping[str, Any]) -> tuple[Any, ...]:
    """What of a Node can change where daemon pods go (shouldIgnoreNodeUpdate's complement):
    its metadata but the resourceVersion, its spec, its conditions' types and statuses."""
    metadata = {
        k: v for k, v in meta(node).items() if k not in ("resourceVersion", "managedFields")
    }
    conditions = sorted(
        (str(c.get("type")), str(c.get("status")))
        for c in (node.get("status") or {}).get("conditions") or ()
    )
    return metadata, node.get("spec"), conditions


class DaemonSetController(PodOwner):
    """syncDaemonSet per key; pod changes reach their DaemonSet, node changes the DaemonSets
    they concern."""

    name = "daemonset"

    def watch(self, informers: Informers) -> None:
        self.daemonsets = informers.informer(DAEMONSETS)
        self.nodes = informers.informer("nodes")
        self.pods = informers.informer("pods")
        self.revisions = informers.informer(REVISIONS)
        self.daemonsets.add_index(ALL, _all_index)
        self.nodes.add_index(ALL, _all_index)
        self.pods.add_index(CONTROLLER, controller_index)
        self.revisions.add_index(CONTROLLER, controller_index)
        self.daemonsets.add_handler(self._daemonset_changed)
        self.pods.add_handler(self._pod_changed)
        self.revisions.add_handler(self._pod_changed)
        self.nodes.add_handler(self._node_changed)

    def _daemonset_changed(self, old: Object | None, new: Object | None) -> None:
        self.queue.add(key_of(new or old or {}))

    def _pod_changed(self, old: Object | None, new: Object | None) -> None:
        for pod in (old, new):
            owner = _daemonset_of(pod)
            if owner is not None:
                self.queue.add(owner)

    def _node_changed(self, old: Object | None, new: Object | None) -> None:
        if old is not None and new is not None and node_view(old) == node_view(new):
            return  # a heartbeat: nothing daemon pods depend on
        for ds in self.daemonsets.by_index(ALL, ""):
            if old is None or new is None or node_should_run(ds, old) != node_should_run(ds, new):
                self.queue.add(key_of(ds))

    def sync(self, key: Key) -> int:
        ds = self.daemonsets.get(*key)
        if ds is None:
            return 0  # its pods are the garbage collector's
        nodes = self.nodes.by_index(ALL, "")
        pods = self.pods.by_index(CONTROLLER, uid_of(ds))
        taken = self.pods.names_in(key[0])
        history = self.revisions.by_index(CONTROLLER, uid_of(ds))
        actions = reconcile_daemonset(ds, nodes, pods, self.clock(), self.rng, taken, history)
        written = self.writer.apply(actions, {DAEMONSETS: [ds], REVISIONS: history})
        status = next((a.obj["status"] for a in actions if isinstance(a, UpdateStatus)), None)
        delay = resync_after(ds, status if status is not None else ds.get("status") or {})
        if delay is not None:
            self.queue.add_after(key, delay)
        return written
