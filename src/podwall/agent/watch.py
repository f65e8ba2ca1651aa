"""The informer: list, then watch from the list's resourceVersion, one thread per kind.

A watch asks for bookmarks (`allowWatchBookmarks`), so an idle kind still learns how far the
cluster has gone, and ends after a few minutes on the server's side (`timeoutSeconds`); the
next one resumes from the last resourceVersion seen, without a list. A 410 Gone (the version
is older than the server's history) starts a new list, which replaces the kind in the cache
at once. Any other failure (refused connection, 5xx, a 403 after RBAC changed) is logged with
the kind, the error and the delay, counted, and retried after a back-off with jitter; the
cache keeps what it had meanwhile, so the node goes on enforcing its last known state.

Lists are paged (`limit`): a page's JSON is converted and dropped before the next is asked.

An optional kind (one a CRD defines: ClusterNetworkPolicy, AdminNetworkPolicy,
BaselineAdminNetworkPolicy) may not be served at all: a 404 on
its list or watch means the cluster has none of it. The kind then counts as listed, empty (any
objects it had are dropped: the CRD was removed), this is logged once, and the list is tried
again after the back-off, so installing the CRD later is noticed within its cap.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import KW_ONLY, dataclass, field
from typing import Any

from podwall.agent import kinds
from podwall.agent.backoff import Backoff
from podwall.agent.cache import Cache
from podwall.agent.client import ApiError, Connection, Stream, Unreachable
from podwall.agent.kinds import Kind
from podwall.agent.metrics import Metrics
from podwall.agent.worker import DaemonThread

log = logging.getLogger(__name__)

PAGE_SIZE = 500
WATCH_SECONDS = (300, 600)  # a watch's server-side length, drawn per watch as client-go does
READ_MARGIN = 30.0  # a watch silent for its length plus this is a dead connection
EVENTS = frozenset({"ADDED", "MODIFIED", "DELETED"})


class WatchThread(DaemonThread):
    """A list+watch loop in a thread of its own, and the watch stream it has open.

    The loop lists when there is no resourceVersion to resume from, then watches; a 410 lists
    again, any other failure goes to `_failed` (which backs off), until `stop` is set. `close`
    unblocks a watch in progress (after `stop` is set) and waits for the thread."""

    connection: Connection
    stop: threading.Event
    resource_version: str | None
    _stream: Stream | None
    _what: str  # for the log: what the loop follows

    def _list(self) -> None:
        raise NotImplementedError

    def _watch(self) -> None:
        raise NotImplementedError

    def _failed(self, exc: Exception) -> None:
        raise NotImplementedError

    def _watch_ended(self) -> None:
        """The server ended a watch (its timeout): the next one resumes."""

    def _expired(self, exc: ApiError) -> None:
        """The resourceVersion is too old (410): the loop lists again."""

    def _handled(self, exc: ApiError) -> bool:
        """Whether the loop's own class dealt with this refusal (before 410 or a back-off)."""
        return False

    def _open(
        self, path: str, seconds_range: tuple[int, int], *selectors: tuple[str, str]
    ) -> Stream:
        """A watch of `path` from `resource_version` (kept as `_stream` until closed), its
        length drawn from `seconds_range` as client-go does."""
        assert self.resource_version is not None
        seconds = random.randint(*seconds_range)
        query: list[tuple[str, str | int]] = [
            ("watch", "true"),
            *selectors,
            ("resourceVersion", self.resource_version),
            ("allowWatchBookmarks", "true"),
            ("timeoutSeconds", seconds),
        ]
        stream = self.connection.stream(path, query, seconds + READ_MARGIN)
        self._stream = stream
        return stream

    def _follow(self, stream: Stream, handle: Callable[[str, dict[str, Any]], None]) -> None:
        """Hand each event to `handle` until the server ends the watch or `stop` is set; an
        ERROR event raises its ApiError. Each event's resourceVersion is where the next watch
        resumes; the stream is closed at the end."""
        try:
            for event in stream.events():
                kind, obj = event.get("type"), event.get("object") or {}
                if kind == "ERROR":
                    raise ApiError.from_status(obj)
                handle(str(kind), obj)
                self.resource_version = kinds.resource_version(obj) or self.resource_version
                if self.stop.is_set():
                    break
        finally:
            self._stream = None
            stream.close()

    def close(self) -> None:
        stream = self._stream
        if stream is not None:
            stream.close()
        if self._thread.ident is not None:
            self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self.stop.is_set():
            try:
                if self.resource_version is None:
                    self._list()
                self._watch()
                self._watch_ended()
            except ApiError as exc:
                if self._handled(exc):
                    pass
                elif exc.gone:
                    self._expired(exc)
                    self.resource_version = None
                else:
                    self._failed(exc)
            except (Unreachable, ValueError) as exc:  # ValueError: a line that is not JSON
                self._failed(exc)
            except Exception as exc:  # a bug must not end the watch: what it follows goes stale
                log.exception("%s failed", self._what)
                self._failed(exc)


