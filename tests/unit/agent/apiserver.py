"""podwall's own API server in this process, and a client that writes what agents read."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from podwall.agent.client import Connection, Target
from podwall.apiserver.server import Server
from tests.unit.agent.objects import Object

LEASE_NAMESPACE = "podwall-system"


class Api:
    """Writes through HTTP, as kubectl would."""

    def __init__(self, kubeconfig: Path) -> None:
        self.connection = Connection.open(Target(kubeconfig=kubeconfig))

    def close(self) -> None:
        self.connection.close()

    def create(self, obj: Object) -> Object:
        return dict(self.connection.request("POST", collection(obj), body=_fresh(obj)))

    def replace(self, obj: Object) -> Object:
        path = f"{collection(obj)}/{obj['metadata']['name']}"
        current = self.connection.request("GET", path)
        body = _fresh(obj)
        body["metadata"]["resourceVersion"] = current["metadata"]["resourceVersion"]
        return dict(self.connection.request("PUT", path, body=body))

    def delete(self, obj: Object) -> None:
        self.connection.request("DELETE", f"{collection(obj)}/{obj['metadata']['name']}")

    def pod(self, obj: Object) -> Object:
        """Create a pod, then give it the status (address) its kubelet would."""
        created = self.create(obj)
        path = f"{collection(obj)}/{obj['metadata']['name']}/status"
        body = {**created, "status": obj["status"]}
        return dict(self.connection.request("PUT", path, body=body))

    def get(self, path: str) -> Any:
        return self.connection.request("GET", path)


def collection(obj: Object) -> str:
    group, _, version = str(obj["apiVersion"]).rpartition("/")
    base = f"/apis/{group}/{version}" if group else f"/api/{version}"
    plurals = {
        "NetworkPolicy": "networkpolicies",
        "ClusterNetworkPolicy": "clusternetworkpolicies",
    }
    plural = plurals.get(obj["kind"], obj["kind"].lower() + "s")
    namespace = obj["metadata"].get("namespace")
    if obj["kind"] in ("Namespace", "Node") or namespace is None:
        return f"{base}/{plural}"
    return f"{base}/namespaces/{namespace}/{plural}"


def _fresh(obj: Object) -> Object:
    meta = {
        k: v for k, v in obj["metadata"].items() if k not in ("resourceVersion", "managedFields")
    }
    return {k: v for k, v in {**obj, "metadata": meta}.items() if k != "status"}


@contextmanager
def api_server(state: Path, port: int = 0) -> Iterator[Server]:
    server = Server(state, port)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def wait_for(condition: Callable[[], bool], what: str, seconds: float = 60.0) -> None:
    """Poll `condition` (bounded in time) until it holds; fail naming `what`. The bound is
    generous: an agent's sync or an nft load takes seconds on a loaded machine, and the wait
    returns as soon as the condition holds."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {seconds:g}s waiting for {what}")
        time.sleep(0.02)
