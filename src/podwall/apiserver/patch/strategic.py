"""Strategic merge patch (`application/strategic-merge-patch+json`), server side.

kubectl sends one for `apply` (an update), `edit`, `set image` and `rollout restart` on every
built-in kind (kubectl-api.md §6.1-6.2). This module applies it as the API server does: a port
of apimachinery `pkg/util/strategicpatch/patch.go`, `StrategicMergeMapPatch` and the functions
it calls, with Go struct tags replaced by the table in `schema.py`. Each function names the
upstream function it mirrors.

Semantics, as upstream:

* maps merge recursively; a null value deletes its key;
* a list whose field has `patchStrategy: merge` merges element by element on its merge key (a
  list of primitives merges as a set); every other list is replaced by the patch's;
* `$patch: replace|delete` in a map replaces it, or empties it; in a merged list,
  `{"$patch": "delete", key: v}` removes that element and `{"$patch": "replace"}` makes the
  patch's elements the whole list; `$patch: merge` in a list is refused;
* `$setElementOrder/<field>` gives the final order; `$deleteFromPrimitiveList/<field>` removes
  values from a merged list of primitives; `$retainKeys` clears the keys it does not list;
* merged lists put patch elements in patch order and interleave elements only the live object
  has by their live order (`normalizeElementOrder` / `mergeSortedSlice`): a new element that no
  `$setElementOrder` places lands before the live ones.

Deliberate differences, where upstream relies on the typed decode that follows it:

* a field podwall has no metadata for merges with the defaults instead of failing with "unable
  to find api field";
* a value inserted where the live object has nothing (a new key, a new list element, a list
  replaced whole, a value of another type) is merged into an empty value first, so nulls and
  directives inside it never reach the stored object (upstream stores them verbatim and lets
  the typed decode drop them);
* `$deleteFromPrimitiveList/<field>` on a missing field does nothing (upstream would create the
  field holding the values to delete);
* elements that no order list places keep their relative order after the placed ones (Go's
  comparator is not a strict weak order there, so its result depends on the sort algorithm).

Errors carry the HTTP answer `interpretStrategicMergePatchError` gives them: the mergepatch
format errors are 400, lists of lists 422, anything else a 500 with the Go error text.
Pure: no I/O here.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from typing import Any

from podwall.apiserver.patch.errors import (
    PatchError,
    bad_request,
    go_value,
    internal,
    unprocessable,
)
from podwall.apiserver.patch.schema import MERGE, REPLACE, Field, Struct, child
from podwall.model.jsonkinds import go_kind

DIRECTIVE_MARKER = "$patch"
DELETE_DIRECTIVE = "delete"
REPLACE_DIRECTIVE = "replace"
MERGE_DIRECTIVE = "merge"
RETAIN_KEYS_DIRECTIVE = "$retainKeys"
DELETE_FROM_PRIMITIVE_LIST_PREFIX = "$deleteFromPrimitiveList"
SET_ELEMENT_ORDER_PREFIX = "$setElementOrder"

# mergepatch sentinel errors (k8s.io/apimachinery/pkg/util/mergepatch/errors.go)
ERR_NO_LIST_OF_LISTS = "lists of lists are not supported"
ERR_BAD_PATCH_FORMAT_FOR_PRIMITIVE_LIST = "invalid patch format of primitive list"
ERR_BAD_PATCH_FORMAT_FOR_RETAIN_KEYS = "invalid patch format of retainKeys"
ERR_BAD_PATCH_FORMAT_FOR_SET_ELEMENT_ORDER_LIST = "invalid patch format of setElementOrder list"

JSONMap = dict[str, Any]


def strategic_merge_patch(
    original: Mapping[str, Any], patch: Mapping[str, Any], struct: Struct
) -> JSONMap:
    """StrategicMergeMapPatch: apply `patch` to `original` (neither is modified).

    MergeParallelList and IgnoreUnmatchedNulls are both on, as on the server.
    """
    return _merge_map(copy.deepcopy(dict(original)), copy.deepcopy(dict(patch)), struct)


# ---- maps ----------------------------------------------------------------------------------


def _merge_map(original: JSONMap | None, patch: JSONMap, struct: Struct) -> JSONMap:
    """mergeMap: merge `patch` into `original`, which it may modify and returns."""
    if DIRECTIVE_MARKER in patch:
        return _directive_in_merge_map(patch[DIRECTIVE_MARKER], patch, struct)
    if original is None:
        original = {}
    _apply_retain_keys_directive(original, patch)
    _merge_patch_into_original(original, patch, struct)
    for key, value in patch.items():
        is_delete_list = key.startswith(DELETE_FROM_PRIMITIVE_LIST_PREFIX)
        if is_delete_list:
            key = _extract_key(key, DELETE_FROM_PRIMITIVE_LIST_PREFIX)
        if value is None:
            original.pop(key, None)
            continue
        if key not in original:
            if not is_delete_list:
                original[key] = _fresh(value, child(struct, key))
            continue
        original[key] = _merge_value(original[key], value, child(struct, key), is_delete_list)
    return original


def _merge_value(current: Any, value: Any, field: Field, is_delete_list: bool) -> Any:
    """The type switch at the end of mergeMap's loop."""
    if isinstance(current, dict) and isinstance(value, dict):
        return _merge_map_handler(current, value, field)
    if isinstance(current, list) and isinstance(value, list):
        return _merge_slice_handler(current, value, field, is_delete_list)
    return _fresh(value, field)