@dataclass(eq=False)
class Informer(WatchThread):
    """Keeps `kind` in `cache` up to date until `stop` is set. `listed` is set after the
    first complete list, `watching` once a watch was accepted; `error` is the last failure,
    None once a request succeeds again."""

    connection: Connection
    kind: Kind
    cache: Cache
    metrics: Metrics
    stop: threading.Event
    _: KW_ONLY
    backoff: Backoff = field(default_factory=Backoff)
    page_size: int = PAGE_SIZE
    watch_seconds: tuple[int, int] = WATCH_SECONDS

    def __post_init__(self) -> None:
        self.listed = threading.Event()
        self.watching = threading.Event()  # set once a watch was accepted (RBAC allows it)
        self.error: Exception | None = None
        self.resource_version: str | None = None  # where the next watch starts; None: list
        self._absent_logged = False  # an optional kind's absence is logged once
        self._stream: Stream | None = None
        self._what = f"watch loop kind={self.kind.name}"
        name = f"watch-{self.kind.name}"
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def _watch_ended(self) -> None:
        self.metrics.watch_restarts.labels(kind=self.kind.name, reason="closed").inc()

    def _expired(self, exc: ApiError) -> None:
        log.info("watch expired kind=%s error=%s: listing again", self.kind.name, exc)
        self.metrics.watch_restarts.labels(kind=self.kind.name, reason="expired").inc()

    def _failed(self, exc: Exception) -> None:
        if self.stop.is_set():
            return
        self.error = exc
        delay = self.backoff.next()
        log.warning("watch failed kind=%s error=%s retry_in=%.1fs", self.kind.name, exc, delay)
        self.metrics.watch_restarts.labels(kind=self.kind.name, reason="error").inc()
        self.stop.wait(delay)

    def _handled(self, exc: ApiError) -> bool:
        if exc.status == 404 and self.kind.optional:
            self._absent()
            return True
        return False

    def _absent(self) -> None:
        """The cluster does not serve this optional kind: none of it, until it is served."""
        self.resource_version = None
        self.cache.relist(self.kind).commit("")
        self.listed.set()
        if not self._absent_logged:
            self._absent_logged = True
            log.info(
                "the API server does not serve kind=%s (%s: its CRD is not installed): none "
                "enforced; checking again with back-off",
                self.kind.name, self.kind.path,
            )  # fmt: skip
        self.stop.wait(self.backoff.next())

    def _succeeded(self) -> None:
        self.error = None
        self.backoff.reset()

    def _list(self) -> None:
        relist = self.cache.relist(self.kind)
        started = time.perf_counter()
        waited = 0.0  # on the API server, as opposed to converting what it sent
        token, count = "", 0
        while True:
            query: list[tuple[str, str | int]] = [("limit", self.page_size)]
            if token:
                query.append(("continue", token))
            asked = time.perf_counter()
            page = self.connection.request("GET", self.kind.path, query)
            waited += time.perf_counter() - asked
            for item in page.get("items") or ():
                relist.add(item)
                count += 1
            meta = page.get("metadata") or {}
            token = str(meta.get("continue") or "")
            if not token:
                break
        rv = str(meta.get("resourceVersion") or "")
        relist.commit(rv)
        if self._absent_logged:
            self._absent_logged = False
            log.info("kind=%s is served now", self.kind.name)
        if self.listed.is_set():
            self.metrics.relists.labels(kind=self.kind.name).inc()
        self.listed.set()
        self._succeeded()
        log.info(
            "listed kind=%s objects=%d resourceVersion=%s seconds=%.3f (request and parse %.3f)",
            self.kind.name, count, rv, time.perf_counter() - started, waited,
        )  # fmt: skip
        self.resource_version = rv

    def _watch(self) -> None:
        """Follow changes from `resource_version` until the server ends the watch."""
        stream = self._open(self.kind.path, self.watch_seconds)
        if self.stop.is_set():  # `close` may have looked for a stream before this one
            self._stream = None
            stream.close()
            return
        self._succeeded()
        self.watching.set()
        self._follow(stream, self._event)

    def _event(self, kind: str, obj: dict[str, Any]) -> None:
        if kind == "BOOKMARK":
            self.cache.bookmark(self.kind, kinds.resource_version(obj))
        elif kind in EVENTS:
            self.cache.apply(self.kind, kind, obj)
