"""Port atoms: the port space of each protocol cut into the fewest ranges no rule splits.

A set of ports is then an int bitmask over atoms, so unions and intersections are single
integer operations. Pure: no I/O here.
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Iterable

from podwall.model.ports import ALL_PROTOCOLS, MAX_PORT, MIN_PORT, PortSet, Protocol


class Atoms:
    """Invariant: per protocol, the atoms partition MIN_PORT..MAX_PORT; atom i of protocol p has
    global index `offset[p] + i`."""

    def __init__(self, cuts: Iterable[tuple[Protocol, int, int]]) -> None:
        starts: dict[Protocol, set[int]] = {p: {MIN_PORT} for p in ALL_PROTOCOLS}
        for proto, lo, hi in cuts:
            starts[proto].add(lo)
            if hi < MAX_PORT:
                starts[proto].add(hi + 1)
        self.starts: dict[Protocol, list[int]] = {p: sorted(s) for p, s in starts.items()}
        self.offset: dict[Protocol, int] = {}
        self.atoms: list[tuple[Protocol, int, int]] = []
        for proto in ALL_PROTOCOLS:
            self.offset[proto] = len(self.atoms)
            bounds = [*self.starts[proto], MAX_PORT + 1]
            self.atoms += [(proto, lo, nxt - 1) for lo, nxt in itertools.pairwise(bounds)]
        self.all_mask = (1 << len(self.atoms)) - 1

    def cut_along(self, proto: Protocol, lo: int, hi: int) -> bool:
        """Whether `lo`-`hi` is a run of whole atoms: no atom straddles either end."""
        starts = self.starts[proto]
        at_lo = starts[self._index(proto, lo)] == lo
        return at_lo and (hi >= MAX_PORT or starts[self._index(proto, hi + 1)] == hi + 1)

    def _index(self, proto: Protocol, port: int) -> int:
        return bisect.bisect_right(self.starts[proto], port) - 1

    def range_mask(self, proto: Protocol, lo: int, hi: int) -> int:
        first, last = self._index(proto, lo), self._index(proto, hi)
        return ((1 << (last - first + 1)) - 1) << (self.offset[proto] + first)

    def port_mask(self, proto: Protocol, port: int) -> int:
        return 1 << (self.offset[proto] + self._index(proto, port))

    def protocol_mask(self, proto: Protocol) -> int:
        return self.range_mask(proto, MIN_PORT, MAX_PORT)

    def port_set(self, mask: int) -> PortSet:
        items = []
        while mask:
            low = mask & -mask
            items.append(self.atoms[low.bit_length() - 1])
            mask ^= low
        return PortSet.of(items)
