"""The watch cache: the cluster as model objects that stay the same objects while unchanged.

The compiler diffs pods and policies by object identity (`Compiler`, `Selection`): a pod or
policy that is the very object of the last snapshot costs nothing. So the cache converts an
object only when its resourceVersion changes, and when the conversion equals what it held
(a pod's status changed, not its labels or address) it keeps the old model object. A kind's
tuple of models is rebuilt only when one of them changed, so a snapshot of an unchanged kind
is the very tuple of the last one, which the compiler notices in O(1).

A node needs only the policies of the namespaces where it has pods (`scope`). So, given its
node, the cache converts a NetworkPolicy only once its namespace has a pod of the node (or a
pod without a node); until then it keeps the policy's name, namespace and spec marshalled
(`marshal`: a quarter of `json.dumps`'s time, a tenth of the decoded dicts' memory), and a change
to it costs no sync. When a pod lands in a new namespace, the next snapshot converts that
namespace's policies before it is returned, so the pod and its policies reach the compiler
together.

Each kind is written by its own informer thread (`relist` after a list, `apply` per watch
event) and read by the sync loop (`snapshot`); conversion happens outside the lock, except
for the deferred policies a snapshot needs. Keeps resourceVersions, model objects and the
deferred policies' marshalled specs; nothing else of the objects (see `kinds`).
"""

from __future__ import annotations

import marshal
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple, cast

from podwall.agent import kinds
from podwall.agent.kinds import Kind, Model, SliceBackends
from podwall.model.cluster import Backend, Cluster, Namespace, Node, Pod, Service
from podwall.model.clusterpolicy import ClusterNetworkPolicy
from podwall.model.policy import NetworkPolicy
from podwall.model.record import replace


class Entry(NamedTuple):
    rv: str
    model: Model | None  # None: not in the snapshot (yet)
    deferred: bytes | None = None  # a policy out of the node's scope, marshalled, for later


@dataclass(kw_only=True)
class _Table:
    entries: dict[str, Entry] = field(default_factory=dict)
    models: tuple[Model, ...] | None = ()  # None: rebuild from entries
    resource_version: str = ""
    listed: bool = False


@dataclass(frozen=True, kw_only=True)
class Snapshot:
    """What the cache held at one moment, and what arrived since the last snapshot."""

    cluster: Cluster
    version: int  # counts model changes; equal versions mean equal snapshots
    resource_versions: dict[str, str]  # per kind: the last one the cache has seen
    arrivals: tuple[float, ...]  # monotonic arrival time of each watch event that changed a
    # model object since the last snapshot
    nodes: frozenset[str]


