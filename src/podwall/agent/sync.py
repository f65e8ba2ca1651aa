"""The sync loop: cache snapshot → `Dataplane.sync` (compile for this node, one nft batch).

It runs in one thread. The first sync waits until every kind is listed (a snapshot without
the policies would open selected pods) and replaces the table whole in one batch: the
previous process's rules stay in force until that batch commits, and nft commits it or
nothing. Later syncs send the difference. A refused batch leaves the previous ruleset in
force (nft applies none of it); it is logged, counted and retried after a back-off, and the
next sync diffs from what is really loaded. Changes that arrive meanwhile coalesce into the
next sync. The loop never removes the table: stopping the agent leaves the rules in force.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import KW_ONLY, dataclass, field, replace

from podwall.agent.backoff import Backoff
from podwall.agent.cache import Cache, Snapshot
from podwall.agent.metrics import Metrics
from podwall.agent.scope import NodeScope
from podwall.model.cluster import Cluster, Pod
from podwall.nft.errors import NftError
from podwall.runtime.dataplane import Dataplane

log = logging.getLogger(__name__)

TICK_SECONDS = 1.0  # the loop wakes at least this often (heartbeat, retries)


@dataclass(frozen=True, kw_only=True)
class SyncStatus:
    """What the loaded ruleset enforces; replaced whole after each sync (readers see one)."""

    ready: bool = False  # the first full sync is committed
    synced_at: float | None = None  # wall clock of the last successful sync
    resource_versions: dict[str, str] = field(default_factory=dict)
    policies: int = 0  # the policies of the namespaces where the node has pods
    local_pods: int = 0
    pods: int = 0
    nodes: frozenset[str] = frozenset()
    last_error: str = ""  # the last refused batch or failed compile, "" once a sync succeeds
    errors: int = 0


def local_pods(pods: tuple[Pod, ...], node: str | None) -> int:
    """Pods the node enforces policy for: those scheduled on it, not on the host's network."""
    return sum(1 for p in pods if p.node == node and not p.host_network)


@dataclass(eq=False)
class SyncLoop:
    """Call `run` in one thread; `stop` (shared with the informers) ends it."""

    cache: Cache
    dataplane: Dataplane
    metrics: Metrics
    stop: threading.Event
    _: KW_ONLY
    backoff: Backoff = field(default_factory=Backoff)
    clock: Callable[[], float] = time.monotonic
    on_first_sync: Callable[[], None] = lambda: None
    # given each snapshot once it is enforced (the flows' view)
    on_synced: Callable[[Cluster], None] = lambda cluster: None

    def __post_init__(self) -> None:
        self.scope = NodeScope(self.dataplane.node)
        self.status = SyncStatus()
        self.heartbeat = self.clock()
        self._synced_version: int | None = None
        self._retry_at = 0.0
        self._unenforced: list[float] = []  # arrivals of changes a refused batch left out
        self._last_pods: tuple[Pod, ...] | None = None
        self._local = 0
        self._warned_ipv6 = False

    def run(self) -> None:
        while not self.stop.is_set():
            self.heartbeat = self.clock()
            if self._due() and not self.sync_once():
                self._retry_at = self.clock() + self.backoff.next()
            wait = TICK_SECONDS
            if self._retry_at > self.clock():
                self.stop.wait(min(wait, self._retry_at - self.clock()))
            else:
                self.cache.changed.wait(wait)

    def _due(self) -> bool:
        if self._retry_at > self.clock():
            return False
        return self._synced_version is None or self.cache.changed.is_set()

    def lag_seconds(self) -> float:
        """How long the oldest change not yet enforced has waited (0 when none)."""
        oldest = [t for t in (*self._unenforced[:1], self.cache.pending_since()) if t is not None]
        return max(0.0, self.clock() - min(oldest)) if oldest else 0.0

    def sync_once(self) -> bool:
        """One sync; False when nft refused the batch (or the compile failed)."""
        snapshot = self.cache.snapshot()
        started = time.perf_counter()
        full = self.dataplane.loaded is None
        try:
            cluster = self.scope.apply(snapshot.cluster)
            result = self.dataplane.sync(cluster)
        except Exception as exc:  # NftError, or a bug: the loaded rules stay either way
            self._refused(snapshot, exc)
            return False
        seconds = time.perf_counter() - started
        self.backoff.reset()
        self._retry_at = 0.0
        self._synced_version = snapshot.version
        now = self.clock()
        for arrived in (*self._unenforced, *snapshot.arrivals):
            self.metrics.enforce_latency.observe(now - arrived)
        self._unenforced = []
        self.on_synced(cluster)
        self._observe(snapshot, cluster, seconds, full, result.operations)
        if full:
            log.info(
                "first sync committed: %d operations in %.3fs, %d of %d policies apply here, "
                "%d pods (%d on this node)",
                result.operations, seconds, len(cluster.policies),
                self.cache.counts().get("networkpolicies", 0), len(cluster.pods), self._local,
            )  # fmt: skip
            self.on_first_sync()
        return True

    def _warn_ipv6(self, pods: tuple[Pod, ...]) -> None:
        if self._warned_ipv6:
            return
        node = self.dataplane.node
        found = next(
            (p for p in pods if p.node == node and any(ip.version == 6 for ip in p.ips)), None
        )
        if found is not None:
            self._warned_ipv6 = True
            log.warning(
                "pod %s has an IPv6 address: podwall filters IPv4 only, so IPv6 traffic of "
                "this node's pods is not isolated",
                found.key,
            )

    def _refused(self, snapshot: Snapshot, exc: Exception) -> None:
        self._unenforced += snapshot.arrivals
        self.metrics.nft_errors.inc()
        if isinstance(exc, NftError):
            log.error("nft refused the batch, the loaded rules stay in force: %s", exc)
        else:
            log.error("sync failed, the loaded rules stay in force", exc_info=exc)
        error = f"{type(exc).__name__}: {exc}"[:500]
        self.status = replace(self.status, last_error=error, errors=self.status.errors + 1)
        # The cache's change flag was cleared by the snapshot: raise it again so the retry
        # happens even if nothing else changes.
        self.cache.changed.set()

    def _observe(
        self, snapshot: Snapshot, cluster: Cluster, seconds: float, full: bool, operations: int
    ) -> None:
        if cluster.pods is not self._last_pods:
            self._last_pods = cluster.pods
            self._local = local_pods(cluster.pods, self.dataplane.node)
            self._warn_ipv6(cluster.pods)
        m = self.metrics
        m.sync_seconds.labels(type="full" if full else "update").observe(seconds)
        m.nft_operations.inc(operations)
        m.last_commit.set(time.time())
        m.observe_resource_versions(snapshot.resource_versions)
        m.local_pods.set(self._local)
        m.policies.set(len(cluster.policies))
        for kind, count in self.cache.counts().items():
            m.objects.labels(kind=kind).set(count)
        if operations and self.dataplane.loaded is not None:
            m.observe_ruleset(self.dataplane.loaded.values())
        m.ready.set(1)
        self.status = SyncStatus(
            ready=True,
            synced_at=time.time(),
            resource_versions=snapshot.resource_versions,
            policies=len(cluster.policies),
            local_pods=self._local,
            pods=len(cluster.pods),
            nodes=snapshot.nodes,
            errors=self.status.errors,
        )
