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
    """Groups over the union of both sides' pods, with bitset translation from each side."""

    items: tuple[Joint, ...]
    of_before: list[int]  # before identity -> bitset of joint groups (empty when `same`)
    of_after: list[int]
    # Whether a side's identities are the joint groups themselves, in order: the usual case
    # when a change touches policies only, and then translating is doing nothing.
    same: tuple[bool, bool] = (False, False)
    _memo: dict[tuple[int, int], int] = field(default_factory=dict)

    @property
    def all_bits(self) -> int:
        return (1 << len(self.items)) - 1

    def translate(self, side: int, bits: int) -> int:
        """A side's identity bitset (side 0 before, 1 after) as a joint-group bitset."""
        if self.same[side]:
            return bits
        key = (side, bits)
        found = self._memo.get(key)
        if found is None:
            table = self.of_before if side == 0 else self.of_after
            found = 0
            for i in bit_indices(bits):
                found |= table[i]
            self._memo[key] = found
        return found


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
    items = tuple(
        Joint(index=index, before=b, after=a, pods=tuple(pods))
        for index, ((b, a), pods) in enumerate(members.items())
    )
    # A side is the same when joint group i is its identity i, for every i: then translating
    # is doing nothing, and its table of big-int bitsets is not built.
    same_before = len(before.identities) == len(items) and all(
        j.before == i for i, j in enumerate(items)
    )
    same_after = len(after.identities) == len(items) and all(
        j.after == i for i, j in enumerate(items)
    )
    return JointGroups(
        items=items,
        of_before=[] if same_before else _table(len(before.identities), items, before=True),
        of_after=[] if same_after else _table(len(after.identities), items, before=False),
        same=(same_before, same_after),
    )


def _table(count: int, items: tuple[Joint, ...], *, before: bool) -> list[int]:
    """Identity index -> the bitset of the joint groups it is in, on one side."""
    table = [0] * count
    for joint in items:
        identity = joint.before if before else joint.after
        if identity != ABSENT:
            table[identity] |= 1 << joint.index
    return table


_NAME = attrgetter("namespace", "name")


def _same_pods(before: ConnectivityMap, after: ConnectivityMap) -> bool:
    """Whether both maps list the same pods (by name, in their one order): the usual review,
    where a change touches policies or pods' labels only. Maps of equal pods share `of_pod`
    (`connectivity_pair`); others are compared by name at C speed."""
    if before.of_pod is after.of_pod:
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