class Cache:
    """Thread-safe; `changed` is set whenever a model object changed. With `node`, policies
    of namespaces where the node has no pod are converted only when it gets one."""

    def __init__(
        self,
        watched: Iterable[Kind],
        clock: Callable[[], float] = time.monotonic,
        *,
        node: str | None = None,
    ) -> None:
        self._tables = {kind.name: _Table() for kind in watched}
        self._lock = threading.Lock()
        self._clock = clock
        self._node = node
        self._version = 0
        self._arrivals: list[float] = []
        self._pods: tuple[Model, ...] | None = None
        # The services with their slices' backends joined, and the two tuples they came from.
        self._joined: tuple[tuple[Model, ...], tuple[Model, ...], tuple[Service, ...]] | None
        self._joined = None
        self._policy_parts: (
            tuple[tuple[tuple[Model, ...], ...], tuple[ClusterNetworkPolicy, ...]] | None
        ) = None
        # The namespaces whose policies are converted; replaced whole, read without the lock.
        self._scope: frozenset[str] = frozenset()
        self.changed = threading.Event()

    def listed(self) -> bool:
        """Whether every kind has been listed once: before that, a snapshot would miss
        policies or pods, and enforcing it could open a selected pod."""
        with self._lock:
            return all(t.listed for t in self._tables.values())

    def counts(self) -> dict[str, int]:
        with self._lock:
            return {name: len(t.entries) for name, t in self._tables.items()}

    def relist(self, kind: Kind) -> Relist:
        """Start replacing every object of `kind` (a list, page by page); `Relist.commit`
        swaps the result in at once, and a list that fails half-way changes nothing."""
        return Relist(self, kind)

    def _swap(self, kind: Kind, entries: dict[str, Entry], rv: str, changes: int) -> None:
        table = self._tables[kind.name]
        with self._lock:
            for key, entry in entries.items():
                if entry.deferred is not None:
                    settled = self._settle(key, entry)
                    changes += settled is not entry
                    entries[key] = settled
            table.entries = entries
            table.resource_version = rv
            table.listed = True
            if changes:  # found by a list, not a watch event: no arrival time to measure
                table.models = None
                self._changed(0)

    def apply(self, kind: Kind, event: str, body: Mapping[str, Any]) -> None:
        """One watch event: ADDED, MODIFIED or DELETED."""
        table = self._tables[kind.name]
        key = kinds.key_of(body)
        before = table.entries.get(key)
        rv = kinds.resource_version(body)
        entry = None if event == "DELETED" else self._entry(kind, body, before)
        with self._lock:
            if entry is not None:
                entry = self._settle(key, entry)
            if entry is None:
                table.entries.pop(key, None)
            else:
                table.entries[key] = entry
            table.resource_version = rv or table.resource_version
            if _model(entry) is not _model(before):
                table.models = None
                self._changed(1)

    def bookmark(self, kind: Kind, rv: str) -> None:
        with self._lock:
            self._tables[kind.name].resource_version = rv

    def _changed(self, events: int) -> None:
        self._version += 1
        if events:
            self._arrivals.append(self._clock())
        self.changed.set()

    def snapshot(self) -> Snapshot:
        with self._lock:
            self.changed.clear()
            arrivals, self._arrivals = tuple(self._arrivals), []
            pods = cast(tuple[Pod, ...], self._models(kinds.PODS))
            self._widen_scope(pods)
            cluster = Cluster.build(
                namespaces=cast(tuple[Namespace, ...], self._models(kinds.NAMESPACES)),
                pods=pods,
                services=self._services(),
                policies=cast(tuple[NetworkPolicy, ...], self._models(kinds.NETWORK_POLICIES)),
                nodes=cast(tuple[Node, ...], self._models(kinds.NODES)),
                cluster_policies=self._cluster_policies(),
            )
            nodes = self._tables.get(kinds.NODES.name)
            return Snapshot(
                cluster=cluster,
                version=self._version,
                resource_versions={n: t.resource_version for n, t in self._tables.items()},
                arrivals=arrivals,
                nodes=frozenset(nodes.entries) if nodes is not None else frozenset(),
            )

    def _cluster_policies(self) -> tuple[ClusterNetworkPolicy, ...]:
        """The ClusterNetworkPolicies, AdminNetworkPolicies and BaselineAdminNetworkPolicy, one
        tuple (under the lock). The same tuple while none of the kinds changed, so the
        compiler skips them; one kind's own tuple when the others have none."""
        parts = tuple(self._models(k) for k in kinds.CLUSTER_POLICY_KINDS)
        if self._policy_parts is not None and all(
            a is b for a, b in zip(self._policy_parts[0], parts, strict=True)
        ):
            return self._policy_parts[1]
        present = [p for p in parts if p]
        joined = present[0] if len(present) == 1 else tuple(m for p in parts for m in p)
        self._policy_parts = (parts, cast(tuple[ClusterNetworkPolicy, ...], joined))
        return self._policy_parts[1]

    def _services(self) -> tuple[Service, ...]:
        """The Services, those without a selector with their EndpointSlices' backends (under
        the lock). The same tuple while neither kind changed, so the compiler skips it."""
        services, slices = self._models(kinds.SERVICES), self._models(kinds.ENDPOINT_SLICES)
        if self._joined is not None and self._joined[0] is services and self._joined[1] is slices:
            return self._joined[2]
        joined = join_backends(
            cast(tuple[Service, ...], services), cast(tuple[SliceBackends, ...], slices)
        )
        self._joined = (services, slices, joined)
        return joined

    def pending_since(self) -> float | None:
        """Arrival time of the oldest change no snapshot has taken yet."""
        with self._lock:
            return self._arrivals[0] if self._arrivals else None

    def _models(self, kind: Kind) -> tuple[Model, ...]:
        table = self._tables.get(kind.name)
        if table is None:
            return ()
        if table.models is None:
            table.models = tuple(e.model for e in table.entries.values() if e.model is not None)
        return table.models

    # -- the node's scope ------------------------------------------------------------------

    def _defers(self, kind: Kind, body: Mapping[str, Any]) -> bool:
        if self._node is None or kind is not kinds.NETWORK_POLICIES:
            return False
        return str(kinds.metadata(body).get("namespace") or "") not in self._scope

    def _entry(self, kind: Kind, body: Mapping[str, Any], before: Entry | None) -> Entry:
        """The cache entry for `body`: `before` itself when its resourceVersion is the same,
        its model object when the new one converts equal, deferred when out of scope."""
        rv = kinds.resource_version(body)
        if before is not None and before.rv == rv and rv:
            return before
        if self._defers(kind, body):
            return Entry(rv, None, _compact(body))
        model = kinds.model_of(kind, body)
        if before is not None and before.model is not None and before.model == model:
            model = before.model
        return Entry(rv, model)

    def _widen_scope(self, pods: tuple[Pod, ...]) -> None:
        """Convert the deferred policies of namespaces that got a pod of the node (under the
        lock: the snapshot being built needs them)."""
        if self._node is None or pods is self._pods:
            return
        self._pods = pods
        scope = frozenset(p.namespace for p in pods if p.node in (None, self._node))
        grown = scope - self._scope
        self._scope = self._scope | scope  # converted policies stay converted
        table = self._tables.get(kinds.NETWORK_POLICIES.name)
        if not grown or table is None:
            return
        for key, entry in list(table.entries.items()):
            if entry.deferred is not None and key.split("/", 1)[0] in grown:
                table.entries[key] = self._settle(key, entry)
                table.models = None

    def _settle(self, key: str, entry: Entry) -> Entry:
        """`entry`, converted if it was deferred and its namespace is now in scope (under the
        lock): a write racing with `_widen_scope` must not leave a needed policy unconverted."""
        if entry.deferred is None or key.split("/", 1)[0] not in self._scope:
            return entry
        body = marshal.loads(entry.deferred)
        return Entry(entry.rv, kinds.model_of(kinds.NETWORK_POLICIES, body))


