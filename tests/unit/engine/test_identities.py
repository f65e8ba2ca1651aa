"""Identities: which pods share one, stable indices, and what an update reports as changed."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

import pytest

from podwall.engine.identities import Identities, bit_indices, policy_blocks
from podwall.model.cluster import Pod
from podwall.model.labels import Labels
from podwall.model.policy import IPBlock
from podwall.model.ports import ContainerPort, Protocol
from podwall.model.record import replace
from tests.builders import make_cluster, policy


def pod(
    name: str,
    labels: dict[str, str] | None = None,
    *,
    ns: str = "x",
    ip: str = "",
    ports: tuple[ContainerPort, ...] = (),
    host: bool = False,
    node: str | None = None,
) -> Pod:
    return Pod(
        namespace=ns,
        name=name,
        labels=Labels({"app": "a"} if labels is None else labels),
        ips=(ipaddress.ip_address(ip),) if ip else (),
        ports=ports,
        host_network=host,
        node=node,
    )


def block(cidr: str, *excepts: str) -> IPBlock:
    return IPBlock(
        cidr=ipaddress.ip_network(cidr), except_=tuple(ipaddress.ip_network(e) for e in excepts)
    )


HTTP_80 = ContainerPort(port=80, name="http")
HTTP_8080 = ContainerPort(port=8080, name="http")
UNNAMED = ContainerPort(port=9000)


@dataclass(frozen=True)
class Grouping:
    id: str
    pods: tuple[Pod, ...]
    groups: list[list[str]]  # pod names per identity, in index order
    blocks: tuple[IPBlock, ...] = ()


GROUPINGS = [
    Grouping("pods with the same namespace and labels share an identity",
             (pod("a1"), pod("a2")), [["a1", "a2"]]),
    Grouping("other labels make another identity",
             (pod("a1"), pod("b1", {"app": "b"}), pod("a2")), [["a1", "a2"], ["b1"]]),
    Grouping("the same labels in another namespace make another identity",
             (pod("a1"), pod("a2", ns="y")), [["a1"], ["a2"]]),
    Grouping("a named port with another number makes another identity",
             (pod("a1", ports=(HTTP_80,)), pod("a2", ports=(HTTP_8080,)), pod("a3", ports=(HTTP_80,))),
             [["a1", "a3"], ["a2"]]),
    Grouping("unnamed container ports do not matter",
             (pod("a1", ports=(UNNAMED,)), pod("a2")), [["a1", "a2"]]),
    Grouping("the host-network flag makes another identity",
             (pod("a1"), pod("a2", host=True)), [["a1"], ["a2"]]),
    Grouping("addresses do not matter when no ipBlock splits identities",
             (pod("a1", ip="198.18.0.1"), pod("a2", ip="10.0.0.1")), [["a1", "a2"]]),
    Grouping("an ipBlock splits the pods inside it from those outside",
             (pod("a1", ip="198.18.0.1"), pod("a2", ip="10.0.0.1"), pod("a3", ip="198.18.0.9")),
             [["a1", "a3"], ["a2"]], (block("198.18.0.0/24"),)),
    Grouping("an address in an except of the block is outside it",
             (pod("a1", ip="198.18.0.1"), pod("a2", ip="198.18.0.200")),
             [["a1"], ["a2"]], (block("198.18.0.0/24", "198.18.0.128/25"),)),
    Grouping("a pod without an address is outside every block",
             (pod("a1"), pod("a2", ip="198.18.0.1")), [["a1"], ["a2"]], (block("0.0.0.0/0"),)),
    Grouping("an IPv6 address is found in an IPv6 block",
             (pod("a1", ip="2001:db8::1"), pod("a2", ip="198.18.0.1")),
             [["a1"], ["a2"]], (block("2001:db8::/64"),)),
]  # fmt: skip


@pytest.mark.parametrize("case", GROUPINGS, ids=[c.id for c in GROUPINGS])
def test_identities_group_pods_no_policy_tells_apart(case: Grouping) -> None:
    identities = Identities(case.blocks)
    identities.update(case.pods, None)
    groups = [[key.split("/")[1] for key in ident.members] for ident in identities.items]
    assert groups == case.groups
    for p in case.pods:
        assert p.key in identities.items[identities.of(p.key)].members


BASE = (pod("a1", ip="198.18.0.1"), pod("b1", {"app": "b"}, ip="198.18.0.2"), pod("a2"))


@dataclass(frozen=True)
class Update:
    id: str
    after: tuple[Pod, ...]
    changed: set[str]  # identities (named by labels) the update reports
    local: set[str] | None = None


UPDATES = [
    Update("equal pods in new objects change nothing",
           tuple(replace(p) for p in BASE), set()),
    Update("a new pod changes only the identity it joins",
           (*BASE, pod("b2", {"app": "b"})), {"b"}),
    Update("a relabelled pod changes the identity it leaves and the one it joins",
           (BASE[0], pod("b1", {"app": "a"}, ip="198.18.0.2"), BASE[2]), {"a", "b"}),
    Update("a removed pod changes its identity",
           (BASE[0], BASE[2]), {"b"}),
    Update("a new address changes the pod's identity",
           (BASE[0], replace(BASE[1], ips=(ipaddress.ip_address("198.18.0.3"),)), BASE[2]), {"b"}),
    Update("a pod that leaves the node changes its identity",
           tuple(replace(p) for p in BASE), {"a"}, local={"x/a2", "x/b1"}),
    Update("a new label set makes a new identity, at the next index",
           (*BASE, pod("c1", {"app": "c"})), {"c"}),
]  # fmt: skip


@pytest.mark.parametrize("case", UPDATES, ids=[c.id for c in UPDATES])
def test_an_update_reports_the_identities_it_touches(case: Update) -> None:
    identities = Identities()
    identities.update(BASE, None)
    before = [ident.labels for ident in identities.items]
    changed = identities.update(case.after, case.local)
    labels = [ident.labels["app"] for ident in identities.items]
    assert {labels[i] for i in bit_indices(changed)} == case.changed
    # Indices never move: the identities there were keep their place, new ones come after.
    assert [ident.labels for ident in identities.items[: len(before)]] == before
    assert {p.key for p in case.after} == {k for i in identities.items for k in i.members}


def test_the_very_same_pods_tuple_is_not_looked_at() -> None:
    identities = Identities()
    identities.update(BASE, None)
    identities.items[0].members.clear()  # would show if the pods were placed again
    assert identities.update(BASE, None) == 0
    assert identities.items[0].members == {}


def test_an_identity_whose_pods_all_left_stays_at_its_index() -> None:
    identities = Identities()
    identities.update(BASE, None)
    identities.update((BASE[1],), None)
    identities.update((*BASE, pod("a3")), None)
    assert [i.labels["app"] for i in identities.items] == ["a", "b"]
    assert set(identities.items[0].members) == {"x/a1", "x/a2", "x/a3"}


def test_local_pods_are_those_on_the_node() -> None:
    identities = Identities()
    identities.update(BASE, {"x/a1"})
    assert identities.items[0].local == {"x/a1"}
    assert identities.items[1].local == set()


def test_named_ports_resolve_by_name_and_protocol() -> None:
    identities = Identities()
    identities.update(
        (pod("a1", ports=(HTTP_80, ContainerPort(port=53, name="dns", protocol=Protocol.UDP))),),
        None,
    )
    ident = identities.items[0]
    assert ident.named_port("http", Protocol.TCP) == 80
    assert ident.named_port("dns", Protocol.UDP) == 53
    assert ident.named_port("dns", Protocol.TCP) is None
    assert ident.named_port("nope", Protocol.TCP) is None


def test_policy_blocks_are_distinct_whatever_their_text() -> None:
    spec = "podSelector: {}\ningress: [{from: [{ipBlock: {cidr: CIDR}}]}]"
    c = make_cluster(
        policy("p", "x", spec.replace("CIDR", "198.18.1.77/24"))
        + policy("q", "y", spec.replace("CIDR", "198.18.1.0/24"))
        + policy("r", "y", spec.replace("CIDR", "10.0.0.0/8"))
    )
    blocks = policy_blocks(c.policies)
    assert [str(b.cidr) for b in blocks] == ["198.18.1.0/24", "10.0.0.0/8"]
    identities = Identities(blocks)
    written = c.policies[1].ingress[0].peers[0].ip_block
    assert written is not None
    assert identities.block_index(written) == 0
    assert identities.block_index(block("192.0.2.0/24")) is None


@pytest.mark.parametrize(
    ("bits", "indices"),
    [
        (0, []),
        (1, [0]),
        (0b1011, [0, 1, 3]),
        ((1 << 1000) | 1, [0, 1000]),
        ((1 << 64) - 1, list(range(64))),
    ],
    ids=["no bits", "bit 0", "a few low bits", "sparse over 1000 bits", "dense"],
)
def test_bit_indices_lists_the_set_bits_in_order(bits: int, indices: list[int]) -> None:
    assert bit_indices(bits) == indices


def test_identities_handed_out_stay_as_they_were_and_only_the_changed_are_copied() -> None:
    identities = Identities()
    identities.update(BASE, None)
    handed = identities.hand_out()
    moved = replace(BASE[0], labels=Labels({"app": "b"}))
    identities.update((moved, BASE[1], BASE[2], pod("c1", {"app": "c"})), None)
    assert set(handed[0].members) == {"x/a1", "x/a2"}
    assert set(handed[1].members) == {"x/b1"}
    assert set(identities.items[0].members) == {"x/a2"}
    assert set(identities.items[1].members) == {"x/a1", "x/b1"}
    assert identities.items[0] is not handed[0]
    assert identities.items[1] is not handed[1]
    identities.update((moved, BASE[1], pod("c1", {"app": "c"})), None)
    assert set(handed[0].members) == {"x/a1", "x/a2"}  # copied once, then changed in place
    assert set(identities.items[0].members) == set()
