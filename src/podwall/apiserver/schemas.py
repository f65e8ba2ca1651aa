"""The upstream Kubernetes API schemas, as OpenAPI v3 component schemas.

They come from `kubernetes-validate` (a pinned runtime dependency), which ships the schemas of
kube-apiserver's own OpenAPI, with their descriptions, `x-kubernetes-group-version-kind` and
patch strategies, as a JSON Schema document (`_definitions.json`). This module reads that file
(never importing the package, which would pull in a validator podwall does not use) and turns
it back into OpenAPI's shape: optional fields lose their `"null"` type, references point into
`#/components/schemas/`, IntOrString regains its format.

It owns the schemas only; what is served is `openapi`'s, what a body must look like
`typecheck`'s.
"""

from __future__ import annotations

import functools
import importlib.util
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

Schema = dict[str, Any]

KUBERNETES_VERSION = "v1.32.0"
_DEFS_PREFIX = "#/$defs/"
REF_PREFIX = "#/components/schemas/"
INT_OR_STRING = "io.k8s.apimachinery.pkg.util.intstr.IntOrString"
QUANTITY = "io.k8s.apimachinery.pkg.api.resource.Quantity"


def _definitions_file() -> Path:
    spec = importlib.util.find_spec("kubernetes_validate")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("kubernetes-validate is not installed: it ships the API schemas")
    root = Path(next(iter(spec.submodule_search_locations)))
    return root / "kubernetes-json-schema" / f"{KUBERNETES_VERSION}-local" / "_definitions.json"


def _normalize(node: Any) -> Any:
    if isinstance(node, list):
        return [_normalize(item) for item in node]
    if not isinstance(node, dict):
        return node
    out: Schema = {}
    for key, value in node.items():
        if key == "$ref":
            out[key] = REF_PREFIX + str(value).removeprefix(_DEFS_PREFIX)
        elif key == "type" and isinstance(value, list):
            out[key] = next(t for t in value if t != "null")
        elif key == "properties":
            out[key] = {name: _normalize(prop) for name, prop in value.items()}
        else:
            out[key] = _normalize(value)
    if "$ref" in out and len(out) > 1:
        # OpenAPI v3 ignores a reference's siblings: kube-apiserver wraps it in an allOf.
        out["allOf"] = [{"$ref": out.pop("$ref")}]
    return out


def _drop_type_meta_enums(schema: Schema) -> None:
    # The JSON Schema pins apiVersion and kind of each top-level kind with an enum; the API
    # server's OpenAPI does not (the path already says which kind it is).
    for name in ("apiVersion", "kind"):
        prop = schema.get("properties", {}).get(name)
        if isinstance(prop, dict):
            prop.pop("enum", None)


@functools.cache
def definitions() -> dict[str, Schema]:
    """Every schema of the API, by its OpenAPI name (`io.k8s.api.core.v1.Pod`)."""
    raw = json.loads(_definitions_file().read_text())["$defs"]
    defs: dict[str, Schema] = {name: _normalize(schema) for name, schema in raw.items()}
    for schema in defs.values():
        if "x-kubernetes-group-version-kind" in schema:
            _drop_type_meta_enums(schema)
    defs[INT_OR_STRING] = {**defs[INT_OR_STRING], "format": "int-or-string"}
    return defs


@functools.cache
def _by_gvk() -> dict[tuple[str, str, str], str]:
    found: dict[tuple[str, str, str], str] = {}
    for name, schema in definitions().items():
        for gvk in schema.get("x-kubernetes-group-version-kind", []):
            found.setdefault((gvk["group"], gvk["version"], gvk["kind"]), name)
    return found


def name_for(group: str, version: str, kind: str) -> str | None:
    """The schema name of a kind, from its `x-kubernetes-group-version-kind`."""
    return _by_gvk().get((group, version, kind))


def ref_name(schema: Mapping[str, Any]) -> str | None:
    """The schema a `$ref` (or the single `allOf` wrapping one) points to."""
    ref = schema.get("$ref")
    if ref is None and len(schema.get("allOf", ())) == 1:
        ref = schema["allOf"][0].get("$ref")
    return str(ref).removeprefix(REF_PREFIX) if ref else None


def _references(node: Any) -> Iterable[str]:
    if isinstance(node, list):
        for item in node:
            yield from _references(item)
    elif isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value.removeprefix(REF_PREFIX)
            else:
                yield from _references(value)


def closure(names: Iterable[str], extra: Mapping[str, Schema] | None = None) -> list[str]:
    """`names` and every schema they reach, in a stable order; `extra` schemas (a CRD's) are
    looked up before the upstream ones."""
    defs = {**definitions(), **extra} if extra else definitions()
    seen: dict[str, None] = {}
    pending = list(names)
    while pending:
        name = pending.pop()
        if name in seen or name not in defs:
            continue
        seen[name] = None
        pending.extend(_references(defs[name]))
    return sorted(seen)
