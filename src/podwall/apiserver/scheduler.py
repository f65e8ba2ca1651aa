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
that waited. It keeps what the bound pods weigh on each node (`Load`) from the Store's commits,
so placing a pod reads no other pod. A pod with no fitting node is stored Pending with
`PodScheduled=False`, reason `Unschedulable`, and is bound when a fitting node appears.
"""

from __future__ import annotations

import copy
import logging
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from podwall.apiserver import errors
from podwall.apiserver.store import DELETED, Object, Store, WatchEvent
from podwall.clock import Clock, utc_now
from podwall.controllers.meta import rfc3339

log = logging.getLogger(__name__)

FINISHED = ("Succeeded", "Failed")


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


Share = tuple[str, str | None, frozenset[str]]  # a bound pod's node, owner and images


def share_of(pod: Mapping[str, Any]) -> Share | None:
    """What a pod weighs on its node, or None when it weighs nothing (unbound, finished)."""
    node = bound_to(pod)
    if not node or not active(pod):
        return None
    return node, owner_of(pod), images_of(pod)


@dataclass(slots=True)
class Load:
    """What the bound pods weigh on each node: how many, of which owner, with which image."""

    pods: Counter[str] = field(default_factory=Counter)
    owners: Counter[tuple[str, str]] = field(default_factory=Counter)
    images: Counter[tuple[str, str]] = field(default_factory=Counter)

    @classmethod
    def of(cls, pods: Iterable[Mapping[str, Any]]) -> Load:
        load = cls()
        for pod in pods:
            load.add(share_of(pod))
        return load

    def add(self, share: Share | None, sign: int = 1) -> None:
        if share is None:
            return
        node, owner, images = share
        self.pods[node] += sign
        if owner is not None:
            self.owners[(node, owner)] += sign
        for image in images:
            self.images[(node, image)] += sign


def choose(
    pod: Mapping[str, Any],
    nodes: Iterable[Mapping[str, Any]],
    pods: Iterable[Mapping[str, Any]] | Load,
) -> Verdict:
    """The node for `pod` among `nodes`, given the pods already bound (or what they weigh on
    each node, `Load`): see the docstring."""
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
    load = pods if isinstance(pods, Load) else Load.of(pods)
    owner, images = owner_of(pod), images_of(pod)

    def rank(node: str) -> tuple[int, bool, int, str]:
        same_owner = load.owners[(node, owner)] if owner is not None else 0
        has_image = any(load.images[(node, image)] > 0 for image in images)
        return same_owner, not has_image, load.pods[node], node

    return Verdict(min(fitting, key=rank))


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


def _key(pod: Mapping[str, Any]) -> tuple[str, str]:
    return str(_meta(pod).get("namespace") or ""), str(_meta(pod).get("name") or "")


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

    def __init__(self, store: Store, *, clock: Clock = utc_now) -> None:
        self.store = store
        self.clock = clock
        self._undo: Callable[[], None] | None = None
        # Kept from the Store's commits once installed: placing a pod then reads no pod.
        self._load: Load | None = None
        self._shares: dict[tuple[str, str], Share] = {}
        self._lock = threading.Lock()

    def place(self, pod: Object) -> Object:
        """A new pod, bound to a node or marked Unschedulable."""
        now = self.clock()
        named = bound_to(pod)
        if named:
            return bind(pod, named, now)
        nodes, _ = self.store.list("nodes")
        verdict = choose(pod, nodes, self._current_load())
        if verdict.node is None:
            return unschedulable(pod, verdict.message, now)
        return bind(pod, verdict.node, now)

    def _current_load(self) -> Load:
        with self._lock:
            if self._load is not None:
                return Load(Counter(self._load.pods), Counter(self._load.owners),
                            Counter(self._load.images))  # fmt: skip
        pods, _ = self.store.list("pods")
        return Load.of(pods)

    def install(self) -> None:
        self._undo = self.store.on_commit(self._on_commit)
        pods, _ = self.store.list("pods")
        with self._lock:
            self._shares = {}
            for pod in pods:
                share = share_of(pod)
                if share is not None:
                    self._shares[_key(pod)] = share
            self._load = Load()
            for share in self._shares.values():
                self._load.add(share)
        self.bind_waiting()

    def remove(self) -> None:
        if self._undo is not None:
            self._undo()
            self._undo = None

    def _on_commit(self, resource: str, event: WatchEvent) -> None:
        if resource == "pods":
            self._weigh(event)
        elif resource == "nodes" and event.type != DELETED and node_ready(event.object):
            self.bind_waiting()

    def _weigh(self, event: WatchEvent) -> None:
        key = _key(event.object)
        share = None if event.type == DELETED else share_of(event.object)
        with self._lock:
            if self._load is None:
                return
            self._load.add(self._shares.pop(key, None), -1)
            if share is not None:
                self._shares[key] = share
                self._load.add(share)

    def bind_waiting(self) -> int:
        """Bind every pod that waits for a node and now has one; how many were bound."""
        waiting, _ = self.store.list("pods", None, lambda p: not bound_to(p) and active(p))
        bound = 0
        for pod in sorted(waiting, key=lambda p: str(_meta(p).get("creationTimestamp") or "")):
            nodes, _ = self.store.list("nodes")
            verdict = choose(pod, nodes, self._current_load())
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
