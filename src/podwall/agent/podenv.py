"""A container's environment as the kubelet makes it (pkg/kubelet/kubelet_pods.go
`makeEnvironmentVariables`): the `kubernetes` Service's variables, then `envFrom` (ConfigMaps
and Secrets, with their `prefix`), then the container's `env` in order, each `value` expanded
with `$(VAR)` against those before it (third_party/forked/golang/expansion), `valueFrom.fieldRef`
read from the pod (the downward API), `configMapKeyRef`/`secretKeyRef` from the objects.

The objects come from `lookup` (the caller reads them); one that is missing, or a missing key,
unless `optional`, is an EnvError in the kubelet's words (CreateContainerConfigError).
`resourceFieldRef` is not resolved: such a variable is left out. Pure: no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from podwall.errors import PodwallError

Object = Mapping[str, Any]
Lookup = Callable[[str, str], Mapping[str, str] | None]
"""(kind `ConfigMap` or `Secret`, name) -> its data, Secrets' decoded; None when missing."""


class EnvError(PodwallError):
    """A container's environment cannot be made: the message for CreateContainerConfigError."""


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


def _source(lookup: Lookup, kind: str, name: str, optional: bool) -> Mapping[str, str]:
    found = lookup(kind, name)
    if found is None:
        if optional:
            return {}
        raise EnvError(f'{kind.lower()} "{name}" not found')
    return found


def _key_ref(pod: Object, lookup: Lookup, kind: str, ref: Mapping[str, Any]) -> str | None:
    name, key, optional = str(ref.get("name") or ""), str(ref.get("key") or ""), ref.get("optional")
    data = _source(lookup, kind, name, optional is True)
    if key in data:
        return data[key]
    if optional is True:
        return None
    namespace = (pod.get("metadata") or {}).get("namespace")
    raise EnvError(f"couldn't find key {key} in {kind} {namespace}/{name}")


def _from(pod: Object, source: Mapping[str, Any], lookup: Lookup) -> str | None:
    """A `valueFrom`'s value; None when it sets nothing."""
    for field, kind in (("configMapKeyRef", "ConfigMap"), ("secretKeyRef", "Secret")):
        ref = source.get(field)
        if isinstance(ref, dict):
            return _key_ref(pod, lookup, kind, ref)
    ref = source.get("fieldRef")
    return field_value(pod, str(ref.get("fieldPath"))) if isinstance(ref, dict) else None


def _env_from(container: Object, lookup: Lookup) -> dict[str, str]:
    out: dict[str, str] = {}
    for entry in container.get("envFrom") or ():
        if not isinstance(entry, dict):
            continue
        for field, kind in (("configMapRef", "ConfigMap"), ("secretRef", "Secret")):
            ref = entry.get(field)
            if isinstance(ref, dict):
                name, optional = str(ref.get("name") or ""), ref.get("optional") is True
                prefix = str(entry.get("prefix") or "")
                data = _source(lookup, kind, name, optional)
                out.update({prefix + key: value for key, value in data.items()})
    return out


def environment(
    pod: Object, container: Object, base: Mapping[str, str], lookup: Lookup
) -> dict[str, str]:
    """`base` (the Service variables), then `envFrom`, then the container's `env` in order."""
    out = {**base, **_env_from(container, lookup)}
    for entry in container.get("env") or ():
        if not isinstance(entry, dict) or not entry.get("name"):
            continue
        name = str(entry["name"])
        source = entry.get("valueFrom")
        if isinstance(source, dict):
            found = _from(pod, source, lookup)
            if found is not None:
                out[name] = found
            continue
        out[name] = expand(str(entry.get("value") or ""), out)
    return out