def _directive_in_merge_map(directive: Any, patch: JSONMap, struct: Struct) -> JSONMap:
    """handleDirectiveInMergeMap: `$patch: replace` keeps the patch, `$patch: delete` empties."""
    if directive == REPLACE_DIRECTIVE:
        del patch[DIRECTIVE_MARKER]
        return _merge_map({}, patch, struct)
    if directive == DELETE_DIRECTIVE:
        return {}
    raise _bad_patch_type(directive, patch)


def _merge_map_handler(original: JSONMap, patch: JSONMap, field: Field) -> JSONMap:
    """mergeMapHandler: the `replace` strategy takes the patch, any other merges."""
    if field.patch_strategy == REPLACE:
        return _fresh_map(patch, field)
    return _merge_map(original, patch, field.struct)


def _apply_retain_keys_directive(original: JSONMap, patch: JSONMap) -> None:
    """applyRetainKeysDirective: drop the keys of `original` that `$retainKeys` does not list."""
    if RETAIN_KEYS_DIRECTIVE not in patch:
        return
    retain = patch.pop(RETAIN_KEYS_DIRECTIVE)
    if not isinstance(retain, list) or not all(isinstance(k, str) for k in retain):
        raise bad_request(ERR_BAD_PATCH_FORMAT_FOR_RETAIN_KEYS)
    kept = set(retain)
    for key, value in patch.items():
        if value is None or key.startswith(
            (DELETE_FROM_PRIMITIVE_LIST_PREFIX, SET_ELEMENT_ORDER_PREFIX)
        ):
            continue
        if key not in kept:
            raise bad_request(ERR_BAD_PATCH_FORMAT_FOR_RETAIN_KEYS)
    for key in [k for k in original if k not in kept]:
        del original[key]


def _extract_key(key: str, prefix: str) -> str:
    """extractKey: the field name after "<prefix>/"."""
    head, sep, rest = key.partition("/")
    if not sep or head != prefix:
        if prefix == DELETE_FROM_PRIMITIVE_LIST_PREFIX:
            raise bad_request(ERR_BAD_PATCH_FORMAT_FOR_PRIMITIVE_LIST)
        raise bad_request(ERR_BAD_PATCH_FORMAT_FOR_SET_ELEMENT_ORDER_LIST)
    return rest


# ---- $setElementOrder ----------------------------------------------------------------------


def _merge_patch_into_original(original: JSONMap, patch: JSONMap, struct: Struct) -> None:
    """mergePatchIntoOriginal: merge each list named by a `$setElementOrder/<field>` directive
    and order it: $setElementOrder first, then the patch list, then the live list."""
    for key in [k for k in patch if k.startswith(SET_ELEMENT_ORDER_PREFIX)]:
        order = patch.pop(key)
        if not isinstance(order, list):
            raise _bad_arg_type("[]interface {}", order)
        name = _extract_key(key, SET_ELEMENT_ORDER_PREFIX)
        field = child(struct, name)
        live = _list_or_none(original, name)
        patch_list = _list_or_none(patch, name)
        _validate_patch_with_set_order_list(patch_list or [], order, field.merge_key)
        merged = _merge_for_order(live, patch_list, field)
        if merged is None:
            continue
        original[name] = _order_by(merged, order, live or [], field.merge_key)
        patch.pop(name, None)


