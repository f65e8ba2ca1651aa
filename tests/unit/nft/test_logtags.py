from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from podwall.model.policy import Direction
from podwall.nft.logtags import HASH_HEX, LogTag, TagHead, TagKind, TagTable, read_head

ALLOW = LogTag(
    kind=TagKind.ALLOW, direction=Direction.INGRESS, policies=("default/web",), rule=0, peer=1
)
DENY = LogTag(kind=TagKind.DENY, direction=Direction.EGRESS, policies=("a/p", "a/q"))
SERVICE = LogTag(kind=TagKind.SERVICE, service="default/backend")


@pytest.mark.parametrize(
    ("tag", "head"),
    [
        pytest.param(ALLOW, "pwai:", id="an ingress allow reads pwai"),
        pytest.param(DENY, "pwde:", id="an egress default deny reads pwde"),
        pytest.param(SERVICE, "pws:", id="a service has no direction"),
    ],
)
def test_a_prefix_shows_kind_and_direction(tag: LogTag, head: str) -> None:
    assert tag.prefix.startswith(head)
    assert len(tag.prefix) == len(head) + HASH_HEX
    assert read_head(tag.prefix) == TagHead(tag.kind, tag.direction)


def test_a_prefix_fits_nft_log_prefix() -> None:
    long = LogTag(
        kind=TagKind.DENY, direction=Direction.INGRESS, policies=("n" * 63 + "/" + "p" * 253,)
    )
    assert len(long.prefix.encode()) <= 127


def test_the_same_meaning_gives_the_same_prefix_and_another_meaning_another() -> None:
    again = LogTag(
        kind=TagKind.ALLOW, direction=Direction.INGRESS, policies=("default/web",), rule=0, peer=1
    )
    other = LogTag(
        kind=TagKind.ALLOW, direction=Direction.INGRESS, policies=("default/web",), rule=0, peer=2
    )
    assert again.prefix == ALLOW.prefix
    assert other.prefix != ALLOW.prefix


@pytest.mark.parametrize(
    "prefix",
    [
        "",
        "hello",
        "pwx:0123456789abcdef",
        "pwa:0123456789abcdef",
        "pwai:0123",
        "pwsi:0123456789abcdef",
        "xxai:0123456789abcdef",
    ],
    ids=[
        "empty",
        "no colon",
        "unknown kind",
        "allow without direction",
        "short hash",
        "service with direction",
        "not ours",
    ],
)
def test_read_head_refuses_what_is_not_a_podwall_tag(prefix: str) -> None:
    assert read_head(prefix) is None


def test_the_table_maps_prefixes_back_and_forgets_on_request() -> None:
    table = TagTable()
    allow, deny = table.add(ALLOW), table.add(DENY)
    assert (table.get(allow), table.get(deny), len(table)) == (ALLOW, DENY, 2)
    table.keep_only({deny})
    assert (table.get(allow), table.get(deny)) == (None, DENY)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _tag(n: int) -> LogTag:
    return LogTag(kind=TagKind.DENY, direction=Direction.INGRESS, policies=(f"ns/p{n}",))


def test_a_tag_no_fragment_carries_is_kept_for_the_grace_then_released() -> None:
    clock = Clock()
    table = TagTable(grace=10.0, clock=clock)
    allow, deny = table.add(ALLOW), table.add(DENY)
    table.commit({("p",): {allow}, ("q",): {deny}})
    clock.now = 5.0
    table.commit({("q",): set()})  # the fragment of the deny is gone
    assert (table.get(deny), table.retired) == (DENY, 1)
    clock.now = 14.9
    table.commit({})
    assert table.get(deny) == DENY  # still in its grace: a late event resolves
    clock.now = 15.0
    table.commit({})
    assert (table.get(allow), table.get(deny), table.released) == (ALLOW, None, 1)


def test_a_tag_two_fragments_carry_lives_while_either_does() -> None:
    clock = Clock()
    table = TagTable(grace=0.0, clock=clock)
    deny = table.add(DENY)
    table.commit({("a",): {deny}, ("b",): {deny}})
    table.commit({("a",): set()})
    assert table.get(deny) == DENY
    table.commit({("b",): set()})
    assert table.get(deny) is None


def test_a_retired_tag_used_again_is_live_again() -> None:
    clock = Clock()
    table = TagTable(grace=10.0, clock=clock)
    deny = table.add(DENY)
    table.commit({("a",): {deny}})
    table.commit({("a",): set()})
    clock.now = 5.0
    table.add(DENY)
    table.commit({("b",): {deny}})
    clock.now = 100.0
    table.commit({})
    assert (table.get(deny), table.retired) == (DENY, 0)


def test_a_tag_added_but_carried_by_no_fragment_is_retired_at_the_commit() -> None:
    clock = Clock()
    table = TagTable(grace=1.0, clock=clock)
    deny = table.add(DENY)
    table.commit({})
    clock.now = 1.0
    table.commit({})
    assert table.get(deny) is None


def test_the_retired_are_bounded_the_oldest_going_first() -> None:
    table = TagTable(grace=1e9, retired_limit=2, clock=Clock())
    prefixes = [table.add(_tag(n)) for n in range(4)]
    table.commit({(n,): {p} for n, p in enumerate(prefixes)})
    for n in range(4):
        table.commit({(n,): set()})
    assert [table.get(p) is not None for p in prefixes] == [False, False, True, True]


FRAGMENTS = st.sampled_from(["f1", "f2", "f3"])
COMMITS = st.lists(
    st.tuples(
        st.dictionaries(FRAGMENTS, st.frozensets(st.integers(0, 6), max_size=3), max_size=3),
        st.floats(0.0, 4.0),
    ),
    max_size=25,
)


@given(COMMITS)
def test_live_tags_always_resolve_and_released_ones_never_resolve_wrong(
    commits: list[tuple[dict[str, frozenset[int]], float]],
) -> None:
    clock = Clock()
    table = TagTable(grace=3.0, retired_limit=3, clock=clock)
    carried: dict[str, frozenset[int]] = {}
    for change, step in commits:
        clock.now += step
        for numbers in change.values():
            for n in numbers:
                table.add(_tag(n))
        table.commit({key: {_tag(n).prefix for n in ns} for key, ns in change.items()})
        carried.update(change)
        live = {n for ns in carried.values() for n in ns}
        for n in range(7):
            found = table.get(_tag(n).prefix)
            assert found in (None, _tag(n))  # a tag never resolves to another meaning
            if n in live:
                assert found == _tag(n)
        assert len(table) <= len(live) + 3


def test_a_cluster_policy_tag_differs_from_the_network_policy_tag_of_the_same_indices() -> None:
    """A ClusterNetworkPolicy rule adds its name and action to the meaning; a NetworkPolicy
    tag's meaning (so the prefix every node already logs with) is the one it always had."""
    cnp = LogTag(
        kind=TagKind.ALLOW,
        direction=Direction.INGRESS,
        policies=("default/web",),
        rule=0,
        peer=1,
        rule_name="web",
        action="Accept",
    )
    assert cnp.cluster_policy
    assert not ALLOW.cluster_policy
    assert cnp.prefix != ALLOW.prefix
    assert cnp.meaning()[: len(ALLOW.meaning())] == ALLOW.meaning()
    assert len(ALLOW.meaning()) == 8  # kind, direction, policies, rule, peer, port, service, audit
    renamed = LogTag(**{**_fields(cnp), "rule_name": "other"})
    assert renamed.prefix != cnp.prefix


def _fields(tag: LogTag) -> dict[str, object]:
    return {f: getattr(tag, f) for f in tag.__dataclass_fields__}
