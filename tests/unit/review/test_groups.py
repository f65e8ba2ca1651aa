"""join's numbering of joint groups, and translating a side's identity bits into them."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from podwall.engine.identities import bit_indices
from podwall.model.cluster import Pod
from podwall.model.labels import Labels
from podwall.review.groups import ABSENT, JointGroups, join


class FakeMap:
    """What join reads of a ConnectivityMap: pods in name order, their identities."""

    def __init__(self, pods: tuple[Pod, ...], of_pod: tuple[int, ...], identities: int) -> None:
        self.pods, self.of_pod = pods, of_pod
        self.identities: tuple[Any, ...] = tuple(range(identities))
        self.named_as: FakeMap | None = None


def pod(i: int) -> Pod:
    return Pod(namespace="ns", name=f"p{i:03d}", labels=Labels())


@st.composite
def sides(draw: st.DrawFn) -> tuple[FakeMap, FakeMap]:
    """Two maps over the same pods (a few on one side only), identities numbered by their
    first pod as the engine numbers them, the after side placing its changed pods in
    identities of its own."""
    count = draw(st.integers(1, 12))
    kinds = draw(st.lists(st.integers(0, 3), min_size=count, max_size=count))
    before_of = draw(st.lists(st.integers(0, 4), min_size=count, max_size=count))
    after_of = [
        b if k == 0 else 5 + draw(st.integers(0, 3)) for b, k in zip(before_of, kinds, strict=True)
    ]
    maps = []
    for of, present in ((before_of, [k != 3 or i % 2 for i, k in enumerate(kinds)]),
                        (after_of, [k != 2 for k in kinds])):  # fmt: skip
        numbering: dict[int, int] = {}
        pods, ids = [], []
        for i in range(count):
            if present[i]:
                pods.append(pod(i))
                ids.append(numbering.setdefault(of[i], len(numbering)))
        maps.append(FakeMap(tuple(pods), tuple(ids), len(numbering)))
    return maps[0], maps[1]


def naive(groups: JointGroups, side: int, bits: int) -> int:
    out = 0
    for joint in groups.items:
        identity = joint.before if side == 0 else joint.after
        if identity != ABSENT and bits >> identity & 1:
            out |= 1 << joint.index
    return out


@settings(max_examples=300)
@given(sides(), st.data())
def test_translating_is_the_union_of_each_identitys_groups(
    maps: tuple[FakeMap, FakeMap], data: st.DataObject
) -> None:
    groups = join(*maps)  # type: ignore[arg-type]
    assert [j.index for j in groups.items] == list(range(len(groups.items)))
    every_pod = sorted(p.key for j in groups.items for p in j.pods)
    assert every_pod == sorted({p.key for m in maps for p in m.pods})
    for side, cmap in enumerate(maps):
        bits = data.draw(st.integers(0, (1 << len(cmap.identities)) - 1))
        assert groups.translate(side, bits) == naive(groups, side, bits)
    # In name order of their first pods, whatever their indices.
    firsts = [j.pods[0].key for j in groups.in_order()]
    assert firsts == sorted(firsts)
    assert groups.ordered(list(range(len(groups.items)))) == [j.index for j in groups.in_order()]


def test_a_change_of_policies_only_keeps_every_identity_on_its_group() -> None:
    pods = tuple(pod(i) for i in range(4))
    before = FakeMap(pods, (0, 0, 1, 2), 3)
    after = FakeMap(pods, (0, 0, 1, 2), 3)
    groups = join(before, after)  # type: ignore[arg-type]
    assert groups.same == (True, True)
    assert groups.rank is None


def test_a_relabelled_pod_costs_a_lookup_for_its_identities_only() -> None:
    pods = tuple(pod(i) for i in range(4))
    before = FakeMap(pods, (0, 0, 1, 2), 3)
    after = FakeMap(pods, (0, 3, 1, 2), 4)  # p001 moved to an identity of its own
    groups = join(before, after)  # type: ignore[arg-type]
    # Its group (0, 3) takes index 3, its after identity's: only identity 0 before, now two
    # groups, is looked up.
    assert [bit_indices(groups.diagonal[s]) for s in (0, 1)] == [[1, 2], [0, 1, 2, 3]]
    assert groups.extra[0] == {0: 0b1001}
    assert groups.same == (False, True)
