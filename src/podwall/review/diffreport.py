"""A diff in words: text for a terminal and markdown for a pull-request comment.

Each change is one line per group pair (`deploy default/web (3 pods) -> default/db: TCP 5432`)
followed by the policy and rule responsible on the side where it is allowed, and for a newly
denied connection what denies it now. Pure: no I/O here; the caller prints the lines.
"""

from __future__ import annotations

from collections.abc import Iterator

from podwall.model.cluster import Pod
from podwall.model.ports import PortSet
from podwall.model.record import Record
from podwall.review.attribution import denials, reasons
from podwall.review.diff import Change, Diff
from podwall.review.groups import ABSENT, Joint, describe

MARKDOWN_ROWS = 200  # a PR comment holds 65536 characters; the rest is counted, not shown


# A result read field by field, never compared or hashed: identity equality is enough.
class Row(Record, eq=False):
    """One change as words: who, to whom, which ports, and why (one line per reason)."""

    src: str
    dst: str
    ports: str
    why: tuple[str, ...]
    now: tuple[str, ...] = ()


def summary(d: Diff) -> str:
    if not d.changed:
        return "no change: the same connections are allowed before and after"
    return (
        f"pod pairs: {_count(d.newly_allowed)} newly allowed, {_count(d.newly_denied)} newly denied"
    )


def _count(changes: tuple[Change, ...]) -> int:
    return sum(1 for c in changes for _ in c.pairs())


def rows(d: Diff, changes: tuple[Change, ...], *, allowed: bool) -> Iterator[Row]:
    side = d.after if allowed else d.before
    for change in changes:
        src, dst = _representatives(change)
        found = reasons(side, d.declared(side, src), d.declared(side, dst), d.atoms, change.mask)
        why = tuple(
            f"{_ports(r.ports)}: {r.render()}" if len(found) > 1 else r.render() for r in found
        )
        now: tuple[str, ...] = ()
        if not allowed:
            now = _now(d, change)
        yield Row(
            src=_name(change.srcs, d.total_pods),
            dst=_name(change.dsts, d.total_pods),
            ports=_ports(change.ports),
            why=why,
            now=now,
        )


def _ports(ports: PortSet) -> str:
    text = ports.render()
    return "all ports" if text == "all" else text


def _representatives(change: Change) -> tuple[Pod, Pod]:
    for src, dst in change.pairs():
        return src, dst
    raise ValueError("a change without a pair")  # `diff()` never makes one


def _now(d: Diff, change: Change) -> tuple[str, ...]:
    src, dst = _representatives(change)
    if change.dsts[0].after == ABSENT:
        return (f"{dst.key} no longer exists",)
    if change.srcs[0].after == ABSENT:
        return (f"{src.key} no longer exists",)
    return tuple(
        denials(d.after, d.declared(d.after, src), d.declared(d.after, dst), d.atoms, change.mask)
    )


def _name(groups: tuple[Joint, ...], total: int) -> str:
    pods = tuple(p for g in groups for p in g.pods)
    text = describe(pods, total=total)
    if all(g.before == ABSENT for g in groups):
        text += " (new)"
    elif all(g.after == ABSENT for g in groups):
        text += " (removed)"
    return text


def text(d: Diff) -> list[str]:
    lines = [summary(d), *(f"note: {note}" for note in d.notes)]
    for title, changes, allowed in (
        ("newly allowed", d.newly_allowed, True),
        ("newly denied", d.newly_denied, False),
    ):
        if not changes:
            continue
        lines += ["", f"{title}:"]
        for row in rows(d, changes, allowed=allowed):
            lines.append(f"  {row.src} -> {row.dst}: {row.ports}")
            label = "allowed by" if allowed else "was allowed by"
            lines += [f"      {label} {why}" for why in row.why]
            lines += [f"      now {now}" for now in row.now]
    return lines


def markdown(d: Diff, *, title: str = "podwall diff", max_rows: int = MARKDOWN_ROWS) -> list[str]:
    lines = [f"### {title}: {summary(d)}"]
    if d.notes:
        lines += ["", *(f"> note: {_cell(note)}" for note in d.notes)]
    for heading, changes, allowed in (
        ("Newly allowed", d.newly_allowed, True),
        ("Newly denied", d.newly_denied, False),
    ):
        if not changes:
            continue
        lines += ["", f"**{heading}**", ""]
        if allowed:
            lines += ["| from | to | ports | allowed by |", "|---|---|---|---|"]
        else:
            lines += [
                "| from | to | ports | was allowed by | now denied by |",
                "|---|---|---|---|---|",
            ]
        shown = 0
        for row in rows(d, changes[:max_rows], allowed=allowed):
            cells = [row.src, row.dst, row.ports, "<br>".join(row.why)]
            if not allowed:
                cells.append("<br>".join(row.now))
            lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
            shown += 1
        if len(changes) > shown:
            lines += ["", f"... and {len(changes) - shown} more (run `podwall diff` for all)"]
    return lines


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")
