"""JSON merge patch, RFC 7386 (`application/merge-patch+json`).

`kubectl label`, `annotate` and `scale` send one: `{"metadata":{"labels":{"app":null}}}`.
The API server applies it with evanphx/json-patch `MergePatch`; this is the RFC's own algorithm,
which that function follows for object documents. Pure: no I/O here.
"""

from __future__ import annotations

import copy
from typing import Any


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 §2 MergePatch(Target, Patch); neither argument is modified.

    A non-object patch replaces the target; an object patch merges key by key, and a null value
    removes its key (RFC 7386 §2).
    """
    return _merge(copy.deepcopy(target), patch)


def _merge(target: Any, patch: Any) -> Any:
    """The recursion of RFC 7386 §2, on a target this module owns."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result: dict[str, Any] = target if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = _merge(result.get(key), value)
    return result


def create_merge_patch(original: Any, target: Any) -> Any:
    """The smallest merge patch that turns `original` into `target` (jsonpatch.CreateMergePatch).

    Objects are diffed key by key (removed keys become null); anything else is replaced whole.
    RFC 7386 §1 limits what a merge patch can express: a target object holding a null value
    cannot be reached, since null in a patch means "remove".
    """
    if not isinstance(original, dict) or not isinstance(target, dict):
        return copy.deepcopy(target)
    patch: dict[str, Any] = {key: None for key in original if key not in target}
    for key, value in target.items():
        if key not in original:
            patch[key] = copy.deepcopy(value)
        elif original[key] != value or type(original[key]) is not type(value):
            patch[key] = create_merge_patch(original[key], value)
    return patch
