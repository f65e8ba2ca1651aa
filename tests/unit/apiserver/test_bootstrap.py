"""The objects a new cluster starts with; with the address pods reach the API server at, the
`kubernetes` Service's Endpoints and EndpointSlice name it, kept up to date at each start."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from podwall.apiserver.bootstrap import bootstrap
from podwall.apiserver.rbacreconcile import AUTOUPDATE
from podwall.apiserver.store import Store


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store(tmp_path / "state.db")
    yield s
    s.close()


def _get(store: Store, key: str, name: str = "kubernetes") -> dict[str, Any]:
    found, _ = store.list(key, "default", lambda o: o["metadata"]["name"] == name)
    assert len(found) == 1, f"{key}/{name}: {found}"
    return found[0]


def test_without_an_advertised_address_the_service_has_no_endpoints(store: Store) -> None:
    bootstrap(store, 23456)
    service = _get(store, "services")
    assert service["spec"]["ports"][0]["targetPort"] == 23456
    assert store.list("endpointslices.discovery.k8s.io", "default")[0] == []


def test_the_advertised_address_is_the_services_endpoint(store: Store) -> None:
    bootstrap(store, 6443, "198.18.255.254")
    endpointslice = _get(store, "endpointslices.discovery.k8s.io")
    assert endpointslice["endpoints"] == [
        {"addresses": ["198.18.255.254"], "conditions": {"ready": True}}
    ]
    assert endpointslice["ports"] == [{"name": "https", "port": 6443, "protocol": "TCP"}]
    endpoints = _get(store, "endpoints")
    assert endpoints["subsets"] == [
        {
            "addresses": [{"ip": "198.18.255.254"}],
            "ports": [{"name": "https", "port": 6443, "protocol": "TCP"}],
        }
    ]


def test_a_restart_with_another_port_rewrites_the_service_and_its_endpoints(
    store: Store,
) -> None:
    bootstrap(store, 23456)
    bootstrap(store, 6443, "198.18.255.254")
    bootstrap(store, 7443, "198.18.255.254")
    assert _get(store, "services")["spec"]["ports"][0]["targetPort"] == 7443
    ports = _get(store, "endpointslices.discovery.k8s.io")["ports"]
    assert ports == [{"name": "https", "port": 7443, "protocol": "TCP"}]


ROLES = "clusterroles.rbac.authorization.k8s.io"
BINDINGS = "clusterrolebindings.rbac.authorization.k8s.io"


def _rules(store: Store, name: str) -> list[dict[str, Any]]:
    return list(store.get(ROLES, "", name)["rules"])


def test_a_restart_brings_an_older_release_s_default_roles_up_to_date(store: Store) -> None:
    """A cluster stored by an older podwall: its node role lacks a rule, a binding lacks its
    group; a restart adds them and keeps what an administrator added, and leaves a protected
    role as it is."""
    bootstrap(store)
    node_role = store.get(ROLES, "", "system:podwall-node")
    full = list(node_role["rules"])
    extra = {"verbs": ["get"], "apiGroups": [""], "resources": ["secrets"]}
    store.update(ROLES, {**node_role, "rules": [full[0], extra]})
    binding = store.get(BINDINGS, "", "system:podwall-node")
    store.update(BINDINGS, {**binding, "subjects": []})
    view = store.get(ROLES, "", "system:aggregate-to-view")
    annotations = {**view["metadata"]["annotations"], AUTOUPDATE: "false"}
    store.update(ROLES, {**view, "metadata": {**view["metadata"], "annotations": annotations},
                         "rules": []})  # fmt: skip
    untouched = store.get(ROLES, "", "cluster-admin")["metadata"]["resourceVersion"]
    bootstrap(store)
    assert _rules(store, "system:podwall-node") == [full[0], extra, *full[1:]]
    assert store.get(BINDINGS, "", "system:podwall-node")["subjects"] == binding["subjects"]
    assert _rules(store, "system:aggregate-to-view") == []
    assert store.get(ROLES, "", "cluster-admin")["metadata"]["resourceVersion"] == untouched


def test_a_default_binding_pointing_elsewhere_is_recreated(store: Store) -> None:
    bootstrap(store)
    binding = store.get(BINDINGS, "", "system:podwall-node")
    store.delete(BINDINGS, "", "system:podwall-node")
    store.create(BINDINGS, {**binding, "roleRef": {**binding["roleRef"], "name": "view"}})
    bootstrap(store)
    assert store.get(BINDINGS, "", "system:podwall-node")["roleRef"] == binding["roleRef"]


def test_a_restart_of_an_up_to_date_cluster_writes_nothing(store: Store) -> None:
    bootstrap(store)
    before = store.resource_version
    bootstrap(store)
    assert store.resource_version == before
