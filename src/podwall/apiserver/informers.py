"""Informers: the controllers' read-only caches of the Store, kept from `Store.on_commit`.

Mirrors client-go's shared informers (tools/cache: `SharedIndexInformer`, `Indexer`,
`ResourceEventHandler`): one listener feeds a cache per resource, each with named indexes
(`index(obj) -> values`, e.g. pods by controller uid), and calls the handlers with the object
before and after each change (`None` for "absent"). Handlers only enqueue keys: they run in the
thread that delivers the Store's events and must not block, nor read or write the Store.

The listener takes events as they come, from any thread, even out of resourceVersion order:
an object only replaces a newer one never, and a deleted one leaves a tombstone (its deletion's
resourceVersion) that older events cannot revive. `start()` subscribes first and lists second,
so nothing falls between (the start-up pass, as an informer's first list). `applied` is the
resourceVersion up to which every change is in the caches; `wait_for(rv)` is how a controller
reads its own writes before its next sync.

Objects in the caches are shared, never copied: whoever reads one must not change it. A cache
may keep only the metadata of its objects (`full=False`), as the garbage collector's do.
`reads` counts the objects handed out, so tests can tell how much a sync looked at.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Container, Hashable, Iterable, Mapping
from typing import Any

from podwall.apiserver.store import DELETED, Object, Store, WatchEvent

log = logging.getLogger(__name__)

Key = tuple[str, str]
"""(namespace, name) of an object in one resource; namespace "" when cluster-scoped."""
Handler = Callable[[Object | None, Object | None], None]
IndexFunc = Callable[[Mapping[str, Any]], Iterable[Hashable]]
TOMBSTONES = 4096
"""Deleted keys remembered per resource against late events (a bounded, oldest-first set)."""


def key_of(obj: Mapping[str, Any]) -> Key:
    meta = obj.get("metadata") or {}
    return str(meta.get("namespace") or ""), str(meta.get("name") or "")


def _rv(obj: Mapping[str, Any]) -> int:
    return int((obj.get("metadata") or {}).get("resourceVersion") or 0)


def metadata_only(obj: Mapping[str, Any]) -> Object:
    """What a metadata informer keeps: apiVersion, kind and metadata."""
    return {k: obj[k] for k in ("apiVersion", "kind", "metadata") if k in obj}


class Informer:
    """The cache of one resource and its indexes. Made by `Informers.informer`."""

    def __init__(self, resource: str, owner: Informers) -> None:
        self.resource = resource
        self.full = False
        self._owner = owner
        self._lock = owner.lock
        self._objects: dict[Key, Object] = {}
        self._versions: dict[Key, int] = {}
        self._tombstones: OrderedDict[Key, int] = OrderedDict()
        self._indexers: dict[str, IndexFunc] = {}
        self._indices: dict[str, dict[Hashable, set[Key]]] = {}
        self._values: dict[Key, dict[str, frozenset[Hashable]]] = {}
        self._handlers: list[Handler] = []

    # -- set-up (before `Informers.start`) ----------------------------------------------------

    def add_index(self, name: str, index: IndexFunc) -> None:
        if name not in self._indexers:
            self._indexers[name] = index
            self._indices[name] = {}

    def add_handler(self, handler: Handler) -> None:
        self._handlers.append(handler)

    # -- reads --------------------------------------------------------------------------------

    def get(self, namespace: str, name: str) -> Object | None:
        with self._lock:
            obj = self._objects.get((namespace, name))
            if obj is not None:
                self._owner.reads += 1
            return obj

    def has(self, namespace: str, name: str) -> bool:
        with self._lock:
            return (namespace, name) in self._objects

    def by_index(self, index: str, value: Hashable) -> list[Object]:
        """The objects whose `index` includes `value`, by namespace and name."""
        with self._lock:
            keys = sorted(self._indices[index].get(value, ()))
            self._owner.reads += len(keys)
            return [self._objects[k] for k in keys]

    def count(self, index: str, value: Hashable) -> int:
        """How many objects `by_index` would give (none of them is read)."""
        with self._lock:
            return len(self._indices[index].get(value, ()))

    def matching(self, index: str, values: Iterable[Hashable]) -> list[Object]:
        """The objects whose `index` includes every one of `values` (smallest set first)."""
        with self._lock:
            sets = sorted((self._indices[index].get(v, set()) for v in values), key=len)
            if not sets:
                return []
            keys = set(sets[0]).intersection(*sets[1:])
            self._owner.reads += len(keys)
            return [self._objects[k] for k in sorted(keys)]

    def __len__(self) -> int:
        with self._lock:
            return len(self._objects)

    def names_in(self, namespace: str) -> Container[str]:
        """The names taken in `namespace`, as a set to test membership in (read lazily)."""
        return _Names(self, namespace)

    # -- changes (the lock is held) ------------------------------------------------------------

    def apply(self, kind: str, obj: Object, rv: int) -> tuple[Object | None, Object | None] | None:
        """Take one change; (old, new) when the cache changed, None for a stale event."""
        key = key_of(obj)
        if rv <= max(self._versions.get(key, 0), self._tombstones.get(key, 0)):
            return None
        old = self._objects.get(key)
        if kind == DELETED:
            self._forget(key)
            self._tombstones[key] = rv
            if len(self._tombstones) > TOMBSTONES:
                self._tombstones.popitem(last=False)
            return (old, None) if old is not None else None
        self._tombstones.pop(key, None)
        new = obj if self.full else metadata_only(obj)
        self._unindex(key)
        self._objects[key], self._versions[key] = new, rv
        values = {name: frozenset(index(new)) for name, index in self._indexers.items()}
        self._values[key] = values
        for name, found in values.items():
            for value in found:
                self._indices[name].setdefault(value, set()).add(key)
        return old, new

    def _forget(self, key: Key) -> None:
        self._unindex(key)
        self._objects.pop(key, None)
        self._versions.pop(key, None)

    def _unindex(self, key: Key) -> None:
        for name, found in self._values.pop(key, {}).items():
            index = self._indices[name]
            for value in found:
                keys = index.get(value)
                if keys is not None:
                    keys.discard(key)
                    if not keys:
                        del index[value]

    def notify(self, old: Object | None, new: Object | None) -> None:
        for handler in self._handlers:
            try:
                handler(old, new)
            except Exception:
                log.exception("informer handler failed resource=%s", self.resource)


class _Names(Container[str]):
    def __init__(self, informer: Informer, namespace: str) -> None:
        self._informer, self._namespace = informer, namespace

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self._informer.has(self._namespace, name)


class Informers:
    """The caches of one Store, fed by one `on_commit` listener (a shared informer factory)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.lock = threading.RLock()
        self.reads = 0
        self._informers: dict[str, Informer] = {}
        self._applied_cond = threading.Condition()
        self._applied = 0
        self._ahead: set[int] = set()
        self._undo: Callable[[], None] | None = None
        self._stopped = False
        self._on_applied: list[Callable[[], None]] = []

    def informer(self, resource: str, *, full: bool = True) -> Informer:
        """The cache of `resource` (made on first ask); `full=False` keeps only metadata."""
        with self.lock:
            informer = self._informers.get(resource)
            if informer is None:
                informer = self._informers[resource] = Informer(resource, self)
            informer.full = informer.full or full
            return informer

    def on_applied(self, callback: Callable[[], None]) -> None:
        """Call `callback` whenever `applied` moves (for idleness checks)."""
        self._on_applied.append(callback)

    # -- lifecycle ----------------------------------------------------------------------------

    def start(self) -> None:
        """Subscribe, then list every resource with a cache: the start-up pass."""
        self._undo = self.store.on_commit(self._on_commit)
        with self._applied_cond:
            self._applied = max(self._applied, self.store.resource_version)
        for resource, informer in list(self._informers.items()):
            items, _ = self.store.list(resource)
            changes = []
            with self.lock:
                for obj in items:
                    change = informer.apply("ADDED", obj, _rv(obj))
                    if change is not None:
                        changes.append(change)
            for old, new in changes:
                informer.notify(old, new)
        self._moved()

    def stop(self) -> None:
        """Stop following the Store; whoever waits in `wait_for` stops waiting."""
        if self._undo is not None:
            self._undo()
            self._undo = None
        with self._applied_cond:
            self._stopped = True
            self._applied_cond.notify_all()

    # -- the listener -------------------------------------------------------------------------

    def _on_commit(self, resource: str, event: WatchEvent) -> None:
        try:
            informer = self._informers.get(resource)
            if informer is None:
                return
            with self.lock:
                change = informer.apply(event.type, event.object, event.resource_version)
            if change is not None:
                informer.notify(*change)
        finally:
            self._mark(event.resource_version)

    def _mark(self, rv: int) -> None:
        with self._applied_cond:
            if rv <= self._applied:
                return
            self._ahead.add(rv)
            while self._applied + 1 in self._ahead:
                self._applied += 1
                self._ahead.discard(self._applied)
            self._applied_cond.notify_all()
        self._moved()

    def _moved(self) -> None:
        for callback in self._on_applied:
            callback()

    # -- reading one's writes -----------------------------------------------------------------

    @property
    def applied(self) -> int:
        """Every change up to this resourceVersion is in the caches."""
        with self._applied_cond:
            return self._applied

    def caught_up(self) -> bool:
        return self.applied >= self.store.resource_version

    def wait_for(self, rv: int, timeout: float = 10.0) -> bool:
        """Block until the caches hold every change up to `rv`; False on timeout or stop."""
        deadline = time.monotonic() + timeout
        with self._applied_cond:
            while self._applied < rv:
                if self._stopped:
                    return False
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    log.warning("informers behind applied=%d wanted=%d", self._applied, rv)
                    return False
                self._applied_cond.wait(remaining)
            return True
