"""Pods that behave alike on both sides of a change, as bitsets, and their names for people.

A `Joint` group holds pods that share an identity before and an identity after (a pod that
exists on one side only has none on the other). Every connection of one member is then that of
all members, so a diff is computed per group pair, never per pod pair. Pure: no I/O here.
"""

from __future__ import annotations

from collections.abc import Sequence
from operator import attrgetter

from podwall.engine import ConnectivityMap
from podwall.engine.identities import bit_indices
from podwall.model.cluster import Pod
from podwall.model.record import Record, field
from podwall.review.matching import Matching

ABSENT = -1  # the identity of a pod on the side where it does not exist


class Joint(Record):
    """One group of pods selectors cannot tell apart, with its identity on either side."""

    index: int
    before: int  # identity index in the before map, or ABSENT
    after: int
    pods: tuple[Pod, ...]  # the newest declaration of each member, sorted by key


# A result read field by field, never compared or hashed: identity equality is enough.
class JointGroups(Record, frozen=False, eq=False):
    """Groups over the union of both sides' pods, with bitset translation from each side.

    Group i is identity i on a side wherever it can be (`_numbered`): an identity whose one
    group is its namesake is "diagonal" there and translates as itself, with one AND for
    all of them, and only the others (the identities a change splits, joins or moves pods
    between: few in a review) are looked up one by one."""

    items: tuple[Joint, ...]
    diagonal: tuple[int, int]  # per side, the identities whose one group has their index
    extra: tuple[dict[int, int], dict[int, int]]  # per side, the others -> their group bits
    # Group indices in the (namespace, name) order of their first pods, when that is not
    # the index order: results list groups in name order.
    rank: list[int] | None = None
    _memo: dict[tuple[int, int], int] = field(default_factory=dict)

    @property
    def all_bits(self) -> int:
        return (1 << len(self.items)) - 1

    @property
    def same(self) -> tuple[bool, bool]:
        """Per side, whether translating is doing nothing: the usual case when a change
        touches policies only."""
        return (not self.extra[0], not self.extra[1])

    def in_order(self) -> tuple[Joint, ...]:
        """The groups in the (namespace, name) order of their first pods."""
        rank = self.rank
        if rank is None:
            return self.items
        return tuple(sorted(self.items, key=lambda j: rank[j.index]))

    def ordered(self, indices: list[int]) -> list[int]:
        """Group indices sorted as `in_order` lists them."""
        return indices if self.rank is None else sorted(indices, key=self.rank.__getitem__)

    def translate(self, side: int, bits: int) -> int:
        """A side's identity bitset (side 0 before, 1 after) as a joint-group bitset."""
        extra = self.extra[side]
        if not extra:
            return bits
        diagonal = self.diagonal[side]
        rest = bits & ~diagonal
        if not rest:
            return bits
        key = (side, rest)
        found = self._memo.get(key)
        if found is None:
            found = 0
            for i in bit_indices(rest):
                found |= extra[i]
            self._memo[key] = found
        return bits & diagonal | found


def join(
    before: ConnectivityMap, after: ConnectivityMap, matching: Matching | None = None
) -> JointGroups:
    """Pods pair up across the sides by name, and a workload's running pods with its stand-in
    on the other side as `matching` says (see `matching.py`)."""
    matching = matching or Matching()
    if matching.alias or matching.counterpart or not _same_pods(before, after):
        members = _members(before, after, matching)
    else:
        members = _members_by_index(before, after)
    pairs = list(members)  # in the name order of their first pods
    count = len(pairs)
    if count == len(before.identities) == len(after.identities) and all(
        b == a == i for i, (b, a) in enumerate(pairs)
    ):
        # Both sides group the pods alike (a change of policies only): group i is identity i.
        joints = tuple(
            Joint(index=i, before=i, after=i, pods=tuple(pods))
            for i, pods in enumerate(members.values())
        )
        return JointGroups(items=joints, diagonal=((1 << count) - 1,) * 2, extra=({}, {}))
    index = _numbered(pairs)
    items: list[Joint | None] = [None] * len(pairs)
    for (b, a), pods in members.items():
        at = index[b, a]
        items[at] = Joint(index=at, before=b, after=a, pods=tuple(pods))
    joints = tuple(j for j in items if j is not None)
    rank = [0] * len(pairs)
    for position, pair in enumerate(pairs):
        rank[index[pair]] = position
    diagonal_before, extra_before = _side(joints, len(before.identities), before=True)
    diagonal_after, extra_after = _side(joints, len(after.identities), before=False)
    return JointGroups(
        items=joints,
        diagonal=(diagonal_before, diagonal_after),
        extra=(extra_before, extra_after),
        rank=None if all(r == i for i, r in enumerate(rank)) else rank,
    )


Pair = tuple[int, int]  # (identity before, identity after), ABSENT where a pod is not


def _numbered(pairs: list[Pair]) -> dict[Pair, int]:
    """An index per group, from 0 without a hole: identity i's group on both sides takes
    index i, then a group takes its before identity's index or else its after identity's,
    if free; the rest fill the free indices in order."""
    count = len(pairs)
    index: dict[Pair, int] = {}
    rest: list[Pair] = []
    for pair in pairs:  # pairs are distinct: (i, i) takes index i unopposed
        b, a = pair
        if b == a and 0 <= b < count:
            index[pair] = b
        else:
            rest.append(pair)
    taken = set(index.values())
    for pick in (_before, _after):
        for pair in rest:
            at = pick(pair)
            if pair not in index and 0 <= at < count and at not in taken:
                index[pair] = at
                taken.add(at)
    free = (i for i in range(count) if i not in taken)
    for pair in rest:
        if pair not in index:
            index[pair] = next(free)
    return index


