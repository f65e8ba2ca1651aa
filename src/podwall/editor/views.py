"""The matrix tab's answers: the grid window, a cell's pod pairs, and the draft's diff.

A `Grid` is built once per snapshot and draft (the engine's map, and `podwall diff`'s answer
when there is a draft) and kept for the next requests: scrolling and filtering read the same
grid. The diff's rows and reasons are `review.diffreport`'s, paged. Pure: no I/O here.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field

from podwall.editor.drafts import Policy
from podwall.editor.errors import EditorError
from podwall.editor.form import JSON
from podwall.editor.grid import Grid, Window, counted, label
from podwall.editor.grouping import BY, Filter, Group
from podwall.editor.workspace import Snapshot, with_draft
from podwall.engine import connectivity
from podwall.review.diff import diff
from podwall.review.diffreport import rows

KEPT = 4  # grids kept: the snapshot alone and a few drafts being edited
MAX_WINDOW = 400
MAX_PAIRS = 500


class ViewError(EditorError, ValueError):
    """A matrix request that names no group or asks for too much; the message says which."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Question:
    by: str = "workload"
    keep: Filter = field(default_factory=Filter)
    changed: bool = False  # only the groups the draft changes
    rows: Window = field(default_factory=Window)
    cols: Window = field(default_factory=Window)

    def check(self) -> None:
        if self.by not in BY:
            raise ViewError(f"by: must be one of {', '.join(BY)}, not {self.by!r}")
        for name, w in (("rows", self.rows), ("cols", self.cols)):
            if w.offset < 0 or not 0 <= w.limit <= MAX_WINDOW:
                raise ViewError(f"{name}: offset >= 0 and limit 0..{MAX_WINDOW}")


class Views:
    """Grids by (snapshot, draft YAML), the most recent `KEPT`."""

    def __init__(self) -> None:
        self._grids: OrderedDict[tuple[int, str], tuple[Snapshot, Grid]] = OrderedDict()

    def grid(self, snap: Snapshot, draft: Policy | None, text: str) -> Grid:
        key = (id(snap), text if draft is not None else "")
        found = self._grids.get(key)
        if found is not None and found[0] is snap:
            self._grids.move_to_end(key)
            return found[1]
        grid = _build(snap, draft)
        self._grids[key] = (snap, grid)  # the snapshot held, so its id is not reused
        while len(self._grids) > KEPT:
            self._grids.popitem(last=False)
        return grid


def _build(snap: Snapshot, draft: Policy | None) -> Grid:
    base = connectivity(snap.cluster)
    if draft is None:
        return Grid(cmap=base)
    after = with_draft(snap.cluster, draft)
    amap = connectivity(after)
    return Grid(cmap=amap, diff=diff(snap.cluster, after, maps=(base, amap)))


def matrix(grid: Grid, q: Question) -> JSON:
    q.check()
    rows_all = grid.axis(q.by, q.keep, "srcs" if q.changed else "")
    cols_all = grid.axis(q.by, q.keep, "dsts" if q.changed else "")
    shown_rows, shown_cols = q.rows.of(rows_all), q.cols.of(cols_all)
    return {
        "by": q.by,
        "rows": {"total": len(rows_all), "offset": q.rows.offset, "items": _labels(shown_rows)},
        "cols": {"total": len(cols_all), "offset": q.cols.offset, "items": _labels(shown_cols)},
        "cells": grid.window(shown_rows, shown_cols, q.by),
        "groups": len(grid.groups(q.by)),
        "pods": len(grid.cmap.pods),
        "namespaces": sorted({g.namespace for g in grid.groups("namespace")}),
        "diff": _summary(grid),
    }


def _labels(groups: Sequence[Group]) -> list[JSON]:
    return [label(g) for g in groups]


def _summary(grid: Grid) -> JSON | None:
    if grid.diff is None:
        return None
    return {
        "newlyAllowed": counted(grid.diff.newly_allowed),
        "newlyDenied": counted(grid.diff.newly_denied),
    }


def cell(grid: Grid, by: str, row: int, col: int, limit: int = MAX_PAIRS) -> JSON:
    groups = grid.groups(by) if by in BY else ()
    if not (0 <= row < len(groups) and 0 <= col < len(groups)):
        raise ViewError(f"no group {row} or {col} when grouped by {by!r}")
    r, c = groups[row], groups[col]
    out = grid.pod_pairs(r, c, min(limit, MAX_PAIRS))
    return {
        "from": label(r),
        "to": label(c),
        **grid.cell(r, c, grid.marks(by)),
        **out,
    }


def changes(grid: Grid, window: Window) -> JSON:
    """The draft's diff as `podwall diff` words it, `window` of each list, with reasons."""
    d = grid.diff
    if d is None:
        return {"newlyAllowed": None, "newlyDenied": None}
    out: JSON = {}
    for name, items, allowed in (
        ("newlyAllowed", d.newly_allowed, True),
        ("newlyDenied", d.newly_denied, False),
    ):
        shown = items[window.offset : window.offset + window.limit]
        out[name] = {
            "total": len(items),
            "pairs": counted(items),
            "offset": window.offset,
            "items": [
                {
                    "from": r.src,
                    "to": r.dst,
                    "ports": r.ports,
                    "why": list(r.why),
                    "now": list(r.now),
                }
                for r in rows(d, shown, allowed=allowed)
            ],
        }
    return out
