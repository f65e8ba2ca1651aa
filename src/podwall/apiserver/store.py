"""Objects in SQLite and in memory, one global resourceVersion counter, and a watch cache.

The Store speaks plain Kubernetes JSON dicts. Resources are named by their store key
(`pods`, `deployments.apps`, `networkpolicies.networking.k8s.io`: schema.GroupResource.String()).
It owns the metadata the server sets: `uid`, `creationTimestamp`, `resourceVersion` (a string
of the global counter), `generation` (1, then +1 on every change outside metadata and status),
names from `generateName`. It refuses namespaced objects in a missing namespace, and deleting a
namespace deletes everything in it.

Memory: every object is decoded once (when written, or when the Store opens) and kept with its
JSON text in an `ObjectIndex` (by resource, namespace, name). Reads never decode. `read`,
`select` and `page` hand out the shared objects (`Stored`: read-only by contract, with the text
responses are written from); `get` and `list` hand out copies the caller may change.

Writes: a write is checked and given its resourceVersion under one lock, against what is
stored plus what is still being committed, then queued for the committer thread
(`groupcommit`), which writes everything queued in one transaction and one fsync (WAL,
synchronous=FULL); an async write whose caller knows it is alone (`acreate(alone=True)`) is
committed in the caller's thread instead when nothing else is queued or being committed. A
write is acknowledged only once durable: `kill -9` loses nothing a client was told about.
Sync methods (`create`, `update`, `mutate`, `delete`) block their thread until
then; async ones (`acreate`, ...) let an event loop await it. Readers see a write once it is
durable. Functions the Store calls while preparing a write (`mutate`'s `change`, `on_write`
admitters) may read the Store but must not write to it.

Watches and listeners: after each durable batch, under the lock, the changes join the watch
cache (`history`: the last `history` changes per resource) and every matching Watch's queue, in
resourceVersion order. on_commit listeners are then called in their own thread (`delivery`),
in resourceVersion order. A watch from resourceVersion N replays the changes after N, then
follows live; without one (or "0") it starts with ADDED events for what exists. N older than
the history kept gives 410 Expired.
"""

from __future__ import annotations

import asyncio
import json
import random
import secrets
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from podwall.apiserver.ack import settle_all
from podwall.apiserver.delivery import Delivery, Listener
from podwall.apiserver.errors import (
    ApiError,
    already_exists,
    bad_request,
    conflict,
    expired,
    internal,
    not_found,
)
from podwall.apiserver.groupcommit import Committer, Ticket
from podwall.apiserver.history import ADDED, DELETED, MODIFIED, Change, History, TooOld
from podwall.apiserver.objectindex import (
    Key,
    Object,
    ObjectIndex,
    OpCounts,
    Stored,
    stored,
    thaw,
)
from podwall.apiserver.watch import InitialEnd, Predicate, Watch, WatchEvent

__all__ = [
    "ADDED",
    "DELETED",
    "MODIFIED",
    "Listener",
    "Object",
    "Page",
    "Predicate",
    "Store",
    "Stored",
    "Watch",
    "WatchEvent",
    "now_rfc3339",
]

# Module-level aliases: inside Store, `list` names the method.
_Objects = list[Object]
_Changes = list[Change]
_Tickets = list[Ticket]
_Contents = list[tuple[str, str, Stored]]
_StoredList = list[Stored]
_Listeners = list[Listener]
_Items = list[Change | InitialEnd]
_Result = tuple[Stored, Ticket | None]
_FullKey = tuple[str, str, str]  # resource, namespace, name

NAME_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"  # upstream's utilrand alphabet
_OWNED_ELSEWHERE = ("metadata", "status")  # generation follows every other top-level field

Admit = Callable[[Object, Object | None], Object]
"""A mutating admission step: the object about to be stored (and the stored one, on update).

The stored one is the Store's shared object: read it, never change it."""


# uids must be unique, not secret (upstream's are time-based): a PRNG seeded from urandom
# spares each create a getrandom() call.
_UIDS = random.Random()


_UUID4_CLEAR = ~((0xF000 << 64) | (0xC000 << 48))  # the version and variant bits
_UUID4_SET = (0x4000 << 64) | (0x8000 << 48)  # version 4, RFC 4122 variant


