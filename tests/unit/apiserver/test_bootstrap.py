"""The objects a new cluster starts with; with the address pods reach the API server at, the
`kubernetes` Service's Endpoints and EndpointSlice name it, kept up to date at each start."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from podwall.apiserver.bootstrap import bootstrap
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
