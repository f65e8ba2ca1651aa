"""Services: ClusterIP allocation in 198.19.0.0/16, defaults, and the built-in Services."""

from __future__ import annotations

import ipaddress
import random

import pytest

from podwall.apiserver.errors import invalid
from podwall.controllers import (
    ClusterIPError,
    default_service,
    keep_allocation,
    kube_dns_service,
    kubernetes_endpoints,
    kubernetes_endpointslice,
    kubernetes_service,
)
from podwall.controllers.services import (
    KUBE_DNS_IP,
    KUBERNETES_IP,
    allocate_cluster_ip,
    cluster_ips,
)

from .manifests import backend_service


def test_many_allocations_never_repeat_and_never_take_the_reserved_addresses() -> None:
    rng = random.Random(4)
    taken: set[str] = set()
    for _ in range(3000):
        ip = allocate_cluster_ip(None, taken, rng)
        assert ip not in taken
        taken.add(ip)
    assert KUBERNETES_IP not in taken
    assert KUBE_DNS_IP not in taken
    network = ipaddress.ip_network("198.19.0.0/16")
    assert all(ipaddress.ip_address(ip) in network for ip in taken)


def test_dynamic_allocation_stays_above_the_static_band() -> None:
    rng = random.Random(8)
    ips = [ipaddress.IPv4Address(allocate_cluster_ip(None, set(), rng)) for _ in range(200)]
    assert min(ips) > ipaddress.IPv4Address("198.19.1.0")


def test_the_static_band_is_used_once_the_rest_is_full() -> None:
    rng = random.Random(1)
    network = ipaddress.ip_network("198.19.0.0/16")
    band_end = ipaddress.IPv4Address("198.19.1.0")
    upper = {str(ip) for ip in network.hosts() if ipaddress.IPv4Address(str(ip)) > band_end}
    ip = allocate_cluster_ip(None, upper, rng)
    assert ipaddress.IPv4Address(ip) <= band_end
    assert ip not in (KUBERNETES_IP, KUBE_DNS_IP)


def test_a_full_range_is_refused() -> None:
    everything = {str(ip) for ip in ipaddress.ip_network("198.19.0.0/16").hosts()}
    with pytest.raises(ClusterIPError, match="range is full"):
        allocate_cluster_ip(None, everything, random.Random(1))


def test_a_requested_ip_in_range_is_honoured() -> None:
    assert allocate_cluster_ip("198.19.7.7", set(), random.Random(1)) == "198.19.7.7"


@pytest.mark.parametrize(
    ("requested", "taken", "message"),
    [
        pytest.param(
            "10.96.0.1",
            set(),
            'spec.clusterIPs: Invalid value: []string{"10.96.0.1"}: failed to allocate IP '
            "10.96.0.1: the provided IP (10.96.0.1) is not in the valid range. "
            "The range of valid IPs is 198.19.0.0/16",
            id="an ip outside the range is refused as upstream words it",
        ),
        pytest.param(
            "198.19.0.0",
            set(),
            "is not in the valid range",
            id="the network address is not in the range",
        ),
        pytest.param(
            "198.19.255.255",
            set(),
            "is not in the valid range",
            id="the broadcast address is not in the range",
        ),
        pytest.param(
            "198.19.7.7",
            {"198.19.7.7"},
            'spec.clusterIPs: Invalid value: []string{"198.19.7.7"}: failed to allocate IP '
            "198.19.7.7: provided IP is already allocated",
            id="an ip in use is refused",
        ),
        pytest.param(
            KUBE_DNS_IP,
            set(),
            "provided IP is already allocated",
            id="the kube-dns address is always taken",
        ),
        pytest.param(
            "banana",
            set(),
            'spec.clusterIPs[0]: Invalid value: "banana": must be a valid IP address',
            id="something that is not an ip is refused",
        ),
    ],
)
def test_a_requested_ip_is_refused(requested: str, taken: set[str], message: str) -> None:
    with pytest.raises(ClusterIPError) as caught:
        allocate_cluster_ip(requested, taken, random.Random(1))
    assert message in str(caught.value)


