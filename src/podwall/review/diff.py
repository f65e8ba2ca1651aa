"""`diff()`: the connections a change newly allows and newly denies, between two snapshots.

Both snapshots go through the engine's `connectivity_pair()` (which shares the work the two
sides have in common); the two maps are compared per pair of
joint groups (see `groups.py`) on a port-atom partition that refines both maps' atoms, so the
cost follows the number of groups and rules, not pods squared. Destinations whose two
contribution lists are the same objects as another's (the engine shares them) are compared
once. A pod on one side only counts as reaching nothing on the other; a workload's running
pods and its template on the other side are one endpoint (see `matching.py`). Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from podwall.engine.atoms import Atoms
from podwall.engine.connectivity import ConnectivityMap, connectivity_pair
from podwall.engine.identities import bit_indices
from podwall.model.cluster import Cluster, Pod
from podwall.model.ports import PortSet, Protocol
from podwall.model.record import Record, field, replace
from podwall.review.groups import ABSENT, Joint, JointGroups, join
from podwall.review.matching import Matching, match, with_addresses

Part = tuple[int, int]  # (joint source bits, atom mask on the common atoms)


class Focus(Record):
    """One port to compare (`--port`): a number, or a name resolved on each destination pod."""

    port: int | str
    protocol: Protocol = Protocol.TCP


# A result read field by field, never compared or hashed: identity equality is enough.
class Change(Record, eq=False):
    """Every pod of `srcs` to every other pod of `dsts` gained (or lost) `ports`."""

    srcs: tuple[Joint, ...]
    dsts: tuple[Joint, ...]
    ports: PortSet
    mask: int  # the same ports as atoms of `Diff.atoms`, for attribution atom by atom

    def src_pods(self) -> tuple[Pod, ...]:
        return tuple(p for g in self.srcs for p in g.pods)

    def dst_pods(self) -> tuple[Pod, ...]:
        return tuple(p for g in self.dsts for p in g.pods)

    def pairs(self) -> Iterator[tuple[Pod, Pod]]:
        """The pod pairs this change covers; a pod and itself are never a pair."""
        for src in self.src_pods():
            for dst in self.dst_pods():
                if src.key != dst.key:
                    yield src, dst


# A result read field by field, never compared or hashed: identity equality is enough.
class Diff(Record, eq=False):
    """What changes between two snapshots: the connections newly allowed and newly denied."""

    before: Cluster
    after: Cluster
    newly_allowed: tuple[Change, ...]
    newly_denied: tuple[Change, ...]
    atoms: Atoms  # refines both sides' atoms
    total_pods: int  # pods on either side, for "every pod"
    matching: Matching = field(default_factory=Matching)  # running pods and their templates

    @property
    def notes(self) -> tuple[str, ...]:
        """The running pods that differ from their workload's template, in words."""
        return self.matching.notes

    def declared(self, side: Cluster, pod: Pod) -> Pod:
        """A running pod unlike its template, on the side where it is that template: the
        template under the pod's name (what the files would re-create, and not the template
        itself, which a pod's traffic to itself would be), for explaining that side."""
        stand_in = self.matching.counterpart.get(pod.key)
        if stand_in is None or pod.key in side.pods_by_key:
            return pod
        template = side.pods_by_key.get(stand_in)
        return pod if template is None else replace(template, name=pod.name, ips=pod.ips)

    @property
    def changed(self) -> bool:
        return bool(self.newly_allowed or self.newly_denied)

    def to_json(self, *, with_ports: bool = True) -> dict[str, list[Any]]:
        """The stable contract: `{"newly_allowed": [{"src", "dst", "ports"}], "newly_denied"}`,
        and `"notes"` (strings) only when a running pod differs from its template."""
        out: dict[str, list[Any]] = {
            "newly_allowed": _entries(self.newly_allowed, with_ports),
            "newly_denied": _entries(self.newly_denied, with_ports),
        }
        if self.notes:
            out["notes"] = list(self.notes)
        return out


def _entries(changes: tuple[Change, ...], with_ports: bool) -> list[dict[str, str]]:
    rows: list[dict[str, str]] = []
    for change in changes:
        text = change.ports.render()
        for src, dst in change.pairs():
            row = {"src": src.key, "dst": dst.key}
            if with_ports:
                row["ports"] = text
            rows.append(row)
    rows.sort(key=lambda r: (r["src"], r["dst"]))
    return rows


def diff(
    before: Cluster,
    after: Cluster,
    *,
    focus: Focus | None = None,
    maps: tuple[ConnectivityMap, ConnectivityMap] | None = None,
) -> Diff:
    matching = match(before, after)
    if maps is None:
        before, after = (
            with_addresses(before, after, matching),
            with_addresses(after, before, matching),
        )
        maps = connectivity_pair(before, after)
    bmap, amap = maps
    groups = join(bmap, amap, matching)
    common = _Common(bmap.atoms, amap.atoms)
    compare = _Comparison(groups, common, (bmap, amap), focus)
    allowed: dict[tuple[int, int], int] = {}
    denied: dict[tuple[int, int], int] = {}
    for dst in groups.in_order():
        for srcs, gained, lost in compare.destination(dst):
            if gained:
                key = (srcs, gained)
                allowed[key] = allowed.get(key, 0) | 1 << dst.index
            if lost:
                key = (srcs, lost)
                denied[key] = denied.get(key, 0) | 1 << dst.index
    return Diff(
        before=before,
        after=after,
        newly_allowed=_changes(groups, common.atoms, allowed),
        newly_denied=_changes(groups, common.atoms, denied),
        atoms=common.atoms,
        total_pods=sum(len(g.pods) for g in groups.items),
        matching=matching,
    )


