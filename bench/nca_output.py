"""Parse network-config-analyzer's `--connectivity ... -o txt_no_fw_rules` output.

NCA prints one line per (source, destination, connection cube):

    ns-0001/api-002[Pod] => ns-0000/cache-000[Pod] : {protocols:TCP,dst_ports:6379}
    ns-0001/api-002[Pod] => ns-0002/db-002[Pod] : All connections
    0.0.0.0-255.255.255.255 => kube-system/coredns-0[Pod] : All connections

A pair can have several lines (one per cube); they are unioned. Pairs without a line have no
connection; NCA never prints a pod's connection to itself. Lines whose source or destination
is an IP range are only counted. Other lines (warnings, `global: ...`, `Total run time: ...`)
are skipped, except that the endpoint count in `global: cluster has N unique endpoints` is kept.

Connections are projected on TCP/UDP/SCTP ports (see `conns`): NCA's "All connections" also
covers every other IP protocol (ICMP, ...), which NetworkPolicy cannot single out; the number of
pairs for which NCA allowed such protocols is kept in `NcaMap.other_protocol_pairs`.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from bench.conns import ALL, MAX_PORT, MIN_PORT, NONE, PROTOCOLS, Conn, make_conn, subtract, union

Pair = tuple[str, str]

_POD = re.compile(r"^(?P<ns>[^/\s\[]+)/(?P<name>[^/\s\[]+)\[(?P<kind>[^\]]+)\]$")
_ENDPOINTS = re.compile(r"cluster has (\d+) unique endpoints")
_CUBE = re.compile(r"\{([^{}]*)\}")
_ITEM_SPLIT = re.compile(r",(?=[a-z_]+:)")
_PORT_DIMENSIONS = {"protocols", "dst_ports"}
_ICMP_DIMENSIONS = {"icmp_type", "icmp_code"}


@dataclass
class NcaMap:
    """NCA's pod-to-pod connectivity, with counts of what was left out."""

    pairs: dict[Pair, Conn] = field(default_factory=dict)
    pods: set[str] = field(default_factory=set)
    endpoints: int | None = None
    external_lines: int = 0
    workload_lines: int = 0
    multi_line_pairs: int = 0
    other_protocol_pairs: int = 0


@dataclass(frozen=True)
class ParsedConn:
    conn: Conn
    other_protocols: bool


class NcaFormatError(ValueError):
    pass


def parse_nca_file(path: Path) -> NcaMap:
    with path.open(encoding="utf-8") as f:
        return parse_nca_lines(f)


def parse_nca_lines(lines: Iterable[str]) -> NcaMap:
    """Parse an iterable of NCA output lines."""
    result = NcaMap()
    cache: dict[str, ParsedConn] = {}
    other: set[Pair] = set()
    for raw in lines:
        _parse_line(raw.rstrip("\n"), result, cache, other)
    result.other_protocol_pairs = len(other)
    return result


def _parse_line(line: str, result: NcaMap, cache: dict[str, ParsedConn], other: set[Pair]) -> None:
    if " => " not in line:
        found = _ENDPOINTS.search(line)
        if found:
            result.endpoints = int(found.group(1))
        return
    src_text, rest = line.split(" => ", 1)
    dst_text, conn_text = rest.split(" : ", 1)
    src, dst = _peer(src_text), _peer(dst_text)
    if src is None or dst is None:
        _count_non_pod(src_text, dst_text, result)
        return
    parsed = cache.get(conn_text)
    if parsed is None:
        parsed = cache[conn_text] = parse_connection(conn_text)
    _add_pair(result, (src, dst), parsed, other)


def _add_pair(result: NcaMap, pair: Pair, parsed: ParsedConn, other: set[Pair]) -> None:
    result.pods.update(pair)
    old = result.pairs.get(pair)
    if old is None:
        result.pairs[pair] = parsed.conn
    else:
        result.multi_line_pairs += 1
        result.pairs[pair] = union(old, parsed.conn)
    if parsed.other_protocols:
        other.add(pair)


