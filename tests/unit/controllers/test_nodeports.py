"""Node ports: allocation in 30000-32767 on create and update, upstream's errors, type changes."""

from __future__ import annotations

import random
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from podwall.apiserver.errors import invalid
from podwall.controllers import default_service, keep_allocation
from podwall.controllers.nodeports import (
    NODE_PORT_MAX,
    NODE_PORT_MIN,
    NodePortError,
    NodePortRangeFull,
    allocate_node_ports,
    node_ports,
)

from .manifests import backend_service


def _service(kind: str = "NodePort", **port: Any) -> dict[str, Any]:
    service = backend_service()
    service["spec"]["type"] = kind
    service["spec"]["ports"][0].update(port)
    return service


def _ports(service: dict[str, Any]) -> list[int | None]:
    return [p.get("nodePort") for p in service["spec"]["ports"]]


@pytest.mark.parametrize("kind", ["NodePort", "LoadBalancer"])
def test_a_node_port_is_allocated_in_the_range(kind: str) -> None:
    (number,) = _ports(default_service(_service(kind), set(), random.Random(3)))
    assert number is not None
    assert NODE_PORT_MIN <= number <= NODE_PORT_MAX


@pytest.mark.parametrize("kind", ["ClusterIP", "ExternalName"])
def test_other_types_get_no_node_port(kind: str) -> None:
    assert _ports(default_service(_service(kind), set(), random.Random(3))) == [None]


def test_a_load_balancer_may_opt_out_of_node_ports() -> None:
    service = _service("LoadBalancer")
    service["spec"]["allocateLoadBalancerNodePorts"] = False
    assert _ports(default_service(service, set(), random.Random(3))) == [None]


def test_dynamic_allocation_stays_above_the_static_band() -> None:
    rng = random.Random(5)
    taken: set[int] = set()
    for _ in range(300):
        (number,) = _ports(default_service(_service(), set(), rng, taken))
        assert number is not None
        assert number not in taken
        taken.add(number)
    assert min(taken) >= NODE_PORT_MIN + 86  # min(max(16, 2768 / 32), 128)


def test_every_port_is_handed_out_once_then_the_range_is_full() -> None:
    rng = random.Random(7)
    taken: set[int] = set()
    for _ in range(NODE_PORT_MAX - NODE_PORT_MIN + 1):
        spec: dict[str, Any] = {"type": "NodePort", "ports": [{"port": 80}]}
        allocate_node_ports(spec, taken, rng)
        assert spec["ports"][0]["nodePort"] not in taken
        taken.add(spec["ports"][0]["nodePort"])
    assert taken == set(range(NODE_PORT_MIN, NODE_PORT_MAX + 1))
    with pytest.raises(NodePortRangeFull, match="failed to allocate a nodePort: range is full"):
        allocate_node_ports({"type": "NodePort", "ports": [{"port": 80}]}, taken, rng)


def test_a_requested_free_port_is_honoured() -> None:
    service = _service(nodePort=30080)
    assert _ports(default_service(service, set(), random.Random(1), {30081})) == [30080]


@pytest.mark.parametrize(
    ("kind", "number", "taken", "message"),
    [
        pytest.param(
            "NodePort",
            80,
            set(),
            'Service "backend" is invalid: spec.ports[0].nodePort: Invalid value: 80: provided '
            "port is not in the valid range. The range of valid ports is 30000-32767",
            id="below the range",
        ),
        pytest.param(
            "LoadBalancer",
            32768,
            set(),
            'Service "backend" is invalid: spec.ports[0].nodePort: Invalid value: 32768: '
            "provided port is not in the valid range. The range of valid ports is 30000-32767",
            id="above the range",
        ),
        pytest.param(
            "NodePort",
            30080,
            {30080},
            'Service "backend" is invalid: spec.ports[0].nodePort: Invalid value: 30080: '
            "provided port is already allocated",
            id="held by another service",
        ),
        pytest.param(
            "ClusterIP",
            30080,
            set(),
            'Service "backend" is invalid: spec.ports[0].nodePort: Forbidden: may not be used '
            "when `type` is 'ClusterIP'",
            id="on a ClusterIP service",
        ),
    ],
)
def test_a_requested_port_is_refused_in_upstreams_words(
    kind: str, number: int, taken: set[int], message: str
) -> None:
    with pytest.raises(NodePortError) as caught:
        default_service(_service(kind, nodePort=number), set(), random.Random(1), taken)
    error = invalid("Service", "", "backend", caught.value.errors)
    assert error.code == 422
    assert error.message == message


