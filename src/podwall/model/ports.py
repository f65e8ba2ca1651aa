"""Protocols, container ports, NetworkPolicy ports and port-range sets.

Pure: no I/O here.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from podwall.model.record import Record

MIN_PORT = 1
MAX_PORT = 65535


class Protocol(StrEnum):
    TCP = "TCP"
    UDP = "UDP"
    SCTP = "SCTP"


ALL_PROTOCOLS: tuple[Protocol, ...] = (Protocol.TCP, Protocol.UDP, Protocol.SCTP)


class ContainerPort(Record):
    """A port a pod's container declares; `name` is what named NetworkPolicy ports refer to."""

    port: int
    protocol: Protocol = Protocol.TCP
    name: str | None = None
    container: str | None = None


class PolicyPort(Record):
    """A NetworkPolicyPort: `port` None means every port of `protocol`."""

    protocol: Protocol = Protocol.TCP
    port: int | str | None = None
    end_port: int | None = None

    def render(self) -> str:
        if self.port is None:
            return f"{self.protocol} (all ports)"
        if self.end_port is not None:
            return f"{self.protocol} {self.port}-{self.end_port}"
        return f"{self.protocol} {self.port}"


class PortSet(Record, kw_only=False):
    """Sets of (protocol, port) as sorted, disjoint, non-adjacent inclusive ranges per protocol.

    Invariant: for each protocol, `ranges` holds (lo, hi) with lo <= hi, sorted, and every
    next lo > previous hi + 1.
    """

    ranges: tuple[tuple[Protocol, tuple[tuple[int, int], ...]], ...] = ()

    @staticmethod
    def of(items: Iterable[tuple[Protocol, int, int]]) -> PortSet:
        per: dict[Protocol, list[tuple[int, int]]] = {}
        for proto, lo, hi in items:
            per.setdefault(proto, []).append((lo, hi))
        return PortSet(tuple((p, _normalise(per[p])) for p in ALL_PROTOCOLS if per.get(p)))

    @staticmethod
    def everything() -> PortSet:
        return PortSet.of((p, MIN_PORT, MAX_PORT) for p in ALL_PROTOCOLS)

    def is_empty(self) -> bool:
        return not self.ranges

    def is_everything(self) -> bool:
        return self == _EVERYTHING

    def contains(self, protocol: Protocol, port: int) -> bool:
        for proto, ranges in self.ranges:
            if proto is protocol:
                return any(lo <= port <= hi for lo, hi in ranges)
        return False

    def render(self) -> str:
        """`TCP 80-81, UDP 53`; `all` for every port of every protocol; `none` if empty."""
        if not self.ranges:
            return "none"
        if self.is_everything():
            return "all"
        parts: list[str] = []
        for proto, ranges in self.ranges:
            if ranges == ((MIN_PORT, MAX_PORT),):
                parts.append(f"{proto} all")
                continue
            for lo, hi in ranges:
                parts.append(f"{proto} {lo}" if lo == hi else f"{proto} {lo}-{hi}")
        return ", ".join(parts)


def _normalise(ranges: list[tuple[int, int]]) -> tuple[tuple[int, int], ...]:
    out: list[tuple[int, int]] = []
    for lo, hi in sorted(ranges):
        if out and lo <= out[-1][1] + 1:
            out[-1] = (out[-1][0], max(out[-1][1], hi))
        else:
            out.append((lo, hi))
    return tuple(out)


_EVERYTHING = PortSet.of((p, MIN_PORT, MAX_PORT) for p in ALL_PROTOCOLS)
