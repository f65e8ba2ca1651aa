"""Server-side apply, simplified (`application/apply-patch+yaml`): kubectl-api.md §6.3.

`kubectl apply --server-side` sends the whole manifest (as JSON text) with `fieldManager=kubectl`.
The real API server tracks, per field, which manager set it (`metadata.managedFields`), refuses
to change a field another manager owns with a 409 Conflict unless `force=true`, and removes a
field when the last manager that applied it stops applying it.

What podwall does instead:

* no managedFields and no ownership: every apply wins, so there is never a 409 Conflict, and
  `metadata.managedFields` is neither written nor read (kubectl 1.32 hides it anyway);
* merge, never delete: the applied configuration is merged into the live object; fields it
  leaves out keep their live values;
* optional removal: given the configuration this manager applied last time (`last_applied`,
  which the caller keeps per object and field manager), fields that were in it and are no
  longer applied are removed, whoever else may have set them since;
* list semantics come from the SSA list types in `schema.py` (`+listType=map` merges elements by
  their `+listMapKey`s, with `protocol` defaulting to TCP; `+listType=set` is a union; atomic
  and untyped lists, and `+mapType/structType=atomic` values, are replaced whole); merged lists
  are ordered as a strategic merge patch orders them (applied elements in applied order, live
  elements interleaved by their live order);
* nulls in the applied configuration set nothing (they are dropped before merging);
* no defaulting, no conversion, no validation here: the caller validates the result.

Pure: no I/O here.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from typing import Any

from podwall.apiserver.patch.errors import bad_request
from podwall.apiserver.patch.schema import OBJECT_META, Field, Struct, child, nested, struct_for
from podwall.apiserver.patch.strategic import merge_sorted_slice

JSONMap = dict[str, Any]
LIST_MAP_KEY_DEFAULTS: Mapping[str, Any] = {"protocol": "TCP"}  # +default="TCP" on ports
GENERIC: Struct = {"metadata": nested(OBJECT_META)}


def server_side_apply(
    live: Mapping[str, Any] | None,
    applied: Mapping[str, Any],
    kind: str,
    last_applied: Mapping[str, Any] | None = None,
) -> JSONMap:
    """FieldManager.Apply, simplified: the object after applying `applied` to `live`.

    `live` is None when the object does not exist yet (the caller answers 201 then).
    """
    metadata = applied.get("metadata")
    if isinstance(metadata, Mapping) and metadata.get("managedFields") is not None:
        raise bad_request("metadata.managedFields must be nil")
    struct = struct_for(kind) or GENERIC
    config = _prune_map(applied)
    if live is None:
        return config
    result = copy.deepcopy(dict(live))
    if last_applied is not None:
        _remove_dropped(result, _prune_map(last_applied), config, struct)
    return _apply_map(result, config, struct)


def _prune_map(value: Mapping[str, Any]) -> JSONMap:
    """A deep copy without null object members."""
    return {k: _prune_nulls(v) for k, v in value.items() if v is not None}


def _prune_nulls(value: Any) -> Any:
    if isinstance(value, Mapping):
        return _prune_map(value)
    if isinstance(value, list):
        return [_prune_nulls(v) for v in value]
    return value


# ---- merging -------------------------------------------------------------------------------


def _apply_map(live: JSONMap, config: Mapping[str, Any], struct: Struct) -> JSONMap:
    """Merge each applied field into the live map."""
    for key, value in config.items():
        live[key] = _apply_value(live.get(key), value, child(struct, key))
    return live


def _apply_value(live: Any, value: Any, field: Field) -> Any:
    """One applied value over one live value, by the field's SSA type."""
    if field.atomic or live is None:
        return copy.deepcopy(value)
    if isinstance(live, dict) and isinstance(value, dict):
        return _apply_map(live, value, field.struct)
    if isinstance(live, list) and isinstance(value, list):
        if field.list_type == "map" and _all_maps(live) and _all_maps(value):
            return _apply_associative(live, value, field)
        if field.list_type == "set":
            return _merge_ordered(live, [v for v in value if not _contains(live, v)], value, _same)
    return copy.deepcopy(value)


