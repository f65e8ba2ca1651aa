"""Recording Events through the Store, counting repeats as client-go's recorder does.

Mirrors record.EventRecorder's correlator (k8s.io/client-go/tools/record/events_cache.go): the
recorder remembers, per similarity key, the event it last wrote (a bounded LRU cache), so a
repeat is one atomic `count + 1` on that event and never a list of the namespace's events.
If the remembered event is gone, or the recorder never wrote one like it (a restart), a new
event is created, as upstream does. A name that is taken moves to the next nanosecond.

Recording never fails its caller: an event that cannot be written is logged and dropped, as
upstream's broadcaster drops it. `write_event(store, event)` uses one recorder per Store.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from functools import partial

from podwall.apiserver import errors
from podwall.apiserver.perstore import PerStore
from podwall.apiserver.store import Object, Store
from podwall.controllers.actions import Obj
from podwall.controllers.events import next_name, repeated, similarity_key
from podwall.controllers.meta import deep, name_of, namespace_of

log = logging.getLogger(__name__)

CACHE_SIZE = 4096  # upstream's maxLruCacheEntries
NAME_ATTEMPTS = 16


def _rv(obj: Object) -> int:
    return int(obj["metadata"]["resourceVersion"])


class Recorder:
    """Writes Events to one Store; repeats of one it wrote are counted on it."""

    def __init__(self, store: Store, *, size: int = CACHE_SIZE) -> None:
        self.store = store
        self.size = size
        self._lock = threading.Lock()
        self._written: OrderedDict[tuple[str, ...], tuple[str, str]] = OrderedDict()

    def record(self, event: Obj) -> int:
        """Store `event` or count it; the resourceVersion written (0 when nothing was)."""
        key = similarity_key(event)
        with self._lock:  # one recording at a time: a repeat never races its own creation
            try:
                return self._record(key, event)
            except errors.ApiError as exc:
                log.warning(
                    "event not recorded event=%s/%s error=%s",
                    namespace_of(event), name_of(event), exc,
                )  # fmt: skip
                return 0

    def _record(self, key: tuple[str, ...], event: Obj) -> int:
        where = self._written.get(key)
        if where is not None:
            try:
                counted = self.store.mutate("events", *where, partial(repeated, event=event))
                self._written.move_to_end(key)
                return _rv(counted)
            except errors.NotFoundError:
                del self._written[key]
        fresh = deep(event)
        for _ in range(NAME_ATTEMPTS):
            try:
                created = self.store.create("events", fresh)
            except errors.AlreadyExistsError:
                fresh = next_name(fresh)
                continue
            self._remember(key, (namespace_of(created), name_of(created)))
            return _rv(created)
        raise errors.internal(f"no free name for event {name_of(event)}")

    def _remember(self, key: tuple[str, ...], where: tuple[str, str]) -> None:
        self._written[key] = where
        self._written.move_to_end(key)
        while len(self._written) > self.size:
            self._written.popitem(last=False)


_recorders = PerStore(Recorder)


def recorder_for(store: Store) -> Recorder:
    """The one Recorder of `store` (made on first use)."""
    return _recorders(store)


def write_event(store: Store, event: Obj) -> None:
    """Store an Event, or count it on the one it repeats (what the kubelet records with)."""
    recorder_for(store).record(event)
