"""DELETE as the API server does it: remove the object now, or mark it and let it go later.

Mirrors registry/generic/registry/store.go `Delete` (with `deletionFinalizersForGarbageCollection`
and `updateForGracefulDeletionAndFinalizers`) and `ValidateDeleteOptions`. The propagation
policy decides the garbage collector's finalizers (`garbage.deletion_finalizers`): Orphan adds
`orphan`, Foreground adds `foregroundDeletion`, Background (the default but for
`ORPHAN_BY_DEFAULT`) removes both.

- An object left without finalizers is removed at once. Its dependents are then the garbage
  collector's (apiserver/collector.py): Background propagation.
- One with finalizers is marked instead: `metadata.deletionTimestamp` set, the finalizers
  written, and it stays (kubectl waits for it) until they are removed. The collector removes
  `orphan` and `foregroundDeletion` when their work is done; an object whose last finalizer is
  removed is then removed (`finish`, by the collector and after PUT and PATCH).

The Store keeps `deletionTimestamp` once set but has no verb to set it: this module sets it at
admission (`Store.on_write`), for the uids it is marking, on a hook installed once per Store.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator, Mapping
from typing import Any

from podwall.apiserver import errors
from podwall.apiserver.perstore import PerStore
from podwall.apiserver.resources import RESOURCES
from podwall.apiserver.store import Object, Store, now_rfc3339
from podwall.controllers.garbage import (
    FOREGROUND,
    FOREGROUND_FINALIZER,
    ORPHAN,
    POLICIES,
    deletion_finalizers,
    finalizers_of,
)
from podwall.controllers.meta import is_deleting, uid_of
from podwall.model.fielderrors import FieldError, invalid, not_supported

ORPHAN_BY_DEFAULT = frozenset({"replicationcontrollers"})
"""Kinds whose DELETE without a policy orphans their dependents: core/v1 ReplicationControllers,
for backward compatibility (rcStrategy.DefaultGarbageCollectionPolicy). `kubectl delete` asks
for Background itself, so it still removes an RC's pods."""


def propagation_policy(options: Mapping[str, Any], query: str | None = None) -> str | None:
    """The propagation a DeleteOptions body (or `?propagationPolicy=`) asks for; None: default.

    `orphanDependents: true` is the old spelling of Orphan (false of Background). Both set,
    or an unknown policy, is the 422 upstream answers.
    """
    policy = options.get("propagationPolicy") or query or None
    orphan_dependents = options.get("orphanDependents")
    problems: list[FieldError] = []
    if orphan_dependents is not None and policy is not None:
        problems.append(
            invalid(
                "propagationPolicy", policy,
                "orphanDependents and deletionPropagation cannot be both set",
            )
        )  # fmt: skip
    if policy is not None and policy not in POLICIES:
        problems.append(not_supported("propagationPolicy", policy, [*POLICIES, "nil"]))
    if problems:
        raise errors.invalid("DeleteOptions", "meta.k8s.io", "", problems)
    if orphan_dependents is not None:
        return ORPHAN if orphan_dependents else "Background"
    return str(policy) if policy is not None else None


def delete(
    store: Store,
    resource: str,
    namespace: str,
    name: str,
    *,
    policy: str | None = None,
    uid: str | None = None,
    resource_version: str | None = None,
    dry_run: bool = False,
) -> Object:
    """Delete one object as DELETE does; the object as it was removed, or as it was marked.

    `uid` and `resource_version` are DeleteOptions preconditions (ConflictError).
    """
    current = store.get(resource, namespace, name)
    finalizers = finalizers_of(current)
    if policy is None and resource in ORPHAN_BY_DEFAULT:
        # A `foregroundDeletion` already there overrides the default (shouldOrphanDependents).
        policy = FOREGROUND if FOREGROUND_FINALIZER in finalizers else ORPHAN
    if policy is not None or not is_deleting(current):
        finalizers = deletion_finalizers(policy, finalizers)
    if not finalizers:
        return store.delete(
            resource, namespace, name,
            uid=uid or uid_of(current), resource_version=resource_version, dry_run=dry_run,
        )  # fmt: skip
    # The preconditions, checked as the Store checks them, without deleting anything.
    store.delete(
        resource, namespace, name, uid=uid, resource_version=resource_version, dry_run=True
    )
    return _mark(store, resource, current, finalizers, dry_run)


def finish(store: Store, resource: str, obj: Mapping[str, Any]) -> Object | None:
    """Remove `obj` if it is marked and has no finalizer left (what an update that removes
    the last finalizer leads to); the removed object, or None when there is nothing to do."""
    if not is_deleting(obj) or finalizers_of(obj):
        return None
    meta = obj.get("metadata") or {}
    try:
        return store.delete(
            resource, str(meta.get("namespace") or ""), str(meta.get("name") or ""),
            uid=uid_of(obj),
        )  # fmt: skip
    except (errors.NotFoundError, errors.ConflictError):
        return None  # gone already, or a new object under that name


def _mark(
    store: Store, resource: str, current: Object, finalizers: list[str], dry_run: bool
) -> Object:
    uid = uid_of(current)
    meta = current["metadata"]
    marks = _marks_of(store)

    def change(stored: Object) -> Object:
        if uid_of(stored) != uid:
            raise errors.conflict(*_plural_group(resource), str(meta["name"]))
        stored["metadata"]["finalizers"] = finalizers
        return stored

    with marks.marking(uid):
        return store.mutate(
            resource, str(meta.get("namespace") or ""), str(meta["name"]), change, dry_run=dry_run
        )


def _plural_group(resource: str) -> tuple[str, str]:
    plural, _, group = resource.partition(".")
    return plural, group


class _Marks:
    """The admission hook that sets deletionTimestamp on the uids being marked."""

    def __init__(self, store: Store) -> None:
        self._lock = threading.Lock()
        self._marking: dict[str, int] = {}  # uid -> marks in progress
        for resource in RESOURCES:
            store.on_write(resource.key, self.admit)

    def admit(self, new: Object, stored: Object | None) -> Object:
        meta = new.get("metadata") or {}
        if stored is None or meta.get("deletionTimestamp"):
            return new
        with self._lock:
            marking = str(meta.get("uid") or "") in self._marking
        if marking:
            meta["deletionTimestamp"] = now_rfc3339()
            meta["deletionGracePeriodSeconds"] = 0
        return new

    @contextlib.contextmanager
    def marking(self, uid: str) -> Iterator[None]:
        """While inside, a write of `uid` that stores it without one gets a deletionTimestamp."""
        with self._lock:
            self._marking[uid] = self._marking.get(uid, 0) + 1
        try:
            yield
        finally:
            with self._lock:
                left = self._marking.pop(uid, 1) - 1
                if left:
                    self._marking[uid] = left


_marks_of = PerStore(_Marks)