def _count_non_pod(src_text: str, dst_text: str, result: NcaMap) -> None:
    """A line with an IP range (external) or a non-Pod workload (owner-collapsed) side."""
    if _is_workload(src_text) or _is_workload(dst_text):
        result.workload_lines += 1
    else:
        result.external_lines += 1


def _is_workload(text: str) -> bool:
    found = _POD.match(text)
    return found is not None and found.group("kind") != "Pod"


def _peer(text: str) -> str | None:
    """`ns/name` for a pod, None for an IP range or another kind of workload."""
    found = _POD.match(text)
    if found is None or found.group("kind") != "Pod":
        return None
    return f"{found.group('ns')}/{found.group('name')}"


def parse_connection(text: str) -> ParsedConn:
    """One connection string: `All connections`, `All but {...}`, or `{...},{...}`."""
    if text == "All connections":
        return ParsedConn(ALL, True)
    if text == "No connections":
        return ParsedConn(NONE, False)
    if text.startswith("All but "):
        excluded = _parse_cubes(text.removeprefix("All but "))
        return ParsedConn(subtract(ALL, excluded.conn), True)
    return _parse_cubes(text)


def _parse_cubes(text: str) -> ParsedConn:
    bodies = _CUBE.findall(text)
    if not bodies or ",".join("{" + b + "}" for b in bodies) != text:
        raise NcaFormatError(f"cannot parse connection {text!r}")
    conn, other = NONE, False
    for body in bodies:
        cube = _parse_cube(body)
        conn = union(conn, cube.conn)
        other = other or cube.other_protocols
    return ParsedConn(conn, other)


def _parse_cube(body: str) -> ParsedConn:
    items = dict(_split_item(item) for item in _ITEM_SPLIT.split(body))
    unknown = set(items) - _PORT_DIMENSIONS - _ICMP_DIMENSIONS
    if unknown:
        raise NcaFormatError(f"unsupported dimensions {sorted(unknown)} in {{{body}}}")
    protocols, other = _parse_protocols(items.get("protocols"))
    if protocols and set(items) & _ICMP_DIMENSIONS:
        raise NcaFormatError(f"ICMP dimensions on port protocols in {{{body}}}")
    ports = _parse_ports(items.get("dst_ports"))
    return ParsedConn(make_conn((p, lo, hi) for p in protocols for lo, hi in ports), other)


def _split_item(item: str) -> tuple[str, str]:
    key, sep, value = item.partition(":")
    if not sep:
        raise NcaFormatError(f"bad cube item {item!r}")
    return key, value


def _parse_protocols(text: str | None) -> tuple[list[str], bool]:
    """(port protocols in the set, whether it has any other protocol)."""
    if text is None or text == "*":
        return list(PROTOCOLS), True
    negated = text.startswith("all but ")
    names = {n.strip() for n in text.removeprefix("all but ").split(",")}
    if negated:
        return [p for p in PROTOCOLS if p not in names], True
    return [p for p in PROTOCOLS if p in names], bool(names - set(PROTOCOLS))


def _parse_ports(text: str | None) -> list[tuple[int, int]]:
    if text is None:
        return [(MIN_PORT, MAX_PORT)]
    ranges: list[tuple[int, int]] = []
    for part in text.split(","):
        lo, _, hi = part.strip().partition("-")
        ranges.append((int(lo), int(hi or lo)))
    return ranges


def main(argv: list[str]) -> int:
    """Print a summary of an NCA output file: `python -m bench.nca_output FILE`."""
    parsed = parse_nca_file(Path(argv[0]))
    print(
        f"pairs={len(parsed.pairs)} pods={len(parsed.pods)} endpoints={parsed.endpoints} "
        f"external_lines={parsed.external_lines} workload_lines={parsed.workload_lines} "
        f"multi_line_pairs={parsed.multi_line_pairs} "
        f"other_protocol_pairs={parsed.other_protocol_pairs}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
