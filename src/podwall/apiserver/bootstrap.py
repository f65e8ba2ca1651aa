"""The objects a new cluster starts with: the system namespaces, the `kubernetes` Service, and
the bootstrap RBAC policy (`defaultroles`), and the CustomResourceDefinitions served built in
(`crds`), Established."""

from __future__ import annotations

import contextlib
import copy

from podwall.apiserver import admission, crds, defaultroles
from podwall.apiserver.errors import AlreadyExistsError
from podwall.apiserver.resources import by_key
from podwall.apiserver.store import Store

NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")
# The first address of the service range (ARCHITECTURE.md: services 198.19.0.0/16).
KUBERNETES_SERVICE_IP = "198.19.0.1"


def bootstrap(store: Store, api_port: int = 6443) -> None:
    """Create what is missing; an existing object is left as it is."""
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
