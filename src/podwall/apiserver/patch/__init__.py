"""PATCH bodies, applied as the Kubernetes API server applies them (kubectl-api.md §6).

`apply_patch(obj, body, content_type, kind)` dispatches on the Content-Type, as
`handlers.PatchResource` does, to one pure algorithm:

| Content-Type                            | sent by                                | module      |
|-----------------------------------------|----------------------------------------|-------------|
| application/json-patch+json (RFC 6902)  | `patch --type=json`                    | `jsonpatch` |
| application/merge-patch+json (RFC 7386) | `label`, `annotate`, `scale`           | `merge`     |
| application/strategic-merge-patch+json  | `apply`, `edit`, `set`, `rollout`      | `strategic` |
| application/apply-patch+yaml            | `apply --server-side`                  | `apply`     |

Failures raise `PatchError` with the code, reason and message the API server would answer
(`PatchError.status()` is the metav1.Status body). What stays with the caller: reading the
live object, keeping `status` on the main resource and `spec` on `/status`, checking that the
name and namespace did not change, validation, resourceVersion and generation, and storing.
Pure: no I/O here.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import yaml

from podwall.apiserver.patch.apply import server_side_apply
from podwall.apiserver.patch.errors import (
    PatchError,
    bad_request,
    decode_json,
    invalid_patch,
    unsupported_media_type,
)
from podwall.apiserver.patch.jsonpatch import apply_json_patch
from podwall.apiserver.patch.merge import merge_patch
from podwall.apiserver.patch.schema import struct_for
from podwall.apiserver.patch.strategic import strategic_merge_patch
from podwall.model.jsonkinds import go_json_type

JSON_PATCH = "application/json-patch+json"
MERGE_PATCH = "application/merge-patch+json"
STRATEGIC_MERGE_PATCH = "application/strategic-merge-patch+json"
APPLY_PATCH = "application/apply-patch+yaml"

__all__ = [
    "APPLY_PATCH",
    "JSON_PATCH",
    "MERGE_PATCH",
    "STRATEGIC_MERGE_PATCH",
    "PatchError",
    "apply_patch",
    "media_type",
    "supported_patch_types",
]

ERR_BAD_JSON_PATCH = "Invalid JSON Patch"  # evanphx/json-patch ErrBadJSONPatch


class _YAMLLoader(yaml.SafeLoader):
    """SafeLoader that leaves timestamps as strings, as sigs.k8s.io/yaml does for untyped maps."""


_YAMLLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def supported_patch_types(kind: str) -> tuple[str, ...]:
    """The patch types the installer registers for a kind (endpoints/installer.go order).

    Strategic merge patch needs Go struct tags, so kinds without a field table (CRDs) lack it.
    """
    if struct_for(kind) is None:
        return (JSON_PATCH, MERGE_PATCH, APPLY_PATCH)
    return (JSON_PATCH, MERGE_PATCH, STRATEGIC_MERGE_PATCH, APPLY_PATCH)


def media_type(content_type: str) -> str:
    """The Content-Type without parameters ("; charset=utf-8"), as PatchResource cuts it."""
    return content_type.split(";", 1)[0].strip().lower()


def apply_patch(
    obj: Mapping[str, Any] | None,
    patch_body: bytes | str,
    content_type: str,
    kind: str,
    *,
    last_applied: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The object after applying `patch_body` to `obj`.

    `obj` is None when the object does not exist: server-side apply then creates it, and the
    caller answers 201; for the other types the API server answers 404 NotFound, which is the
    caller's to send (here they patch an empty object). `last_applied` is the configuration the
    same field manager applied before (server-side apply only; see `apply.py`).
    """
    patch_type = media_type(content_type)
    accepted = supported_patch_types(kind)
    if patch_type not in accepted:
        raise unsupported_media_type(accepted)
    if patch_type == APPLY_PATCH:
        return server_side_apply(obj, _decode_apply(patch_body), kind, last_applied)
    live = dict(obj) if obj is not None else {}
    if patch_type == JSON_PATCH:
        return _as_object(apply_json_patch(live, decode_json(patch_body)))
    if patch_type == MERGE_PATCH:
        return _apply_merge_patch(live, patch_body)
    return _apply_strategic(live, patch_body, kind)


def _apply_merge_patch(live: dict[str, Any], body: bytes | str) -> dict[str, Any]:
    """jsonPatcher.applyJSPatch, MergePatchType: jsonpatch.MergePatch on the object."""
    try:
        patch = decode_json(body)
    except PatchError:
        raise bad_request(ERR_BAD_JSON_PATCH) from None
    if isinstance(patch, list):
        return _as_object(patch)
    if not isinstance(patch, dict):
        raise bad_request(ERR_BAD_JSON_PATCH)
    result: dict[str, Any] = merge_patch(live, patch)
    return result


def _apply_strategic(live: dict[str, Any], body: bytes | str, kind: str) -> dict[str, Any]:
    """strategicPatchObject: decode the patch as a JSON object, then StrategicMergeMapPatch."""
    patch = decode_json(body)
    if not isinstance(patch, dict):
        raise bad_request(_unmarshal_message(patch))
    struct = struct_for(kind)
    assert struct is not None  # supported_patch_types lists SMP only for kinds with a table
    return strategic_merge_patch(live, patch, struct)


def _decode_apply(body: bytes | str) -> dict[str, Any]:
    """applyPatcher: yaml.Unmarshal into a map (kubectl sends JSON text, which is YAML too)."""
    try:
        config = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        try:
            config = yaml.load(body, Loader=_YAMLLoader)  # a SafeLoader subclass
        except yaml.YAMLError as exc:
            raise bad_request(f"error decoding YAML: {exc}") from None
    if not isinstance(config, dict):
        raise bad_request(f"error decoding YAML: {_unmarshal_message(config)}")
    return config


def _as_object(result: Any) -> dict[str, Any]:
    """runtime.DecodeInto of the patched document: anything but an object is a 422 Invalid."""
    if not isinstance(result, dict):
        patched = json.dumps(result, separators=(",", ":"))
        raise invalid_patch(patched, _unmarshal_message(result))
    return result


def _unmarshal_message(value: Any) -> str:
    return (
        f"json: cannot unmarshal {go_json_type(value)} into Go value of type "
        "map[string]interface {}"
    )
