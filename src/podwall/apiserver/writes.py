"""The controllers' actions, written through the Store's ordinary write path.

| action        | write                                                                   |
|---------------|-------------------------------------------------------------------------|
| `Create`      | `Store.create`; an Event goes through the recorder (repeats counted)    |
| `Update`      | `Store.update`, the stored status kept; conditional on the              |
|               | resourceVersion the sync read, when it read the object                  |
| `UpdateStatus`| `Store.mutate` of the status alone                                      |
| `Delete`      | `deletion.delete`, as DELETE does (Background: dependents are the       |
|               | garbage collector's); one that is gone already is not an error          |

An `Update` is built from what the sync read from the caches, which a client may have changed
since: it carries the resourceVersion read (`read`), so the Store refuses it with a conflict
instead of undoing the client's change (upstream's optimistic concurrency). `apply` stops at
the first write the Store refuses and raises its ApiError, so the controller retries the key
(the next sync starts from what was written). It returns the highest
resourceVersion written, for the controller to wait until its caches hold its own writes.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from typing import Any

from podwall.apiserver import deletion, errors
from podwall.apiserver.recorder import Recorder
from podwall.apiserver.resources import by_key
from podwall.apiserver.store import Store
from podwall.controllers import Action, Create, Delete, UpdateStatus, resource_of
from podwall.controllers.meta import meta


def _rv(obj: Mapping[str, Any]) -> int:
    return int(meta(obj).get("resourceVersion") or 0)


class Writer:
    """Applies actions to one Store."""

    def __init__(self, store: Store, recorder: Recorder) -> None:
        self.store = store
        self.recorder = recorder
        self._count_lock = threading.Lock()
        self._writes = 0

    @property
    def writes(self) -> int:
        """Actions written so far (by every controller)."""
        with self._count_lock:
            return self._writes

    def apply(
        self,
        actions: Iterable[Action],
        read: Mapping[str, Iterable[Mapping[str, Any]]] | None = None,
    ) -> int:
        """Write every action in order; the highest resourceVersion written (0: none).

        `read` holds, by resource, the objects the sync read: their Updates are conditional.
        """
        versions = {
            (resource, meta(obj).get("namespace") or "", meta(obj).get("name")): version
            for resource, objects in (read or {}).items()
            for obj in objects
            if (version := meta(obj).get("resourceVersion"))
        }
        highest = 0
        for action in actions:
            highest = max(highest, self._apply(action, versions))
            with self._count_lock:
                self._writes += 1
        return highest

    def _apply(self, action: Action, versions: Mapping[tuple[str, str, Any], str]) -> int:
        if isinstance(action, Delete):
            try:
                gone = deletion.delete(self.store, action.resource, action.namespace, action.name)
            except errors.NotFoundError:
                return 0
            return _rv(gone)
        obj = action.obj
        resource = resource_of(obj)
        if isinstance(action, Create):
            if resource == "events":
                return self.recorder.record(obj)
            return _rv(self.store.create(resource, obj))
        if isinstance(action, UpdateStatus):
            status = obj.get("status") or {}
            m = meta(obj)
            written = self.store.mutate(
                resource,
                str(m.get("namespace") or ""),
                m["name"],
                lambda current: {**current, "status": status},
            )
            return _rv(written)
        preserve = ("status",) if by_key(resource).subresource("status") else ()
        m = meta(obj)
        version = versions.get((resource, m.get("namespace") or "", m.get("name")))
        if version is not None:
            obj = {**obj, "metadata": {**m, "resourceVersion": version}}
        return _rv(self.store.update(resource, obj, preserve=preserve))
