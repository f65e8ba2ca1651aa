"""The objects a new cluster starts with: the system namespaces, the `kubernetes` Service, the
bootstrap RBAC policy (`defaultroles`), and the CustomResourceDefinitions served built in
(`crds`), Established.

Given the address pods reach the API server at, the Service's Endpoints and EndpointSlice name
it, as kube-apiserver's endpoint reconciler keeps them (rewritten at every start, so a new
address or port replaces the old one).
"""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Callable

from podwall.apiserver import admission, crds, defaultroles
from podwall.apiserver.controllers.services import (
    kubernetes_endpoints,
    kubernetes_endpointslice,
)
from podwall.apiserver.errors import AlreadyExistsError, NotFoundError
from podwall.apiserver.resources import by_key
from podwall.apiserver.store import Object, Store

NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")
# The first address of the service range (ARCHITECTURE.md: services 198.19.0.0/16).
KUBERNETES_SERVICE_IP = "198.19.0.1"


def bootstrap(store: Store, api_port: int = 6443, advertise: str | None = None) -> None:
    """Create what is missing; an existing object is left as it is, but for the `kubernetes`
    Endpoints and EndpointSlice, which name `advertise`:`api_port` when given."""
    namespaces = by_key("namespaces")
    for name in NAMESPACES:
        obj = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}
        admission.default(namespaces, obj)
        with contextlib.suppress(AlreadyExistsError):
            store.create(namespaces.key, obj)
    services = by_key("services")
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {
            "name": "kubernetes",
            "namespace": "default",
            "labels": {"component": "apiserver", "provider": "kubernetes"},
        },
        "spec": {
            "type": "ClusterIP",
            "clusterIP": KUBERNETES_SERVICE_IP,
            "clusterIPs": [KUBERNETES_SERVICE_IP],
            "ipFamilies": ["IPv4"],
            "ipFamilyPolicy": "SingleStack",
            "internalTrafficPolicy": "Cluster",
            "sessionAffinity": "None",
            "ports": [{"name": "https", "port": 443, "protocol": "TCP", "targetPort": api_port}],
        },
        "status": {"loadBalancer": {}},
    }
    with contextlib.suppress(AlreadyExistsError):
        store.create(services.key, service)
    _bootstrap_policy(store)
    for key in crds.resource_keys():
        with contextlib.suppress(AlreadyExistsError):
            store.create(CRDS, crds.established(key))
    if advertise is not None:
        with contextlib.suppress(NotFoundError):
            store.mutate(services.key, "default", "kubernetes", _target(api_port))
        _reconcile(store, "endpoints", kubernetes_endpoints(advertise, api_port))
        _reconcile(
            store, "endpointslices.discovery.k8s.io", kubernetes_endpointslice(advertise, api_port)
        )


def _target(port: int) -> Callable[[Object], Object]:
    """The `https` port of the `kubernetes` Service aimed at `port`, as its reconciler does."""

    def change(current: Object) -> Object:
        for each in (current.get("spec") or {}).get("ports") or ():
            if each.get("name") == "https":
                each["targetPort"] = port
        return current

    return change


def _reconcile(store: Store, key: str, wanted: Object) -> None:
    """`wanted` stored: created, or its content written over what is there."""
    resource = by_key(key)
    name = wanted["metadata"]["name"]
    namespace = wanted["metadata"]["namespace"]

    def rewrite(current: Object) -> Object:
        labels = current.setdefault("metadata", {}).setdefault("labels", {})
        labels.update(wanted["metadata"]["labels"])
        for field, value in wanted.items():
            if field not in ("metadata", "apiVersion", "kind"):
                current[field] = value
        return current

    try:
        store.mutate(resource.key, namespace, name, rewrite)
    except NotFoundError:
        admission.default(resource, wanted)
        with contextlib.suppress(AlreadyExistsError):
            store.create(resource.key, wanted)


CRDS = "customresourcedefinitions.apiextensions.k8s.io"


def _bootstrap_policy(store: Store) -> None:
    """The default ClusterRoles and ClusterRoleBindings; one a user changed is kept."""
    for resource, objects in (
        (by_key("clusterroles.rbac.authorization.k8s.io"), defaultroles.CLUSTER_ROLES),
        (by_key("clusterrolebindings.rbac.authorization.k8s.io"),
         defaultroles.CLUSTER_ROLE_BINDINGS),
    ):  # fmt: skip
        for obj in objects:
            with contextlib.suppress(AlreadyExistsError):
                store.create(resource.key, copy.deepcopy(obj))
