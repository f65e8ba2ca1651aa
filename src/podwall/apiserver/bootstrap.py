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

from podwall.apiserver import admission, crds, defaultroles, rbacreconcile
from podwall.apiserver.errors import AlreadyExistsError, NotFoundError
from podwall.apiserver.resources import by_key
from podwall.apiserver.store import Object, Store
from podwall.controllers.services import (
    kubernetes_endpoints,
    kubernetes_endpointslice,
)

Reconciled = Object | str | None

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


ROLES = "clusterroles.rbac.authorization.k8s.io"
BINDINGS = "clusterrolebindings.rbac.authorization.k8s.io"


def _bootstrap_policy(store: Store) -> None:
    """The default ClusterRoles and ClusterRoleBindings, created or reconciled as kube-apiserver
    does at every start (`rbacreconcile`): what a newer podwall adds reaches a cluster stored
    by an older one; what an administrator added stays, and a protected object is left alone."""
    for obj in defaultroles.CLUSTER_ROLES:
        _ensure(store, ROLES, obj, rbacreconcile.reconciled_role)
    for obj in defaultroles.CLUSTER_ROLE_BINDINGS:
        _ensure(store, BINDINGS, obj, rbacreconcile.reconciled_binding)


def _ensure(
    store: Store, key: str, expected: Object, reconcile: Callable[[Object, Object], Reconciled]
) -> None:
    name = expected["metadata"]["name"]
    try:
        stored = store.get(key, "", name)
    except NotFoundError:
        with contextlib.suppress(AlreadyExistsError):
            store.create(key, copy.deepcopy(expected))
        return
    wanted = reconcile(expected, stored)
    if wanted == rbacreconcile.RECREATE:
        store.delete(key, "", name)
        store.create(key, copy.deepcopy(expected))
    elif isinstance(wanted, dict):

        def change(current: Object) -> Object:
            again = reconcile(expected, current)
            return again if isinstance(again, dict) else current

        store.mutate(key, "", name, change)
