"""The matrix at cluster scale: group-by-group cells from the engine's map, with the draft's diff.

`Grid` holds one snapshot's `connectivity()` map with the draft applied and, when there is a
draft, `podwall diff`'s answer (`review.diff`) between the snapshot and that. Cells are read
from the map's identity bitsets per pair of groups (`grouping`), only for the window the page
shows, so the cost of a request follows the window, not pods squared. What a cell shows:
the ports allowed between its pods, and the ports the draft gains or loses there.
No policy semantics here: every verdict is the map's or the diff's. Pure: no I/O here.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from podwall.editor.form import JSON
from podwall.editor.grouping import Filter, Group, group_pods
from podwall.engine import ConnectivityMap
from podwall.engine.atoms import Atoms
from podwall.model.cluster import Pod
from podwall.model.ports import Protocol
from podwall.review.diff import Change, Diff

SHORT = 16  # characters of port text a cell shows; the title has all of it
FALLBACK = (Protocol.TCP, 80)


@dataclass(frozen=True, slots=True, kw_only=True)
class Window:
    offset: int = 0
    limit: int = 50

    def of(self, groups: Sequence[Group]) -> Sequence[Group]:
        return groups[self.offset : self.offset + self.limit]


@dataclass(frozen=True, slots=True, kw_only=True)
class Marks:
    """A change's sources and destinations as bitsets over one grouping's groups."""

    srcs: int
    dsts: int
    mask: int  # on the diff's atoms
    allowed: bool


@dataclass(kw_only=True)
class Grid:
    cmap: ConnectivityMap  # with the draft, when there is one
    diff: Diff | None = None  # snapshot -> snapshot with the draft
    _groups: dict[str, tuple[Group, ...]] = field(default_factory=dict)
    _marks: dict[str, list[Marks]] = field(default_factory=dict)
    _masks: dict[tuple[int, int], int] = field(default_factory=dict)
    _texts: dict[tuple[int, int], str] = field(default_factory=dict)

    def groups(self, by: str) -> tuple[Group, ...]:
        found = self._groups.get(by)
        if found is None:
            found = self._groups[by] = group_pods(self.cmap.pods, by)
        return found

    def marks(self, by: str) -> list[Marks]:
        found = self._marks.get(by)
        if found is None:
            found = self._marks[by] = self._changes_as_marks(self.groups(by))
        return found

    def _changes_as_marks(self, groups: tuple[Group, ...]) -> list[Marks]:
        if self.diff is None:
            return []
        where = {self.cmap.pods[i].key: g.index for g in groups for i in g.pods}

        def bits(pods: tuple[Pod, ...]) -> int:
            out = 0
            for pod in pods:
                if pod.key in where:
                    out |= 1 << where[pod.key]
            return out

        return [
            Marks(srcs=bits(c.src_pods()), dsts=bits(c.dst_pods()), mask=c.mask, allowed=allowed)
            for changes, allowed in (
                (self.diff.newly_allowed, True),
                (self.diff.newly_denied, False),
            )
            for c in changes
        ]

    # One cell.

    def identity_mask(self, src: int, dst: int) -> int:
        """Atoms allowed from identity `src` to identity `dst` (distinct pods)."""
        key = (src, dst)
        found = self._masks.get(key)
        if found is None:
            found = 0
            for bits, mask in self.cmap.per_dst[dst]:
                if bits >> src & 1:
                    found = mask
                    break
            self._masks[key] = found
        return found

    def pairs(self, row: Group, col: Group) -> Iterator[tuple[int, int]]:
        """The pod pairs of a cell, as map indices; a pod and itself are never a pair."""
        for s in row.pods:
            for d in col.pods:
                if s != d:
                    yield s, d

    def cell_masks(self, row: Group, col: Group) -> set[int]:
        of = self.cmap.of_pod
        ids_row = {of[i] for i in row.pods}
        ids_col = {of[i] for i in col.pods}
        if row.index == col.index and len(row.pods) == 1:
            return set()
        return {self.identity_mask(s, d) for s in ids_row for d in ids_col}

    def text(self, atoms: Atoms, mask: int) -> str:
        key = id(atoms), mask
        found = self._texts.get(key)
        if found is None:
            found = self._texts[key] = atoms.port_set(mask).render()
        return found

    def cell(self, row: Group, col: Group, marks: list[Marks]) -> JSON:
        masks = self.cell_masks(row, col)
        if not masks:
            return {"state": "self", "text": "", "short": ""}
        union = 0
        for mask in masks:
            union |= mask
        state = "none" if not union else "mixed" if len(masks) > 1 else "allowed"
        text = self.text(self.cmap.atoms, union)
        out: JSON = {"state": state, "text": text, "short": _short(text)}
        gained, lost = self._changed(row, col, marks)
        if gained:
            out["gained"] = self.text(self._diff_atoms(), gained)
        if lost:
            out["lost"] = self.text(self._diff_atoms(), lost)
        return out

    def _diff_atoms(self) -> Atoms:
        assert self.diff is not None
        return self.diff.atoms

    def _changed(self, row: Group, col: Group, marks: list[Marks]) -> tuple[int, int]:
        gained = lost = 0
        for m in marks:
            if m.srcs >> row.index & 1 and m.dsts >> col.index & 1:
                if m.allowed:
                    gained |= m.mask
                else:
                    lost |= m.mask
        return gained, lost

    # Windows and filters.

    def axis(self, by: str, keep: Filter, changed: str) -> list[Group]:
        """The groups `keep` picks; `changed` "srcs"/"dsts": only those the draft changes."""
        picked = [g for g in self.groups(by) if keep.keeps(g)]
        if not changed:
            return picked
        bits = 0
        for m in self.marks(by):
            bits |= m.srcs if changed == "srcs" else m.dsts
        return [g for g in picked if bits >> g.index & 1]

    def window(self, rows: Sequence[Group], cols: Sequence[Group], by: str) -> list[list[JSON]]:
        marks = self.marks(by)
        return [[self.cell(r, c, _touching(marks, r)) for c in cols] for r in rows]

    # Drill-down: the pod pairs of one cell.

    def pod_pairs(self, row: Group, col: Group, limit: int) -> JSON:
        out: list[JSON] = []
        total = 0
        for s, d in self.pairs(row, col):
            total += 1
            if len(out) < limit:
                out.append(self._pair(s, d))
        return {"pairs": out, "total": total}

    def _pair(self, s: int, d: int) -> JSON:
        src, dst = self.cmap.pods[s], self.cmap.pods[d]
        mask = self.identity_mask(self.cmap.of_pod[s], self.cmap.of_pod[d])
        proto, port = suggested_port(self.cmap.atoms, mask, dst)
        return {
            "from": src.key,
            "to": dst.key,
            "ports": self.text(self.cmap.atoms, mask),
            "port": port,
            "protocol": proto.value,
        }


def _touching(marks: list[Marks], row: Group) -> list[Marks]:
    return [m for m in marks if m.srcs >> row.index & 1]


def _short(text: str) -> str:
    if len(text) <= SHORT:
        return text
    return text[: SHORT - 1].rsplit(",", 1)[0] + "…"


def suggested_port(atoms: Atoms, mask: int, dst: Pod) -> tuple[Protocol, int]:
    """A port to explain: a declared port of `dst` the map allows, else its first declared
    port, else the first allowed port, else TCP 80."""
    declared = sorted({(p.protocol, p.port) for p in dst.ports})
    for proto, port in declared:
        if mask & atoms.port_mask(proto, port):
            return proto, port
    if declared:
        return declared[0]
    if mask:
        proto, lo, _ = atoms.atoms[(mask & -mask).bit_length() - 1]
        return proto, lo
    return FALLBACK


def label(group: Group) -> JSON:
    return {
        "id": group.index,
        "label": group.label,
        "namespace": group.namespace,
        "workload": group.workload,
        "pods": len(group.pods),
    }


def counted(changes: Sequence[Change]) -> int:
    """Pod pairs the changes cover, counted without listing them."""
    total = 0
    for change in changes:
        srcs = {p.key for p in change.src_pods()}
        dsts = {p.key for p in change.dst_pods()}
        total += len(srcs) * len(dsts) - len(srcs & dsts)
    return total
