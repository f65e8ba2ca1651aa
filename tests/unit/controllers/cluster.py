"""A fake cluster for controller tests: applies actions as the API server is meant to.

It stands for the server's write path (uid, creationTimestamp, generation, defaulting of
pods/ReplicaSets/Deployments on create, status kept on Update, spec kept on UpdateStatus,
background cascading delete through `garbage.collect`) and its reconcile loop, in the order the
controllers' report recommends: Deployments, then ReplicaSets (and ReplicationControllers, by the
same controller), then Services' endpoints, until
nothing is left to do. `kubelet` plays the node: every scheduled pending pod starts and is ready.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from podwall.controllers import (
    Action,
    Create,
    Delete,
    Obj,
    Update,
    UpdateStatus,
    collect,
    default_deployment,
    default_pod,
    default_replicaset,
    endpoint_actions,
    pod_running,
    reconcile_deployment,
    reconcile_endpoints,
    reconcile_replicaset,
    record,
    resource_of,
    schedule_pod,
)
from podwall.controllers.meta import deep, meta, rfc3339

Key = tuple[str, str, str]
T0 = datetime.fromisoformat("2026-11-26T10:00:00+00:00")


class FakeCluster:
    def __init__(self, seed: int = 1) -> None:
        self.objects: dict[Key, Obj] = {}
        self.rng = random.Random(seed)
        self.now = T0
        self.applied: list[Action] = []
        self._uids = random.Random(seed + 1)
        self._next_ip = 2

    # -- the write path ------------------------------------------------------------------

    def tick(self, seconds: int = 1) -> None:
        self.now += timedelta(seconds=seconds)

    def add(self, obj: Obj) -> Obj:
        return self.apply(Create(obj))

    def apply(self, action: Action) -> Obj:
        self.applied.append(action)
        if isinstance(action, Create) and action.obj.get("kind") == "Event":
            action = record(action.obj, self.items("events"))
            if isinstance(action, Update):
                return self._update(action.obj, status=False)
        if isinstance(action, Create):
            return self._create(action.obj)
        if isinstance(action, Update):
            return self._update(action.obj, status=False)
        if isinstance(action, UpdateStatus):
            return self._update(action.obj, status=True)
        return self._delete(action)

    def _create(self, obj: Obj) -> Obj:
        new = deep(obj)
        resource = resource_of(new)
        if resource == "pods":
            new = schedule_pod(default_pod(new), self.now)
        elif resource == "replicasets.apps":
            new = default_replicaset(new)
        elif resource == "deployments.apps":
            new = default_deployment(new)
        m = meta(new)
        m.setdefault("namespace", "default")
        key = (resource, m["namespace"], m["name"])
        assert key not in self.objects, f"{key} already exists"
        m["uid"] = str(uuid.UUID(int=self._uids.getrandbits(128), version=4))
        m["creationTimestamp"] = rfc3339(self.now)
        m["generation"] = 1
        self.objects[key] = new
        return new

    def _update(self, obj: Obj, *, status: bool) -> Obj:
        key = (resource_of(obj), meta(obj)["namespace"], meta(obj)["name"])
        stored = self.objects[key]
        new = deep(obj)
        if status:
            kept = {k: v for k, v in stored.items() if k != "status"}
            new = {**kept, "status": new.get("status", {})}
        else:
            new.pop("status", None)
            if "status" in stored:
                new["status"] = deep(stored)["status"]
            new["metadata"] = {**new["metadata"], "uid": meta(stored)["uid"]}
            for field in ("creationTimestamp", "generation"):
                new["metadata"][field] = meta(stored)[field]
            if _spec(new) != _spec(stored):
                new["metadata"]["generation"] += 1
        self.objects[key] = new
        return new

    def _delete(self, action: Delete) -> Obj:
        gone = self.objects.pop((action.resource, action.namespace, action.name))
        for follow in collect(meta(gone)["uid"], self.objects.values()):
            self.apply(follow)
        return gone

    # -- reads ---------------------------------------------------------------------------

    def items(self, resource: str, namespace: str = "default") -> list[Obj]:
        return [
            deep(obj)
            for (res, ns, _), obj in sorted(self.objects.items())
            if res == resource and ns == namespace
        ]

    def get(self, resource: str, name: str, namespace: str = "default") -> Obj:
        return deep(self.objects[(resource, namespace, name)])

    def events(self) -> list[str]:
        """`Reason: message` of every event recorded, in the order it was recorded."""
        return [
            f"{a.obj['reason']}: {a.obj['message']}"
            for a in self.applied
            if isinstance(a, Create) and a.obj.get("kind") == "Event"
        ]

    # -- the reconcile loop --------------------------------------------------------------

    def reconcile_once(self) -> list[Action]:
        actions: list[Action] = []
        pods, rss = self.items("pods"), self.items("replicasets.apps")
        for deploy in self.items("deployments.apps"):
            actions += reconcile_deployment(deploy, rss, pods, self.now)
        if actions:
            return actions
        for rs in [*rss, *self.items("replicationcontrollers")]:  # one controller for both
            actions += reconcile_replicaset(rs, pods, self.now, self.rng)
        if actions:
            return actions
        for service in self.items("services"):
            desired = reconcile_endpoints(service, pods)
            if desired is not None:
                stored = self.objects.get(("endpoints", "default", meta(service)["name"]))
                slices = self.items("endpointslices.discovery.k8s.io")
                actions += endpoint_actions(desired, stored, slices)
        return actions

    def settle(self, limit: int = 50) -> int:
        """Reconcile until nothing is left to do; the number of rounds it took."""
        for rounds in range(limit):
            actions = self.reconcile_once()
            if not actions:
                return rounds
            for action in actions:
                self.apply(action)
        raise AssertionError("the controllers did not settle")

    def kubelet(self) -> None:
        """Start every pending pod: Running, ready, with an address."""
        for pod in self.items("pods"):
            if pod["status"].get("phase") == "Pending" and not meta(pod).get("deletionTimestamp"):
                ip = f"198.18.0.{self._next_ip}"
                self._next_ip += 1
                self.apply(UpdateStatus(pod_running(pod, ip, self.now)))

    def run(self, rounds: int = 20) -> None:
        """Alternate the controllers and the kubelet until the cluster is at rest."""
        for _ in range(rounds):
            self.settle()
            before = len(self.applied)
            self.kubelet()
            self.tick()
            if len(self.applied) == before and not self.reconcile_once():
                return
        raise AssertionError("the cluster did not come to rest")


def _spec(obj: Obj) -> dict[str, Any]:
    return {k: v for k, v in obj.items() if k not in ("metadata", "status")}


def by_name(objects: Iterable[Obj]) -> dict[str, Obj]:
    return {meta(obj)["name"]: obj for obj in objects}
