"""What the admission tests share: an object with one field changed at a dotted path, and an
object put through admission's create steps as the API server does."""

from __future__ import annotations

import copy
from typing import Any

from podwall.apiserver import admission
from podwall.apiserver.resources import Resource


def with_field(base: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A deep copy of `base` with `value` at the dotted `path` (`spec.containers.0.image`:
    numbers index lists); None removes a mapping's key."""
    out = copy.deepcopy(base)
    *parents, last = path.split(".")
    node: Any = out
    for step in parents:
        node = node[int(step)] if isinstance(node, list) else node.setdefault(step, {})
    if isinstance(node, list):
        node[int(last)] = value
    elif value is None:
        node.pop(last, None)
    else:
        node[last] = value
    return out


def admitted(resource: Resource | None, obj: dict[str, Any]) -> dict[str, Any]:
    """`obj` prepared, defaulted and validated for creation as `resource`."""
    assert resource is not None
    admission.prepare_for_create(resource, obj)
    admission.default(resource, obj)
    admission.validate(resource, obj)
    return obj
