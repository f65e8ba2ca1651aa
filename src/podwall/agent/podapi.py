"""The kubelet's writes, over HTTP: pod statuses through `pods/status`, Events, Node objects.

A status write reads the pod, applies the change to what it read and PUTs it with that
resourceVersion; a 409 (someone wrote in between) reads again and retries, a few times. A pod
that is gone, or replaced under the same name (another uid), is not written: None.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from podwall.agent.client import ApiError, Connection

Object = dict[str, Any]
RETRIES = 5


def _meta(obj: Object) -> dict[str, Any]:
    m = obj.get("metadata")
    return m if isinstance(m, dict) else {}


def pod_path(namespace: str, name: str) -> str:
    return f"/api/v1/namespaces/{namespace}/pods/{name}"


class HttpPodApi:
    """`kubelet.PodApi` through an agent `Connection` (thread-safe as it is)."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def get_pod(self, namespace: str, name: str) -> Object | None:
        try:
            pod: Object = self.connection.request("GET", pod_path(namespace, name))
        except ApiError as exc:
            if exc.status == 404:
                return None
            raise
        return pod

    def get_object(self, namespace: str, resource: str, name: str) -> Object | None:
        try:
            obj: Object = self.connection.request(
                "GET", f"/api/v1/namespaces/{namespace}/{resource}/{name}"
            )
        except ApiError as exc:
            if exc.status == 404:
                return None
            raise
        return obj

    def write_status(self, pod: Object, change: Callable[[Object], Object]) -> Object | None:
        m = _meta(pod)
        namespace, name, uid = str(m.get("namespace")), str(m.get("name")), m.get("uid")
        current: Object | None = pod
        for _ in range(RETRIES):
            if current is None or _meta(current).get("uid") != uid:
                return None
            body = {**current, "status": change(copy.deepcopy(current)).get("status", {})}
            try:
                written: Object = self.connection.request(
                    "PUT", pod_path(namespace, name) + "/status", body=body
                )
                return written
            except ApiError as exc:
                if exc.status == 404:
                    return None
                if exc.status != 409:
                    raise
            current = self.get_pod(namespace, name)
        raise ApiError(409, "Conflict", f"pod {namespace}/{name}: status kept changing")

    def create_event(self, event: Object) -> Object:
        namespace = str(_meta(event).get("namespace") or "default")
        created: Object = self.connection.request(
            "POST", f"/api/v1/namespaces/{namespace}/events", body=event
        )
        return created

    def update_event(self, event: Object) -> Object:
        m = _meta(event)
        path = f"/api/v1/namespaces/{m.get('namespace')}/events/{m.get('name')}"
        body = {**event, "metadata": {k: v for k, v in m.items() if k != "resourceVersion"}}
        updated: Object = self.connection.request("PUT", path, body=body)
        return updated
