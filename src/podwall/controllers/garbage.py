"""The garbage collector's rules: what becomes of an object's dependents when it is deleted.

Mirrors pkg/controller/garbagecollector (`attemptToDeleteItem`, `classifyReferences`,
`processDeletingDependentsItem`, `orphanDependents`) and the API server's half of deletion
(`deletionFinalizersForGarbageCollection` in registry/generic/registry/store.go):

| propagation | the owner                                  | its dependents                      |
|-------------|--------------------------------------------|-------------------------------------|
| Background  | deleted at once                            | deleted after it, level by level    |
| Foreground  | stays (`deletionTimestamp`, finalizer      | deleted first (in the foreground    |
|             | `foregroundDeletion`) until every          | too when they have dependents);     |
|             | dependent with `blockOwnerDeletion` went   | then the finalizer goes, and it     |
| Orphan      | stays (finalizer `orphan`) until its       | lose their reference to it and stay |
|             | dependents are orphaned, then goes         |                                     |

A dependent is deleted only when none of its owners is alive: one with another live owner only
loses its references to the owners that are gone (or waiting for it in the foreground). An object
without ownerReferences is never collected. A dependent is deleted with the policy its own
finalizers ask for, Background when they ask for none.

Pure: the caller says what it found of each owner (`OwnerState`, from a live read by uid) and
applies the `Verdict`. The running collector is apiserver/collector.py; `collect` and `orphan`
apply the rules to a list of objects at once (for tests' fake clusters).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from podwall.controllers.actions import Action, Delete, Obj, Update
from podwall.controllers.meta import (
    deep,
    is_deleting,
    meta,
    name_of,
    namespace_of,
    uid_of,
    unconditional,
)

ORPHAN_FINALIZER = "orphan"
FOREGROUND_FINALIZER = "foregroundDeletion"
BACKGROUND, FOREGROUND, ORPHAN = "Background", "Foreground", "Orphan"
POLICIES = (FOREGROUND, BACKGROUND, ORPHAN)
"""DeleteOptions.propagationPolicy values, in the order upstream's validation lists them."""
_GC_FINALIZERS = (ORPHAN_FINALIZER, FOREGROUND_FINALIZER)
_PLURALS = {"Endpoints": "endpoints", "NetworkPolicy": "networkpolicies"}


class OwnerState(StrEnum):
    """What a live read found for one ownerReference (`classifyReferences`)."""

    ABSENT = "absent"  # no object of that kind, name and uid: a dangling reference
    LIVE = "live"  # a solid owner
    WAITING = "waiting"  # being deleted in the foreground: waiting for its dependents


@dataclass(frozen=True, slots=True)
class Verdict:
    """What to do with one dependent: drop references (by owner uid), or delete it."""

    drop: tuple[str, ...] = ()
    delete: str | None = None  # the propagation policy to delete it with


def resource_of(obj: Mapping[str, Any]) -> str:
    """The store key of an object: `pods`, `replicasets.apps`, `endpointslices.discovery.k8s.io`."""
    kind = str(obj.get("kind", ""))
    plural = _PLURALS.get(kind, kind.lower() + "s")
    api_version = str(obj.get("apiVersion", "v1"))
    group = api_version.rpartition("/")[0]
    return f"{plural}.{group}" if group else plural


def references(obj: Mapping[str, Any]) -> list[dict[str, Any]]:
    """metadata.ownerReferences (empty when there are none)."""
    return list(meta(obj).get("ownerReferences") or ())


def owner_uids(obj: Mapping[str, Any] | None) -> frozenset[str]:
    """The uids `obj` names as its owners; none for None."""
    if obj is None:
        return frozenset()
    return frozenset(str(ref.get("uid", "")) for ref in references(obj))


def finalizers_of(obj: Mapping[str, Any]) -> list[str]:
    return [str(f) for f in meta(obj).get("finalizers") or ()]


def owner_state(owner: Mapping[str, Any] | None, uid: str) -> OwnerState:
    """An owner read by kind, namespace and name: absent unless it is there with `uid`."""
    if owner is None or uid_of(owner) != uid:
        return OwnerState.ABSENT
    if is_deleting(owner) and FOREGROUND_FINALIZER in finalizers_of(owner):
        return OwnerState.WAITING
    return OwnerState.LIVE