def _new_uid() -> str:
    """str(uuid.UUID(int=bits, version=4)), formatted without building the UUID (half the time)."""
    h = f"{(_UIDS.getrandbits(128) & _UUID4_CLEAR) | _UUID4_SET:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


_STAMP: list[tuple[int, str]] = [(-1, "")]  # the last second formatted, and its text


def now_rfc3339() -> str:
    """The current second as Kubernetes stamps it; formatted once per second (formatting
    took ~3 % of a create's time on the event loop)."""
    second = int(time.time())
    last = _STAMP[0]
    if last[0] == second:
        return last[1]
    text = datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    _STAMP[0] = (second, text)
    return text


def _split_key(resource: str) -> tuple[str, str]:
    name, _, group = resource.partition(".")
    return name, group


def _not_found(resource: str, name: str) -> ApiError:
    plural, group = _split_key(resource)
    return not_found(plural, group, name)


@dataclass(frozen=True, slots=True)
class Page:
    """One page of a list: shared objects, the list's resourceVersion, and, when more keys
    follow, the last key examined (where a continuation starts after)."""

    items: list[Stored]
    resource_version: int
    last: Key | None


class _Preparing:
    """The write lock, held while a write is prepared, and this thread's depth of preparing
    (a write must not wait for another while it prepares one). A class, not a
    `contextlib.contextmanager`: every write enters it, and a generator costs more."""

    __slots__ = ("_local", "_lock")

    def __init__(self, lock: threading.RLock, local: threading.local) -> None:
        self._lock = lock
        self._local = local

    def __enter__(self) -> None:
        self._lock.acquire()
        self._local.depth = getattr(self._local, "depth", 0) + 1

    def __exit__(self, *exc: object) -> None:
        self._local.depth -= 1
        self._lock.release()


@dataclass(frozen=True, slots=True)
class _Pending:
    """A write accepted but not yet durable: what its key holds meanwhile, for other writers."""

    change: Change
    ticket: Ticket


