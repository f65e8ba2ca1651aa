"""The scheduler: which node a new pod runs on, and binding pods that waited for one.

A pod that names its node (`spec.nodeName`) keeps it. Any other is placed among the Ready
Node objects that are not cordoned (`spec.unschedulable`) and carry every label of its
`nodeSelector`, preferring, in order:

1. fewest pods of the same owner (a ReplicaSet's replicas spread over the nodes, as the
   default constraint of PodTopologySpread does);
2. a node that already runs a pod with one of the same images (kube-scheduler's
   ImageLocality: the image is there already);
3. fewest pods;
4. the node's name (so the choice never depends on the store's order).

`choose` is pure. `Scheduler` runs it: as mutating admission when a pod is created (the pod is
stored already bound, with `PodScheduled=True`), and after every change to a Node, for the pods
that waited: a pod with no fitting node is stored Pending with `PodScheduled=False`, reason
`Unschedulable`, and is bound when a fitting node appears.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from podwall.apiserver import errors
from podwall.apiserver.controllers.meta import rfc3339
from podwall.apiserver.store import DELETED, Object, Store, WatchEvent

log = logging.getLogger(__name__)

FINISHED = ("Succeeded", "Failed")
Clock = Callable[[], datetime]


def _now() -> datetime:
    return datetime.now(UTC)


def _meta(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    return obj.get("metadata") or {}


def _spec(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    return obj.get("spec") or {}


def node_ready(node: Mapping[str, Any]) -> bool:
    return any(
        c.get("type") == "Ready" and c.get("status") == "True"
        for c in (node.get("status") or {}).get("conditions") or ()
    )


def owner_of(pod: Mapping[str, Any]) -> str | None:
    """The uid of the pod's controller (its ReplicaSet), None for a bare pod."""
    for ref in _meta(pod).get("ownerReferences") or ():
        if ref.get("controller"):
            return str(ref.get("uid") or "") or None
    return None


def images_of(pod: Mapping[str, Any]) -> frozenset[str]:
    return frozenset(str(c.get("image") or "") for c in _spec(pod).get("containers") or ())


def bound_to(pod: Mapping[str, Any]) -> str:
    return str(_spec(pod).get("nodeName") or "")


def active(pod: Mapping[str, Any]) -> bool:
    return (pod.get("status") or {}).get("phase") not in FINISHED


@dataclass(frozen=True, slots=True)
class Verdict:
    """Where the pod goes (None: nowhere), and why not when nowhere."""

    node: str | None
    message: str = ""


def choose(
    pod: Mapping[str, Any], nodes: Iterable[Mapping[str, Any]], pods: Iterable[Mapping[str, Any]]
) -> Verdict:
    """The node for `pod` among `nodes`, given the `pods` already bound (see the docstring)."""
    nodes = list(nodes)
    selector = _spec(pod).get("nodeSelector") or {}
    not_ready = cordoned = unmatched = 0
    fitting = []
    for candidate in nodes:
        labels = _meta(candidate).get("labels") or {}
        if not node_ready(candidate):
            not_ready += 1
        elif _spec(candidate).get("unschedulable"):
            cordoned += 1
        elif any(labels.get(k) != v for k, v in selector.items()):
            unmatched += 1
        else:
            fitting.append(str(_meta(candidate).get("name")))
    if not fitting:
        return Verdict(None, _unschedulable(len(nodes), not_ready, cordoned, unmatched))
    owner, images = owner_of(pod), images_of(pod)
    same_owner = dict.fromkeys(fitting, 0)
    has_image = dict.fromkeys(fitting, False)
    count = dict.fromkeys(fitting, 0)
    for other in pods:
        node = bound_to(other)
        if node not in count or not active(other):
            continue
        count[node] += 1
        if owner is not None and owner_of(other) == owner:
            same_owner[node] += 1
        if images & images_of(other):
            has_image[node] = True
    best = min(fitting, key=lambda n: (same_owner[n], not has_image[n], count[n], n))
    return Verdict(best)