def test_a_refused_ip_becomes_the_422_kubectl_prints() -> None:
    with pytest.raises(ClusterIPError) as caught:
        default_service(
            {**backend_service(), "spec": {**backend_service()["spec"], "clusterIP": "1.2.3.4"}},
            set(),
            random.Random(1),
        )
    error = invalid("Service", "", "backend", caught.value.errors)
    assert error.code == 422
    assert error.message.startswith(
        'Service "backend" is invalid: spec.clusterIPs: Invalid value: []string{"1.2.3.4"}: '
    )


def test_the_tutorial_service_gets_upstreams_defaults() -> None:
    stored = default_service(backend_service(), set(), random.Random(2))
    spec = stored["spec"]
    assert spec["ports"] == [{"name": "http", "port": 8080, "protocol": "TCP", "targetPort": 8080}]
    assert spec["clusterIPs"] == [spec["clusterIP"]]
    assert ipaddress.ip_address(spec["clusterIP"]) in ipaddress.ip_network("198.19.0.0/16")
    assert spec["ipFamilies"] == ["IPv4"]
    assert spec["ipFamilyPolicy"] == "SingleStack"
    assert spec["sessionAffinity"] == "None"
    assert spec["internalTrafficPolicy"] == "Cluster"
    assert spec["type"] == "ClusterIP"
    assert stored["status"] == {"loadBalancer": {}}


def test_a_named_target_port_is_kept() -> None:
    service = backend_service()
    service["spec"]["ports"][0]["targetPort"] = "http"
    assert (
        default_service(service, set(), random.Random(2))["spec"]["ports"][0]["targetPort"]
        == "http"
    )


def test_a_headless_service_gets_no_address() -> None:
    service = backend_service()
    service["spec"]["clusterIP"] = "None"
    spec = default_service(service, set(), random.Random(2))["spec"]
    assert (spec["clusterIP"], spec["clusterIPs"]) == ("None", ["None"])


def test_an_update_keeps_the_allocated_address() -> None:
    stored = default_service(backend_service(), set(), random.Random(2))
    updated = keep_allocation(backend_service(), stored)
    assert updated["spec"]["clusterIP"] == stored["spec"]["clusterIP"]
    assert updated["spec"]["clusterIPs"] == stored["spec"]["clusterIPs"]


def test_an_update_cannot_move_the_address() -> None:
    stored = default_service(backend_service(), set(), random.Random(2))
    moved = backend_service()
    moved["spec"]["clusterIP"] = "198.19.9.9"
    with pytest.raises(ClusterIPError, match="may not change once set"):
        keep_allocation(moved, stored)


def test_addresses_in_use_are_read_from_services() -> None:
    assert cluster_ips(
        [kubernetes_service(), kube_dns_service(), {"spec": {"clusterIPs": ["None"]}}]
    ) == {
        KUBERNETES_IP,
        KUBE_DNS_IP,
    }


def test_the_kubernetes_service_is_443_to_the_api_server() -> None:
    service = kubernetes_service()
    assert service["metadata"] == {
        "name": "kubernetes",
        "namespace": "default",
        "labels": {"component": "apiserver", "provider": "kubernetes"},
    }
    assert service["spec"]["clusterIP"] == "198.19.0.1"
    assert service["spec"]["ports"] == [
        {"name": "https", "port": 443, "protocol": "TCP", "targetPort": 6443}
    ]
    assert "selector" not in service["spec"]


def test_the_kubernetes_endpoints_point_at_the_api_server() -> None:
    endpoints = kubernetes_endpoints("198.18.0.1")
    assert endpoints["subsets"] == [
        {
            "addresses": [{"ip": "198.18.0.1"}],
            "ports": [{"name": "https", "port": 6443, "protocol": "TCP"}],
        }
    ]
    endpoint_slice = kubernetes_endpointslice("198.18.0.1")
    assert endpoint_slice["endpoints"][0]["addresses"] == ["198.18.0.1"]


def test_kube_dns_serves_dns_on_udp_and_tcp_at_its_reserved_address() -> None:
    service = kube_dns_service()
    assert service["metadata"]["namespace"] == "kube-system"
    assert service["spec"]["clusterIP"] == "198.19.0.10"
    assert service["spec"]["selector"] == {"k8s-app": "kube-dns"}
    assert [(p["port"], p["protocol"]) for p in service["spec"]["ports"]][:2] == [
        (53, "UDP"),
        (53, "TCP"),
    ]
