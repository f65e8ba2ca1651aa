"""Placement: which sandbox node runs each pod, and the address it gets there."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from podwall.model.cluster import Cluster, Node, Pod
from podwall.model.labels import Labels
from podwall.runtime import system
from podwall.runtime.addressplan import NODE_RANGE, node_address, node_subnet
from podwall.runtime.placement import keep, node_names, place, placed_on, slots, stand_in

ip = ipaddress.IPv4Address


def pod(
    ref: str, *, node: str | None = None, address: str | None = None, host: bool = False
) -> Pod:
    namespace, name = ref.split("/")
    return Pod(
        namespace=namespace,
        name=name,
        labels=Labels({}),
        node=node,
        ips=(ip(address),) if address else (),
        host_network=host,
    )


def nodes_of(*pods: Pod, count: int = 3) -> dict[str, str | None]:
    placed, _ = place(Cluster.build(pods=pods), slots(count))
    return {p.key: p.node for p in placed.pods}


def test_nodes_are_named_node_1_to_n_on_their_own_ranges() -> None:
    assert node_names(3) == ["node-1", "node-2", "node-3"]
    assert [(s.name, str(s.subnet)) for s in slots(2)] == [
        ("node-1", "198.18.0.0/24"),
        ("node-2", "198.18.1.0/24"),
    ]


@pytest.mark.parametrize(
    ("pods", "expected"),
    [
        pytest.param(
            [pod("x/a"), pod("x/b"), pod("x/c"), pod("y/a")],
            ["node-1", "node-2", "node-3", "node-1"],
            id="round-robin in the order of the manifests",
        ),
        pytest.param(
            [pod("x/b"), pod("x/a")],
            ["node-1", "node-2"],
            id="file order, not name order",
        ),
        pytest.param(
            [pod("x/a", node="node-3"), pod("x/b"), pod("x/c")],
            ["node-3", "node-1", "node-2"],
            id="spec.nodeName naming a sandbox node is honoured and takes no turn",
        ),
        pytest.param(
            [pod("x/a", node="kind-worker"), pod("x/b")],
            ["node-1", "node-2"],
            id="spec.nodeName naming no sandbox node takes its turn",
        ),
        pytest.param(
            [pod("x/a"), pod(f"{system.DNS_NAMESPACE}/{system.DNS_POD}"), pod("x/b")],
            ["node-1", "node-1", "node-2"],
            id="cluster DNS runs on the first node and takes no turn",
        ),
        pytest.param(
            [pod("x/a", host=True), pod("x/b")],
            [None, "node-1"],
            id="a host-network pod is not placed",
        ),
    ],
)
def test_which_node_runs_a_pod(pods: list[Pod], expected: list[str | None]) -> None:
    assert list(nodes_of(*pods).values()) == expected


def test_a_node_name_that_is_not_a_sandbox_node_is_warned_about() -> None:
    _, warnings = place(Cluster.build(pods=[pod("x/a", node="kind-worker")]), slots(2))
    assert warnings == [
        "pod x/a: spec.nodeName 'kind-worker' is not a sandbox node (node-1, node-2): "
        "it runs on node-1"
    ]


def test_one_node_gives_the_addresses_of_the_single_node_sandbox() -> None:
    placed, _ = place(Cluster.build(pods=[pod("x/b"), pod("x/a")]), slots(1))
    assert {p.key: str(p.ips[0]) for p in placed.pods} == {
        "x/a": "198.18.0.10",  # name order, from .10
        "x/b": "198.18.0.11",
    }


def test_addresses_come_from_the_node_range_and_manifest_ones_are_kept() -> None:
    pods = [pod("x/a"), pod("x/b", address="198.18.0.10"), pod("x/c"), pod("x/d")]
    placed, _ = place(Cluster.build(pods=pods), slots(2))
    got = {p.key: (p.node, str(p.ips[0])) for p in placed.pods}
    assert got == {
        "x/a": ("node-1", "198.18.0.11"),  # .10 is x/b's, which runs on node-2
        "x/b": ("node-2", "198.18.0.10"),
        "x/c": ("node-1", "198.18.0.12"),
        "x/d": ("node-2", "198.18.1.10"),
    }


def test_a_full_node_range_overflows_outside_every_node_range() -> None:
    pods = [pod(f"x/p{i:03}", node="node-1") for i in range(246)]
    placed, _ = place(Cluster.build(pods=pods), slots(2))
    addresses = [p.ips[0] for p in placed.pods]
    assert addresses[-1] == ip("198.18.2.10")  # 198.18.0.10-254 are full, 198.18.1/24 is node-2's
    assert all(a in node_subnet(0) for a in addresses[:-1])


def test_no_nodes_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one node"):
        place(Cluster.build(pods=[pod("x/a")]), [])


def test_keep_puts_pods_back_where_they_were() -> None:
    first, _ = place(Cluster.build(pods=[pod("x/a"), pod("x/b")]), slots(2))
    again, _ = place(Cluster.build(pods=[pod("x/b"), pod("x/a")]), slots(2))
    kept = keep(again, first)
    assert {p.key: (p.node, p.ips) for p in kept.pods} == {
        p.key: (p.node, p.ips) for p in first.pods
    }
    assert placed_on(kept) == {"node-1": ["x/a"], "node-2": ["x/b"]}


@given(
    count=st.integers(min_value=1, max_value=5),
    pinned=st.lists(st.sampled_from([None, "node-1", "node-4", "elsewhere"]), max_size=30),
    fixed=st.sets(st.integers(min_value=2, max_value=600), max_size=10),
)
def test_every_pod_runs_on_a_sandbox_node_at_an_address_of_its_own(
    count: int, pinned: list[str | None], fixed: set[int]
) -> None:
    given_ips = [ip("198.18.0.0") + f for f in sorted(fixed)]
    pods = [
        pod(f"x/p{i}", node=node, address=str(given_ips[i]) if i < len(given_ips) else None)
        for i, node in enumerate(pinned)
    ]
    placed, _ = place(Cluster.build(pods=pods), slots(count))
    names = node_names(count)
    assert all(p.node in names for p in placed.pods)
    addresses = [p.ips[0] for p in placed.pods]
    assert len(set(addresses)) == len(addresses)
    assert not any(a in NODE_RANGE for a in addresses)
    for before, after in zip(pods, placed.pods, strict=True):
        if before.ips:
            assert after.ips == before.ips  # a manifest's address is kept
        else:
            assert after.ips[0] in slots(count)[names.index(after.node or "")].subnet
        if before.node in names:
            assert after.node == before.node


def test_the_manifests_nodes_stand_for_the_sandbox_nodes_with_their_addresses() -> None:
    """A `nodes` peer and a host-network pod mean the sandbox node's address; a pod naming a
    manifest Node runs on the node it stands for, so same-node pairs stay same-node."""
    manifest_nodes = [
        Node(name=n, labels=Labels({}), addresses=(ip(a),))
        for n, a in (("big-1", "198.18.250.1"), ("big-2", "198.18.250.2"))
    ]
    cluster = Cluster.build(
        nodes=manifest_nodes,
        pods=[
            pod("x/host", node="big-2", address="198.18.250.2", host=True),
            pod("x/web", node="big-2"),
            pod("x/free"),
            pod("x/stray-host", host=True),
        ],
    )
    out, warnings = stand_in(cluster, slots(3))
    assert warnings == []
    assert [n.addresses for n in out.nodes] == [(node_address(0),), (node_address(1),)]
    by_key = {p.key: p for p in out.pods}
    assert (by_key["x/host"].node, by_key["x/host"].ips) == ("node-2", (node_address(1),))
    assert by_key["x/web"].node == "node-2"
    assert by_key["x/free"].node is None  # `place` chooses
    assert (by_key["x/stray-host"].node, by_key["x/stray-host"].ips) == (
        "node-1",
        (node_address(0),),
    )


def test_more_manifest_nodes_than_sandbox_nodes_share_addresses_and_say_so() -> None:
    many = [Node(name=f"n{i}", labels=Labels({})) for i in range(3)]
    out, warnings = stand_in(Cluster.build(nodes=many), slots(2))
    assert [n.addresses for n in out.nodes] == [
        (node_address(0),),
        (node_address(1),),
        (node_address(0),),
    ]
    assert warnings == ["3 Nodes for 2 sandbox nodes: some share an address"]
