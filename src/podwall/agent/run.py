"""The agent's life: check what it needs, follow the cluster, enforce, report; stop cleanly.

`Agent.start` checks, in order, everything the agent needs before it touches the ruleset, and
raises `StartupError` (one line naming what is missing) at the first that fails: a cluster
configuration, nftables with CAP_NET_ADMIN in the target namespace, the health port, a first
list of every watched kind (401/403/404 fail at once; an unreachable server after
`startup_seconds`), a first watch of each (a 403 fails at once), and the node's Lease (written,
then renewed: get, create and update). Nothing is applied until all of them pass. Then the
sync loop loads the node's ruleset (one batch replacing the table of any earlier run) and the
informers, the sync loop and the Lease keeper run in their own threads until `stop`.

With flows on (the default), the ruleset logs each new connection's verdict (`nft.flowlog`)
and the agent reads them in the node's namespace (`runtime.flowlog.NodeFlows`, started before
the first sync), attributes them with its cache (pods of every node by address, Services by
ClusterIP), keeps the recent ones in a bounded ring served as `GET /flows` (`flowapi`),
counts them per policy and rule on `/metrics`, and with `flows_ring` also writes them to the
ring file `podwall observe` reads (the sandbox's nodes). A log group it cannot read is
logged and leaves the agent enforcing without flows, retried with back-off from the main loop
(`flowreading`): observability never stops enforcement.

`stop` leaves the loaded rules in force: an agent restarting, or killed, never opens a pod.
`cleanup` is the one thing that removes the table.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from podwall.agent import kinds
from podwall.agent.backoff import Backoff
from podwall.agent.cache import Cache
from podwall.agent.client import ApiError, ConfigError, Connection, Target, Unreachable
from podwall.agent.flowapi import flows_route
from podwall.agent.flowreading import FlowReading
from podwall.agent.health import HealthServer
from podwall.agent.lease import NAMESPACE, Enforcement, LeaseKeeper, newest_resource_version
from podwall.agent.metrics import Metrics
from podwall.agent.sync import SyncLoop
from podwall.agent.watch import Informer
from podwall.errors import PodwallError
from podwall.flows.metrics import FlowMetrics
from podwall.flows.ring import Entry, FlowRing
from podwall.model.cluster import Cluster
from podwall.nft import runner
from podwall.nft.errors import NftError
from podwall.nft.flowlog import FlowLog
from podwall.nft.ruleset import TABLE
from podwall.runtime.dataplane import Apply, Dataplane
from podwall.runtime.flowlog import NodeFlows

log = logging.getLogger(__name__)

FAMILY = "inet"
STALLED_SECONDS = 60.0  # a sync loop that has not turned for this long is not healthy
FATAL_STATUSES = {401: "unauthorized", 403: "forbidden", 404: "not served"}


class StartupError(PodwallError):
    """What the agent is missing, in one line."""


@dataclass(frozen=True, kw_only=True)
class Options:
    target: Target
    node: str
    holder: str
    netns: str | None = None
    metrics_bind: str = "127.0.0.1"
    metrics_port: int = 9474
    service_dnat: bool = False
    lease_namespace: str = NAMESPACE
    startup_seconds: float = 30.0
    backoff_cap: float = 30.0
    renew_seconds: float = 10.0
    flows: bool = True  # log, read and serve each new connection's verdict
    flows_ring: Path | None = None  # also write them here (`podwall observe` reads it)


def _run_nft(script: str, netns: str | None) -> None:
    runner.run(script, netns=netns)


def where(netns: str | None) -> str:
    return f"network namespace {netns}" if netns else "this network namespace"


def check_nft(apply: Apply, netns: str | None) -> None:
    """Ask nft for the tables (changes nothing): it needs the library or the binary, the
    namespace, and CAP_NET_ADMIN, as every later batch will."""
    try:
        apply("list tables\n", netns)
    except NftError as exc:
        text = str(exc)
        if "Operation not permitted" in text:
            need = "CAP_NET_ADMIN (the agent's container must add it)"
        elif "cannot enter network namespace" in text:
            need = f"{where(netns)} (no such namespace, or no CAP_SYS_ADMIN to enter it)"
        elif "cannot run" in text or "not installed" in text:
            need = "nftables (libnftables.so.1 or the nft command: Debian package nftables)"
        else:
            need = "a working nftables"
        raise StartupError(
            f"cannot program nftables in {where(netns)}: needs {need}: {text}"
        ) from None


def cleanup(netns: str | None, apply: Apply = _run_nft) -> None:
    """Remove the agent's table (and only it) in one batch; nothing happens if it is absent."""
    check_nft(apply, netns)
    head = f"{FAMILY} {TABLE}"
    apply(f"add table {head}\ndelete table {head}\n", netns)


