"""ControllerRevisions: the template history of a StatefulSet or DaemonSet.

Mirrors pkg/controller/history (`NewControllerRevision`, `ControllerRevisionName`,
`EqualRevision`, `FindEqualRevisions`, `SortControllerRevisions`, `NextRevision`) with the
owners' `getPatch`, `constructHistory`/`getStatefulSetRevisions` and
`cleanupHistory`/`truncateHistory`. A revision's `data` is the patch that restores its
template (`{"spec": {"template": {..., "$patch": "replace"}}}`): what `kubectl rollout undo`
sends back as a strategic merge patch, and what `kubectl rollout history --revision` applies
to show a template.

The hash is `naming.compute_hash` of the template (upstream hashes the patch's bytes; both
change exactly when the template does), so a revision is named `<owner>-<hash>` and a daemon
pod's `controller-revision-hash` label stays the template hash it always was. Simplified: no
collisionCount bump (a name taken by another owner's revision fails the create, and the sync
is retried once the garbage collector removed it). Pure.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Any

from podwall.controllers.actions import Action, Create, Delete, Obj, Update
from podwall.controllers.meta import (
    controlled_by,
    controller_ref,
    creation_key,
    deep,
    is_deleting,
    labels_of,
    name_of,
    namespace_of,
    unconditional,
)
from podwall.controllers.naming import compute_hash

HASH_LABEL = "controller-revision-hash"
RESOURCE = "controllerrevisions.apps"
DEFAULT_HISTORY_LIMIT = 10


def template_of(owner: Mapping[str, Any]) -> Mapping[str, Any]:
    template: Mapping[str, Any] = (owner.get("spec") or {}).get("template") or {}
    return template


def template_patch(owner: Mapping[str, Any]) -> Obj:
    """getPatch: the owner's template, marked to replace the whole template when applied."""
    template = deep(template_of(owner))
    template["$patch"] = "replace"
    return {"spec": {"template": template}}


def revision_hash(owner: Mapping[str, Any]) -> str:
    """The hash of the owner's current template (with its status' collisionCount)."""
    return compute_hash(template_of(owner), (owner.get("status") or {}).get("collisionCount"))


def revision_name(owner: Mapping[str, Any], hash_: str) -> str:
    """ControllerRevisionName: `<owner>-<hash>`, the owner's name cut so the whole fits 253."""
    prefix = name_of(owner)
    if len(prefix) > 223:
        prefix = prefix[:223]
    return f"{prefix}-{hash_}"


def revision_number(revision: Mapping[str, Any]) -> int:
    return int(revision.get("revision") or 0)


def new_revision(owner: Mapping[str, Any], hash_: str, number: int) -> Obj:
    """NewControllerRevision: owned by `owner`, labelled as its template is plus the hash."""
    labels = dict((template_of(owner).get("metadata") or {}).get("labels") or {})
    labels[HASH_LABEL] = hash_
    return {
        "apiVersion": "apps/v1",
        "kind": "ControllerRevision",
        "metadata": {
            "name": revision_name(owner, hash_),
            "namespace": namespace_of(owner),
            "labels": labels,
            "ownerReferences": [controller_ref(owner)],
        },
        "data": template_patch(owner),
        "revision": number,
    }


def owned(owner: Mapping[str, Any], revisions: Iterable[Mapping[str, Any]]) -> list[Obj]:
    """The revisions `owner` controls, oldest revision first (SortControllerRevisions)."""
    mine = [r for r in controlled_by(revisions, owner) if not is_deleting(r)]
    return sorted(mine, key=lambda r: (revision_number(r), *creation_key(r)))


def next_number(history: Sequence[Mapping[str, Any]]) -> int:
    """NextRevision: one more than the highest revision (1 for none)."""
    return max((revision_number(r) for r in history), default=0) + 1


def equal_revisions(history: Sequence[Obj], wanted: Mapping[str, Any]) -> list[Obj]:
    """FindEqualRevisions: those with the same hash label and the same data."""
    hash_ = labels_of(wanted).get(HASH_LABEL)
    return [
        r
        for r in history
        if labels_of(r).get(HASH_LABEL) == hash_ and r.get("data") == wanted.get("data")
    ]


def sync_current(
    owner: Mapping[str, Any], history: Sequence[Obj]
) -> tuple[list[Action], Obj, list[Obj]]:
    """The revision of the owner's template: created when new (revision max+1), or the equal
    one re-numbered to max+1 when it is not the newest (a rollback). Returns the actions, the
    revision and the history as it will be."""
    hash_ = revision_hash(owner)
    number = next_number(history)
    wanted = new_revision(owner, hash_, number)
    equal = equal_revisions(history, wanted)
    if not equal:
        return [Create(wanted)], wanted, [*history, wanted]
    found = equal[-1]
    if revision_number(found) == number - 1:
        return [], found, list(history)
    bumped = unconditional(deep(found))
    bumped["revision"] = number
    rest = [r for r in history if name_of(r) != name_of(found)]
    return [Update(bumped)], bumped, [*rest, bumped]


def prune(owner: Mapping[str, Any], history: Sequence[Obj], live: Collection[str]) -> list[Action]:
    """cleanupHistory / truncateHistory: the oldest revisions no pod and no status names
    (`live`: revision names) go, until at most revisionHistoryLimit of them are left."""
    limit = (owner.get("spec") or {}).get("revisionHistoryLimit")
    limit = DEFAULT_HISTORY_LIMIT if limit is None else int(limit)
    dead = [r for r in history if name_of(r) not in live]
    doomed = dead[: max(len(dead) - limit, 0)]
    return [Delete(RESOURCE, namespace_of(owner), name_of(r)) for r in doomed]
