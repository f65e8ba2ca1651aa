"""The sets policies ask for: their elements, inlined up to INLINE_MAX, shared by their users,
and big sets patched element by element without touching the fragment they came from."""

from __future__ import annotations

import gc

import pytest

from podwall.engine.identities import bit_indices
from podwall.engine.selectorcache import SelectorCache
from podwall.model.cluster import Cluster
from podwall.model.policy import Direction
from podwall.nft import fragments, setbook
from podwall.nft.compile import Compiler, compile_ruleset
from podwall.nft.fragments import FragmentKey
from podwall.nft.objects import Element, Set
from podwall.nft.policies import SetRequest, policy_requests
from podwall.nft.ruleset import Ruleset
from podwall.nft.setbook import (
    PolicyKey,
    SetBook,
    block_keys,
    member_keys,
    members,
    patched,
)
from podwall.nft.values import NftType
from tests.builders import make_cluster, policy

# builders.BASE: x/a (198.18.0.1) serves http on TCP 80, x/b (198.18.0.2) http on TCP 8080;
# y/a (198.18.1.1), y/b (198.18.1.2) and the host-network y/host (198.19.255.1).
TO_EXTRA = policy("deny", "y", "podSelector: {}\npolicyTypes: [Ingress, Egress]\negress: [{to: [{namespaceSelector: {}, podSelector: {matchLabels: {app: extra}}}]}]")  # fmt: skip
EXTRA_POD = """
apiVersion: v1
kind: Pod
metadata: {name: NAME, namespace: x, labels: {app: extra}}
spec: {containers: [{name: c, ports: [{name: http, containerPort: 80}]}]}
status: {podIP: ADDRESS}
---
"""


def extra_pods(count: int, first: int = 10) -> str:
    return "".join(
        EXTRA_POD.replace("NAME", f"c{i}").replace("ADDRESS", f"198.18.0.{first + i}")
        for i in range(count)
    )


@pytest.mark.parametrize("size", [0, 1, 2, 3, 4, 5])
def test_sets_are_inlined_up_to_the_limit(size: int) -> None:
    """A peer of up to INLINE_MAX addresses is compared in the rule; more is a named set."""
    ruleset = compile_ruleset(make_cluster(TO_EXTRA + extra_pods(size)))
    peer_sets = [name for name in ruleset.sets if name.startswith("peer_")]
    (egress,) = [rules for chain, rules in ruleset.rules.items() if chain.startswith("cls-out")]
    accepts = [r for r in egress if r.text().endswith('to[0]"')]
    if size <= setbook.INLINE_MAX:
        assert peer_sets == []
        assert len(accepts) == size
    else:
        assert len(peer_sets) == 1
        assert len(accepts) == 1


