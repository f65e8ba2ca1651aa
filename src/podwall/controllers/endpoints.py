"""Endpoints and EndpointSlices of a Service, from the pods its selector picks.

Mirrors the endpoints controller (pkg/controller/endpoint/endpoints_controller.go `syncService`,
`addEndpointSubset`; pkg/api/v1/endpoints `RepackSubsets`; `podutil.FindPort` for named
target ports; `endpointutil.ShouldPodBeInEndpoints`) and the EndpointSlice reconciler
(pkg/controller/endpointslice, staging/src/k8s.io/endpointslice: one slice per set of ports,
at most 100 endpoints each, `ready`/`serving`/`terminating` conditions, a placeholder slice when
there are none). Ready pods go to `addresses`; pods with an IP that are not ready go to
`notReadyAddresses` (and to slices with `ready: false`), so traffic only ever reaches ready pods.
A pod whose `subdomain` is the Service carries its `hostname` there (a StatefulSet's pods).

Slices get stable names, `<service>-<5 chars>` from a hash of the Service's uid and ports,
where upstream draws them at random: a second reconcile then finds the same names. Pure.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from podwall.controllers.actions import Action, Create, Delete, Obj, Update
from podwall.controllers.meta import (
    controller_ref,
    deep,
    is_deleting,
    meta,
    name_of,
    namespace_of,
    uid_of,
    unconditional,
)
from podwall.controllers.naming import ALPHABET, fnv32a
from podwall.controllers.podstatus import is_pod_ready
from podwall.model.labels import LabelSelector

SERVICE_NAME_LABEL = "kubernetes.io/service-name"
MANAGED_BY_LABEL = "endpointslice.kubernetes.io/managed-by"
MANAGED_BY = "endpointslice-controller.k8s.io"
HEADLESS_LABEL = "service.kubernetes.io/headless"
MAX_ENDPOINTS_PER_SLICE = 100
SLICE_RESOURCE = "endpointslices.discovery.k8s.io"

PortKey = tuple[tuple[str, int, str], ...]
Pod = Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class ServiceEndpoints:
    """What a Service's endpoints should be: its Endpoints object and its EndpointSlices."""

    endpoints: Obj
    slices: tuple[Obj, ...]


def find_port(pod: Mapping[str, Any], service_port: Mapping[str, Any]) -> int | None:
    """podutil.FindPort: a number as is; a name looked up in the pod's containers."""
    target = service_port.get("targetPort", service_port.get("port"))
    if isinstance(target, int):
        return target
    protocol = service_port.get("protocol", "TCP")
    for container in (pod.get("spec") or {}).get("containers") or ():
        for port in container.get("ports") or ():
            if port.get("name") == target and port.get("protocol", "TCP") == protocol:
                return int(port["containerPort"])
    return None


def _pod_ip(pod: Mapping[str, Any]) -> str:
    return str((pod.get("status") or {}).get("podIP") or "")


