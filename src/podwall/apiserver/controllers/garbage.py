"""The garbage collector: what goes when an owner is deleted (background propagation).

Mirrors pkg/controller/garbagecollector (`attemptToDeleteItem`, `classifyReferences`): a
dependent whose owners are all gone is deleted; one that still has a live owner only loses the
reference to the dead one. `Orphan` propagation removes the reference instead (`orphanDependents`).

One level at a time, as the collector works: when the server deletes a dependent (a ReplicaSet),
it calls `collect` again with that dependent's uid, which removes the pods in turn. Pure.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from podwall.apiserver.controllers.actions import Action, Delete, Obj, Update
from podwall.apiserver.controllers.meta import (
    deep,
    is_deleting,
    meta,
    name_of,
    namespace_of,
    uid_of,
    unconditional,
)

_PLURALS = {"Endpoints": "endpoints", "NetworkPolicy": "networkpolicies"}


def resource_of(obj: Mapping[str, Any]) -> str:
    """The store key of an object: `pods`, `replicasets.apps`, `endpointslices.discovery.k8s.io`."""
    kind = str(obj.get("kind", ""))
    plural = _PLURALS.get(kind, kind.lower() + "s")
    api_version = str(obj.get("apiVersion", "v1"))
    group = api_version.rpartition("/")[0]
    return f"{plural}.{group}" if group else plural


def _references(obj: Mapping[str, Any]) -> list[dict[str, Any]]:
    return list(meta(obj).get("ownerReferences") or ())


def _without_owner(obj: Mapping[str, Any], owner_uid: str) -> Obj:
    out = unconditional(deep(obj))
    kept = [ref for ref in _references(obj) if ref.get("uid") != owner_uid]
    if kept:
        meta(out)["ownerReferences"] = kept
    else:
        meta(out).pop("ownerReferences", None)
    return out


def dependents(owner_uid: str, objects: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The objects that name `owner_uid` among their ownerReferences."""
    return [obj for obj in objects if any(ref.get("uid") == owner_uid for ref in _references(obj))]


def collect(owner_uid: str, objects: Iterable[Mapping[str, Any]]) -> list[Action]:
    """After the owner with `owner_uid` is gone: delete its orphaned dependents.

    `objects` are the objects that exist (the owner may be among them or not; it counts as gone).
    Dependents already being deleted are left alone.
    """
    everything = list(objects)
    live = {uid_of(obj) for obj in everything} - {owner_uid}
    actions: list[Action] = []
    for obj in dependents(owner_uid, everything):
        if is_deleting(obj):
            continue
        others = [ref for ref in _references(obj) if ref.get("uid") != owner_uid]
        if any(ref.get("uid") in live for ref in others):
            actions.append(Update(_without_owner(obj, owner_uid)))
        else:
            actions.append(Delete(resource_of(obj), namespace_of(obj), name_of(obj)))
    return actions


def orphan(owner_uid: str, objects: Iterable[Mapping[str, Any]]) -> list[Action]:
    """`propagationPolicy: Orphan`: the dependents stay, without the reference to the owner."""
    return [Update(_without_owner(obj, owner_uid)) for obj in dependents(owner_uid, objects)]
