"""The garbage collector: dependents follow their owners out, by the rules of `garbage`.

Mirrors pkg/controller/garbagecollector as a client-go controller: metadata informers over every
resource, indexed by owner uid (the dependency graph, so nothing ever scans the store), and one
queue of items:

- `(ATTEMPT, ref)`, attemptToDeleteItem: a dependent whose owner went, was marked for deletion
  in the foreground, or is not in the caches. It reads the dependent and each owner live (by
  kind, namespace and name, then uid, as upstream does: the caches may lag) and applies
  `garbage.attempt_to_delete`: drop the references to absent owners, or delete it.
- `(DELETING, ref)`: an object being deleted. `orphan`: its dependents lose their reference to
  it, then the finalizer goes. `foregroundDeletion`: the finalizer goes once no dependent blocks
  it (`blockOwnerDeletion`). No finalizer left: it is removed (`deletion.finish`).

The handlers only enqueue: the dependents of a deleted object; a dependent naming an owner the
caches do not hold; an object marked for deletion (in the foreground, its dependents too); the
owners a deleted or released dependent was blocking. Deletes go through `deletion.delete`, the
path DELETE takes, with the dependent's uid as precondition.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any

from podwall.apiserver import deletion, errors
from podwall.apiserver.informers import Informer, Informers
from podwall.apiserver.resources import RESOURCES, by_kind
from podwall.apiserver.store import Object, Store
from podwall.apiserver.workqueue import WorkQueue
from podwall.controllers.garbage import (
    FOREGROUND_FINALIZER,
    ORPHAN_FINALIZER,
    OwnerState,
    attempt_to_delete,
    blocks,
    finalizers_of,
    owner_state,
    owner_uids,
    references,
    without_finalizer,
    without_owners,
)
from podwall.controllers.meta import is_deleting, name_of, namespace_of, uid_of

ATTEMPT, DELETING = "attempt", "deleting"
OWNER, BLOCKING, UID = "owner", "blocking", "uid"


@dataclass(frozen=True, slots=True, order=True)
class Ref:
    """One object, by store key, namespace, name and uid."""

    resource: str
    namespace: str
    name: str
    uid: str


Item = tuple[str, Ref]


def _ref(resource: str, obj: Mapping[str, Any]) -> Ref:
    return Ref(resource, namespace_of(obj), name_of(obj), uid_of(obj))


def _rv(obj: Mapping[str, Any] | None) -> int:
    return int(((obj or {}).get("metadata") or {}).get("resourceVersion") or 0)


def _blocked_owners(obj: Mapping[str, Any] | None) -> frozenset[str]:
    return frozenset(uid for uid in owner_uids(obj) if obj is not None and blocks(obj, uid))


def _foreground(obj: Mapping[str, Any] | None) -> bool:
    return obj is not None and is_deleting(obj) and FOREGROUND_FINALIZER in finalizers_of(obj)


class GarbageCollector:
    """The collector over one Store, its caches registered on `informers` (before they start)."""

    name = "garbagecollector"

    def __init__(self, store: Store, informers: Informers, queue: WorkQueue[Item]) -> None:
        self.store = store
        self.queue = queue
        self._caches: dict[str, Informer] = {}
        for resource in RESOURCES:
            cache = informers.informer(resource.key, full=False)
            cache.add_index(OWNER, owner_uids)
            cache.add_index(BLOCKING, _blocked_owners)
            cache.add_index(UID, lambda obj: (uid_of(obj),))
            cache.add_handler(partial(self._changed, resource.key))
            self._caches[resource.key] = cache

    # -- handlers: enqueue only -------------------------------------------------------------

    def _changed(self, resource: str, old: Object | None, new: Object | None) -> None:
        if new is None:
            assert old is not None
            self._add_dependents(uid_of(old))
            self._add_deleting_owners(_blocked_owners(old))
            return
        ref = _ref(resource, new)
        if is_deleting(new):
            self.queue.add((DELETING, ref))
            if _foreground(new) and not _foreground(old):
                self._add_dependents(ref.uid)
        if any(not self._known(uid) for uid in owner_uids(new) - owner_uids(old)):
            self.queue.add((ATTEMPT, ref))
        self._add_deleting_owners(_blocked_owners(old) - _blocked_owners(new))

    def _add_dependents(self, uid: str) -> None:
        for resource, dependent in self._dependents(uid):
            self.queue.add((ATTEMPT, _ref(resource, dependent)))

    def _add_deleting_owners(self, uids: Collection[str]) -> None:
        for uid in uids:
            found = self._find(uid)
            if found is not None and is_deleting(found[1]):
                self.queue.add((DELETING, _ref(*found)))

    # -- the graph, from the caches ---------------------------------------------------------

    def _find(self, uid: str) -> tuple[str, Object] | None:
        for resource, cache in self._caches.items():
            for obj in cache.by_index(UID, uid):
                return resource, obj
        return None

    def _known(self, uid: str) -> bool:
        return any(cache.count(UID, uid) for cache in self._caches.values())

    def _dependents(self, uid: str) -> list[tuple[str, Object]]:
        return [
            (resource, obj)
            for resource, cache in self._caches.items()
            for obj in cache.by_index(OWNER, uid)
        ]

    def _has_dependents(self, uid: str) -> bool:
        return any(cache.count(OWNER, uid) for cache in self._caches.values())

    def _blocking(self, uid: str) -> int:
        return sum(cache.count(BLOCKING, uid) for cache in self._caches.values())

    # -- the sync ---------------------------------------------------------------------------

    def sync(self, item: Item) -> int:
        """Process one item; the highest resourceVersion written (0: nothing written)."""
        kind, ref = item
        obj = self._live(ref)
        if obj is None:
            return 0
        if kind == DELETING or is_deleting(obj):
            return self._deleting(ref, obj)
        return self._attempt(ref, obj)

    def _live(self, ref: Ref) -> Object | None:
        try:
            obj = self.store.get(ref.resource, ref.namespace, ref.name)
        except errors.NotFoundError:
            return None
        return obj if uid_of(obj) == ref.uid else None

    def _attempt(self, ref: Ref, obj: Object) -> int:
        owners = {str(r.get("uid", "")): self._owner_state(ref, r) for r in references(obj)}
        verdict = attempt_to_delete(obj, owners, self._has_dependents(ref.uid))
        if verdict is None:
            return 0
        if verdict.drop:
            return self._drop(ref, verdict.drop)
        try:
            gone = deletion.delete(
                self.store, ref.resource, ref.namespace, ref.name,
                policy=verdict.delete, uid=ref.uid,
            )  # fmt: skip
        except (errors.NotFoundError, errors.ConflictError):
            return 0  # gone already, or another object under that name now
        return _rv(gone)

    def _owner_state(self, dependent: Ref, ref: Mapping[str, Any]) -> OwnerState:
        resource = by_kind(str(ref.get("apiVersion", "")), str(ref.get("kind", "")))
        if resource is None:
            return OwnerState.LIVE  # a kind this server does not serve: never taken for gone
        if resource.namespaced and not dependent.namespace:
            return OwnerState.ABSENT  # a cluster-scoped object cannot have a namespaced owner
        namespace = dependent.namespace if resource.namespaced else ""
        try:
            owner = self.store.get(resource.key, namespace, str(ref.get("name", "")))
        except errors.NotFoundError:
            owner = None
        return owner_state(owner, str(ref.get("uid", "")))

    def _deleting(self, ref: Ref, obj: Object) -> int:
        finalizers = finalizers_of(obj)
        if ORPHAN_FINALIZER in finalizers:
            written = [self._drop(_ref(r, dep), {ref.uid}) for r, dep in self._dependents(ref.uid)]
            return max([*written, self._remove_finalizer(ref, ORPHAN_FINALIZER)])
        if FOREGROUND_FINALIZER in finalizers:
            if self._blocking(ref.uid):
                return 0  # a blocking dependent's deletion brings the owner back here
            return self._remove_finalizer(ref, FOREGROUND_FINALIZER)
        return _rv(deletion.finish(self.store, ref.resource, obj))

    # -- writes -----------------------------------------------------------------------------

    def _drop(self, ref: Ref, uids: Collection[str]) -> int:
        def change(current: Object) -> Object:
            if uid_of(current) != ref.uid:
                raise errors.not_found(ref.resource, "", ref.name)
            return without_owners(current, uids)

        try:
            return _rv(self.store.mutate(ref.resource, ref.namespace, ref.name, change))
        except errors.NotFoundError:
            return 0

    def _remove_finalizer(self, ref: Ref, finalizer: str) -> int:
        def change(current: Object) -> Object:
            if uid_of(current) != ref.uid:
                raise errors.not_found(ref.resource, "", ref.name)
            return without_finalizer(current, finalizer)

        try:
            updated = self.store.mutate(ref.resource, ref.namespace, ref.name, change)
        except errors.NotFoundError:
            return 0
        return max(_rv(updated), _rv(deletion.finish(self.store, ref.resource, updated)))
