"""JSON patch, RFC 6902 (`application/json-patch+json`), with RFC 6901 JSON pointers.

`kubectl patch --type=json` sends one. The API server applies it with evanphx/json-patch v4
(`gopkg.in/evanphx/json-patch.v4`, `patch.go`); the error messages below are that library's,
since they reach the client as the cause of a 422 (see `errors.unprocessable`).

Where v4 departs from the RFC, podwall follows v4, because that is what kubectl talks to:

* `replace` of a missing object member adds it (v4's object `get` never fails);
* array indices may be negative for `add` and `remove` (counted from the end);
* an `add` without `value` adds null;
* the whole-document pointer "" is refused ("doc is missing path").

Where v4 has plain bugs, podwall follows the RFC: `test` compares objects in both directions
(RFC 6902 §4.6; v4 only checks the expected members), and a pointer must start with "/".
Pure: no I/O here.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from typing import Any

from podwall.apiserver.patch.errors import PatchError, bad_request, unprocessable
from podwall.model.jsonkinds import go_json_type

_MISSING: Any = object()  # an absent member, distinct from a JSON null
_INDEX = re.compile(r"[+-]?[0-9]+")


class _OpError(Exception):
    """A failed operation; the message is evanphx/json-patch v4's error string."""


def apply_json_patch(doc: Any, operations: Any) -> Any:
    """Patch.Apply: run the operations in order on a copy of `doc`.

    `operations` is the decoded request body. A body that is not an array of objects is a
    400 (DecodePatch failed); a failing operation is a 422 carrying the library's message.
    """
    ops = decode_patch(operations)
    root: dict[str, Any] = {"": copy.deepcopy(doc)}  # a parent for the document itself
    for op in ops:
        try:
            _apply_op(root, op)
        except _OpError as exc:
            raise unprocessable(str(exc)) from None
    return root[""]


def decode_patch(operations: Any) -> list[Mapping[str, Any]]:
    """DecodePatch: json.Unmarshal into jsonpatch.Patch ([]map[string]*json.RawMessage)."""
    if operations is None:
        return []
    if not isinstance(operations, list):
        raise _unmarshal_error(operations, "jsonpatch.Patch")
    for op in operations:
        if op is not None and not isinstance(op, dict):
            raise _unmarshal_error(op, "jsonpatch.Operation")
    return [op or {} for op in operations]


def _unmarshal_error(value: Any, go_type: str) -> PatchError:
    return bad_request(
        f"json: cannot unmarshal {go_json_type(value)} into Go value of type {go_type}"
    )


def _apply_op(root: dict[str, Any], op: Mapping[str, Any]) -> None:
    """The switch in Patch.ApplyIndent."""
    kind = op.get("op")
    kind = kind if isinstance(kind, str) else "unknown"
    handler = _HANDLERS.get(kind)
    if handler is None:
        raise _OpError(f"Unexpected kind: {kind}")
    handler(root, op)


# ---- RFC 6901 pointers -------------------------------------------------------------------


def parse_pointer(pointer: str) -> list[str]:
    """RFC 6901 §3-4: split on "/" and unescape "~1" to "/" then "~0" to "~" in one pass."""
    if pointer == "":
        return []
    if not pointer.startswith("/"):
        raise ValueError(f"JSON pointer must start with '/': {pointer!r}")
    return [_unescape(token) for token in pointer.split("/")[1:]]


def _unescape(token: str) -> str:
    """decodePatchKey: strings.NewReplacer("~1", "/", "~0", "~"): one left-to-right pass, so
    "~01" decodes to "~1" (RFC 6901 §4)."""
    return re.sub("~[01]", lambda m: "/" if m.group() == "~1" else "~", token)


def escape_token(key: str) -> str:
    """RFC 6901 §3: the inverse of unescaping ("~" first, then "/")."""
    return key.replace("~", "~0").replace("/", "~1")


