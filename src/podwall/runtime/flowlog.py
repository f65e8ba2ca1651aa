"""The flows of one sandbox node: its log group read inside its namespace, and its counters.

`NodeFlows` binds the node's log group (`nft.flowlog.LOG_GROUP`) in the node's namespace, never
this machine's own, and runs the node's `flows.collector.Collector`: attributed flows go to a
memory ring and, for `podwall up`, to the node's ring file that `podwall observe` reads.
`lost_to_limits` reads the ruleset's counters of connections not logged because of the rate
limit, by verdict; with `metrics`, flows and losses are counted for Prometheus. Start it after
the node's namespace exists and before its pods do, so the first connection is seen; stop it
before the namespace goes.
"""

from __future__ import annotations

import functools
import logging
import re
import socket
from collections.abc import Callable
from pathlib import Path

from podwall.flows.collector import Collector
from podwall.flows.metrics import FlowMetrics
from podwall.flows.reader import NflogReader, Within
from podwall.flows.ring import Entry
from podwall.model.cluster import Cluster
from podwall.nft import runner
from podwall.nft.errors import NftError
from podwall.nft.flowlog import LOST_CHAINS, FlowLog
from podwall.nft.logtags import TagTable
from podwall.nft.objects import Family
from podwall.nft.ruleset import TABLE
from podwall.runtime.namespaces import run_in_netns

log = logging.getLogger(__name__)

_PACKETS = re.compile(r"counter packets (\d+)")


def _here(work: Callable[[], socket.socket]) -> socket.socket:
    return work()


class NodeFlows:
    """The flow collector of node `node`, whose namespace is `netns` (None: this process's
    own, as for an agent on a real node, which runs in the host's namespace)."""

    def __init__(
        self,
        netns: str | None,
        node: str,
        tags: TagTable,
        config: FlowLog,
        *,
        ring_path: Path | None = None,
        metrics: FlowMetrics | None = None,
    ) -> None:
        self.netns = netns
        within: Within = _here if netns is None else functools.partial(run_in_netns, netns)
        reader = NflogReader(config.group, within, name=netns or "this namespace")
        on_flow = None if metrics is None else metrics.observe
        self.collector = Collector(reader, node, tags, ring_path=ring_path, on_flow=on_flow)
        if metrics is not None:
            metrics.watch(
                lost_to_limits=self.lost_to_limits,
                socket_lost=lambda: reader.stats.lost,
                retransmissions=lambda: self.collector.attributor.repeats,
            )
        self.collector.start()

    def update(self, cluster: Cluster) -> None:
        self.collector.update(cluster)

    def entries(self) -> list[Entry]:
        """The flows and Service hops the node's memory ring holds, oldest first."""
        return self.collector.ring.snapshot()

    def lost_to_limits(self) -> dict[str, int]:
        """Connections the ruleset decided but did not log (over the rate limit), by verdict;
        empty when the table is not loaded yet."""
        out: dict[str, int] = {}
        for verdict, chain in LOST_CHAINS.items():
            try:
                listing = runner.list_chain(Family.INET, TABLE, chain, netns=self.netns)
            except NftError:
                return {}
            found = _PACKETS.search(listing)
            out[verdict] = int(found.group(1)) if found else 0
        return out

    def stop(self) -> None:
        self.collector.stop()
