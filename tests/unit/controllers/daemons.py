"""DaemonSets, Nodes and taints for the DaemonSet controller's tests."""

from __future__ import annotations

from typing import Any

from podwall.controllers.daemonpods import prepare_daemonset
from podwall.controllers.meta import deep, meta

TEMPLATE: dict[str, Any] = {
    "metadata": {"labels": {"app": "agent"}},
    "spec": {"containers": [{"name": "agent", "image": "agent:1"}]},
}


def daemonset(**spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": {"name": "agent", "namespace": "default"},
        "spec": {
            "selector": {"matchLabels": {"app": "agent"}},
            "template": deep(TEMPLATE),
            "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1}},
            **spec,
        },
    }


def node(name: str, *, labels: dict[str, str] | None = None, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name, **(labels or {})}},
        "spec": spec,
        "status": {"conditions": [{"type": "Ready", "status": "True"}]},
    }


def taint(key: str, effect: str) -> dict[str, Any]:
    return {"key": key, "effect": effect}


def prepared(**spec: Any) -> dict[str, Any]:
    ds = prepare_daemonset(daemonset(**spec), None)
    meta(ds).update(uid="ds-uid", generation=1)
    return ds
