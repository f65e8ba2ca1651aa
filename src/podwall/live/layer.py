"""Manifests layered on a cluster's objects: what the cluster would be after `kubectl apply`.

An object of the files replaces the cluster's object of the same kind, namespace and name.
A workload the files declare stands for its pods as they would be re-created, so the
cluster's pods it owns (directly, or through a ReplicaSet or Job it owns) are left out, and
with them those ReplicaSets and Jobs. Pure: no I/O here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from podwall.manifests.reader import Loaded
from podwall.model.rawobject import RawObject

Key = tuple[str, str, str]  # kind, namespace ("" for a Namespace), name


@dataclass(frozen=True, kw_only=True)
class Layered:
    loaded: Loaded
    replaced: list[str] = field(default_factory=list)  # cluster objects the files replace


def layer(cluster: Loaded, files: Loaded) -> Layered:
    declared = {_key(o) for o in files.objects}
    owners = {_key(o): _controller(o) for o in cluster.objects}
    kept: list[RawObject] = []
    replaced: list[str] = []
    for obj in cluster.objects:
        if _key(obj) in declared:
            replaced.append(obj.describe())
        elif not _owned_by(_key(obj), owners, declared):
            kept.append(obj)
    loaded = Loaded(
        objects=[*kept, *files.objects],
        texts={**cluster.texts, **files.texts},
        empty_directories=files.empty_directories,
    )
    return Layered(loaded=loaded, replaced=replaced)


def _key(obj: RawObject) -> Key:
    return obj.kind, "" if obj.kind == "Namespace" else obj.namespace, obj.name


def _controller(obj: RawObject) -> Key | None:
    meta = obj.body.get("metadata")
    refs: Iterable[Any] = meta.get("ownerReferences") or () if isinstance(meta, Mapping) else ()
    for ref in refs:
        if isinstance(ref, Mapping) and ref.get("controller"):
            return str(ref.get("kind")), obj.namespace, str(ref.get("name"))
    return None


def _owned_by(key: Key, owners: Mapping[Key, Key | None], declared: set[Key]) -> bool:
    """Whether a declared workload controls `key`, directly or through its owner (two levels:
    Pod <- ReplicaSet <- Deployment, Pod <- Job <- CronJob)."""
    owner = owners.get(key)
    for _ in range(2):
        if owner is None:
            return False
        if owner in declared:
            return True
        owner = owners.get(owner)
    return False
