"""connectivity(): the whole map of a snapshot, over groups of pods no policy tells apart."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from podwall.engine import connectivity
from podwall.engine.connectivity import ConnectivityMap
from podwall.model.ports import Protocol
from tests.builders import make_cluster, policy

# builders.BASE: x/a serves http on TCP 80 and dns on UDP 53, x/b http on TCP 8080; y/a, y/b
# {tier: db} and the host-network y/host.
DENY_X = policy("deny", "x", "podSelector: {}\npolicyTypes: [Ingress]")
FROM_Y_A = policy("from-y-a", "x", "podSelector: {matchLabels: {app: a}}\ningress: [{from: [{namespaceSelector: {}, podSelector: {matchLabels: {app: a}}}], ports: [{port: http}]}]")  # fmt: skip
NO_EGRESS_Y_B = policy("no-egress", "y", "podSelector: {matchLabels: {tier: db}}\npolicyTypes: [Egress]")  # fmt: skip


def index(cmap: ConnectivityMap, key: str) -> int:
    return [p.key for p in cmap.pods].index(key)


@dataclass(frozen=True)
class Cell:
    id: str
    src: str
    dst: str
    port: int
    allowed: bool
    proto: Protocol = Protocol.TCP


CELLS = [
    Cell("a pod no policy isolates admits every source", "x/a", "y/a", 9999, True),
    Cell("an isolated pod admits what a rule allows", "y/a", "x/a", 80, True),
    Cell("an isolated pod denies the ports no rule allows", "y/a", "x/a", 81, False),
    Cell("an isolated pod denies the sources no rule allows", "y/b", "x/a", 80, False),
    Cell("a named port is the destination's own number", "y/a", "x/a", 80, True),
    Cell("a protocol no rule names is denied", "y/a", "x/a", 80, False, Protocol.UDP),
    Cell("a pod selected by the deny-all policy only admits nothing", "y/a", "x/b", 8080, False),
    Cell("an egress-isolated pod reaches nothing", "y/b", "y/a", 80, False),
    Cell("a pod can always reach itself", "x/b", "x/b", 1, True),
    Cell("host-network pods are not isolated", "y/b", "y/host", 80, False),
    Cell("host-network pods may send where no selector admits them", "y/host", "y/a", 80, True),
]  # fmt: skip


@pytest.mark.parametrize("cell", CELLS, ids=[c.id for c in CELLS])
def test_allowed(cell: Cell) -> None:
    cmap = connectivity(make_cluster(DENY_X + FROM_Y_A + NO_EGRESS_Y_B))
    src, dst = index(cmap, cell.src), index(cmap, cell.dst)
    assert cmap.allowed(src, dst, cell.port, cell.proto) is cell.allowed


def test_ports_name_every_allowed_port() -> None:
    cmap = connectivity(make_cluster(DENY_X + FROM_Y_A))
    assert cmap.ports(index(cmap, "y/a"), index(cmap, "x/a")).render() == "TCP 80"
    assert cmap.ports(index(cmap, "y/b"), index(cmap, "x/a")).render() == "none"


PODS = """
apiVersion: v1
kind: Pod
metadata: {name: NAME, namespace: NS, labels: {app: web}}
spec: {containers: [{name: c}]}
status: {podIP: ADDRESS}
---
"""


def pod(namespace: str, name: str, ip: str) -> str:
    return PODS.replace("NAME", name).replace("NS", namespace).replace("ADDRESS", ip)


def test_pods_are_listed_by_namespace_then_name() -> None:
    # "a-b/x" sorts before "a/y" as text; by namespace then name it comes after.
    c = make_cluster(
        pod("a-b", "x", "198.18.2.1") + pod("a", "z", "198.18.2.2") + pod("a", "y", "198.18.2.3"),
        base="",
    )
    cmap = connectivity(c)
    assert [p.key for p in cmap.pods] == ["a/y", "a/z", "a-b/x"]
    assert cmap.groups == ((0, 1), (2,))
    assert cmap.of_pod == (0, 0, 1)


def test_an_ipblock_splits_a_group_whose_pods_it_tells_apart() -> None:
    inside = policy(
        "p", "a", "podSelector: {}\ningress: [{from: [{ipBlock: {cidr: 198.18.2.0/31}}]}]"
    )
    c = make_cluster(pod("a", "y", "198.18.2.1") + pod("a", "z", "198.18.2.2") + inside, base="")
    cmap = connectivity(c)
    y, z = index(cmap, "a/y"), index(cmap, "a/z")
    assert cmap.of_pod[y] != cmap.of_pod[z]
    assert cmap.allowed(y, z, 80, Protocol.TCP) is True  # 198.18.2.1 is in the block
    assert cmap.allowed(z, y, 80, Protocol.TCP) is False  # 198.18.2.2 is not


def test_sources_on_lists_the_groups_allowed_on_an_atom() -> None:
    cmap = connectivity(make_cluster(DENY_X + FROM_Y_A))
    port_80 = cmap.atoms.port_mask(Protocol.TCP, 80)
    sources = cmap.sources_on(cmap.of_pod[index(cmap, "x/a")], port_80)
    # Pods labelled app a, of every namespace: x/a itself is one (a group of one pod).
    assert sources == (1 << cmap.of_pod[index(cmap, "x/a")]) | (
        1 << cmap.of_pod[index(cmap, "y/a")]
    )


def test_json_lists_pods_groups_and_connections_between_groups() -> None:
    cmap = connectivity(make_cluster(DENY_X + FROM_Y_A))
    data = cmap.to_json()
    assert list(data) == ["pods", "groups", "connections", "self"]
    assert data["pods"] == [p.key for p in cmap.pods]
    assert data["groups"] == [list(g) for g in cmap.groups]
    x_a = cmap.of_pod[index(cmap, "x/a")]
    into_x_a = [c for c in data["connections"] if x_a in c["to"]]
    app_a = sorted(cmap.of_pod[index(cmap, key)] for key in ("x/a", "y/a"))
    assert [(c["from"], c["text"]) for c in into_x_a] == [(app_a, "TCP 80")]
    assert into_x_a[0]["ports"] == {"TCP": [[80, 80]]}
