"""The objects a new cluster starts with: the system namespaces, the `kubernetes` Service, and
the CustomResourceDefinitions served built in (`crds`), Established."""

from __future__ import annotations

import contextlib

from podwall.apiserver import admission, crds
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
    for key in crds.resource_keys():
        with contextlib.suppress(AlreadyExistsError):
            store.create(CRDS, crds.established(key))


CRDS = "customresourcedefinitions.apiextensions.k8s.io"
