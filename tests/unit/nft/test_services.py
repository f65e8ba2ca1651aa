"""A Service without a selector is DNATed to the backends its EndpointSlices name (the
`kubernetes` Service to the API server), paired with its ports by name, as kube-proxy does.
A node port on any node's address is DNATed on the client's node, and the destination's
policy still decides it."""

from __future__ import annotations

from pathlib import Path

import pytest

from podwall.model.cluster import Backend, Cluster, Service, ServicePort
from podwall.model.ports import Protocol
from podwall.nft import FakeNFT
from podwall.nft.compile import compile_ruleset
from podwall.nft.objects import Hook
from podwall.nft.ruleset import full_transaction
from podwall.nft.services import NODEPORTS_MAP, backends, service_fragment
from podwall.nft.statements import DNAT
from podwall.nft.trace import Packet, Verdict, trace, trace_path
from tests.builders import make_cluster, policy

ROOT = Path(__file__).parents[3]

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


NODE_PORT_APP = (ROOT / "tests" / "golden" / "manifests" / "nodeport.yaml").read_text() + "\n---\n"
DENY_WEB = policy("deny", "default", "podSelector: {matchLabels: {app: web}}")
ALLOW_CLIENT = policy(
    "allow",
    "default",
    "podSelector: {matchLabels: {app: web}}\n"
    "ingress: [{from: [{podSelector: {matchLabels: {app: client}}}]}]",
)


def _loaded(yaml_text: str, node: str | None = None) -> FakeNFT:
    fake = FakeNFT()
    fake.run(full_transaction(compile_ruleset(make_cluster(yaml_text, base=""), node)))
    return fake


@pytest.mark.parametrize(
    ("daddr", "hook"),
    [
        ("198.18.255.1", Hook.PREROUTING),
        ("198.18.255.2", Hook.PREROUTING),
        ("198.18.255.1", Hook.OUTPUT),
    ],
    ids=["a pod dials its own node", "a pod dials another node", "a node dials itself"],
)
def test_a_node_port_on_any_node_address_is_dnated_to_the_endpoint(daddr: str, hook: Hook) -> None:
    fake = _loaded(NODE_PORT_APP, "node-1")
    result = trace(fake, Packet(saddr="198.18.0.7", daddr=daddr, dport=30080), hook)
    assert (result.packet.daddr, result.packet.dport) == ("198.18.1.5", 80)
    assert result.packet.saddr == "198.18.0.7"  # no SNAT: the reply comes back this way
    assert result.comments[:2] == ("node ports", "service default/web:8080/TCP")


@pytest.mark.parametrize(
    ("daddr", "dport", "l4proto"),
    [
        ("198.18.255.9", 30080, "tcp"),
        ("198.18.255.1", 30081, "tcp"),
        ("198.18.255.1", 30080, "udp"),
        ("198.18.1.5", 30080, "tcp"),
    ],
    ids=["not a node's address", "another port", "another protocol", "a pod's address"],
)
def test_only_a_node_address_and_the_node_port_are_translated(
    daddr: str, dport: int, l4proto: str
) -> None:
    packet = Packet(saddr="198.18.0.7", daddr=daddr, dport=dport, l4proto=l4proto)
    assert trace(_loaded(NODE_PORT_APP), packet, Hook.PREROUTING).packet == packet


@pytest.mark.parametrize(
    ("policies", "verdict"),
    [("", Verdict.ACCEPT), (DENY_WEB, Verdict.DROP), (DENY_WEB + ALLOW_CLIENT, Verdict.ACCEPT)],
    ids=["no policy", "ingress denied", "ingress allowed from the client"],
)
def test_the_destinations_policy_decides_node_port_traffic(policies: str, verdict: Verdict) -> None:
    fake = _loaded(NODE_PORT_APP + policies, "node-2")
    packet = Packet(saddr="198.18.0.7", daddr="198.18.255.2", dport=30080)
    assert trace_path(fake, packet).verdict is verdict


def test_a_cluster_ip_service_serves_no_node_port() -> None:
    text = NODE_PORT_APP.replace("type: NodePort", "type: ClusterIP")
    rs = compile_ruleset(make_cluster(text, base=""))
    assert NODEPORTS_MAP not in rs.sets
    assert not rs.elements.get(NODEPORTS_MAP)