def _list_or_none(doc: JSONMap, name: str) -> list[Any] | None:
    """The list under `name`, None when absent; anything else is ErrBadArgType."""
    if name not in doc:
        return None
    value = doc[name]
    if not isinstance(value, list):
        raise _bad_arg_type("[]interface {}", value)
    return value


def _merge_for_order(
    live: list[Any] | None, patch_list: list[Any] | None, field: Field
) -> list[Any] | None:
    """The four cases of mergePatchIntoOriginal: reorder, add, merge, or nothing to do."""
    if patch_list is None:
        return live
    if live is None:
        return _fresh_list(patch_list, field)
    return _merge_slice_handler(live, patch_list, field, False)


def _order_by(merged: list[Any], order: list[Any], live: list[Any], merge_key: str) -> list[Any]:
    """Partition `merged` by presence in the order list, then normalizeElementOrder."""
    if not merged:
        return merged
    kind = _slice_element_kind(live, merged)
    placed, server_only = _partition(merged, order, merge_key)
    return _normalize_element_order(placed, server_only, order, live, merge_key, kind)


def _validate_patch_with_set_order_list(
    patch_list: list[Any], order: list[Any], merge_key: str
) -> None:
    """validatePatchWithSetOrderList: the patch list, deletions aside, is a subsequence of the
    `$setElementOrder` list."""
    if not order or not patch_list:
        return
    kept = _extract_to_delete_items(patch_list)[0] if merge_key else patch_list
    p = s = 0
    while p < len(kept) and s < len(order):
        if _contains_directive_marker(kept[p]):
            p += 1
            continue
        if _merge_key_value_equal(kept[p], order[s], merge_key):
            p += 1
        s += 1
    if p < len(kept) and s >= len(order):
        raise internal(
            f"The order in patch list:\n{go_value(patch_list)}\n doesn't match "
            f"{SET_ELEMENT_ORDER_PREFIX} list:\n{go_value(order)}\n"
        )


def _contains_directive_marker(item: Any) -> bool:
    """containsDirectiveMarker."""
    return isinstance(item, dict) and DIRECTIVE_MARKER in item


def _merge_key_value_equal(left: Any, right: Any, merge_key: str) -> bool:
    """mergeKeyValueEqual."""
    if not merge_key:
        return _same(left, right)
    for item in (left, right):
        if not isinstance(item, dict):
            raise _bad_arg_type("map[string]interface {}", item)
        if merge_key not in item:
            raise _no_merge_key(item, merge_key)
    return _same(left[merge_key], right[merge_key])


# ---- lists ---------------------------------------------------------------------------------


def _merge_slice_handler(
    original: list[Any], patch: list[Any], field: Field, is_delete_list: bool
) -> list[Any]:
    """mergeSliceHandler: the merge strategy merges, any other takes the patch's list."""
    if field.patch_strategy == MERGE:
        return _merge_slice(original, patch, field, is_delete_list)
    return _fresh_list(patch, field)


def _merge_slice(
    original: list[Any], patch: list[Any], field: Field, is_delete_list: bool
) -> list[Any]:
    """mergeSlice: merge two lists of primitives as sets, or two lists of maps on the merge key."""
    if not original and not patch:
        return original
    kind = _slice_element_kind(original, patch)
    merge_key = field.merge_key
    if kind != "map":
        if is_delete_list:
            return _delete_from_slice(original, patch)
        merged = _deduplicate_scalars(original + patch)
        merge_key = ""
    else:
        if not merge_key:
            raise internal("cannot merge lists without merge key for type struct")
        original, patch = _merge_slice_with_special_elements(
            original, patch, merge_key, field.struct
        )
        merged = _merge_slice_without_special_elements(original, patch, merge_key, field.struct)
    placed, server_only = _partition(merged, patch, merge_key)
    return _normalize_element_order(placed, server_only, patch, original, merge_key, kind)


