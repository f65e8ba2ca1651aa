"""The flows of every node as one stream: ordered by time, Services joined across nodes.

A connection to a ClusterIP is translated on the client's node, and its ingress is decided on
the server's; only the first saw the Service. `Joiner` remembers the Service hops it is given
and names the Service on a later flow of the same connection (same source address, port and
protocol, within `HOP_SECONDS` either way), whichever node decided it. Pure: no I/O here.
"""

from __future__ import annotations

import dataclasses
import heapq
from collections import OrderedDict
from collections.abc import Iterable, Iterator

from podwall.flows.attribution import HOP_SECONDS, MAX_HOPS, ServiceHop
from podwall.flows.flow import Flow
from podwall.flows.ring import Entry


def _time(entry: Entry) -> float:
    return entry.time


def by_time(streams: Iterable[Iterable[Entry]]) -> Iterator[Entry]:
    """Entries of several nodes, each already in time order, as one time-ordered stream."""
    return heapq.merge(*streams, key=_time)


class Joiner:
    """Names the Service of flows decided on another node than the one that translated."""

    def __init__(self) -> None:
        self._hops: OrderedDict[tuple[str, int | None, str], ServiceHop] = OrderedDict()

    def feed(self, entries: Iterable[Entry]) -> list[Flow]:
        """The flows among `entries`, in order, with their Service where a hop names it.

        The hops of the batch are taken first: nodes read their logs independently, so the
        flow of the server's node may carry an earlier time than the hop of the client's.
        """
        batch = list(entries)
        for entry in batch:
            if isinstance(entry, ServiceHop):
                self._remember(entry)
        return [self._joined(e) for e in batch if isinstance(e, Flow)]

    def _remember(self, hop: ServiceHop) -> None:
        self._hops[hop.key] = hop
        self._hops.move_to_end(hop.key)
        while len(self._hops) > MAX_HOPS:
            self._hops.popitem(last=False)

    def _joined(self, flow: Flow) -> Flow:
        if flow.service is not None:
            return flow
        key = (flow.source.ip, flow.source.port, flow.protocol)
        hop = self._hops.get(key)
        if hop is None or abs(flow.time - hop.time) > HOP_SECONDS:
            return flow
        return dataclasses.replace(flow, service=hop.service)
