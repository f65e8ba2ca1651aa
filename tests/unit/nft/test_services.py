"""A Service without a selector is DNATed to the backends its EndpointSlices name (the
`kubernetes` Service to the API server), paired with its ports by name, as kube-proxy does."""

from __future__ import annotations

import pytest

from podwall.model.cluster import Backend, Cluster, Service, ServicePort
from podwall.model.ports import Protocol
from podwall.nft.services import backends, service_fragment
from podwall.nft.statements import DNAT

HTTPS = ServicePort(port=443, target_port=6443, name="https")
API = Backend(address="198.18.255.254", port=6443, name="https")


def _service(*found: Backend, ports: tuple[ServicePort, ...] = (HTTPS,)) -> Service:
    return Service(
        namespace="default",
        name="kubernetes",
        selector=None,
        ports=ports,
        cluster_ip="198.19.0.1",
        backends=found,
    )


@pytest.mark.parametrize(
    ("found", "port", "expected"),
    [
        ((API,), HTTPS, [("198.18.255.254", 6443)]),
        ((Backend(address="198.18.255.254", port=6443, name="metrics"),), HTTPS, []),
        ((Backend(address="198.18.255.254", port=53, protocol=Protocol.UDP, name="https"),),
         HTTPS, []),
        ((Backend(address="fd00::1", port=6443, name="https"),), HTTPS, []),
        ((Backend(address="198.18.0.9", port=80),),
         ServicePort(port=80, target_port=80, name=""), [("198.18.0.9", 80)]),
        ((API, API), HTTPS, [("198.18.255.254", 6443)]),
    ],
    ids=[
        "the slice port of the same name",
        "another name serves another port",
        "another protocol does not serve it",
        "an IPv6 address is not this IPv4 dataplane's",
        "an unnamed port pairs with the unnamed slice port",
        "an address two slices list counts once",
    ],
)  # fmt: skip
def test_a_selectorless_service_port_takes_its_slices_backends(
    found: tuple[Backend, ...], port: ServicePort, expected: list[tuple[str, int]]
) -> None:
    got = backends(_service(*found, ports=(port,)), port)
    assert [(ip, number) for _, ip, number in got] == expected


def test_the_kubernetes_service_is_dnated_to_the_api_server() -> None:
    rules = service_fragment(Cluster.build(), _service(API)).rules
    dnats = [
        s for chain in rules.values() for r in chain for s in r.statements if isinstance(s, DNAT)
    ]
    assert dnats == [DNAT("198.18.255.254", 6443)]


def test_without_backends_there_is_no_dnat_and_the_client_is_refused() -> None:
    assert not service_fragment(Cluster.build(), _service()).chains
