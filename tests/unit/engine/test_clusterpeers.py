"""ClusterNetworkPolicy matching pod by pod: subjects, peers and protocols, with reasons."""

from __future__ import annotations

import ipaddress

import pytest

from podwall.engine.clusterpeers import match_peer, match_protocols, subject_selects
from podwall.engine.endpoints import Endpoint
from podwall.model.clusterpolicy import Action, ClusterPeer, ClusterPort
from podwall.model.labels import LabelSelector
from podwall.model.ports import Protocol
from tests.builders import NODE, cluster_policy, make_cluster

RED = LabelSelector(match_labels=(("team", "red"),))


@pytest.mark.parametrize(
    ("subject", "pod", "selected"),
    [
        ("namespaces: {matchLabels: {team: red}}", "x/a", True),
        ("namespaces: {matchLabels: {team: red}}", "y/a", False),
        ("pods: {podSelector: {matchLabels: {app: b}}}", "y/b", True),
        ("pods: {namespaceSelector: {matchLabels: {team: red}}, podSelector: {}}", "y/b", False),
        ("namespaces: {}", "y/host", False),
    ],
    ids=[
        "a namespaces subject selects every pod of a matching namespace",
        "a namespaces subject leaves other namespaces alone",
        "a pods subject without a namespaceSelector looks in every namespace",
        "a pods subject needs both selectors",
        "host-network pods are never selected",
    ],
)
def test_subject_selection(subject: str, pod: str, selected: bool) -> None:
    c = make_cluster(cluster_policy("p", "Admin", 1, f"subject: {{{subject}}}"))
    (cnp,) = c.cluster_policies
    assert subject_selects(c, cnp, c.pods_by_key[pod]) is selected


@pytest.mark.parametrize(
    ("ports", "port", "protocol", "matched", "reason"),
    [
        ((), 1, Protocol.SCTP, True, "all ports"),
        ((ClusterPort(protocol=Protocol.TCP),), 9, Protocol.TCP, True, "TCP (all ports)"),
        ((ClusterPort(protocol=Protocol.TCP, start=80),), 81, Protocol.TCP, False,
         "TCP 80 does not include 81"),
        ((ClusterPort(protocol=Protocol.UDP, start=80, end=90),), 90, Protocol.UDP, True,
         "UDP 80-90"),
        ((ClusterPort(protocol=Protocol.UDP, start=80),), 80, Protocol.TCP, False,
         "UDP 80: protocol is not TCP"),
        ((ClusterPort(name="http"),), 80, Protocol.TCP, True, "named port http (TCP 80)"),
        ((ClusterPort(name="http"), ClusterPort(protocol=Protocol.TCP, start=1)), 81,
         Protocol.TCP, False, "named port http: not TCP 81 on x/a; TCP 1 does not include 81"),
    ],
)  # fmt: skip
def test_protocols(
    ports: tuple[ClusterPort, ...], port: int, protocol: Protocol, matched: bool, reason: str
) -> None:
    c = make_cluster()
    found = match_protocols(ports, Endpoint.of_pod(c.pods_by_key["x/a"]), port, protocol)
    assert (found.matched, found.reason) == (matched, reason)


def test_a_named_port_never_matches_an_address_outside_the_cluster() -> None:
    outside = Endpoint.of_ip(ipaddress.ip_address("203.0.113.1"))
    found = match_protocols((ClusterPort(name="http"),), outside, 80, Protocol.TCP)
    assert not found.matched


@pytest.mark.parametrize(
    ("peer", "action", "other", "matched"),
    [
        (ClusterPeer(namespaces=RED), Action.DENY, "x/b", True),
        (ClusterPeer(namespaces=RED), Action.DENY, "203.0.113.1", False),
        (ClusterPeer(), Action.ACCEPT, "x/b", False),
        (ClusterPeer(), Action.PASS, "203.0.113.1", True),
        (ClusterPeer(nodes=LabelSelector()), Action.DENY, "198.19.255.1", True),
        (ClusterPeer(nodes=LabelSelector()), Action.DENY, "x/b", False),
        (ClusterPeer(domain_names=("example.com",)), Action.ACCEPT, "203.0.113.1", False),
    ],
    ids=[
        "a namespaces peer matches a pod of a matching namespace",
        "a namespaces peer never matches an address outside the cluster",
        "an empty peer of an Accept rule matches nothing",
        "an empty peer of a Pass rule matches everything, outside addresses too",
        "a nodes peer matches a node's address",
        "a nodes peer does not match a pod's own address",
        "a domainNames peer matches nothing: podwall cannot resolve it",
    ],
)
def test_peers(peer: ClusterPeer, action: Action, other: str, matched: bool) -> None:
    c = make_cluster(NODE)
    if "/" in other:
        endpoint = Endpoint.of_pod(c.pods_by_key[other])
    else:
        endpoint = Endpoint.of_ip(ipaddress.ip_address(other))
    assert match_peer(c, peer, action, endpoint).matched is matched