def _find_parent(root: dict[str, Any], path: str) -> tuple[Any, str] | None:
    """findObject: the container holding the last token, and that token; None if absent."""
    try:
        tokens = parse_pointer(path)
    except ValueError:
        return None
    if not tokens:
        return None
    node: Any = root[""]
    for token in tokens[:-1]:
        node = _child(node, token)
        if not isinstance(node, dict | list):
            return None
    return node, tokens[-1]


def _child(node: Any, token: str) -> Any:
    """container.get for a traversal step; _MISSING when the step does not exist."""
    if isinstance(node, dict):
        return node.get(token, _MISSING)
    if isinstance(node, list):
        if not _INDEX.fullmatch(token):
            return _MISSING
        idx = int(token)
        return node[idx] if 0 <= idx < len(node) else _MISSING
    return _MISSING


# ---- container operations (partialDoc / partialArray) ------------------------------------


def _atoi(token: str) -> int:
    """strconv.Atoi, with Go's error text."""
    if not _INDEX.fullmatch(token):
        raise _OpError(f'strconv.Atoi: parsing "{token}": invalid syntax')
    return int(token)


def _invalid_index(idx: int) -> _OpError:
    return _OpError(f"Unable to access invalid index: {idx}: invalid index referenced")


def _get(container: Any, key: str) -> Any:
    """container.get: an object member (or _MISSING), or an array element by index."""
    if isinstance(container, dict):
        return container.get(key, _MISSING)
    idx = _atoi(key)
    if idx >= len(container) or idx < 0:
        raise _invalid_index(idx)
    return container[idx]


def _add(container: Any, key: str, value: Any) -> None:
    """container.add: set a member, or insert before an index ("-" appends)."""
    if isinstance(container, dict):
        container[key] = value
        return
    if key == "-":
        container.append(value)
        return
    try:
        idx = _atoi(key)
    except _OpError as exc:
        raise _OpError(f"value was not a proper array index: '{key}': {exc}") from None
    size = len(container) + 1
    if idx >= size or idx < -size:
        raise _invalid_index(idx)
    container.insert(idx + size if idx < 0 else idx, value)


def _remove(container: Any, key: str) -> None:
    """container.remove."""
    if isinstance(container, dict):
        if key not in container:
            raise _OpError(f"Unable to remove nonexistent key: {key}: missing value")
        del container[key]
        return
    idx = _atoi(key)
    if idx >= len(container) or idx < -len(container):
        raise _invalid_index(idx)
    del container[idx]


# ---- operations (Patch.add, remove, replace, move, test, copy) ---------------------------


def _path(op: Mapping[str, Any], field: str = "path") -> str | None:
    value = op.get(field)
    return value if isinstance(value, str) else None


def _value(op: Mapping[str, Any]) -> Any:
    return copy.deepcopy(op.get("value"))


# evanphx's words, per operation and field, for a field that is no string and for a path whose
# parent is not in the document (`{path}` filled in): each operation words them its own way.
_UNREADABLE: dict[tuple[str, str], tuple[str, str]] = {
    ("add", "path"): (
        "add operation failed to decode path: missing value",
        'add operation does not apply: doc is missing path: "{path}": missing value',
    ),
    ("remove", "path"): (
        "remove operation failed to decode path: missing value",
        'remove operation does not apply: doc is missing path: "{path}": missing value',
    ),
    ("replace", "path"): (
        "replace operation failed to decode path: operation missing path field: missing value",
        "replace operation does not apply: doc is missing path: {path}: missing value",
    ),
    ("move", "from"): (
        "move operation failed to decode from: operation, missing from field: missing value",
        "move operation does not apply: doc is missing from path: {path}: missing value",
    ),
    ("move", "path"): (
        "move operation failed to decode path: operation missing path field: missing value",
        "move operation does not apply: doc is missing destination path: {path}: missing value",
    ),
    ("test", "path"): (
        "test operation failed to decode path: operation missing path field: missing value",
        "test operation does not apply: is missing path: {path}: missing value",
    ),
    ("copy", "from"): (
        "copy operation failed to decode from: operation, missing from field: missing value",
        "copy operation does not apply: doc is missing from path: {path}: missing value",
    ),
    ("copy", "path"): (
        "copy operation failed to decode path: missing value",
        "copy operation does not apply: doc is missing destination path: {path}: missing value",
    ),
}


