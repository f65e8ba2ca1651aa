"""The agent's hold on its node's flow log: bound before the first sync, retried while it cannot.

Only one socket per network namespace can read a log group. If another holds it when the agent
starts (a previous agent still exiting, a `podwall observe` left running, another tool), the
agent enforces without flows and `GET /flows` answers 503 with the reason; `retry` then tries
again with back-off (from the agent's main loop), so the flows come back by themselves once the
group is free, without restarting the agent. The reader started late is given the last synced
cluster at once, so its first flows are attributed as the others will be.

Observability never stops enforcement: nothing here touches the ruleset, and a failure is
logged (once per kind of failure, not once per retry) and kept as the reason /flows gives.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from podwall.agent.backoff import Backoff
from podwall.flows.reader import ReaderError
from podwall.flows.ring import Entry, FlowRing
from podwall.model.cluster import Cluster
from podwall.runtime.flowlog import NodeFlows

log = logging.getLogger(__name__)

RETRY_FIRST = 1.0
RETRY_CAP = 60.0

Start = Callable[[], NodeFlows]


@dataclass
class FlowReading:
    """The node's flow reader, or why there is none; `start` once, then `retry` now and then."""

    start_reader: Start
    where: str  # "network namespace pw-n1", for messages
    clock: Callable[[], float] = time.monotonic
    backoff: Backoff = field(default_factory=lambda: Backoff(RETRY_FIRST, RETRY_CAP))
    flows: NodeFlows | None = None
    problem: str = "flows are not read yet"
    _reason: str = ""
    _retry_at: float | None = None
    _last: Cluster | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> None:
        """Bind the log group now; on failure, say why and plan the next try."""
        with self._lock:
            self._try()

    def retry(self) -> None:
        """Try again if the reader is missing and its back-off has passed (cheap otherwise)."""
        if self.flows is not None or self._retry_at is None or self.clock() < self._retry_at:
            return
        with self._lock:
            if self.flows is None and self._try():
                log.info("reading the flow log in %s now", self.where)

    def _try(self) -> bool:
        try:
            self.flows = self.start_reader()
        except (ReaderError, OSError) as exc:
            reason = f"cannot read the flow log in {self.where}: {exc}"
            if reason != self._reason:
                log.warning("%s; enforcing without flows, retrying with back-off", reason)
            self._reason = reason
            self.problem = f"{reason} (retrying)"
            self._retry_at = self.clock() + self.backoff.next()
            return False
        self._retry_at = None
        self.backoff.reset()
        if self._last is not None:
            self.flows.update(self._last)
        return True

    def update(self, cluster: Cluster) -> None:
        """After each sync: the reader attributes with what the node now enforces."""
        with self._lock:
            self._last = cluster
            if self.flows is not None:
                self.flows.update(cluster)

    def ring(self) -> FlowRing[Entry] | str:
        """What `GET /flows` serves: the ring, or the reason there is none."""
        flows = self.flows
        return flows.collector.ring if flows is not None else self.problem

    def stop(self) -> None:
        with self._lock:
            self._retry_at = None
            if self.flows is not None:
                self.flows.stop()