def test_the_same_node_port_twice_is_a_duplicate() -> None:
    service = _service(nodePort=30080)
    service["spec"]["ports"].append({"name": "other", "port": 81, "nodePort": 30080})
    with pytest.raises(NodePortError) as caught:
        default_service(service, set(), random.Random(1))
    assert [e.render() for e in caught.value.errors] == [
        "spec.ports[1].nodePort: Duplicate value: 30080"
    ]


def test_ports_of_one_number_share_a_node_port() -> None:
    service = _service(protocol="TCP")
    service["spec"]["ports"].append({"name": "udp", "port": 8080, "protocol": "UDP"})
    first, second = _ports(default_service(service, set(), random.Random(2)))
    assert first == second is not None


def test_an_update_keeps_the_node_ports() -> None:
    stored = default_service(_service(), set(), random.Random(2))
    updated = keep_allocation(_service(), stored, set(), random.Random(9))
    assert _ports(updated) == _ports(stored)


def test_an_update_carries_node_ports_by_port_name() -> None:
    stored = default_service(_service(), set(), random.Random(2))
    renamed = _service()
    renamed["spec"]["ports"].insert(0, {"name": "metrics", "port": 9090})
    updated = keep_allocation(renamed, stored, set(), random.Random(9))
    metrics, http = _ports(updated)
    assert http == _ports(stored)[0]
    assert metrics is not None
    assert metrics != http


def test_an_update_may_move_a_node_port_to_a_free_one() -> None:
    stored = default_service(_service(nodePort=30080), set(), random.Random(2))
    moved = keep_allocation(_service(nodePort=30090), stored, {30091}, random.Random(9))
    assert _ports(moved) == [30090]
    with pytest.raises(NodePortError, match="provided port is already allocated"):
        keep_allocation(_service(nodePort=30091), stored, {30091}, random.Random(9))


def test_a_change_to_cluster_ip_drops_the_node_ports() -> None:
    stored = default_service(_service(nodePort=30080), set(), random.Random(2))
    # `kubectl apply` of a ClusterIP manifest leaves the live nodePort in its patch
    updated = keep_allocation(_service("ClusterIP", nodePort=30080), stored)
    assert _ports(updated) == [None]
    assert node_ports([updated]) == set()


def test_a_change_to_cluster_ip_with_a_new_node_port_is_forbidden() -> None:
    stored = default_service(_service(nodePort=30080), set(), random.Random(2))
    with pytest.raises(NodePortError, match="may not be used when `type` is 'ClusterIP'"):
        keep_allocation(_service("ClusterIP", nodePort=30081), stored)


def test_a_change_to_node_port_allocates_one() -> None:
    stored = default_service(_service("ClusterIP"), set(), random.Random(2))
    (number,) = _ports(keep_allocation(_service(), stored, {30100}, random.Random(9)))
    assert number is not None
    assert number != 30100


def test_node_ports_in_use_are_read_from_services() -> None:
    services = [
        {"spec": {"ports": [{"port": 80, "nodePort": 30001}, {"port": 81}]}},
        {"spec": {"ports": [{"port": 80, "nodePort": 30002}]}},
        {"spec": {}},
    ]
    assert node_ports(services) == {30001, 30002}


@given(st.sets(st.integers(NODE_PORT_MIN, NODE_PORT_MAX), max_size=200), st.integers(0, 99))
def test_allocation_never_takes_a_port_in_use(taken: set[int], seed: int) -> None:
    spec: dict[str, Any] = {
        "type": "NodePort",
        "ports": [{"port": 80}, {"port": 81}, {"port": 82, "protocol": "UDP"}],
    }
    allocate_node_ports(spec, taken, random.Random(seed))
    got = [p["nodePort"] for p in spec["ports"]]
    assert len(set(got)) == 3
    assert not set(got) & taken