_SCHEMA = """
CREATE TABLE IF NOT EXISTS objects (
    resource TEXT NOT NULL,
    namespace TEXT NOT NULL,
    name TEXT NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (resource, namespace, name)
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


class Store:
    """Kubernetes objects in one SQLite file (`:memory:` for tests that need no file)."""

    def __init__(self, path: str | Path, *, history: int = 10_000) -> None:
        self.path = str(path)
        self.counts = OpCounts()
        self._lock = threading.RLock()
        self._local = threading.local()
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(_SCHEMA)
        self._index = ObjectIndex(self.counts)
        newest = 0
        for resource, namespace, name, body in self._db.execute(
            "SELECT resource, namespace, name, body FROM objects"
        ):
            self.counts.decodes += 1
            obj = json.loads(body)
            rv = int(obj["metadata"].get("resourceVersion") or 0)
            newest = max(newest, rv)
            self._index.put(resource, namespace, name, Stored(obj, body, rv))
        row = self._db.execute("SELECT value FROM meta WHERE key = 'resourceVersion'").fetchone()
        # The last durable write: the meta row holds it after a commit that deleted, the newest
        # object after any other (groupcommit writes the row only when it must).
        self._rv = max(int(row[0]) if row else 0, newest)
        self._assigned = self._rv  # the last resourceVersion handed out
        self._pending: dict[_FullKey, _Pending] = {}
        self._changed: dict[str, int] = {}  # resource -> RV of its last durable change
        self._history = History(history, self._rv)
        self._watches: dict[str, set[Watch]] = {}
        self._listeners: list[Listener] = []
        self._admitters: dict[str, list[Admit]] = {}
        self._committer = Committer(self._db, self._durable, self._failed, self.counts)
        self._delivery = Delivery(self._current_listeners)
        if path != ":memory:" and Path(self.path).exists():
            Path(self.path).chmod(0o600)

    # Reading: shared objects.

    @property
    def resource_version(self) -> int:
        """The RV of the last durable write."""
        with self._lock:
            return self._rv

    def changed(self, resource: str) -> int:
        """The resourceVersion of the last durable change to `resource` since the Store
        opened (0: none): a cheap stamp for what is derived from a resource's objects."""
        return self._changed.get(resource, 0)

    def read(self, resource: str, namespace: str, name: str) -> Stored:
        """The stored object, shared (never change `obj`), or NotFoundError."""
        with self._lock:
            found = self._index.get(resource, namespace, name)
        if found is None:
            raise _not_found(resource, name)
        return found

    def select(
        self,
        resource: str,
        namespace: str | None = None,
        predicate: Predicate | None = None,
    ) -> tuple[_StoredList, int]:
        """Matching objects, shared, sorted by namespace then name, and the list's RV."""
        with self._lock:
            items = [
                s
                for _, s in self._index.scan(resource, namespace)
                if predicate is None or predicate(s.obj)
            ]
            return items, self._rv

    def page(
        self,
        resource: str,
        namespace: str | None = None,
        predicate: Predicate | None = None,
        *,
        limit: int = 0,
        after: Key | None = None,
        at: int | None = None,
    ) -> Page:
        """Up to `limit` (0: all) matching objects after the key `after`, as of resourceVersion
        `at` (None: the latest). ExpiredError when the history no longer reaches back to `at`.

        Costs the objects examined plus the changes since `at`, never the whole store.
        """
        with self._lock:
            if at is None or at >= self._rv:
                source = self._index.scan(resource, namespace, after)
                rv = self._rv
            else:
                try:
                    then = self._history.state_at(resource, at, namespace)
                except TooOld as exc:
                    raise expired(str(exc)) from exc
                now = self._index.scan(resource, namespace, after)
                source = _as_of(now, then, after, lambda k: self._index.contains(resource, *k))
                rv = at
            items: _StoredList = []
            examined: Key | None = None
            for key, value in source:
                if limit and len(items) >= limit:
                    return Page(items, rv, examined)
                examined = key
                if predicate is None or predicate(value.obj):
                    items.append(value)
            return Page(items, rv, None)

    # Reading: copies.

    def get(self, resource: str, namespace: str, name: str) -> Object:
        """A copy of the object, or NotFoundError. `namespace` is "" for cluster-scoped kinds."""
        return self._copy(self.read(resource, namespace, name))

    def list(
        self,
        resource: str,
        namespace: str | None = None,
        predicate: Predicate | None = None,
    ) -> tuple[_Objects, int]:
        """Copies of the matching objects sorted by namespace then name, and the list's RV."""
        items, rv = self.select(resource, namespace, predicate)
        return [self._copy(s) for s in items], rv

    async def reached(self, resource_version: int, timeout: float) -> bool:
        """Wait (without blocking the loop) until the Store's RV is at least this one."""
        deadline = time.monotonic() + timeout
        while self.resource_version < resource_version:
            if time.monotonic() >= deadline:
                return False
            await asyncio.sleep(0.02)
        return True

    # Writing: sync methods block until the write is acknowledged and return a copy; async
    # ones return the shared Stored. The Store copies what it is given, unless the caller hands
    # it over (`handed_over`: a dict of the caller's own, never to be touched again, as a
    # request's freshly admitted body is).

    def create(self, resource: str, obj: Mapping[str, Any], *, dry_run: bool = False) -> Object:
        """Store a new object; AlreadyExistsError, NotFoundError for a missing namespace."""
        return self._settle(self._create(resource, obj, dry_run, handed_over=False, here=False))

    async def acreate(
        self,
        resource: str,
        obj: Mapping[str, Any],
        *,
        dry_run: bool = False,
        handed_over: bool = False,
        alone: bool = False,
    ) -> Stored:
        """`alone`: the caller knows of no other write or request in progress; if the
        committer is idle, the write is committed in this thread (blocking it, and so its
        event loop, for one fsync) instead of waking the committer and being woken by it."""
        result = self._create(resource, obj, dry_run, handed_over=handed_over, here=alone)
        return await self._asettle(result, here=alone)

    def update(
        self,
        resource: str,
        obj: Mapping[str, Any],
        *,
        preserve: Iterable[str] = (),
        dry_run: bool = False,
    ) -> Object:
        """Replace an object (PUT).

        If `obj` carries `metadata.resourceVersion` it must equal the stored one (ConflictError).
        Top-level fields named in `preserve` keep their stored value: ("status",) for the main
        resource, ("spec",) for the status subresource.
        """
        return self._settle(
            self._update(resource, obj, tuple(preserve), dry_run, handed_over=False)
        )

    async def aupdate(
        self,
        resource: str,
        obj: Mapping[str, Any],
        *,
        preserve: Iterable[str] = (),
        dry_run: bool = False,
        handed_over: bool = False,
    ) -> Stored:
        return await self._asettle(
            self._update(resource, obj, tuple(preserve), dry_run, handed_over=handed_over)
        )

    def mutate(
        self,
        resource: str,
        namespace: str,
        name: str,
        change: Callable[[Object], Mapping[str, Any]],
        *,
        preserve: Iterable[str] = (),
        dry_run: bool = False,
    ) -> Object:
        """Read, change and write one object atomically (no other write in between).

        `change` gets a copy of the stored object and returns the new one; whatever it raises
        aborts the write. This is how PATCH and the controllers' status updates should write.
        """
        return self._settle(
            self._mutate(resource, namespace, name, change, tuple(preserve), dry_run)
        )

    async def amutate(
        self,
        resource: str,
        namespace: str,
        name: str,
        change: Callable[[Object], Mapping[str, Any]],
        *,
        preserve: Iterable[str] = (),
        dry_run: bool = False,
    ) -> Stored:
        return await self._asettle(
            self._mutate(resource, namespace, name, change, tuple(preserve), dry_run)
        )

    def delete(
        self,
        resource: str,
        namespace: str,
        name: str,
        *,
        uid: str | None = None,
        resource_version: str | None = None,
        dry_run: bool = False,
    ) -> Object:
        """Remove an object; returns its last state with the RV of the deletion.

        `uid` and `resource_version` are DeleteOptions preconditions (ConflictError).
        Deleting a namespace deletes every object in it first.
        """
        return self._settle(self._delete(resource, namespace, name, uid, resource_version, dry_run))

    async def adelete(
        self,
        resource: str,
        namespace: str,
        name: str,
        *,
        uid: str | None = None,
        resource_version: str | None = None,
        dry_run: bool = False,
    ) -> Stored:
        return await self._asettle(
            self._delete(resource, namespace, name, uid, resource_version, dry_run)
        )

    # Watching.

    def watch(
        self,
        resource: str,
        namespace: str | None = None,
        resource_version: int | str | None = None,
        predicate: Predicate | None = None,
        *,
        send_initial_events: bool | None = None,
    ) -> Watch:
        """Changes after `resource_version`; without one (or 0), ADDED for what exists first.

        `send_initial_events` True: ADDED for what exists, then a BOOKMARK annotated
        `k8s.io/initial-events-end` at the snapshot's RV; False: no ADDED events for what
        exists even without a resourceVersion. ExpiredError when the history no longer
        reaches back to `resource_version`. A resourceVersion newer than the Store's is the
        caller's to wait for (`reached`).
        """
        since = int(resource_version) if resource_version not in (None, "") else 0
        watch = Watch(resource, namespace, predicate, self._progress, self._unsubscribe)
        initial = since == 0 if send_initial_events is None else send_initial_events
        with self._lock:
            items: _Items = []
            if initial:
                items += [
                    Change(s.resource_version, ADDED, resource, ns, name, s, None)
                    for (ns, name), s in self._index.scan(resource, namespace)
                ]
                if send_initial_events:
                    items.append(InitialEnd(self._rv))
            elif since:
                try:
                    items += [c for c in self._history.since(resource, since) if watch.wants(c)]
                except TooOld as exc:
                    raise expired(str(exc)) from exc
            watch.push(items)
            self._watches.setdefault(resource, set()).add(watch)
        return watch

    def on_commit(self, listener: Listener) -> Callable[[], None]:
        """Call `listener(resource, event)` after every durable change; returns an undo.

        Listeners run in the Store's listener thread, one change after another in
        resourceVersion order, after the change is durable and before the write that made it
        is acknowledged (a controller hooked here has acted before the API answers the request
        that triggered it; a write a listener makes is acknowledged once durable, and its
        changes are delivered after the current ones). Listeners must be fast and must not
        block: every acknowledged write waits for them. `event.object` is shared: never change
        it. What a listener raises is logged, since the change it reacts to is committed.
        """
        with self._lock:
            self._listeners.append(listener)

        def remove() -> None:
            with self._lock:
                if listener in self._listeners:
                    self._listeners.remove(listener)

        return remove

    def on_write(self, resource: str, admit: Admit) -> Callable[[], None]:
        """Call `admit(new, stored)` on every `resource` object before it is stored; an undo.

        It runs under the write lock, after the Store set its metadata (`stored` is None on
        create), on every path (POST, PUT, PATCH, controllers), dry runs included: mutating
        admission such as scheduling pods and allocating ClusterIPs. It returns the object to
        store; an ApiError it raises refuses the write. It may read the Store, never write.
        """
        with self._lock:
            self._admitters.setdefault(resource, []).append(admit)

        def remove() -> None:
            with self._lock:
                admitters = self._admitters.get(resource, [])
                if admit in admitters:
                    admitters.remove(admit)

        return remove

    def close_watches(self) -> None:
        """End every open watch (their consumers get None)."""
        with self._lock:
            watches = [w for group in self._watches.values() for w in group]
        for watch in watches:
            watch.close()

    def close(self) -> None:
        """Close every watch, commit what is queued, deliver it, close the database."""
        self.close_watches()
        self._committer.stop()
        self._delivery.stop()
        with self._lock:
            self._db.close()

    # Preparing writes (under the lock).

    def _preparing(self) -> _Preparing:
        return _Preparing(self._lock, self._local)

    def _lookup(
        self, resource: str, namespace: str, name: str
    ) -> tuple[Stored | None, Ticket | None]:
        """What the key holds for a writer: a pending write's result, else the stored object."""
        pending = self._pending.get((resource, namespace, name))
        if pending is not None:
            change = pending.change
            return (None if change.type == DELETED else change.stored), pending.ticket
        return self._index.get(resource, namespace, name), None

    def _current(self, resource: str, namespace: str, name: str) -> tuple[Stored, Ticket | None]:
        found, ticket = self._lookup(resource, namespace, name)
        if found is None:
            raise _not_found(resource, name)
        return found, ticket

    def _create(
        self,
        resource: str,
        obj: Mapping[str, Any],
        dry_run: bool,
        *,
        handed_over: bool,
        here: bool,
    ) -> _Result:
        new: Object = obj if handed_over and type(obj) is dict else thaw(dict(obj))
        meta = new.setdefault("metadata", {})
        namespace = str(meta.get("namespace") or "")
        with self._preparing():
            if namespace and self._lookup("namespaces", "", namespace)[0] is None:
                raise not_found("namespaces", "", namespace)
            if not meta.get("name"):
                if not meta.get("generateName"):
                    raise bad_request("name or generateName is required")
                meta["name"] = self._generate_name(resource, namespace, meta["generateName"])
            name = str(meta["name"])
            if self._lookup(resource, namespace, name)[0] is not None:
                plural, group = _split_key(resource)
                raise already_exists(plural, group, name)
            for owned in ("deletionTimestamp", "deletionGracePeriodSeconds"):
                meta.pop(owned, None)
            meta["uid"] = _new_uid()
            meta["creationTimestamp"] = now_rfc3339()
            meta["generation"] = 1
            new = self._admit(resource, new, None)
            meta = new["metadata"]
            if dry_run:
                meta.pop("resourceVersion", None)
                return stored(new, self.counts), None
            rv = self._assigned + 1
            meta["resourceVersion"] = str(rv)
            result = stored(new, self.counts)
            return result, self._submit(
                [Change(rv, ADDED, resource, namespace, name, result, None)], here=here
            )

    def _update(
        self,
        resource: str,
        obj: Mapping[str, Any],
        preserve: tuple[str, ...],
        dry_run: bool,
        *,
        handed_over: bool,
    ) -> _Result:
        meta = obj.get("metadata") or {}
        namespace, name = str(meta.get("namespace") or ""), str(meta.get("name") or "")
        expected = meta.get("resourceVersion")
        with self._preparing():
            current, ticket = self._current(resource, namespace, name)
            if expected and str(expected) != current.obj["metadata"]["resourceVersion"]:
                plural, group = _split_key(resource)
                raise conflict(plural, group, name)
            new = obj if handed_over and type(obj) is dict else thaw(dict(obj))
            return self._replace(resource, current, ticket, new, preserve, dry_run)

    def _mutate(
        self,
        resource: str,
        namespace: str,
        name: str,
        change: Callable[[Object], Mapping[str, Any]],
        preserve: tuple[str, ...],
        dry_run: bool,
    ) -> _Result:
        with self._preparing():
            current, ticket = self._current(resource, namespace, name)
            changed = change(self._copy(current))
            new = changed if type(changed) is dict else thaw(dict(changed))
            return self._replace(resource, current, ticket, new, preserve, dry_run)

    def _replace(
        self,
        resource: str,
        current: Stored,
        current_ticket: Ticket | None,
        new: Object,
        preserve: tuple[str, ...],
        dry_run: bool,
    ) -> _Result:
        """`new` (the Store's own: no caller holds it) replaces `current`."""
        old = current.obj
        for field in preserve:
            if field in old:
                new[field] = thaw(old[field])
            else:
                new.pop(field, None)
        meta = new.setdefault("metadata", {})
        old_meta = old["metadata"]
        for owned in ("name", "namespace", "uid", "creationTimestamp", "deletionTimestamp",
                      "deletionGracePeriodSeconds"):  # fmt: skip
            if owned in old_meta:
                meta[owned] = old_meta[owned]
            else:
                meta.pop(owned, None)
        meta["generation"] = old_meta.get("generation", 1)
        meta["resourceVersion"] = old_meta["resourceVersion"]
        new = self._admit(resource, new, old)
        meta = new["metadata"]
        if new == old:
            return current, current_ticket  # nothing changed: no write, same resourceVersion
        if _spec_of(new) != _spec_of(old):
            meta["generation"] = int(old_meta.get("generation", 1)) + 1
        if dry_run:
            return stored(new, self.counts), None
        rv = self._assigned + 1
        meta["resourceVersion"] = str(rv)
        result = stored(new, self.counts)
        namespace, name = str(meta.get("namespace") or ""), str(meta["name"])
        change = Change(rv, MODIFIED, resource, namespace, name, result, current)
        return result, self._submit([change])

    def _delete(
        self,
        resource: str,
        namespace: str,
        name: str,
        uid: str | None,
        resource_version: str | None,
        dry_run: bool,
    ) -> _Result:
        with self._preparing():
            current, ticket = self._current(resource, namespace, name)
            meta = current.obj["metadata"]
            plural, group = _split_key(resource)
            if uid and uid != meta.get("uid"):
                raise conflict(
                    plural, group, name,
                    f"Precondition failed: UID in precondition: {uid}, UID in object meta: "
                    f"{meta.get('uid')}",
                )  # fmt: skip
            if resource_version and resource_version != meta.get("resourceVersion"):
                raise conflict(
                    plural, group, name,
                    f"Precondition failed: ResourceVersion in precondition: {resource_version}, "
                    f"ResourceVersion in object meta: {meta.get('resourceVersion')}",
                )  # fmt: skip
            if dry_run:
                return current, ticket
            changes: _Changes = []
            rv = self._assigned
            if resource == "namespaces":
                for other, other_name, value in self._namespace_contents(name):
                    rv += 1
                    gone = self._with_rv(value, rv)
                    changes.append(Change(rv, DELETED, other, name, other_name, gone, value))
            rv += 1
            last = self._with_rv(current, rv)
            changes.append(Change(rv, DELETED, resource, namespace, name, last, current))
            return last, self._submit(changes)

    def _namespace_contents(self, namespace: str) -> _Contents:
        """(resource, name, object) of everything in a namespace, pending writes included."""
        pending: dict[str, dict[str, Stored | None]] = {}
        for (resource, ns, name), entry in self._pending.items():
            if ns == namespace:
                value = None if entry.change.type == DELETED else entry.change.stored
                pending.setdefault(resource, {})[name] = value
        out: _Contents = []
        for resource in sorted({*self._index.resources(), *pending} - {"namespaces"}):
            objects: dict[str, Stored | None] = {
                n: s for n, s in self._index.in_namespace(resource, namespace)
            }
            objects.update(pending.get(resource, {}))
            out += [(resource, n, s) for n, s in sorted(objects.items()) if s is not None]
        return out

    def _with_rv(self, value: Stored, rv: int) -> Stored:
        """The object as its DELETED event carries it: the last state, the deletion's RV."""
        obj = {**value.obj, "metadata": {**value.obj["metadata"], "resourceVersion": str(rv)}}
        return stored(obj, self.counts)

    def _admit(self, resource: str, new: Object, current: Object | None) -> Object:
        for admit in self._admitters.get(resource, ()):
            new = admit(new, current)
        return new

    def _generate_name(self, resource: str, namespace: str, prefix: str) -> str:
        while True:
            name = prefix[:58] + "".join(secrets.choice(NAME_ALPHABET) for _ in range(5))
            if self._lookup(resource, namespace, name)[0] is None:
                return name

    def _submit(self, changes: _Changes, *, here: bool = False) -> Ticket:
        """Queue the changes for commit; `here`: the caller calls `_asettle(here=True)` next."""
        ticket = Ticket(changes, after_listeners=not self._delivery.in_thread())
        self._committer.submit(ticket, here=here)
        for change in changes:
            self._pending[(change.resource, change.namespace, change.name)] = _Pending(
                change, ticket
            )
        self._assigned = ticket.resource_version
        return ticket

    # Acknowledging writes.

    def _settle(self, result: _Result) -> Object:
        value, ticket = result
        if ticket is not None:
            if getattr(self._local, "depth", 0):
                raise RuntimeError("a Store write cannot wait while another is being prepared")
            ticket.done.wait()
        return self._copy(value)

    async def _asettle(self, result: _Result, *, here: bool = False) -> Stored:
        value, ticket = result
        if ticket is not None:
            if here:
                self._committer.commit_here()
            await ticket.done.wait_async()
        return value

    def _durable(self, batch: _Tickets) -> None:
        """The committer's report: the batch is on disk. Make it visible, then tell."""
        with self._lock:
            touched: dict[str, _Changes] = {}
            for ticket in batch:
                for change in ticket.changes:
                    self._apply(change)
                    touched.setdefault(change.resource, []).append(change)
            self._rv = batch[-1].resource_version
            for resource, changes in touched.items():
                for watch in self._watches.get(resource, ()):
                    wanted = [c for c in changes if watch.wants(c)]
                    if wanted:
                        watch.push(wanted)
            listening = bool(self._listeners)
        early = [t.done for t in batch if not (listening and t.after_listeners)]
        settle_all(early)
        if listening:
            late = [t.done for t in batch if t.after_listeners]
            self._delivery.put([c for t in batch for c in t.changes], late)

    def _apply(self, change: Change) -> None:
        resource, namespace, name = change.resource, change.namespace, change.name
        if change.type == DELETED:
            self._index.remove(resource, namespace, name)
        else:
            self._index.put(resource, namespace, name, change.stored)
        self._changed[resource] = change.resource_version
        key = (resource, namespace, name)
        pending = self._pending.get(key)
        if pending is not None and pending.change is change:
            del self._pending[key]
        self._history.append(change)

    def _failed(self, batch: _Tickets, exc: BaseException) -> None:
        """The committer's report: the batch did not commit. Everything queued after it was
        checked against it, so it fails too; the Store is back at the last durable write."""
        with self._lock:
            tickets = batch + self._committer.take_queued()
            self._pending.clear()
            self._assigned = self._rv
        error = internal(f"the write could not be stored: {exc}")
        settle_all([t.done for t in tickets], error)

    # Internals.

    def _copy(self, value: Stored) -> Object:
        self.counts.copies += 1
        copy: Object = thaw(value.obj)
        return copy

    def _current_listeners(self) -> _Listeners:
        with self._lock:
            return list(self._listeners)

    def _progress(self, watch: Watch) -> int | None:
        with self._lock:
            return None if watch.has_pending() else self._rv

    def _unsubscribe(self, watch: Watch) -> None:
        with self._lock:
            group = self._watches.get(watch.resource)
            if group is not None:
                group.discard(watch)


def _as_of(
    now: Iterator[tuple[Key, Stored]],
    then: dict[Key, Stored | None],
    after: Key | None,
    exists: Callable[[Key], bool],
) -> Iterator[tuple[Key, Stored]]:
    """The objects of `now` in key order, as they were: `then` holds what the keys changed
    since held before (None: absent), including keys deleted since."""
    gone = sorted(
        (k, v)
        for k, v in then.items()
        if v is not None and (after is None or k > after) and not exists(k)
    )
    i = 0
    for key, value in now:
        while i < len(gone) and gone[i][0] < key:
            yield gone[i]
            i += 1
        if key in then:
            old = then[key]
            if old is not None:
                yield key, old
        else:
            yield key, value
    yield from gone[i:]


def _spec_of(obj: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in obj.items() if k not in _OWNED_ELSEWHERE}