def policy_of(obj: Mapping[str, Any]) -> str:
    """How a dependent is deleted when it has to be: as its own finalizers ask."""
    finalizers = finalizers_of(obj)
    if ORPHAN_FINALIZER in finalizers:
        return ORPHAN
    if FOREGROUND_FINALIZER in finalizers:
        return FOREGROUND
    return BACKGROUND


def attempt_to_delete(
    dependent: Mapping[str, Any], owners: Mapping[str, OwnerState], has_dependents: bool
) -> Verdict | None:
    """attemptToDeleteItem for a dependent that is not being deleted; None: leave it be.

    `owners` maps each owner uid to what was found (a uid missing from it counts as absent);
    `has_dependents` says whether anything names the dependent as its owner in turn.
    """
    refs = [str(ref.get("uid", "")) for ref in references(dependent)]
    if not refs or is_deleting(dependent):
        return None
    states = {uid: owners.get(uid, OwnerState.ABSENT) for uid in refs}
    gone = tuple(uid for uid in refs if states[uid] is not OwnerState.LIVE)
    if len(gone) < len(refs):  # a solid owner: keep it, forget the others
        return Verdict(drop=gone) if gone else None
    if has_dependents and any(state is OwnerState.WAITING for state in states.values()):
        return Verdict(delete=FOREGROUND)
    return Verdict(delete=policy_of(dependent))


def deletion_finalizers(policy: str | None, finalizers: Sequence[str]) -> list[str]:
    """The finalizers a DELETE with `policy` leaves (None: the kind's default, Background).

    deletionFinalizersForGarbageCollection: Orphan adds `orphan`, Foreground adds
    `foregroundDeletion`, each removing the other; Background removes both. Other finalizers
    stay, in their order.
    """
    wanted = {ORPHAN: ORPHAN_FINALIZER, FOREGROUND: FOREGROUND_FINALIZER}.get(policy or BACKGROUND)
    kept = [f for f in finalizers if f not in _GC_FINALIZERS or f == wanted]
    if wanted is not None and wanted not in kept:
        kept.append(wanted)
    return kept


def blocks(dependent: Mapping[str, Any], owner_uid: str) -> bool:
    """The dependent's reference to `owner_uid` says `blockOwnerDeletion: true`."""
    return any(
        ref.get("uid") == owner_uid and ref.get("blockOwnerDeletion") is True
        for ref in references(dependent)
    )


def without_owners(obj: Mapping[str, Any], uids: Collection[str]) -> Obj:
    """A copy of `obj` without its references to `uids` (no ownerReferences when none is left)."""
    out = unconditional(deep(obj))
    kept = [ref for ref in references(obj) if ref.get("uid") not in uids]
    if kept:
        meta(out)["ownerReferences"] = kept
    else:
        meta(out).pop("ownerReferences", None)
    return out


def without_finalizer(obj: Mapping[str, Any], finalizer: str) -> Obj:
    """A copy of `obj` without `finalizer` (no finalizers field when none is left)."""
    out = deep(obj)
    kept = [f for f in finalizers_of(obj) if f != finalizer]
    if kept:
        meta(out)["finalizers"] = kept
    else:
        meta(out).pop("finalizers", None)
    return out


def dependents(owner_uid: str, objects: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The objects that name `owner_uid` among their ownerReferences."""
    return [obj for obj in objects if owner_uid in owner_uids(obj)]


def collect(owner_uid: str, objects: Iterable[Mapping[str, Any]]) -> list[Action]:
    """After the owner with `owner_uid` is gone, the rules applied to `objects` at once.

    `objects` are the objects that exist (the owner may be among them or not; it counts as
    gone). One level only: deleting a dependent is another deletion, to collect in turn.
    """
    everything = list(objects)
    states = {uid_of(obj): owner_state(obj, uid_of(obj)) for obj in everything}
    states.pop(owner_uid, None)
    actions: list[Action] = []
    for obj in dependents(owner_uid, everything):
        has_dependents = any(uid_of(obj) in owner_uids(other) for other in everything)
        verdict = attempt_to_delete(obj, states, has_dependents)
        if verdict is None:
            continue
        if verdict.drop:
            actions.append(Update(without_owners(obj, verdict.drop)))
        else:
            actions.append(Delete(resource_of(obj), namespace_of(obj), name_of(obj)))
    return actions


def orphan(owner_uid: str, objects: Iterable[Mapping[str, Any]]) -> list[Action]:
    """`propagationPolicy: Orphan`: the dependents stay, without the reference to the owner."""
    return [Update(without_owners(obj, {owner_uid})) for obj in dependents(owner_uid, objects)]
