"""The pods of this node, as JSON: what a sandbox node's kubelet needs to run them.

The policy cache (`cache`) keeps model objects only; running a pod needs its containers,
commands and environment. So the kubelet has a list+watch of its own, restricted to its node
(`fieldSelector=spec.nodeName=<node>`), that keeps those few pods' JSON. It resumes from the
last resourceVersion after a watch ends, lists again after a 410, and backs off on errors,
keeping what it had meanwhile. `changed` is set on every event that changed a pod.
"""

from __future__ import annotations

import copy
import logging
import threading
from typing import Any

from podwall.agent.backoff import Backoff
from podwall.agent.client import Connection, Stream
from podwall.agent.kinds import key_of, resource_version
from podwall.agent.watch import WATCH_SECONDS, WatchThread

log = logging.getLogger(__name__)

PATH = "/api/v1/pods"

Pod = dict[str, Any]


class NodePods(WatchThread):
    """Follows the pods bound to `node` until `stop` is set; `pods()` is a copy of them."""

    def __init__(
        self, connection: Connection, node: str, stop: threading.Event, *, backoff_cap: float = 5.0
    ) -> None:
        self.connection = connection
        self.selector = f"spec.nodeName={node}"
        self.stop = stop
        self.backoff = Backoff(first=0.2, cap=backoff_cap)
        self.listed = threading.Event()
        self.changed = threading.Event()
        self.resource_version: str | None = None
        self._pods: dict[str, Pod] = {}
        self._lock = threading.Lock()
        self._stream: Stream | None = None
        self._what = "node pod watch"
        self._thread = threading.Thread(target=self._run, name="watch-node-pods", daemon=True)

    def pods(self) -> list[Pod]:
        with self._lock:
            return [copy.deepcopy(p) for p in self._pods.values()]

    def get(self, key: str) -> Pod | None:
        with self._lock:
            pod = self._pods.get(key)
            return copy.deepcopy(pod) if pod is not None else None

    def saw(self, pod: Pod) -> None:
        """A pod as this agent just wrote it (the watch brings the same version later)."""
        self._apply("MODIFIED", pod)

    def _apply(self, event: str, pod: Pod) -> None:
        key = key_of(pod)
        with self._lock:
            if event == "DELETED":
                self._pods.pop(key, None)
            else:
                held = self._pods.get(key)
                if held is not None and _newer(held, pod):
                    return  # an older event than what this agent wrote meanwhile
                self._pods[key] = pod
        self.changed.set()

    def _failed(self, exc: Exception) -> None:
        if self.stop.is_set():
            return
        delay = self.backoff.next()
        log.warning("node pod watch failed error=%s retry_in=%.1fs", exc, delay)
        self.stop.wait(delay)

    def _list(self) -> None:
        page = self.connection.request("GET", PATH, [("fieldSelector", self.selector)])
        pods = {key_of(p): p for p in page.get("items") or ()}
        with self._lock:
            self._pods = pods
        self.resource_version = str((page.get("metadata") or {}).get("resourceVersion") or "")
        self.backoff.reset()
        self.listed.set()
        self.changed.set()

    def _watch(self) -> None:
        stream = self._open(PATH, WATCH_SECONDS, ("fieldSelector", self.selector))
        self.backoff.reset()
        self._follow(stream, self._event)

    def _event(self, kind: str, pod: Pod) -> None:
        if kind in ("ADDED", "MODIFIED", "DELETED"):
            self._apply(kind, pod)


def _newer(held: Pod, incoming: Pod) -> bool:
    """Whether `held` is a later version of the same pod than `incoming`."""
    same = (held.get("metadata") or {}).get("uid") == (incoming.get("metadata") or {}).get("uid")
    a, b = resource_version(held), resource_version(incoming)
    return same and a.isdigit() and b.isdigit() and int(a) > int(b)
