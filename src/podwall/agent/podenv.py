"""A container's environment as the kubelet makes it (pkg/kubelet/kubelet_pods.go
`makeEnvironmentVariables`): the `kubernetes` Service's variables, then the container's own in
order, each `value` expanded with `$(VAR)` against those before it (third_party/forked/golang/
expansion), and `valueFrom.fieldRef` read from the pod (the downward API).

Not resolved here: `configMapKeyRef`, `secretKeyRef`, `resourceFieldRef` and `envFrom`
(they would need reads of other objects); such a variable is left out. Pure: no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

Object = Mapping[str, Any]

_REFERENCE = re.compile(r"\$\$|\$\(([^)]*)\)")
_SUBSCRIPT = re.compile(r"^metadata\.(labels|annotations)\['(.+)'\]$")
_FIELDS = {
    "metadata.name": ("metadata", "name"),
    "metadata.namespace": ("metadata", "namespace"),
    "metadata.uid": ("metadata", "uid"),
    "spec.nodeName": ("spec", "nodeName"),
    "spec.serviceAccountName": ("spec", "serviceAccountName"),
    "status.hostIP": ("status", "hostIP"),
    "status.podIP": ("status", "podIP"),
}
_LISTS = {"status.podIPs": "podIPs", "status.hostIPs": "hostIPs"}


def expand(value: str, defined: Mapping[str, str]) -> str:
    """`$(VAR)` becomes VAR's value when defined, `$$` a `$`; anything else stays as written."""

    def one(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name = match.group(1)
        return defined[name] if name in defined else match.group(0)

    return _REFERENCE.sub(one, value)


def field_value(pod: Object, path: str) -> str | None:
    """The downward API's value of `fieldPath`; None for a path it does not serve."""
    if path in _FIELDS:
        part, key = _FIELDS[path]
        return str((pod.get(part) or {}).get(key) or "")
    if path in _LISTS:
        entries = (pod.get("status") or {}).get(_LISTS[path]) or ()
        return ",".join(str(e.get("ip", "")) for e in entries if isinstance(e, dict))
    subscript = _SUBSCRIPT.match(path)
    if subscript is not None:
        values = (pod.get("metadata") or {}).get(subscript.group(1)) or {}
        return str(values.get(subscript.group(2), ""))
    return None


def environment(pod: Object, container: Object, base: Mapping[str, str]) -> dict[str, str]:
    """`base` (the Service variables), then the container's `env` in order."""
    out = dict(base)
    for entry in container.get("env") or ():
        if not isinstance(entry, dict) or not entry.get("name"):
            continue
        name = str(entry["name"])
        source = entry.get("valueFrom")
        if isinstance(source, dict):
            ref = source.get("fieldRef")
            found = field_value(pod, str(ref.get("fieldPath"))) if isinstance(ref, dict) else None
            if found is not None:
                out[name] = found
            continue
        out[name] = expand(str(entry.get("value") or ""), out)
    return out
