"""Objects in SQLite, one global resourceVersion counter, and a watch history.

The Store speaks plain Kubernetes JSON dicts. Resources are named by their store key
(`pods`, `deployments.apps`, `networkpolicies.networking.k8s.io`: schema.GroupResource.String()).
Every acknowledged write is committed (WAL, synchronous=FULL) before the call returns, so
`kill -9` loses nothing a client was told about. Reads are served from memory; every read
returns a fresh copy the caller may change.

The Store owns the metadata the server sets: `uid`, `creationTimestamp`, `resourceVersion`
(a string of the global counter), `generation` (1, then +1 on every change outside metadata and
status), names from `generateName`. It also refuses namespaced objects in a missing namespace,
and deleting a namespace deletes everything in it.

Watches: every write appends an event to an in-memory history (`history` events long). A watch
from resourceVersion N replays the events after N, then follows live; a watch without one (or
"0") starts with synthetic ADDED events for what exists. N older than the history gives 410.
It is thread-safe: one lock orders all writes; watches can be consumed from threads (`get`) or
from an asyncio loop (`next`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
import sqlite3
import threading
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from podwall.apiserver.errors import (
    ApiError,
    already_exists,
    bad_request,
    conflict,
    expired,
    not_found,
)

Object = dict[str, Any]
Predicate = Callable[[Mapping[str, Any]], bool]
# Module-level aliases: inside Store, `list` names the method.
_Change = tuple[str, str, str, str, str, str | None]  # type, resource, namespace, name, text, old
_Changes = list[_Change]
_Objects = list[Object]

log = logging.getLogger(__name__)
ADDED, MODIFIED, DELETED = "ADDED", "MODIFIED", "DELETED"
NAME_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"  # upstream's utilrand alphabet
_OWNED_ELSEWHERE = ("metadata", "status")  # generation follows every other top-level field


def now_rfc3339() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _split_key(resource: str) -> tuple[str, str]:
    name, _, group = resource.partition(".")
    return name, group


def _not_found(resource: str, name: str) -> ApiError:
    plural, group = _split_key(resource)
    return not_found(plural, group, name)


def _dumps(obj: Mapping[str, Any]) -> str:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


@dataclass(frozen=True, slots=True)
class WatchEvent:
    """One change as a watch delivers it: ADDED, MODIFIED or DELETED and the object."""

    type: str
    object: Object
    resource_version: int


@dataclass(frozen=True, slots=True)
class _Entry:
    rv: int
    type: str
    resource: str
    namespace: str
    text: str
    previous: str | None  # the object before a MODIFIED, for selector transitions


Listener = Callable[[str, WatchEvent], None]
Admit = Callable[[Object, Object | None], Object]
"""A mutating admission step: the object about to be stored (and the stored one, on update)."""


class Watch:
    """A stream of WatchEvents for one resource, optionally one namespace and a predicate.

    An object that starts matching the predicate arrives as ADDED, one that stops as DELETED.
    Close it when done (also a context manager).
    """

    def __init__(
        self,
        store: Store,
        resource: str,
        namespace: str | None,
        predicate: Predicate | None,
    ) -> None:
        self._store = store
        self.resource = resource
        self.namespace = namespace
        self._predicate = predicate
        self._pending: deque[_Entry] = deque()
        self._cond = threading.Condition()
        self._waiter: asyncio.Future[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.closed = False

    def wants(self, entry: _Entry) -> bool:
        return entry.resource == self.resource and (
            self.namespace is None or entry.namespace == self.namespace
        )

    def _push(self, entries: Iterable[_Entry]) -> None:
        with self._cond:
            self._pending.extend(entries)
            self._cond.notify_all()
            waiter, loop = self._waiter, self._loop
        if waiter is not None and loop is not None:
            loop.call_soon_threadsafe(_wake, waiter)

    def _pop(self) -> WatchEvent | bool | None:
        """The next deliverable event, None when nothing is pending, False if closed."""
        while True:
            with self._cond:
                if self.closed:
                    return False
                if not self._pending:
                    return None
                entry = self._pending.popleft()
            event = self._translate(entry)
            if event is not None:
                return event

    def _translate(self, entry: _Entry) -> WatchEvent | None:
        obj: Object = json.loads(entry.text)
        if self._predicate is None:
            return WatchEvent(entry.type, obj, entry.rv)
        now = self._predicate(obj)
        if entry.type != MODIFIED or entry.previous is None:
            return WatchEvent(entry.type, obj, entry.rv) if now else None
        before = self._predicate(json.loads(entry.previous))
        if now and before:
            return WatchEvent(MODIFIED, obj, entry.rv)
        if now:
            return WatchEvent(ADDED, obj, entry.rv)
        if before:
            return WatchEvent(DELETED, obj, entry.rv)
        return None

    def get(self, timeout: float | None = None) -> WatchEvent | None:
        """Block until the next event; None on timeout or when the watch is closed."""
        deadline = None if timeout is None else _monotonic() + timeout
        while True:
            event = self._pop()
            if event is False:
                return None
            if isinstance(event, WatchEvent):
                return event
            with self._cond:
                if self._pending or self.closed:
                    continue
                remaining = None if deadline is None else deadline - _monotonic()
                if remaining is not None and remaining <= 0:
                    return None
                self._cond.wait(remaining)

    async def next(self, timeout: float | None = None) -> WatchEvent | None:
        """Await the next event; None on timeout or when the watch is closed."""
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        while True:
            event = self._pop()
            if event is False:
                return None
            if isinstance(event, WatchEvent):
                return event
            waiter: asyncio.Future[None] = loop.create_future()
            with self._cond:
                if self._pending or self.closed:
                    continue
                self._waiter, self._loop = waiter, loop
            remaining = None if deadline is None else deadline - loop.time()
            try:
                if remaining is not None and remaining <= 0:
                    return None
                await asyncio.wait_for(waiter, remaining)
            except TimeoutError:
                return None
            finally:
                with self._cond:
                    self._waiter = self._loop = None

    def close(self) -> None:
        with self._cond:
            if self.closed:
                return
            self.closed = True
            self._cond.notify_all()
            waiter, loop = self._waiter, self._loop
        self._store._unsubscribe(self)
        if waiter is not None and loop is not None:
            loop.call_soon_threadsafe(_wake, waiter)

    def __enter__(self) -> Watch:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _wake(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)


def _monotonic() -> float:
    import time

    return time.monotonic()


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
        self._lock = threading.RLock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(_SCHEMA)
        self._objects: dict[str, dict[tuple[str, str], str]] = {}
        for resource, namespace, name, body in self._db.execute(
            "SELECT resource, namespace, name, body FROM objects"
        ):
            self._objects.setdefault(resource, {})[(namespace, name)] = body
        row = self._db.execute("SELECT value FROM meta WHERE key = 'resourceVersion'").fetchone()
        self._rv = int(row[0]) if row else 0
        self._history: deque[_Entry] = deque(maxlen=history)
        self._history_floor = self._rv  # events at or below this RV are not in the history
        self._watches: set[Watch] = set()
        self._listeners: list[Listener] = []
        self._admitters: dict[str, list[Admit]] = {}
        self._unfired: list[_Entry] = []
        if path != ":memory:" and Path(self.path).exists():
            Path(self.path).chmod(0o600)

    # Reading.

    @property
    def resource_version(self) -> int:
        """The RV of the last write."""
        with self._lock:
            return self._rv

    def get(self, resource: str, namespace: str, name: str) -> Object:
        """The object, or NotFoundError. `namespace` is "" for cluster-scoped kinds."""
        with self._lock:
            text = self._objects.get(resource, {}).get((namespace, name))
        if text is None:
            raise _not_found(resource, name)
        result: Object = json.loads(text)
        return result

    def list(
        self,
        resource: str,
        namespace: str | None = None,
        predicate: Predicate | None = None,
    ) -> tuple[_Objects, int]:
        """Matching objects sorted by namespace then name, and the list's resourceVersion."""
        with self._lock:
            objects = self._objects.get(resource, {})
            keys = sorted(k for k in objects if namespace is None or k[0] == namespace)
            texts = [objects[k] for k in keys]
            rv = self._rv
        items = [json.loads(t) for t in texts]
        if predicate is not None:
            items = [o for o in items if predicate(o)]
        return items, rv

    # Writing.

    def create(self, resource: str, obj: Mapping[str, Any], *, dry_run: bool = False) -> Object:
        """Store a new object; AlreadyExistsError, NotFoundError for a missing namespace."""
        new: Object = json.loads(_dumps(obj))
        meta = new.setdefault("metadata", {})
        namespace = str(meta.get("namespace") or "")
        with self._writing():
            if namespace and ("", namespace) not in self._objects.get("namespaces", {}):
                raise not_found("namespaces", "", namespace)
            if not meta.get("name"):
                if not meta.get("generateName"):
                    raise bad_request("name or generateName is required")
                meta["name"] = self._generate_name(resource, namespace, meta["generateName"])
            name = str(meta["name"])
            if (namespace, name) in self._objects.get(resource, {}):
                plural, group = _split_key(resource)
                raise already_exists(plural, group, name)
            for owned in ("deletionTimestamp", "deletionGracePeriodSeconds"):
                meta.pop(owned, None)
            meta["uid"] = str(uuid.uuid4())
            meta["creationTimestamp"] = now_rfc3339()
            meta["generation"] = 1
            new = self._admit(resource, new, None)
            meta = new["metadata"]
            if dry_run:
                meta.pop("resourceVersion", None)
                return new
            rv = self._rv + 1
            meta["resourceVersion"] = str(rv)
            text = _dumps(new)
            self._commit(rv, [(ADDED, resource, namespace, name, text, None)])
        return new

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
        meta = obj.get("metadata") or {}
        namespace, name = str(meta.get("namespace") or ""), str(meta.get("name") or "")
        expected = meta.get("resourceVersion")
        with self._writing():
            current = self._current(resource, namespace, name)
            if expected and str(expected) != json.loads(current)["metadata"]["resourceVersion"]:
                plural, group = _split_key(resource)
                raise conflict(plural, group, name)
            return self._replace(resource, current, obj, tuple(preserve), dry_run)

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
        with self._writing():
            current = self._current(resource, namespace, name)
            changed = change(json.loads(current))
            return self._replace(resource, current, changed, tuple(preserve), dry_run)

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
        with self._writing():
            current = json.loads(self._current(resource, namespace, name))
            meta = current["metadata"]
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
                return dict(current)
            changes: _Changes = []
            rv = self._rv
            if resource == "namespaces":
                for other, objects in sorted(self._objects.items()):
                    for (ns, other_name), text in sorted(objects.items()):
                        if ns == name and other != "namespaces":
                            rv += 1
                            changes.append(
                                (DELETED, other, ns, other_name, _with_rv(text, rv), None)
                            )
            rv += 1
            meta["resourceVersion"] = str(rv)
            changes.append((DELETED, resource, namespace, name, _dumps(current), None))
            self._commit(rv, changes)
        return dict(current)

    # Watching.

    def watch(
        self,
        resource: str,
        namespace: str | None = None,
        resource_version: int | str | None = None,
        predicate: Predicate | None = None,
    ) -> Watch:
        """Changes after `resource_version`; without one (or 0), ADDED for what exists first.

        ExpiredError when the history no longer reaches back to `resource_version`.
        """
        since = int(resource_version) if resource_version not in (None, "") else 0
        watch = Watch(self, resource, namespace, predicate)
        with self._lock:
            if since == 0:
                initial = [
                    _Entry(
                        int(json.loads(text)["metadata"]["resourceVersion"]),
                        ADDED, resource, ns, text, None,
                    )
                    for (ns, _), text in sorted(self._objects.get(resource, {}).items())
                    if namespace is None or ns == namespace
                ]  # fmt: skip
            else:
                if since < self._history_floor:
                    raise expired(f"too old resource version: {since} ({self._history_floor})")
                initial = [e for e in self._history if e.rv > since and watch.wants(e)]
            watch._push(initial)
            self._watches.add(watch)
        return watch

    def on_commit(self, listener: Listener) -> Callable[[], None]:
        """Call `listener(resource, event)` after every committed change; returns an undo.

        Listeners run synchronously in the writing thread, after the store lock is released and
        before the write returns, in resourceVersion order: a controller hooked here has acted
        before the API answers the request that triggered it. A listener may write to the store
        (its own changes are then delivered, depth first); what it raises is logged, since the
        change it reacts to is already committed.
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
        store; an ApiError it raises refuses the write.
        """
        with self._lock:
            self._admitters.setdefault(resource, []).append(admit)

        def remove() -> None:
            with self._lock:
                admitters = self._admitters.get(resource, [])
                if admit in admitters:
                    admitters.remove(admit)

        return remove

    def _admit(self, resource: str, new: Object, current: Object | None) -> Object:
        for admit in self._admitters.get(resource, ()):
            new = admit(new, current)
        return new

    @contextlib.contextmanager
    def _writing(self) -> Iterator[None]:
        with self._lock:
            yield
        self._fire()

    def _fire(self) -> None:
        with self._lock:
            pending, self._unfired = self._unfired, []
            listeners = list(self._listeners)
        if not listeners:
            return
        for entry in pending:
            for listener in listeners:
                event = WatchEvent(entry.type, json.loads(entry.text), entry.rv)
                try:
                    listener(entry.resource, event)
                except Exception:
                    log.exception("store listener failed on %s %s", entry.type, entry.resource)

    def _unsubscribe(self, watch: Watch) -> None:
        with self._lock:
            self._watches.discard(watch)

    def close_watches(self) -> None:
        """End every open watch (their consumers get None)."""
        with self._lock:
            watches = list(self._watches)
        for watch in watches:
            watch.close()

    def close(self) -> None:
        """Close every watch and the database."""
        self.close_watches()
        with self._lock:
            self._db.close()

    # Internals (the lock is held).

    def _current(self, resource: str, namespace: str, name: str) -> str:
        text = self._objects.get(resource, {}).get((namespace, name))
        if text is None:
            raise _not_found(resource, name)
        return text

    def _replace(
        self,
        resource: str,
        current_text: str,
        obj: Mapping[str, Any],
        preserve: tuple[str, ...],
        dry_run: bool,
    ) -> Object:
        current: Object = json.loads(current_text)
        new: Object = json.loads(_dumps(obj))
        for field in preserve:
            if field in current:
                new[field] = current[field]
            else:
                new.pop(field, None)
        meta = new.setdefault("metadata", {})
        old_meta = current["metadata"]
        for owned in ("name", "namespace", "uid", "creationTimestamp", "deletionTimestamp",
                      "deletionGracePeriodSeconds"):  # fmt: skip
            if owned in old_meta:
                meta[owned] = old_meta[owned]
            else:
                meta.pop(owned, None)
        meta["generation"] = old_meta.get("generation", 1)
        meta["resourceVersion"] = old_meta["resourceVersion"]
        new = self._admit(resource, new, current)
        meta = new["metadata"]
        if new == current:
            return new  # nothing changed: no write, no event, same resourceVersion
        if _spec_of(new) != _spec_of(current):
            meta["generation"] = int(old_meta.get("generation", 1)) + 1
        if dry_run:
            return new
        rv = self._rv + 1
        meta["resourceVersion"] = str(rv)
        text = _dumps(new)
        namespace, name = str(meta.get("namespace") or ""), str(meta["name"])
        self._commit(rv, [(MODIFIED, resource, namespace, name, text, current_text)])
        return new

    def _commit(self, rv: int, changes: _Changes) -> None:
        """Write the changes and the new RV in one transaction, then tell the watches."""
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            for kind, resource, namespace, name, text, _ in changes:
                if kind == DELETED:
                    db.execute(
                        "DELETE FROM objects WHERE resource = ? AND namespace = ? AND name = ?",
                        (resource, namespace, name),
                    )
                else:
                    db.execute(
                        "INSERT OR REPLACE INTO objects VALUES (?, ?, ?, ?)",
                        (resource, namespace, name, text),
                    )
            db.execute("INSERT OR REPLACE INTO meta VALUES ('resourceVersion', ?)", (str(rv),))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        entries: list[_Entry] = []
        first_rv = rv - len(changes) + 1
        for i, (kind, resource, namespace, name, text, previous) in enumerate(changes):
            objects = self._objects.setdefault(resource, {})
            if kind == DELETED:
                objects.pop((namespace, name), None)
            else:
                objects[(namespace, name)] = text
            entries.append(_Entry(first_rv + i, kind, resource, namespace, text, previous))
        self._rv = rv
        if self._listeners:
            self._unfired.extend(entries)
        for entry in entries:
            if len(self._history) == self._history.maxlen:
                self._history_floor = self._history[0].rv
            self._history.append(entry)
        for watch in list(self._watches):
            wanted = [e for e in entries if watch.wants(e)]
            if wanted:
                watch._push(wanted)

    def _generate_name(self, resource: str, namespace: str, prefix: str) -> str:
        objects = self._objects.get(resource, {})
        while True:
            name = prefix[:58] + "".join(secrets.choice(NAME_ALPHABET) for _ in range(5))
            if (namespace, name) not in objects:
                return name


def _spec_of(obj: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in obj.items() if k not in _OWNED_ELSEWHERE}


def _with_rv(text: str, rv: int) -> str:
    obj = json.loads(text)
    obj["metadata"]["resourceVersion"] = str(rv)
    return _dumps(obj)