def in_endpoints(pod: Mapping[str, Any], include_terminating: bool) -> bool:
    """ShouldPodBeInEndpoints: not finished, has an IP, not being deleted (unless asked)."""
    if (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed") or not _pod_ip(pod):
        return False
    return include_terminating or not is_deleting(pod)


def selected_pods(service: Mapping[str, Any], pods: Iterable[Mapping[str, Any]]) -> list[Pod]:
    """The pods of the Service's namespace that its selector matches, by name (not copied:
    nothing here changes them)."""
    selector = LabelSelector.from_set((service.get("spec") or {}).get("selector") or {})
    chosen = [
        pod
        for pod in pods
        if namespace_of(pod) == namespace_of(service)
        and selector.matches(meta(pod).get("labels") or {})
    ]
    return sorted(chosen, key=name_of)


def endpoint_view(pod: Mapping[str, Any] | None) -> Hashable:
    """What the endpoints of a Service take from `pod` (podEndpointsChanged): equal views give
    equal endpoints. None for no pod, or one endpoints cannot hold (no IP yet, or finished)."""
    if pod is None or not in_endpoints(pod, include_terminating=True):
        return None
    ports = tuple(
        (str(p.get("name", "")), p.get("containerPort"), str(p.get("protocol", "TCP")))
        for c in (pod.get("spec") or {}).get("containers") or ()
        for p in c.get("ports") or ()
    )
    return (
        uid_of(pod),
        name_of(pod),
        tuple(sorted((meta(pod).get("labels") or {}).items())),
        _pod_ip(pod),
        is_pod_ready(pod),
        is_deleting(pod),
        (pod.get("spec") or {}).get("nodeName"),
        ports,
    )


def _target_ref(pod: Mapping[str, Any]) -> dict[str, str]:
    return {"kind": "Pod", "namespace": namespace_of(pod), "name": name_of(pod), "uid": uid_of(pod)}


def _pod_ports(service: Mapping[str, Any], pod: Mapping[str, Any]) -> PortKey:
    """The endpoint ports this pod serves: one per service port whose target it has."""
    found = []
    for service_port in (service.get("spec") or {}).get("ports") or ():
        number = find_port(pod, service_port)
        if number is not None:
            found.append(
                (str(service_port.get("name", "")), number, service_port.get("protocol", "TCP"))
            )
    return tuple(sorted(found))


def _port_objects(ports: PortKey) -> list[dict[str, Any]]:
    out = []
    for name, number, protocol in ports:
        entry: dict[str, Any] = {"name": name} if name else {}
        out.append({**entry, "port": number, "protocol": protocol})
    return out


def _slice_port_objects(ports: PortKey) -> list[dict[str, Any]]:
    # An EndpointSlice port's name is a pointer upstream, always set ("" when the Service's
    # port has none); `kubectl describe svc` dereferences it and panics when it is absent.
    return [
        {"name": name, "port": number, "protocol": protocol} for name, number, protocol in ports
    ]


def _groups(
    service: Mapping[str, Any], pods: list[Pod], terminating: bool
) -> dict[PortKey, list[Pod]]:
    """Pods grouped by the ports they serve (RepackSubsets' N-to-M association)."""
    headless = (service.get("spec") or {}).get("clusterIP") == "None"
    has_ports = bool((service.get("spec") or {}).get("ports"))
    groups: dict[PortKey, list[Pod]] = {}
    for pod in pods:
        if not in_endpoints(pod, terminating):
            continue
        ports = _pod_ports(service, pod)
        if ports or (headless and not has_ports):
            groups.setdefault(ports, []).append(pod)
    return groups


def _hostname(service: Mapping[str, Any], pod: Mapping[str, Any]) -> str:
    """The pod's hostname when its subdomain is this Service (a StatefulSet's pods, say): the
    name the cluster DNS gives the pod under a headless Service; "" otherwise."""
    spec = pod.get("spec") or {}
    same = spec.get("subdomain") == name_of(service) and namespace_of(pod) == namespace_of(service)
    return str(spec.get("hostname") or "") if same else ""


def _address(service: Mapping[str, Any], pod: Mapping[str, Any]) -> dict[str, Any]:
    address: dict[str, Any] = {"ip": _pod_ip(pod)}
    if hostname := _hostname(service, pod):
        address["hostname"] = hostname
    node = (pod.get("spec") or {}).get("nodeName")
    if node:
        address["nodeName"] = node
    address["targetRef"] = _target_ref(pod)
    return address


def _subset(
    service: Mapping[str, Any], ports: PortKey, pods: list[Pod], tolerate_unready: bool
) -> dict[str, Any]:
    ordered = sorted(pods, key=lambda p: (_pod_ip(p), uid_of(p)))
    ready = [_address(service, p) for p in ordered if tolerate_unready or is_pod_ready(p)]
    unready = [_address(service, p) for p in ordered if not (tolerate_unready or is_pod_ready(p))]
    subset: dict[str, Any] = {}
    if ready:
        subset["addresses"] = ready
    if unready:
        subset["notReadyAddresses"] = unready
    if ports:
        subset["ports"] = _port_objects(ports)
    return subset


def _subset_key(subset: Mapping[str, Any]) -> list[str]:
    everyone = [*subset.get("addresses", ()), *subset.get("notReadyAddresses", ())]
    return [str(address["ip"]) for address in everyone]


def _labels(service: Mapping[str, Any]) -> dict[str, str]:
    labels = dict(meta(service).get("labels") or {})
    if (service.get("spec") or {}).get("clusterIP") == "None":
        labels[HEADLESS_LABEL] = ""
    return labels


def _endpoints(service: Mapping[str, Any], pods: list[Pod]) -> Obj:
    tolerate = bool((service.get("spec") or {}).get("publishNotReadyAddresses"))
    groups = _groups(service, pods, tolerate)
    subsets = [_subset(service, ports, pods, tolerate) for ports, pods in groups.items()]
    subsets.sort(key=_subset_key)
    out: Obj = {
        "apiVersion": "v1",
        "kind": "Endpoints",
        "metadata": {"name": name_of(service), "namespace": namespace_of(service)},
    }
    if _labels(service):
        out["metadata"]["labels"] = _labels(service)
    if subsets:
        out["subsets"] = subsets
    return out


def _slice_endpoint(
    service: Mapping[str, Any], pod: Mapping[str, Any], tolerate_unready: bool
) -> dict[str, Any]:
    ready = is_pod_ready(pod)
    terminating = is_deleting(pod)
    endpoint: dict[str, Any] = {
        "addresses": [_pod_ip(pod)],
        "conditions": {
            "ready": (ready or tolerate_unready) and not terminating,
            "serving": ready or tolerate_unready,
            "terminating": terminating,
        },
    }
    if hostname := _hostname(service, pod):
        endpoint["hostname"] = hostname
    node = (pod.get("spec") or {}).get("nodeName")
    if node:
        endpoint["nodeName"] = node
    endpoint["targetRef"] = _target_ref(pod)
    return endpoint


def _stable_suffix(key: str) -> str:
    value = fnv32a(key.encode())
    chars = []
    for _ in range(5):
        value, digit = divmod(value, len(ALPHABET))
        chars.append(ALPHABET[digit])
    return "".join(chars)


def _slice(service: Mapping[str, Any], ports: PortKey | None, pods: list[Pod], index: int) -> Obj:
    tolerate = bool((service.get("spec") or {}).get("publishNotReadyAddresses"))
    suffix = _stable_suffix(f"{uid_of(service)}\0{ports}\0{index}")
    labels = {
        **_labels(service),
        SERVICE_NAME_LABEL: name_of(service),
        MANAGED_BY_LABEL: MANAGED_BY,
    }
    return {
        "apiVersion": "discovery.k8s.io/v1",
        "kind": "EndpointSlice",
        "metadata": {
            "name": f"{name_of(service)[:58]}-{suffix}",
            "generateName": f"{name_of(service)}-",
            "namespace": namespace_of(service),
            "labels": labels,
            "ownerReferences": [controller_ref({"apiVersion": "v1", "kind": "Service", **service})],
        },
        "addressType": "IPv4",
        "endpoints": [_slice_endpoint(service, p, tolerate) for p in sorted(pods, key=name_of)],
        "ports": _slice_port_objects(ports) if ports is not None else None,
    }


def _slices(service: Mapping[str, Any], pods: list[Pod]) -> tuple[Obj, ...]:
    groups = _groups(service, pods, True)
    out = []
    for ports, members in sorted(groups.items()):
        for start in range(0, len(members), MAX_ENDPOINTS_PER_SLICE):
            chunk = members[start : start + MAX_ENDPOINTS_PER_SLICE]
            out.append(_slice(service, ports, chunk, start // MAX_ENDPOINTS_PER_SLICE))
    return tuple(out) or (_slice(service, None, [], 0),)


def reconcile_endpoints(
    service: Mapping[str, Any], pods: Iterable[Mapping[str, Any]]
) -> ServiceEndpoints | None:
    """The Endpoints and EndpointSlices a Service should have; None without a selector.

    A Service without `spec.selector` has its endpoints managed by someone else, as upstream.
    """
    if (service.get("spec") or {}).get("selector") is None:
        return None
    if (service.get("spec") or {}).get("type") == "ExternalName":
        return None
    chosen = selected_pods(service, pods)
    return ServiceEndpoints(_endpoints(service, chosen), _slices(service, chosen))


_COMPARED = ("subsets", "addressType", "endpoints", "ports")


def _differs(desired: Mapping[str, Any], stored: Mapping[str, Any]) -> bool:
    if (meta(desired).get("labels") or {}) != (meta(stored).get("labels") or {}):
        return True
    return any(desired.get(key) != stored.get(key) for key in _COMPARED)


def _updated(desired: Obj, stored: Mapping[str, Any]) -> Obj:
    out = unconditional(deep(stored))
    meta(out)["labels"] = deep(desired)["metadata"].get("labels", {})
    for key in _COMPARED:
        out.pop(key, None)
        if key in desired:
            out[key] = deep({key: desired[key]})[key]
    return out


def endpoint_actions(
    desired: ServiceEndpoints,
    stored_endpoints: Mapping[str, Any] | None,
    stored_slices: Iterable[Mapping[str, Any]],
) -> list[Action]:
    """The writes that make the stored Endpoints and slices what `desired` says.

    `stored_slices` may hold any slices of the namespace: only those this controller manages
    for this Service are considered (labels `kubernetes.io/service-name`, `managed-by`).
    """
    actions: list[Action] = []
    if stored_endpoints is None:
        actions.append(Create(deep(desired.endpoints)))
    elif _differs(desired.endpoints, stored_endpoints):
        actions.append(Update(_updated(desired.endpoints, stored_endpoints)))
    service = desired.endpoints["metadata"]["name"]
    mine = {
        name_of(s): s
        for s in stored_slices
        if (meta(s).get("labels") or {}).get(SERVICE_NAME_LABEL) == service
        and (meta(s).get("labels") or {}).get(MANAGED_BY_LABEL) == MANAGED_BY
    }
    for wanted in desired.slices:
        stored = mine.pop(name_of(wanted), None)
        if stored is None:
            actions.append(Create(deep(wanted)))
        elif _differs(wanted, stored):
            actions.append(Update(_updated(wanted, stored)))
    for name, stored in sorted(mine.items()):
        actions.append(Delete(SLICE_RESOURCE, namespace_of(stored), name))
    return actions


def forget_service(service: Mapping[str, Any]) -> list[Action]:
    """A deleted Service's Endpoints go with it (the controller deletes them; its slices are
    owned by the Service: the garbage collector's). `service` may be anything with the
    Service's namespace and name, such as its Endpoints."""
    return [Delete("endpoints", namespace_of(service), name_of(service))]