def _changes(
    groups: JointGroups, atoms: Atoms, found: dict[tuple[int, int], int]
) -> tuple[Change, ...]:
    # Every change has a pair of distinct pods: a one-pod group's own bit is dropped from its
    # sources (`_without_lone_self`), and a larger group holds distinct pods.
    item = groups.items.__getitem__
    members: dict[int, tuple[Joint, ...]] = {}  # changes share many sets of groups

    def joints(bits: int) -> tuple[Joint, ...]:
        found = members.get(bits)
        if found is None:
            found = members[bits] = tuple(map(item, groups.ordered(bit_indices(bits))))
        return found

    out = [
        Change(srcs=joints(srcs), dsts=joints(dsts), ports=atoms.port_set(mask), mask=mask)
        for (srcs, mask), dsts in found.items()
    ]
    out.sort(key=lambda c: (c.dsts[0].pods[0].key, c.srcs[0].pods[0].key))
    return tuple(out)


class _Common:
    """Atoms that refine both maps' atoms, and each side's masks translated onto them."""

    def __init__(self, before: Atoms, after: Atoms) -> None:
        # Both maps cut the ports alike when the rules name the same ports: then a mask is
        # already a mask on the common atoms.
        self.same = before.atoms == after.atoms
        self.atoms = before if self.same else Atoms([*before.atoms, *after.atoms])
        self.sides = (before, after)
        self._memo: dict[tuple[int, int], int] = {}

    def translate(self, side: int, mask: int) -> int:
        if self.same:
            return mask
        key = (side, mask)
        found = self._memo.get(key)
        if found is None:
            atoms = self.sides[side]
            if mask == atoms.all_mask:
                found = self.atoms.all_mask
            else:
                found = 0
                for i in bit_indices(mask):
                    proto, lo, hi = atoms.atoms[i]
                    found |= self.atoms.range_mask(proto, lo, hi)
            self._memo[key] = found
        return found


class _Comparison:
    def __init__(
        self,
        groups: JointGroups,
        common: _Common,
        maps: tuple[ConnectivityMap, ConnectivityMap],
        focus: Focus | None,
    ) -> None:
        self.groups = groups
        self.common = common
        self.maps = maps
        self.focus = focus
        self._memo: dict[tuple[int, int, int, int], list[tuple[int, int, int]]] = {}
        # Both sides' bits and masks already on the joint groups and common atoms, every
        # port compared: equal parts then mean no change (a change of policies only).
        self._plain = groups.same == (True, True) and common.same and focus is None
        self._all = common.atoms.all_mask

    def destination(self, dst: Joint) -> list[tuple[int, int, int]]:
        """(joint source bits, atoms gained, atoms lost) for the sources of `dst`."""
        before = self._parts(0, dst.before)
        after = self._parts(1, dst.after)
        if self.focus is None:  # every port: the same window everywhere
            window = (self._all, self._all)
        else:
            window = (self._window(0, dst), self._window(1, dst))
        key = (id(before), id(after), *window)
        found = self._memo.get(key)
        if found is None:
            found = self._memo[key] = self._compare(before, after, window)
        if not found:  # most destinations of a change
            return found
        return _without_lone_self(found, dst)

    def _parts(self, side: int, identity: int) -> list[Part]:
        if identity == ABSENT:
            return _NOTHING
        return self.maps[side].per_dst[identity]

    def _window(self, side: int, dst: Joint) -> int:
        """The common atoms compared at `dst` on one side: all, or the focused port."""
        if self.focus is None:
            return self.common.atoms.all_mask
        port = self.focus.port
        if isinstance(port, str):
            identity = dst.before if side == 0 else dst.after
            if identity == ABSENT:
                return 0
            number = self.maps[side].identities[identity].named_port(port, self.focus.protocol)
            if number is None:
                return 0
            port = number
        return self.common.atoms.port_mask(self.focus.protocol, port)

    def _compare(
        self, before: list[Part], after: list[Part], window: tuple[int, int]
    ) -> list[tuple[int, int, int]]:
        if self._plain and before == after:
            return []
        b_parts = self._joint(0, before, window[0])
        a_parts = self._joint(1, after, window[1])
        if b_parts == a_parts:
            return []  # most destinations of a change: nothing to pair up
        out: list[tuple[int, int, int]] = []
        for b_mask, b_bits in b_parts.items():
            for a_mask, a_bits in a_parts.items():
                if b_mask == a_mask:
                    continue
                both = b_bits & a_bits
                if both:
                    out.append((both, a_mask & ~b_mask, b_mask & ~a_mask))
        return out

    def _joint(self, side: int, parts: list[Part], window: int) -> dict[int, int]:
        """A side's sources over joint groups by the atoms they get (0: the sources it gives
        nothing), sources that get the same atoms merged."""
        out: dict[int, int] = {}
        covered = 0
        for bits, mask in parts:
            joint = self.groups.translate(side, bits)
            covered |= joint
            seen = self.common.translate(side, mask) & window
            out[seen] = out.get(seen, 0) | joint
        rest = self.groups.all_bits & ~covered
        if rest:
            out[0] = out.get(0, 0) | rest
        return out


_NOTHING: list[Part] = []


def _without_lone_self(found: list[tuple[int, int, int]], dst: Joint) -> list[tuple[int, int, int]]:
    """A one-pod group's bit in its own sources stands for that pod and itself only: drop it."""
    if len(dst.pods) > 1:
        return found
    bit = 1 << dst.index
    out = []
    for srcs, gained, lost in found:
        srcs &= ~bit
        if srcs:
            out.append((srcs, gained, lost))
    return out