def _apply_associative(live: list[Any], config: list[Any], field: Field) -> list[Any]:
    """+listType=map: merge elements with the same key tuple, add the others."""
    keys = field.list_map_keys
    merged_live = list(live)
    added: list[Any] = []
    for item in config:
        index = _find(merged_live, item, keys)
        if index is None:
            added.append(copy.deepcopy(item))
        elif field.atomic_elements:
            merged_live[index] = copy.deepcopy(item)
        else:
            merged_live[index] = _apply_map(merged_live[index], item, field.struct)
    return _merge_ordered(merged_live, added, config, lambda a, b: _key(a, keys) == _key(b, keys))


def _merge_ordered(
    live: list[Any], added: list[Any], config: list[Any], same: Callable[[Any, Any], bool]
) -> list[Any]:
    """Strategic-merge-patch order: elements the configuration names, in its order, with the
    live-only elements interleaved by live position (strategicpatch.normalizeElementOrder)."""
    everything = live + added
    named = [e for e in everything if any(same(e, c) for c in config)]
    named.sort(key=lambda e: next(i for i, c in enumerate(config) if same(e, c)))
    live_only = [e for e in live if not any(same(e, c) for c in config)]

    def position(element: Any) -> int:
        return next((i for i, e in enumerate(live) if same(e, element)), -1)

    return merge_sorted_slice(live_only, named, position)


# ---- removing what this manager stopped applying -------------------------------------------


def _remove_dropped(
    live: JSONMap, previous: Mapping[str, Any], config: Mapping[str, Any], struct: Struct
) -> None:
    """Remove from `live` the fields `previous` applied and `config` no longer applies."""
    for key, before in previous.items():
        if key not in config:
            live.pop(key, None)
        elif key in live:
            _remove_dropped_value(live[key], before, config[key], child(struct, key))


def _remove_dropped_value(live: Any, before: Any, now: Any, field: Field) -> None:
    if field.atomic:
        return
    if isinstance(live, dict) and isinstance(before, dict) and isinstance(now, dict):
        _remove_dropped(live, before, now, field.struct)
    elif isinstance(live, list) and isinstance(before, list) and isinstance(now, list):
        if field.list_type == "map" and _all_maps(live) and _all_maps(before) and _all_maps(now):
            _remove_dropped_elements(live, before, now, field)
        elif field.list_type == "set":
            gone = [v for v in before if not _contains(now, v)]
            live[:] = [v for v in live if not _contains(gone, v)]


def _remove_dropped_elements(
    live: list[Any], before: list[Any], now: list[Any], field: Field
) -> None:
    keys = field.list_map_keys
    for item in before:
        index = _find(live, item, keys)
        if index is None:
            continue
        still = _find(now, item, keys)
        if still is None:
            del live[index]
        else:
            _remove_dropped(live[index], item, now[still], field.struct)


# ---- helpers -------------------------------------------------------------------------------


def _key(item: Mapping[str, Any], keys: tuple[str, ...]) -> tuple[Any, ...]:
    return tuple(item.get(k, LIST_MAP_KEY_DEFAULTS.get(k)) for k in keys)


def _find(items: list[Any], item: Mapping[str, Any], keys: tuple[str, ...]) -> int | None:
    wanted = _key(item, keys)
    return next((i for i, e in enumerate(items) if _key(e, keys) == wanted), None)


def _all_maps(items: list[Any]) -> bool:
    return all(isinstance(i, dict) for i in items)


def _same(a: Any, b: Any) -> bool:
    return type(a) is type(b) and a == b


def _contains(items: list[Any], value: Any) -> bool:
    return any(_same(value, i) for i in items)
