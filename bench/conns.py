"""A connection set as both analyzers can state it: TCP/UDP/SCTP port ranges.

`Conn` is a frozenset of `(protocol, lo, hi)` triples, ranges inclusive, merged per protocol
(sorted, disjoint, non-adjacent), so two equal sets of ports are equal `Conn` values.
`ALL` is "all connections" (every port of TCP, UDP and SCTP); `NONE` is no connection.
"""

from __future__ import annotations

from collections.abc import Iterable

PROTOCOLS: tuple[str, ...] = ("TCP", "UDP", "SCTP")
MIN_PORT = 1
MAX_PORT = 65535

Triple = tuple[str, int, int]
Conn = frozenset[Triple]


def make_conn(triples: Iterable[Triple]) -> Conn:
    """Canonical `Conn` of any triples: ranges merged per protocol."""
    per: dict[str, list[tuple[int, int]]] = {}
    for proto, lo, hi in triples:
        if proto not in PROTOCOLS:
            raise ValueError(f"unknown protocol {proto!r}")
        if not MIN_PORT <= lo <= hi <= MAX_PORT:
            raise ValueError(f"bad port range {lo}-{hi}")
        per.setdefault(proto, []).append((lo, hi))
    return frozenset((p, lo, hi) for p, ranges in per.items() for lo, hi in _merge(ranges))


def _merge(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for lo, hi in sorted(ranges):
        if out and lo <= out[-1][1] + 1:
            out[-1] = (out[-1][0], max(out[-1][1], hi))
        else:
            out.append((lo, hi))
    return out


ALL: Conn = make_conn((p, MIN_PORT, MAX_PORT) for p in PROTOCOLS)
NONE: Conn = frozenset()


def union(a: Conn, b: Conn) -> Conn:
    return make_conn(a | b)


def subtract(a: Conn, b: Conn) -> Conn:
    """Ports in `a` and not in `b`."""
    out: list[Triple] = []
    for proto, lo, hi in a:
        holes = sorted((blo, bhi) for bp, blo, bhi in b if bp == proto)
        out.extend((proto, rlo, rhi) for rlo, rhi in _cut(lo, hi, holes))
    return make_conn(out)


def _cut(lo: int, hi: int, holes: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    cur = lo
    for hlo, hhi in holes:
        if hhi < cur or hlo > hi:
            continue
        if hlo > cur:
            out.append((cur, hlo - 1))
        cur = max(cur, hhi + 1)
    if cur <= hi:
        out.append((cur, hi))
    return out


def render(conn: Conn) -> str:
    """`all`, `none`, or e.g. `TCP 80-81, UDP 53` (protocols in TCP, UDP, SCTP order)."""
    if conn == ALL:
        return "all"
    if not conn:
        return "none"
    parts: list[str] = []
    for proto, lo, hi in sorted(conn, key=lambda t: (PROTOCOLS.index(t[0]), t[1])):
        if (lo, hi) == (MIN_PORT, MAX_PORT):
            parts.append(f"{proto} all")
        else:
            parts.append(f"{proto} {lo}" if lo == hi else f"{proto} {lo}-{hi}")
    return ", ".join(parts)