def _before(pair: Pair) -> int:
    return pair[0]


def _after(pair: Pair) -> int:
    return pair[1]


def _side(joints: tuple[Joint, ...], count: int, *, before: bool) -> tuple[int, dict[int, int]]:
    """One side's translation: the bits of its identities (of `count`) whose only group is
    the group of their index, and every other identity -> the bits of its groups (none for
    an identity without pods on this side, one the other side's pods added)."""
    own = bytearray(count)  # 1: the identity's group of its index is one of its groups
    seen = bytearray(count)  # 1: the identity has a group
    extra: dict[int, int] = {}
    for joint in joints:
        identity = joint.before if before else joint.after
        if identity == ABSENT:
            continue
        seen[identity] = 1
        if identity == joint.index:
            own[identity] = 1
        else:
            extra[identity] = extra.get(identity, 0) | 1 << joint.index
    for identity in extra:
        if own[identity]:
            extra[identity] |= 1 << identity
            own[identity] = 0
    for identity, found in enumerate(seen):
        if not found:
            extra[identity] = 0
    return _bits(own), extra


def _bits(flags: bytearray) -> int:
    """The bitset of the indices whose flag is 1, as a string of binary digits: OR-ing
    thousands of `1 << i` would be quadratic."""
    if not flags:
        return 0
    return int(bytes(flags[::-1]).translate(_DIGITS), 2)


_DIGITS = bytes.maketrans(b"\x00\x01", b"01")


_NAME = attrgetter("namespace", "name")


def _same_pods(before: ConnectivityMap, after: ConnectivityMap) -> bool:
    """Whether both maps list the same pods (by name, in their one order): the usual review,
    where a change touches policies or pods' labels only. `connectivity_pair` says so
    (`named_as`); other maps are compared by name at C speed."""
    if before.of_pod is after.of_pod or after.named_as is before:
        return True
    b, a = before.pods, after.pods
    return len(b) == len(a) and list(map(_NAME, b)) == list(map(_NAME, a))


def _members_by_index(
    before: ConnectivityMap, after: ConnectivityMap
) -> dict[tuple[int, int], list[Pod]]:
    """`_members` when pod i is the same pod in both maps and no pod stands for another."""
    members: dict[tuple[int, int], list[Pod]] = {}
    for pair, pod in zip(zip(before.of_pod, after.of_pod, strict=True), after.pods, strict=True):
        found = members.get(pair)
        if found is None:
            members[pair] = [pod]
        else:
            found.append(pod)
    return members


def _members(
    before: ConnectivityMap, after: ConnectivityMap, matching: Matching
) -> dict[tuple[int, int], list[Pod]]:
    """(identity before, identity after) -> the pods with them, the newest declaration of
    each, in (namespace, name) order."""
    keys: dict[str, list[int]] = {}
    pods: dict[str, Pod] = {}
    compared: dict[str, tuple[int, str]] = {}  # running pod -> (its side, stand-in key)
    for side, cmap in enumerate((before, after)):
        for i, pod in enumerate(cmap.pods):
            identity = cmap.of_pod[i]
            key = pod.key  # a property that formats a string: read once
            stand_in = matching.alias.get(key)
            if stand_in is not None:
                slot = keys.setdefault(stand_in, [ABSENT, ABSENT])
                if slot[side] in (ABSENT, identity):
                    slot[side] = identity
                    continue
                # Pods alike to policy but split by ipBlocks: each compared on its own.
            stand_in = stand_in or matching.counterpart.get(key)
            if stand_in is not None:
                compared[key] = (side, stand_in)
            keys.setdefault(key, [ABSENT, ABSENT])[side] = identity
            pods[key] = pod  # the after declaration wins
    _pair_up(keys, compared)
    members: dict[tuple[int, int], list[Pod]] = {}
    # In (namespace, name) order, as the engine numbers identities by their first pod: when
    # both sides group pods alike, joint group i is identity i on each side.
    for key in sorted(keys, key=lambda k: tuple(k.split("/", 1))):
        b, a = keys[key]
        members.setdefault((b, a), []).append(pods[key])
    return members


def _pair_up(keys: dict[str, list[int]], compared: dict[str, tuple[int, str]]) -> None:
    """A running pod unlike its template takes the stand-in's identity on the other side; a
    stand-in no running pod is alike to is then no endpoint of its own."""
    for key, (side, stand_in) in compared.items():
        keys[key][1 - side] = keys[stand_in][1 - side]
    for stand_in in {s for _, s in compared.values()}:
        if ABSENT in keys[stand_in]:
            del keys[stand_in]


def describe(pods: Sequence[Pod], *, total: int = 0, limit: int = 4) -> str:
    """`default/frontend`; `deploy default/web`; `every pod`; `x/a, x/b and 3 more`."""
    if total and len(pods) == total and total > 1:
        return "every pod"
    workloads = {p.workload for p in pods}
    if len(pods) > 1 and len(workloads) == 1 and None not in workloads:
        kind, name = next(iter(workloads))  # type: ignore[misc]
        return f"{kind.lower()} {pods[0].namespace}/{name} ({len(pods)} pods)"
    names = [p.key for p in pods[:limit]]
    if len(pods) > limit:
        return f"{', '.join(names)} and {len(pods) - limit} more"
    return ", ".join(names)