def _unschedulable(total: int, not_ready: int, cordoned: int, unmatched: int) -> str:
    """kube-scheduler's FailedScheduling message, for the reasons podwall checks."""
    if total == 0:
        return "no nodes available to schedule pods"
    reasons = [
        (unmatched, "didn't match Pod's node affinity/selector"),
        (not_ready, "had untolerated taint {node.kubernetes.io/not-ready: }"),
        (cordoned, "were unschedulable"),
    ]
    parts = [f"{n} node(s) {why}" for n, why in reasons if n]
    return f"0/{total} nodes are available: " + ", ".join(parts) + "."


def bind(pod: Mapping[str, Any], node: str, now: datetime) -> Object:
    """The pod bound to `node`: `spec.nodeName`, and `PodScheduled=True`."""
    out: Object = copy.deepcopy(dict(pod))
    out.setdefault("spec", {})["nodeName"] = node
    _condition(out, "True", now)
    return out


def unschedulable(pod: Mapping[str, Any], message: str, now: datetime) -> Object:
    """The pod left Pending: `PodScheduled=False`, reason Unschedulable."""
    out: Object = copy.deepcopy(dict(pod))
    _condition(out, "False", now, reason="Unschedulable", message=message)
    return out


def _condition(pod: Object, status: str, now: datetime, **extra: str) -> None:
    conditions = pod.setdefault("status", {"phase": "Pending"}).setdefault("conditions", [])
    old = next((c for c in conditions if c.get("type") == "PodScheduled"), None)
    if old is not None and old.get("status") == status and old.get("reason") == extra.get("reason"):
        old.update(extra)
        return
    new = {"type": "PodScheduled", "status": status, "lastProbeTime": None}
    new["lastTransitionTime"] = rfc3339(now)
    new.update(extra)
    if old is not None:
        conditions[conditions.index(old)] = new
    else:
        conditions.append(new)


class Scheduler:
    """Places pods on the Store's Nodes: `place` at admission, `install` for the waiting."""

    def __init__(self, store: Store, *, clock: Clock = _now) -> None:
        self.store = store
        self.clock = clock
        self._undo: Callable[[], None] | None = None

    def place(self, pod: Object) -> Object:
        """A new pod, bound to a node or marked Unschedulable."""
        now = self.clock()
        named = bound_to(pod)
        if named:
            return bind(pod, named, now)
        nodes, _ = self.store.list("nodes")
        pods, _ = self.store.list("pods")
        verdict = choose(pod, nodes, pods)
        if verdict.node is None:
            return unschedulable(pod, verdict.message, now)
        return bind(pod, verdict.node, now)

    def install(self) -> None:
        self._undo = self.store.on_commit(self._on_commit)
        self.bind_waiting()

    def remove(self) -> None:
        if self._undo is not None:
            self._undo()
            self._undo = None

    def _on_commit(self, resource: str, event: WatchEvent) -> None:
        if resource == "nodes" and event.type != DELETED and node_ready(event.object):
            self.bind_waiting()

    def bind_waiting(self) -> int:
        """Bind every pod that waits for a node and now has one; how many were bound."""
        waiting, _ = self.store.list("pods", None, lambda p: not bound_to(p) and active(p))
        bound = 0
        for pod in sorted(waiting, key=lambda p: str(_meta(p).get("creationTimestamp") or "")):
            nodes, _ = self.store.list("nodes")
            pods, _ = self.store.list("pods", None, lambda p: bool(bound_to(p)))
            verdict = choose(pod, nodes, pods)
            if verdict.node is None:
                continue
            target = verdict.node
            m = _meta(pod)

            def update(current: Object, uid: object = m.get("uid"), node: str = target) -> Object:
                if _meta(current).get("uid") != uid or bound_to(current):
                    raise errors.conflict("pods", "", str(_meta(current).get("name")))
                return bind(current, node, self.clock())

            try:
                self.store.mutate("pods", str(m.get("namespace")), str(m.get("name")), update)
                bound += 1
            except (errors.NotFoundError, errors.ConflictError):
                continue
            log.info("bound pod=%s/%s node=%s", m.get("namespace"), m.get("name"), target)
        return bound