class Relist:
    """The entries of one kind being rebuilt from a list; unchanged objects keep theirs."""

    def __init__(self, cache: Cache, kind: Kind) -> None:
        self._cache = cache
        self._kind = kind
        self._old = cache._tables[kind.name].entries  # only this kind's informer writes it
        self._new: dict[str, Entry] = {}
        self._changes = 0

    def add(self, body: Mapping[str, Any]) -> None:
        key = kinds.key_of(body)
        before = self._old.get(key)
        entry = self._cache._entry(self._kind, body, before)
        self._changes += entry.model is not _model(before)
        self._new[key] = entry

    def commit(self, rv: str) -> None:
        gone = sum(1 for k, e in self._old.items() if k not in self._new and e.model is not None)
        self._cache._swap(self._kind, self._new, rv, self._changes + gone)


def join_backends(
    services: tuple[Service, ...], slices: tuple[SliceBackends, ...]
) -> tuple[Service, ...]:
    """Each Service without a selector with the backends of its slices; the others as they are
    (the same objects, and a selectorless one unchanged keeps its object too)."""
    found: dict[str, list[Backend]] = {}
    for piece in slices:
        found.setdefault(piece.service_key, []).extend(piece.backends)
    out = []
    for svc in services:
        if svc.selector is None:
            backends = tuple(sorted(set(found.get(svc.key, ())), key=_backend_order))
            if backends != svc.backends:
                svc = replace(svc, backends=backends)
        out.append(svc)
    return tuple(out)


def _backend_order(backend: Backend) -> tuple[str, int, str, str]:
    return (backend.address, backend.port, backend.protocol.value, backend.name or "")


def _model(entry: Entry | None) -> Model | None:
    return None if entry is None else entry.model


def _compact(body: Mapping[str, Any]) -> bytes:
    """What conversion reads of a policy: its name, namespace and spec (decoded JSON: only
    dicts, lists, strings, numbers, booleans and None, all of which marshal keeps as they are).

    The agent marshals only what it decoded itself and unmarshals only its own bytes."""
    meta = kinds.metadata(body)
    kept = {"name": meta.get("name"), "namespace": meta.get("namespace")}
    return marshal.dumps({"metadata": kept, "spec": body.get("spec")})