def _locate(
    root: dict[str, Any], op: Mapping[str, Any], name: str, field: str
) -> tuple[str, tuple[Any, str]]:
    """The path `op[field]` names, with its parent container and key; the `name` operation's
    own error when the field is no string or the parent is not there."""
    undecodable, missing = _UNREADABLE[name, field]
    path = _path(op, field)
    if path is None:
        raise _OpError(undecodable)
    found = _find_parent(root, path)
    if found is None:
        raise _OpError(missing.format(path=path))
    return path, found


def _read(root: dict[str, Any], op: Mapping[str, Any], name: str, field: str) -> tuple[str, Any]:
    """The path `op[field]` names and the value there (_MISSING for an absent member)."""
    path, found = _locate(root, op, name, field)
    try:
        return path, _get(*found)
    except _OpError as exc:
        raise _OpError(f"error in {name} for {field}: '{path}': {exc}") from None


def _op_add(root: dict[str, Any], op: Mapping[str, Any]) -> None:
    path, found = _locate(root, op, "add", "path")
    try:
        _add(*found, _value(op))
    except _OpError as exc:
        raise _OpError(f"error in add for path: '{path}': {exc}") from None


def _op_remove(root: dict[str, Any], op: Mapping[str, Any]) -> None:
    path, found = _locate(root, op, "remove", "path")
    try:
        _remove(*found)
    except _OpError as exc:
        raise _OpError(f"error in remove for path: '{path}': {exc}") from None


def _op_replace(root: dict[str, Any], op: Mapping[str, Any]) -> None:
    path, (container, key) = _locate(root, op, "replace", "path")
    try:
        _get(container, key)
    except _OpError:
        raise _OpError(
            f"replace operation does not apply: doc is missing key: {path}: missing value"
        ) from None
    if isinstance(container, dict):
        container[key] = _value(op)
    else:
        container[int(key)] = _value(op)


def _op_move(root: dict[str, Any], op: Mapping[str, Any]) -> None:
    _, (container, key) = _locate(root, op, "move", "from")
    try:
        value = _get(container, key)
        _remove(container, key)
    except _OpError as exc:
        raise _OpError(f"error in move for path: '{key}': {exc}") from None
    path, target = _locate(root, op, "move", "path")
    try:
        _add(*target, value)
    except _OpError as exc:
        raise _OpError(f"error in move for path: '{path}': {exc}") from None


def _op_test(root: dict[str, Any], op: Mapping[str, Any]) -> None:
    path, actual = _read(root, op, "test", "path")
    expected = op.get("value", _MISSING)
    if actual is _MISSING or actual is None:
        if expected is None or (expected is _MISSING and actual is _MISSING):
            return
    elif expected is not _MISSING and json_equal(actual, expected):
        return
    raise _OpError(f"testing value {path} failed: test failed")


def _op_copy(root: dict[str, Any], op: Mapping[str, Any]) -> None:
    _, value = _read(root, op, "copy", "from")
    _, target = _locate(root, op, "copy", "path")
    try:
        _add(*target, None if value is _MISSING else copy.deepcopy(value))
    except _OpError as exc:
        raise _OpError(f"error while adding value during copy: {exc}") from None


_HANDLERS = {
    "add": _op_add,
    "remove": _op_remove,
    "replace": _op_replace,
    "move": _op_move,
    "test": _op_test,
    "copy": _op_copy,
}


def json_equal(a: Any, b: Any) -> bool:
    """RFC 6902 §4.6 equality: numbers by value, true/false/null only equal themselves."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(json_equal(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(json_equal(x, y) for x, y in zip(a, b, strict=True))
    return type(a) is type(b) and a == b