def _merge_slice_with_special_elements(
    original: list[Any], patch: list[Any], merge_key: str, struct: Struct
) -> tuple[list[Any], list[Any]]:
    """mergeSliceWithSpecialElements: apply `$patch: delete` elements to `original` and drop the
    directives from `patch`; `$patch: replace` makes the rest of the patch the whole list."""
    plain: list[Any] = []
    replace = False
    for item in patch:
        if DIRECTIVE_MARKER not in item:
            plain.append(item)
            continue
        directive = item[DIRECTIVE_MARKER]
        if directive == DELETE_DIRECTIVE:
            if merge_key not in item:
                raise _no_merge_key(item, merge_key)
            original = [o for o in original if not _key_matches(o, merge_key, item[merge_key])]
        elif directive == REPLACE_DIRECTIVE:
            replace = True
        elif directive == MERGE_DIRECTIVE:
            raise internal("merging lists cannot yet be specified in the patch")
        else:
            raise _bad_patch_type(directive, item)
    if replace:
        return [_merge_map({}, item, struct) for item in plain], []
    return original, plain


def _merge_slice_without_special_elements(
    original: list[Any], patch: list[Any], merge_key: str, struct: Struct
) -> list[Any]:
    """mergeSliceWithoutSpecialElements: merge each patch element into the live element with the
    same merge key, or append it."""
    merged = list(original)
    for item in patch:
        if merge_key not in item:
            raise _no_merge_key(item, merge_key)
        index = _find_map_in_slice(merged, merge_key, item[merge_key])
        if index is None:
            merged.append(_merge_map({}, item, struct))
        else:
            merged[index] = _merge_map(merged[index], item, struct)
    return merged


def _find_map_in_slice(items: list[Any], merge_key: str, value: Any) -> int | None:
    """findMapInSliceBasedOnKeyValue: the index of the first map whose merge key equals value."""
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            raise internal(f"value for key {index} is not a map.")
        if _key_matches(item, merge_key, value):
            return index
    return None


def _key_matches(item: Any, merge_key: str, value: Any) -> bool:
    return isinstance(item, dict) and merge_key in item and _same(item[merge_key], value)


def _delete_from_slice(current: list[Any], to_delete: list[Any]) -> list[Any]:
    """deleteFromSlice: `$deleteFromPrimitiveList`."""
    return [v for v in current if not any(_same(v, d) for d in to_delete)]


def _deduplicate_scalars(items: list[Any]) -> list[Any]:
    """deduplicateScalars (first occurrence kept; the order is normalized afterwards anyway)."""
    out: list[Any] = []
    for item in items:
        if not any(_same(item, seen) for seen in out):
            out.append(item)
    return out


def _partition(
    items: list[Any], partition_by: list[Any], merge_key: str
) -> tuple[list[Any], list[Any]]:
    """partitionMapsByPresentInList / partitionPrimitivesByPresentInList: (present, absent)."""
    present: list[Any] = []
    absent: list[Any] = []
    for item in items:
        if merge_key:
            if not isinstance(item, dict):
                raise _bad_arg_type("map[string]interface {}", item)
            if merge_key not in item:
                raise _no_merge_key(item, merge_key)
            found = _find_map_in_slice(partition_by, merge_key, item[merge_key]) is not None
        else:
            found = any(_same(item, other) for other in partition_by)
        (present if found else absent).append(item)
    return present, absent


# ---- order ---------------------------------------------------------------------------------


def _normalize_element_order(
    patch: list[Any],
    server_only: list[Any],
    patch_order: list[Any],
    server_order: list[Any],
    merge_key: str,
    kind: str,
) -> list[Any]:
    """normalizeElementOrder: sort patch elements by the patch order and server-only elements by
    the live order, then interleave them (mergeSortedSlice)."""
    patch = _normalize_slice_order(patch, patch_order, merge_key, kind)
    server_only = _normalize_slice_order(server_only, server_order, merge_key, kind)
    return merge_sorted_slice(
        server_only, patch, lambda item: _index(server_order, item, merge_key, kind)
    )


def _normalize_slice_order(
    to_sort: list[Any], order: list[Any], merge_key: str, kind: str
) -> list[Any]:
    """normalizeSliceOrder: a stable sort by position in `order`; `$patch: delete` maps last."""
    to_delete: list[Any] = []
    if kind == "map":
        _validate_merge_key_in_lists(merge_key, to_sort, order)
        to_sort, to_delete = _extract_to_delete_items(to_sort)
    positions = [_index(order, item, merge_key, kind) for item in to_sort]
    ranked = sorted(range(len(to_sort)), key=lambda i: (positions[i] < 0, positions[i]))
    return [to_sort[i] for i in ranked] + to_delete


