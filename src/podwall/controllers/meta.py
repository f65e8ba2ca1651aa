"""Object metadata helpers shared by the controllers: times, owner references, copies.

Mirrors `metav1.NewControllerRef`, `metav1.GetControllerOf` and `metav1.Time`'s JSON form
(k8s.io/apimachinery/pkg/apis/meta/v1). Pure: times are passed in, never read from a clock.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from podwall.controllers.actions import Obj

_RFC3339 = "%Y-%m-%dT%H:%M:%SZ"


def rfc3339(moment: datetime) -> str:
    """metav1.Time as JSON: RFC 3339 in UTC, whole seconds, `Z`."""
    return moment.astimezone(UTC).strftime(_RFC3339)


def rfc3339_micro(moment: datetime) -> str:
    """metav1.MicroTime as JSON (Event.eventTime): six fractional digits."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_time(text: str) -> datetime:
    """Read a metav1.Time or MicroTime string back."""
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def deep(obj: Mapping[str, Any]) -> Obj:
    """A deep copy the caller may change: reconcile functions never change their inputs."""
    return copy.deepcopy(dict(obj))


def meta(obj: Mapping[str, Any]) -> dict[str, Any]:
    """The object's metadata (an empty mapping when absent)."""
    value = obj.get("metadata")
    return value if isinstance(value, dict) else {}


def name_of(obj: Mapping[str, Any]) -> str:
    return str(meta(obj).get("name", ""))


def namespace_of(obj: Mapping[str, Any]) -> str:
    return str(meta(obj).get("namespace", ""))


def uid_of(obj: Mapping[str, Any]) -> str:
    return str(meta(obj).get("uid", ""))


def labels_of(obj: Mapping[str, Any]) -> dict[str, str]:
    return dict(meta(obj).get("labels") or {})


def annotations_of(obj: Mapping[str, Any]) -> dict[str, str]:
    return dict(meta(obj).get("annotations") or {})


def is_deleting(obj: Mapping[str, Any]) -> bool:
    """metadata.deletionTimestamp is set: the object is on its way out."""
    return bool(meta(obj).get("deletionTimestamp"))


def controller_ref(owner: Mapping[str, Any]) -> dict[str, Any]:
    """metav1.NewControllerRef: the reference a controller puts on what it creates."""
    return {
        "apiVersion": owner["apiVersion"],
        "kind": owner["kind"],
        "name": name_of(owner),
        "uid": uid_of(owner),
        "controller": True,
        "blockOwnerDeletion": True,
    }


def controller_uid(obj: Mapping[str, Any]) -> str | None:
    """metav1.GetControllerOf(obj).UID, or None for an orphan."""
    for ref in meta(obj).get("ownerReferences") or ():
        if ref.get("controller"):
            return str(ref.get("uid", ""))
    return None


def controlled_by(objects: Iterable[Mapping[str, Any]], owner: Mapping[str, Any]) -> list[Obj]:
    """The objects whose controller is `owner` (metav1.IsControlledBy), as copies."""
    uid = uid_of(owner)
    return [deep(obj) for obj in objects if controller_uid(obj) == uid]


def creation_key(obj: Mapping[str, Any]) -> tuple[str, str]:
    """controller.ReplicaSetsByCreationTimestamp: oldest first, names break ties."""
    return str(meta(obj).get("creationTimestamp", "")), name_of(obj)


def unconditional(obj: Obj) -> Obj:
    """Drop resourceVersion, so an update cannot conflict (a PUT without one upstream)."""
    meta(obj).pop("resourceVersion", None)
    return obj
