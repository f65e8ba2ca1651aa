"""Mutating admission of Services' node ports on a Store: other Services' ports are taken,
a deleted or retyped Service gives its ports back, a full range is upstream's InternalError."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from podwall.apiserver.bootstrap import bootstrap
from podwall.apiserver.errors import ApiError
from podwall.apiserver.mutating import Admission
from podwall.apiserver.store import Store
from podwall.controllers import nodeports


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store(tmp_path / "state.db")
    bootstrap(s)
    admission = Admission(s)
    admission.install()
    yield s
    admission.remove()
    s.close()


def _service(name: str, node_port: int | None = None, kind: str = "NodePort") -> dict[str, Any]:
    port: dict[str, Any] = {"port": 80, "protocol": "TCP", "targetPort": 80}
    if node_port is not None:
        port["nodePort"] = node_port
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {"type": kind, "selector": {"app": name}, "ports": [port]},
    }


def _node_port(obj: dict[str, Any]) -> int | None:
    port = obj["spec"]["ports"][0].get("nodePort")
    return None if port is None else int(port)


def test_services_get_distinct_node_ports(store: Store) -> None:
    ports = [_node_port(store.create("services", _service(f"s{i}"))) for i in range(20)]
    assert None not in ports
    assert len(set(ports)) == 20


def test_a_port_another_service_holds_is_refused_until_it_goes(store: Store) -> None:
    store.create("services", _service("first", 30080))
    with pytest.raises(ApiError) as caught:
        store.create("services", _service("second", 30080))
    assert caught.value.code == 422
    assert caught.value.message == (
        'Service "second" is invalid: spec.ports[0].nodePort: Invalid value: 30080: '
        "provided port is already allocated"
    )
    store.delete("services", "default", "first")
    assert _node_port(store.create("services", _service("second", 30080))) == 30080


def test_an_update_keeps_its_own_port_and_a_retype_gives_it_back(store: Store) -> None:
    created = store.create("services", _service("first", 30080))
    again = store.update("services", {**_service("first", 30080), "metadata": created["metadata"]})
    assert _node_port(again) == 30080
    retyped = store.update(
        "services", {**_service("first", 30080, "ClusterIP"), "metadata": again["metadata"]}
    )
    assert _node_port(retyped) is None
    assert _node_port(store.create("services", _service("second", 30080))) == 30080


def test_a_full_range_is_upstreams_internal_error(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(nodeports, "NODE_PORT_MAX", nodeports.NODE_PORT_MIN + 1)
    store.create("services", _service("a"))
    store.create("services", _service("b"))
    with pytest.raises(ApiError) as caught:
        store.create("services", _service("c"))
    assert caught.value.code == 500
    assert caught.value.message == (
        "Internal error occurred: failed to allocate a nodePort: range is full"
    )