def test_a_peer_in_a_named_set_changes_only_its_elements(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(setbook, "INLINE_MAX", 0)
    compiler = Compiler()
    first = compiler.compile(make_cluster(TO_EXTRA + extra_pods(2)))
    second = compiler.compile(make_cluster(TO_EXTRA + extra_pods(3)))
    [touched] = compiler.touched
    assert touched[0] == "set"
    assert first[("classes", "egress", "y")] is second[("classes", "egress", "y")]
    tx = fragments.update(first, second, compiler.touched)
    assert tx.render() == f"add element inet podwall {touched[1]} {{ 198.18.0.12 }}\n"


def _request(spec: str) -> SetRequest:
    """The one set the one ingress rule of a policy of namespace x asks for."""
    [p] = make_cluster(policy("p", "x", spec)).policies
    [request] = policy_requests(p, Direction.INGRESS)
    return request


BLOCKS = [
    ("a block without excepts is one element", "198.18.0.0/16", "", [("198.18.0.0/16",)]),
    ("an except in the middle leaves two ranges", "198.18.0.0/16", "[198.18.1.0/24]",
     [("198.18.0.0/24",), ("198.18.2.0-198.18.255.255",)]),
    ("an except at the start leaves the rest", "198.18.0.0/24", "[198.18.0.0/25]", [("198.18.0.128/25",)]),
    ("an except covering the block leaves nothing", "198.18.0.0/24", "[198.18.0.0/16]", []),
    ("an IPv6 block has no IPv4 elements", "2001:db8::/64", "", []),
]  # fmt: skip


@pytest.mark.parametrize(
    ("cidr", "excepts", "keys"), [b[1:] for b in BLOCKS], ids=[b[0] for b in BLOCKS]
)
def test_an_ipblock_set_holds_the_block_minus_its_excepts(
    cidr: str, excepts: str, keys: list[tuple[str, ...]]
) -> None:
    block = f"{{cidr: '{cidr}'" + (f", except: {excepts}" if excepts else "") + "}"
    request = _request(f"podSelector: {{}}\ningress: [{{from: [{{ipBlock: {block}}}]}}]")
    assert list(block_keys(request)) == keys


MEMBERS = [
    ("a peer set holds the address of each pod it selects, not the host-network one's",
     "podSelector: {}\ningress: [{from: [{namespaceSelector: {}}]}]",
     {("198.18.0.1",), ("198.18.0.2",), ("198.18.1.1",), ("198.18.1.2",)}),
    ("a named-port set pairs each address with that pod's own number",
     "podSelector: {}\ningress: [{ports: [{port: http}]}]",
     {("198.18.0.1", "tcp", "80"), ("198.18.0.2", "tcp", "8080")}),
]  # fmt: skip


@pytest.mark.parametrize(("spec", "keys"), [m[1:] for m in MEMBERS], ids=[m[0] for m in MEMBERS])
def test_member_keys(spec: str, keys: set[tuple[str, ...]]) -> None:
    cluster = make_cluster()
    cache = SelectorCache()
    cache.update(cluster)
    request = _request(spec)
    found = member_keys(cache, request, bit_indices(members(cache, request)))
    assert set(found) == keys
    for key, identity in found.items():
        assert key[0] in {str(ip) for ip in cache.identities.items[identity].addresses()}


def test_member_keys_leave_out_ipv6_addresses() -> None:
    dual = EXTRA_POD.replace("NAME", "dual").replace(
        "status: {podIP: ADDRESS}", "status: {podIPs: [{ip: 198.18.0.9}, {ip: '2001:db8::9'}]}"
    )
    cluster = make_cluster(dual)
    cache = SelectorCache()
    cache.update(cluster)
    request = _request("podSelector: {}\ningress: [{from: [{namespaceSelector: {}, podSelector: {matchLabels: {app: extra}}}]}]")  # fmt: skip
    assert set(member_keys(cache, request, [cache.identities.of("x/dual")])) == {("198.18.0.9",)}


def _set_fragment(*keys: str) -> Ruleset:
    rs = Ruleset()
    rs.set(Set(name="s", key=(NftType.IPV4_ADDR,)))
    for key in keys:
        rs.element(Element(set="s", key=(key,)))
    return rs


def test_patched_leaves_its_input_as_it_was() -> None:
    base = _set_fragment("198.18.0.1", "198.18.0.2")
    after = patched(base, "s", [("198.18.0.1",)], [("198.18.0.3",)])
    assert list(base.elements["s"]) == [("198.18.0.1",), ("198.18.0.2",)]
    assert base.patch is None
    assert list(after.elements["s"]) == [("198.18.0.2",), ("198.18.0.3",)]
    assert after.sets == base.sets


def test_a_diff_from_the_base_reads_only_the_patch() -> None:
    base = _set_fragment("198.18.0.1", "198.18.0.2")
    after = patched(base, "s", [("198.18.0.1",)], [("198.18.0.3",)])
    key: FragmentKey = ("set", "s")
    lines = fragments.update({key: base}, {key: after}).render().splitlines()
    assert [line.split(" {")[0] for line in lines] == [
        "delete element inet podwall s",
        "add element inet podwall s",
    ]
    assert "198.18.0.1" in lines[0]
    assert "198.18.0.3" in lines[1]


def test_a_patch_does_not_keep_its_base_alive() -> None:
    base = _set_fragment("198.18.0.1")
    after = patched(base, "s", [], [("198.18.0.2",)])
    assert after.patch is not None
    assert after.patch.applies_to(base)
    del base
    gc.collect()
    assert after.patch.base() is None
    assert not after.patch.applies_to(Ruleset())


class Recorder:
    """The fragments a SetBook puts, as the compiler keeps them."""

    def __init__(self) -> None:
        self.out: dict[FragmentKey, Ruleset] = {}

    def put(self, key: FragmentKey, fragment: Ruleset | None) -> None:
        if fragment is None:
            self.out.pop(key, None)
        else:
            self.out[key] = fragment


def _book(cluster: Cluster) -> tuple[SetBook, SelectorCache, Recorder]:
    cache = SelectorCache()
    cache.update(cluster)
    recorder = Recorder()
    return SetBook(cache, recorder.put, recorder.out.__getitem__), cache, recorder


EVERY_POD = "podSelector: {}\ningress: [{from: [{namespaceSelector: {}}]}]"


def test_a_big_set_is_loaded_by_name_until_its_last_user_releases_it() -> None:
    cluster = make_cluster(extra_pods(2))
    book, _, recorder = _book(cluster)
    request = _request(EVERY_POD)
    first, second = PolicyKey("x/p", Direction.INGRESS), PolicyKey("x/q", Direction.INGRESS)
    assert book.use(request, first) == request.set_name
    assert book.use(request, second) == request.set_name
    assert list(recorder.out) == [("set", request.set_name)]
    book.release(request.set_name, first)
    assert list(recorder.out) == [("set", request.set_name)]
    book.release(request.set_name, second)
    assert recorder.out == {}


def test_a_small_set_is_written_into_the_rules() -> None:
    cluster = make_cluster()
    book, _, recorder = _book(cluster)
    request = _request("podSelector: {}\ningress: [{from: [{podSelector: {matchLabels: {app: a}}}]}]")  # fmt: skip
    assert book.use(request, PolicyKey("x/p", Direction.INGRESS)) == (("198.18.0.1",),)
    assert recorder.out == {}


def test_refresh_names_the_users_of_an_inlined_set_whose_members_changed() -> None:
    cluster = make_cluster()
    book, cache, _ = _book(cluster)
    request = _request("podSelector: {}\ningress: [{from: [{podSelector: {matchLabels: {app: extra}}}]}]")  # fmt: skip
    user = PolicyKey("x/p", Direction.INGRESS)
    assert book.use(request, user) == ()
    after = make_cluster(extra_pods(1))
    changes = cache.update(after)
    assert book.refresh({"x"}, changes.identities, changes.namespaces) == {user}
    assert book.refresh({"y"}, changes.identities, changes.namespaces) == set()
