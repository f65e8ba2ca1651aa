"""Pods: defaults on create, scheduling onto the one node, and the defaults of pod templates.

Mirrors `SetDefaults_PodSpec`, `SetDefaults_Pod`, `SetDefaults_Container` and
`SetDefaults_ContainerPort` (pkg/apis/core/v1/defaults.go), the admission plugins that every
cluster runs on pods (ServiceAccount: `serviceAccountName: default`; DefaultTolerationSeconds:
300 s for `not-ready` and `unreachable`; Priority: `priority: 0`), the pod strategy's
`PrepareForCreate` (a fresh status: Pending with its QoS class) and the scheduler's binding
(`spec.nodeName` and the `PodScheduled` condition). Status transitions the kubelet makes are in
`podstatus`. Pure: every function returns a changed copy, never changes its input.

Not done: the ServiceAccount plugin's projected token volume (podwall serves no tokens).
All defaulting is idempotent, so a pod or template may pass through it more than once.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from podwall.controllers.actions import Obj
from podwall.controllers.meta import deep, rfc3339
from podwall.controllers.qos import pod_qos

NODE_NAME = "podwall"
SCHEDULER_NAME = "default-scheduler"
DEFAULT_TOLERATION_SECONDS = 300
_TOLERATED_TAINTS = ("node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable")

_POD_SPEC_DEFAULTS: dict[str, Any] = {
    "dnsPolicy": "ClusterFirst",
    "restartPolicy": "Always",
    "terminationGracePeriodSeconds": 30,
    "schedulerName": SCHEDULER_NAME,
}


def image_tag(image: str) -> str:
    """parsers.ParseImageName's tag: `latest` when the image names neither tag nor digest."""
    name, _, digest = image.partition("@")
    last = name.rsplit("/", 1)[-1]
    tag = last.partition(":")[2]
    return tag or ("" if digest else "latest")


def default_container(container: Mapping[str, Any]) -> Obj:
    """SetDefaults_Container and SetDefaults_ContainerPort."""
    out = deep(container)
    if not out.get("imagePullPolicy"):
        latest = image_tag(str(out.get("image", ""))) == "latest"
        out["imagePullPolicy"] = "Always" if latest else "IfNotPresent"
    out.setdefault("terminationMessagePath", "/dev/termination-log")
    out.setdefault("terminationMessagePolicy", "File")
    out.setdefault("resources", {})
    for port in out.get("ports") or ():
        port.setdefault("protocol", "TCP")
    return out


def default_pod_spec(spec: Mapping[str, Any]) -> Obj:
    """SetDefaults_PodSpec, with its containers: what pod templates get too."""
    out = deep(spec)
    for key, value in _POD_SPEC_DEFAULTS.items():
        out.setdefault(key, value)
    out.setdefault("securityContext", {})
    for field in ("containers", "initContainers"):
        if field in out:
            out[field] = [default_container(c) for c in out[field] or ()]
    return out


def default_pod_template(template: Mapping[str, Any]) -> Obj:
    """The defaults a Deployment's or ReplicaSet's `spec.template` gets when stored."""
    out = deep(template)
    out["spec"] = default_pod_spec(out.get("spec") or {})
    return out


def _requests_from_limits(container: dict[str, Any]) -> None:
    resources = container.setdefault("resources", {})
    limits = resources.get("limits") or {}
    if limits:
        requests = resources.setdefault("requests", {})
        for key, value in limits.items():
            requests.setdefault(key, value)


def _default_tolerations(spec: dict[str, Any]) -> None:
    """DefaultTolerationSeconds admission: tolerate a lost node for five minutes."""
    tolerations = spec.setdefault("tolerations", [])
    for key in _TOLERATED_TAINTS:
        if any(
            t.get("key") == key or (not t.get("key") and t.get("operator") == "Exists")
            for t in tolerations
        ):
            continue
        tolerations.append(
            {
                "key": key,
                "operator": "Exists",
                "effect": "NoExecute",
                "tolerationSeconds": DEFAULT_TOLERATION_SECONDS,
            }
        )


def _admit(spec: dict[str, Any]) -> None:
    """The pod-only defaults: SetDefaults_Pod and the admission plugins."""
    for container in [*spec.get("containers", ()), *spec.get("initContainers", ())]:
        _requests_from_limits(container)
    spec.setdefault("enableServiceLinks", True)
    account = spec.get("serviceAccountName") or spec.get("serviceAccount") or "default"
    spec["serviceAccountName"] = account
    spec["serviceAccount"] = account
    spec.setdefault("priority", 0)
    spec.setdefault("preemptionPolicy", "PreemptLowerPriority")
    _default_tolerations(spec)


def default_pod(pod: Mapping[str, Any]) -> Obj:
    """A pod as the API server stores it on create: defaulted, admitted, status Pending."""
    out = deep(pod)
    out.setdefault("apiVersion", "v1")
    out.setdefault("kind", "Pod")
    spec = default_pod_spec(out.get("spec") or {})
    _admit(spec)
    out["spec"] = spec
    out["status"] = {"phase": "Pending", "qosClass": pod_qos(spec)}
    return out


def schedule_pod(pod: Mapping[str, Any], now: datetime, node: str = NODE_NAME) -> Obj:
    """The scheduler's binding: `spec.nodeName` and `PodScheduled=True` (not yet scheduled only).

    A pod that already names its node keeps it, and gets the condition alone.
    """
    out = deep(pod)
    out.setdefault("spec", {}).setdefault("nodeName", node)
    status = out.setdefault("status", {"phase": "Pending"})
    conditions = status.setdefault("conditions", [])
    if not any(c.get("type") == "PodScheduled" for c in conditions):
        conditions.append(
            {
                "type": "PodScheduled",
                "status": "True",
                "lastProbeTime": None,
                "lastTransitionTime": rfc3339(now),
            }
        )
    return out


def is_scheduled(pod: Mapping[str, Any]) -> bool:
    return bool((pod.get("spec") or {}).get("nodeName"))
