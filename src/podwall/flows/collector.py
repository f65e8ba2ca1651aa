"""The flows of one node: a thread from the log socket through attribution into the rings.

`Collector` owns a reader (`reader.NflogReader`, bound in the node's namespace), the node's
`Attributor`, its memory ring and, when given a path, its ring file. The thread only reads,
attributes and appends; `update(cluster)` from the node's sync hands it each new snapshot.
`stop()` ends the thread within the reader's timeout and unbinds the group.

Counts a dashboard wants are in `stats` (flows by verdict), the reader's `stats` (records,
losses) and the attributor's (records not ours, retransmissions folded).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from podwall.flows.attribution import Attributor
from podwall.flows.flow import Flow
from podwall.flows.reader import NflogReader
from podwall.flows.ring import Entry, FlowRing, RingFile
from podwall.model.cluster import Cluster
from podwall.nft.logtags import TagTable

log = logging.getLogger(__name__)

RING = 4096  # entries kept in memory per node
RING_FILE = 20000  # lines kept on disk per node (two halves)
READ_TIMEOUT = 0.2
Clock = Callable[[], float]


@dataclass(slots=True)
class CollectorStats:
    flows: dict[str, int] = field(default_factory=dict)  # by verdict
    service_hops: int = 0


class Collector:
    """Reads one node's log group on a thread of its own. `start()`, then `stop()`."""

    def __init__(
        self,
        reader: NflogReader,
        node: str,
        tags: TagTable,
        *,
        ring_path: Path | None = None,
        clock: Clock = time.time,
        on_flow: Callable[[Flow], None] | None = None,
    ) -> None:
        self.reader = reader
        self.attributor = Attributor(node, tags)
        self.ring: FlowRing[Entry] = FlowRing(RING)  # flows, and Service hops to join them
        self.file = RingFile(ring_path, RING_FILE) if ring_path is not None else None
        self.stats = CollectorStats()
        self._clock = clock
        self._on_flow = on_flow
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"flows:{node}", daemon=True)

    @property
    def thread_id(self) -> int | None:
        """The reading thread's kernel id, once started (its CPU time is in /proc)."""
        return self._thread.native_id

    def update(self, cluster: Cluster) -> None:
        self.attributor.update(cluster)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        try:
            while not self._stopping.is_set():
                self.drain(READ_TIMEOUT)
        except Exception:
            log.exception("flow collector failed node=%s", self.attributor.node)
        finally:
            self.reader.close()
            if self.file is not None:
                self.file.close()

    def drain(self, timeout: float) -> list[Entry]:
        """Read once (waiting up to `timeout`), attribute and store what came."""
        entries: list[Entry] = []
        now = self._clock()
        for record in self.reader.read(timeout):
            entry = self.attributor.record(record, now)
            if entry is not None:
                entries.append(entry)
        flows = [e for e in entries if isinstance(e, Flow)]
        self.stats.service_hops += len(entries) - len(flows)
        for flow in flows:
            self.stats.flows[flow.verdict] = self.stats.flows.get(flow.verdict, 0) + 1
            if self._on_flow is not None:
                self._on_flow(flow)
        self.ring.extend(entries)
        if self.file is not None and entries:
            self.file.append(entries)
        return entries

    def stop(self, timeout: float = 2.0) -> None:
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join(timeout)
        elif not self._thread.ident:  # never started: release the socket here
            self.reader.close()
            if self.file is not None:
                self.file.close()
