"""Unknown fields of a NetworkPolicy, as the API server's strict decoding reports them.

kubectl sends objects with strict field validation by default, so a typo such as `form:` for
`from:` is rejected, not silently dropped (a dropped `from` would turn a rule into allow-all).
Pure: no I/O here.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

# A schema maps field names to a sub-schema; ANY accepts any value (maps of labels, metadata
# details podwall does not look at).
ANY: dict[str, Any] = {}
_SELECTOR = {"matchLabels": ANY, "matchExpressions": [{"key": ANY, "operator": ANY, "values": ANY}]}
_PORT = {"protocol": ANY, "port": ANY, "endPort": ANY}
_PEER = {
    "podSelector": _SELECTOR,
    "namespaceSelector": _SELECTOR,
    "ipBlock": {"cidr": ANY, "except": ANY},
}
_META = {
    k: ANY
    for k in (
        "name", "generateName", "namespace", "selfLink", "uid", "resourceVersion", "generation",
        "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "labels",
        "annotations", "ownerReferences", "finalizers", "managedFields",
    )
}  # fmt: skip
NETWORK_POLICY = {
    "apiVersion": ANY,
    "kind": ANY,
    "metadata": _META,
    "spec": {
        "podSelector": _SELECTOR,
        "policyTypes": ANY,
        "ingress": [{"from": [_PEER], "ports": [_PORT]}],
        "egress": [{"to": [_PEER], "ports": [_PORT]}],
    },
    "status": ANY,
}


def unknown_fields(
    body: Mapping[str, Any], schema: Mapping[str, Any] = NETWORK_POLICY
) -> list[str]:
    """Paths like `spec.ingress[0].form` of every field the schema does not know."""
    return list(_walk(body, schema, ""))


def _walk(value: Any, schema: Any, path: str) -> Iterator[str]:
    if schema is ANY:
        return
    if isinstance(schema, list):
        if isinstance(value, list):
            for i, item in enumerate(value):
                yield from _walk(item, schema[0], f"{path}[{i}]")
        return
    if not isinstance(value, Mapping):
        return  # a wrong type is validation's to report
    for key, item in value.items():
        child = f"{path}.{key}" if path else str(key)
        if key not in schema:
            yield child
        else:
            yield from _walk(item, schema[key], child)


def render(path: str) -> str:
    return f'strict decoding error: unknown field "{path}"'