class Agent:
    def __init__(
        self,
        options: Options,
        *,
        connection: Connection | None = None,
        apply: Apply = _run_nft,
        dataplane: Callable[[str | None, str, Apply], Dataplane] | None = None,
    ) -> None:
        self.options = options
        self.stop_event = threading.Event()
        self.metrics = Metrics()
        self.watched = kinds.watched(options.service_dnat)
        self.cache = Cache(self.watched, node=options.node)
        self.dataplane = (dataplane or self._dataplane)(options.netns, options.node, self._timed)
        self.flows: FlowReading | None = None
        if self.dataplane.flow_log is not None:
            self.flows = FlowReading(self._node_flows(), where(options.netns))
        self.sync = SyncLoop(
            self.cache, self.dataplane, self.metrics, self.stop_event,
            backoff=Backoff(cap=options.backoff_cap), on_first_sync=self._first_synced,
            on_synced=self._synced,
        )  # fmt: skip
        self._apply = apply
        self._connection = connection
        self.informers: list[Informer] = []
        self.health: HealthServer | None = None
        self.lease: LeaseKeeper | None = None
        self._sync_thread = threading.Thread(target=self.sync.run, name="sync", daemon=True)
        self._warned_node = False

    def _dataplane(self, netns: str | None, node: str, apply: Apply) -> Dataplane:
        flow_log = FlowLog() if self.options.flows else None
        return Dataplane(netns, node, apply, flow_log=flow_log)

    def _timed(self, script: str, netns: str | None) -> None:
        started = time.perf_counter()
        self._apply(script, netns)
        self.metrics.nft_seconds.observe(time.perf_counter() - started)

    @property
    def connection(self) -> Connection:
        assert self._connection is not None
        return self._connection

    # -- starting ---------------------------------------------------------------------------

    def start(self) -> None:
        """Check every need, then start the threads; StartupError names the first missing."""
        try:
            self._start()
        except BaseException:
            self.close()
            raise

    def _start(self) -> None:
        if self._connection is None:
            try:
                self._connection = Connection.open(self.options.target)
            except ConfigError as exc:
                raise StartupError(f"no cluster configuration: {exc}") from None
        log.info("API server %s (%s)", self.connection.host, self.connection.source)
        check_nft(self._apply, self.options.netns)
        self._read_flows()
        self._serve_health()
        self._list_everything()
        self._lease_first()
        self._sync_thread.start()
        assert self.lease is not None
        self.lease.start()

    def _node_flows(self) -> Callable[[], NodeFlows]:
        """How to start the node's flow reader (its metrics registered once, here)."""
        o, config = self.options, self.dataplane.flow_log
        assert config is not None
        metrics = FlowMetrics(self.metrics.registry)

        def start() -> NodeFlows:
            return NodeFlows(
                o.netns, o.node, self.dataplane.tags, config,
                ring_path=o.flows_ring, metrics=metrics,
            )  # fmt: skip

        return start

    def _read_flows(self) -> None:
        """Bind the node's log group before the first sync, so its first connection is seen."""
        if self.flows is not None:
            self.flows.start()

    def _flow_ring(self) -> FlowRing[Entry] | str:
        return self.flows.ring() if self.flows is not None else "flows are off (--no-flows)"

    def _synced(self, cluster: Cluster) -> None:
        if self.flows is not None:
            self.flows.update(cluster)

    def _serve_health(self) -> None:
        o = self.options
        try:
            self.health = HealthServer(
                o.metrics_bind, o.metrics_port,
                healthy=self.healthy, ready=self.ready, metrics=self.metrics.exposition,
                routes={"/flows": flows_route(self._flow_ring)},
            )  # fmt: skip
        except OSError as exc:
            raise StartupError(
                f"cannot serve /healthz, /readyz and /metrics on {o.metrics_bind}:"
                f"{o.metrics_port}: {exc.strerror or exc}"
            ) from None
        self.health.start()
        host, port = self.health.address
        log.info("serving /healthz /readyz /metrics on http://%s:%d (and /flows)", host, port)

    def _list_everything(self) -> None:
        for kind in self.watched:
            informer = Informer(
                self.connection, kind, self.cache, self.metrics, self.stop_event,
                backoff=Backoff(cap=self.options.backoff_cap),
            )  # fmt: skip
            self.informers.append(informer)
            informer.start()
        deadline = time.monotonic() + self.options.startup_seconds
        # Listed and watching: a watch the server forbids fails here, before anything is applied.
        while not all(i.listed.is_set() and i.watching.is_set() for i in self.informers):
            for informer in self.informers:
                self._fail_if_fatal(informer)
            if time.monotonic() > deadline:
                waiting = [i for i in self.informers if not i.watching.is_set()]
                error = next((i.error for i in waiting if i.error is not None), None)
                raise StartupError(
                    f"cannot list {waiting[0].kind.name} from the API server "
                    f"{self.connection.host} within {self.options.startup_seconds:g}s"
                    + (f": {error}" if error else "")
                )
            # Woken as soon as the first kind still listing is listed, then watching (polling
            # every 50 ms cost 25 ms on average), and every 50 ms to look for fatal errors
            # and `stop`.
            self._first_pending().wait(0.05)
            if self.stop_event.is_set():
                raise StartupError("stopped before the first list")

    def _first_pending(self) -> threading.Event:
        """The event start-up waits for next: a kind not listed yet, else one not watching."""
        for informer in self.informers:
            if not informer.listed.is_set():
                return informer.listed
        for informer in self.informers:
            if not informer.watching.is_set():
                return informer.watching
        return self.stop_event

    def _fail_if_fatal(self, informer: Informer) -> None:
        error = informer.error
        if isinstance(error, ApiError) and error.status in FATAL_STATUSES:
            what = FATAL_STATUSES[error.status]
            verb = f"{'watch' if informer.listed.is_set() else 'list'} {informer.kind.name}"
            if error.status == 403:
                hint = " (missing RBAC: grant list and watch in the agent's ClusterRole)"
            elif error.status == 401:
                hint = f" (the credentials of {self.connection.source} were refused)"
            else:
                hint = f" ({informer.kind.path} does not exist on this API server)"
            raise StartupError(f"{what}: cannot {verb}: {error.message or error}{hint}")

    def _lease_first(self) -> None:
        o = self.options
        self.lease = LeaseKeeper(
            self.connection, o.node, o.holder, self.enforcement, self.stop_event,
            namespace=o.lease_namespace, renew_seconds=o.renew_seconds,
        )  # fmt: skip
        try:
            self.lease.write()
            # Again: a renewal, so that a Lease just created proves `update` is allowed too
            # before anything is enforced.
            self.lease.write()
        except ApiError as exc:
            where_ = f"Lease {o.lease_namespace}/{o.node}"
            if exc.status == 403:
                raise StartupError(
                    f"forbidden: cannot write {where_}: {exc.message} (missing RBAC: grant get, "
                    f"create and update on leases in namespace {o.lease_namespace})"
                ) from None
            if exc.status == 404:
                raise StartupError(
                    f"cannot write {where_}: namespace {o.lease_namespace} does not exist "
                    "(create it: deploy/00-namespace.yaml)"
                ) from None
            log.warning("lease not written yet: %s", exc)
        except Unreachable as exc:
            log.warning("lease not written yet: %s", exc)

    # -- running ----------------------------------------------------------------------------

    def wait(self) -> None:
        """Until `stop()` (a signal handler may call it)."""
        while not self.stop_event.wait(1.0):
            self._check_node()
            if self.flows is not None:
                self.flows.retry()

    def stop(self) -> None:
        self.stop_event.set()
        self.cache.changed.set()  # wake the sync loop

    def close(self) -> None:
        """Stop every thread; the loaded rules stay in force."""
        self.stop()
        for informer in self.informers:
            informer.close()
        if self._sync_thread.ident is not None:
            self._sync_thread.join(timeout=60)
        if self.flows is not None:
            self.flows.stop()
        if self.lease is not None:
            self.lease.join()
        if self.health is not None:
            self.health.close()
        if self._connection is not None:
            self._connection.close()

    def _first_synced(self) -> None:
        if self.lease is not None:
            self.lease.poke()  # say "ready" in the Lease now, not at the next renewal

    def _check_node(self) -> None:
        nodes = self.sync.status.nodes
        if nodes and self.options.node not in nodes and not self._warned_node:
            self._warned_node = True
            log.warning(
                "no Node is named %s (--node-name or NODE_NAME): no pod is this node's, none "
                "is isolated here",
                self.options.node,
            )

    # -- reports ----------------------------------------------------------------------------

    def healthy(self) -> str | None:
        dead = [i.kind.name for i in self.informers if not i.alive()]
        if dead:
            return f"watch threads ended: {', '.join(dead)}"
        if self._sync_thread.ident is not None and not self._sync_thread.is_alive():
            return "the sync loop ended"
        if self.sync.clock() - self.sync.heartbeat > STALLED_SECONDS:
            return f"the sync loop has not turned for {STALLED_SECONDS:g}s"
        return None

    def ready(self) -> str | None:
        if self.sync.status.ready:
            return None
        waiting = [i.kind.name for i in self.informers if not i.listed.is_set()]
        if waiting:
            return f"not ready: listing {', '.join(waiting)}"
        return "not ready: the first sync is not committed yet"

    def enforcement(self) -> Enforcement:
        status = self.sync.status
        return Enforcement(
            ready=status.ready,
            synced_resource_version=newest_resource_version(status.resource_versions),
            synced_at=datetime.fromtimestamp(status.synced_at, UTC) if status.synced_at else None,
            lag_seconds=self.sync.lag_seconds(),
            policies=status.policies,
            pods=status.local_pods,
            cluster_pods=status.pods,
            last_error=status.last_error,
        )