def merge_sorted_slice(
    left: list[Any], right: list[Any], position: Callable[[Any], int]
) -> list[Any]:
    """mergeSortedSlice: interleave live-only elements (left) with patch elements (right); a
    left element goes first only when both are in the live list (`position` >= 0, else -1)
    and it comes earlier there."""
    out: list[Any] = []
    i = j = 0
    while i < len(left) or j < len(right):
        if j >= len(right) or (i < len(left) and 0 <= position(left[i]) < position(right[j])):
            out.append(left[i])
            i += 1
        else:
            out.append(right[j])
            j += 1
    return out


def _index(items: list[Any], value: Any, merge_key: str, kind: str) -> int:
    """index: the position of `value` in `items` (by merge key for maps), or -1."""

    def key_of(item: Any) -> Any:
        if kind != "map":
            return item
        return item.get(merge_key) if isinstance(item, dict) else None

    wanted = key_of(value)
    for position, item in enumerate(items):
        if _same(key_of(item), wanted):
            return position
    return -1


def _extract_to_delete_items(items: list[Any]) -> tuple[list[Any], list[Any]]:
    """extractToDeleteItems: (elements to keep, `$patch: delete` elements)."""
    keep: list[Any] = []
    delete: list[Any] = []
    for item in items:
        if not isinstance(item, dict):
            raise _bad_arg_type("map[string]interface {}", item)
        is_delete = item.get(DIRECTIVE_MARKER) == DELETE_DIRECTIVE
        (delete if is_delete else keep).append(item)
    return keep, delete


def _validate_merge_key_in_lists(merge_key: str, *lists: list[Any]) -> None:
    """validateMergeKeyInLists: every element is a map holding the merge key."""
    for items in lists:
        for item in items:
            if not isinstance(item, dict):
                raise _bad_arg_type("map[string]interface {}", item)
            if merge_key not in item:
                raise _no_merge_key(item, merge_key)


# ---- values --------------------------------------------------------------------------------


def _fresh(value: Any, field: Field) -> Any:
    """A patch value stored where the live object has nothing to merge it with: merged into an
    empty value, so its nulls and directives are applied rather than stored."""
    if isinstance(value, dict):
        return _fresh_map(value, field)
    if isinstance(value, list):
        return _fresh_list(value, field)
    return value


def _fresh_map(value: JSONMap, field: Field) -> JSONMap:
    return _merge_map({}, value, field.struct)


def _fresh_list(value: list[Any], field: Field) -> list[Any]:
    if field.patch_strategy == MERGE and value:
        return _merge_slice([], value, field, False)
    return [_fresh_map(v, field) if isinstance(v, dict) else v for v in value]


def _slice_element_kind(*lists: list[Any]) -> str:
    """sliceElementType: the one JSON type of every element ("map", "string", "number", ...)."""
    kinds = {go_kind(v) for items in lists for v in items}
    if "list" in kinds:
        raise unprocessable(ERR_NO_LIST_OF_LISTS)
    if len(kinds) > 1:
        raise internal(f"list element types are not identical: {go_value(list(lists))}")
    if not kinds:
        raise internal("no elements in any of the given slices")
    return kinds.pop()


def _same(a: Any, b: Any) -> bool:
    """Go's interface equality on decoded JSON scalars: same type and same value."""
    return go_kind(a) == go_kind(b) and a == b


# ---- errors --------------------------------------------------------------------------------


def _no_merge_key(item: Mapping[str, Any], merge_key: str) -> PatchError:
    """mergepatch.ErrNoMergeKey."""
    return internal(f"map: {go_value(item)} does not contain declared merge key: {merge_key}")


def _bad_patch_type(directive: Any, item: Mapping[str, Any]) -> PatchError:
    """mergepatch.ErrBadPatchType."""
    return internal(f"unknown patch type: {go_value(directive)} in map: {go_value(item)}")


def _bad_arg_type(expected: str, actual: Any) -> PatchError:
    """mergepatch.ErrBadArgType."""
    return internal(f"expected a {expected}, but received a {_go_type(actual)}")


def _go_type(value: Any) -> str:
    return {
        "map": "map[string]interface {}",
        "list": "[]interface {}",
        "nil": "<nil>",
    }.get(go_kind(value), go_kind(value))
