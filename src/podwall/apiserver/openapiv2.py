"""`/openapi/v2`: the served kinds' upstream schemas as one Swagger 2.0 document, in JSON and in
gnostic's protobuf, each built once and served with an ETag (as kube-apiserver's kube-openapi).

kubectl reads this document where it does not use v3: `kubectl explain
--output=plaintext-openapiv2` (and plain `explain` when a server has no v3), client-side
validation (`--validate=strict` validates a `kind: List` file, and any object the server cannot
check itself, against `definitions`), and the `fieldValidation` check of kubectl 1.27 (a PATCH
operation carrying the object's GVK and that query parameter).

`definitions` are the schemas of every group-version document of `/openapi/v3`
(`openapi.group_version_schemas`, so a kind added to the resource table appears here too), put
back into v2's shape: references into `#/definitions/`, a reference with a description beside
it instead of v3's `allOf` wrapper, IntOrString and Quantity strings again. Every top-level kind
keeps its `x-kubernetes-group-version-kind`, which is how kubectl finds it. `paths` carry, per
served kind, the create (POST) and patch (PATCH) operations with their query parameters.

It must not invent a schema: everything comes from `schemas`/`openapi`.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from podwall.apiserver import openapi, openapiv2proto, schemas
from podwall.apiserver.resources import GROUP_VERSIONS, Resource, in_group_version

JSON = "application/json"
PROTOBUF = "application/com.github.proto-openapi.spec.v2.v1.0+protobuf"
# kubectl asks with the deprecated `@v1.0` spelling; both are answered with the dotted one.
_ACCEPTED = (
    ("application", "json", JSON),
    ("application", "com.github.proto-openapi.spec.v2@v1.0+protobuf", PROTOBUF),
    ("application", "com.github.proto-openapi.spec.v2.v1.0+protobuf", PROTOBUF),
)
_V2_REF = "#/definitions/"
_PATCH = "io.k8s.apimachinery.pkg.apis.meta.v1.Patch"
_PATCH_TYPES = [
    "application/json-patch+json",
    "application/merge-patch+json",
    "application/strategic-merge-patch+json",
    "application/apply-patch+yaml",
]
# A custom resource's PATCH takes no strategic merge patch (the CRD handler answers 415): kubectl
# reads `consumes` to choose, and sends its client-side apply as a merge patch instead.
_CUSTOM_PATCH_TYPES = [t for t in _PATCH_TYPES if t != "application/strategic-merge-patch+json"]
_PRODUCES = ["application/json", "application/yaml", "application/vnd.kubernetes.protobuf"]
_PRIMITIVES = frozenset({"string", "integer", "number", "boolean"})


@dataclass(frozen=True, slots=True)
class Representation:
    body: bytes
    content_type: str
    etag: str  # quoted, as in the ETag header


def _represent(body: bytes, content_type: str) -> Representation:
    return Representation(body, content_type, f'"{hashlib.sha512(body).hexdigest().upper()}"')


# --- definitions ---------------------------------------------------------------------------


def _v2_ref(ref: str) -> str:
    return _V2_REF + ref.removeprefix(schemas.REF_PREFIX)


def _v2_schema(node: Mapping[str, Any]) -> dict[str, Any]:
    """One schema from v3's shape into v2's; the input is shared and left untouched."""
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in openapiv2proto.DROPPED:
            continue
        if key == "$ref":
            out[key] = _v2_ref(value)
        elif key == "allOf" and len(value) == 1 and set(value[0]) == {"$ref"}:
            out["$ref"] = _v2_ref(value[0]["$ref"])
        elif key == "properties":
            out[key] = {name: _v2_schema(prop) for name, prop in value.items()}
        elif key in ("items", "additionalProperties") and isinstance(value, Mapping):
            out[key] = _v2_schema(value)
        elif key == "allOf":
            out[key] = [_v2_schema(item) for item in value]
        else:
            out[key] = value
    alternatives = node.get("oneOf") or node.get("anyOf") or ()
    if "type" not in node and alternatives and all(_primitive(a) for a in alternatives):
        # IntOrString, Quantity: v2 has no oneOf; kube-apiserver publishes them as strings.
        out["type"] = "string"
    return out


def _primitive(schema: Mapping[str, Any]) -> bool:
    return set(schema) == {"type"} and schema["type"] in _PRIMITIVES


@functools.cache
def definitions() -> dict[str, dict[str, Any]]:
    """Every schema of every served group-version, and the PATCH body's, in v2's shape."""
    found: dict[str, Mapping[str, Any]] = {}
    for group, version in GROUP_VERSIONS:
        found.update(openapi.group_version_schemas(group, version))
    defs = schemas.definitions()
    found.update({name: defs[name] for name in schemas.closure([_PATCH])})
    return {name: _v2_schema(found[name]) for name in sorted(found)}


# --- paths ---------------------------------------------------------------------------------


def _camel(group: str, version: str) -> str:
    words = group.removesuffix(".k8s.io").split(".") if group else ["core"]
    return "".join(w[:1].upper() + w[1:] for w in [*words, version])


def _query(name: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "type": "string", "uniqueItems": True}


def _path_param(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "type": "string", "uniqueItems": True}


def _body(name: str) -> dict[str, Any]:
    return {"name": "body", "in": "body", "required": True, "schema": {"$ref": _V2_REF + name}}


def _operation(r: Resource, action: str, verb: str, body: str) -> dict[str, Any]:
    kind = openapi.schema_name(r, r.kind)
    ok: dict[str, Any] = {"description": "OK"}
    if kind is not None:
        ok["schema"] = {"$ref": _V2_REF + kind}
    scope = "Namespaced" if r.namespaced else ""
    params = [_body(body)] if body in definitions() else []
    return {
        "operationId": f"{verb}{_camel(r.group, r.version)}{scope}{r.kind}",
        "produces": _PRODUCES,
        "schemes": ["https"],
        "tags": [f"{r.group.removesuffix('.k8s.io').replace('.', '_') or 'core'}_{r.version}"],
        "parameters": [
            *params,
            _query("dryRun"),
            _query("fieldManager"),
            _query("fieldValidation"),
        ],
        "responses": {"200": ok, "401": {"description": "Unauthorized"}},
        "x-kubernetes-action": action,
        "x-kubernetes-group-version-kind": {"group": r.group, "kind": r.kind, "version": r.version},
    }


def paths() -> dict[str, Any]:
    """Per served kind, its collection's POST and its objects' PATCH, where it has the verb."""
    out: dict[str, Any] = {}
    for group, version in GROUP_VERSIONS:
        prefix = "/" + openapi.path_key(group, version)
        for r in in_group_version(group, version):
            scope = f"{prefix}/namespaces/{{namespace}}" if r.namespaced else prefix
            namespace = [_path_param("namespace")] if r.namespaced else []
            kind = openapi.schema_name(r, r.kind) or ""
            if "create" in r.verbs:
                create = _operation(r, "post", "create", kind)
                out[f"{scope}/{r.name}"] = {"parameters": namespace, "post": create}
            if "patch" in r.verbs:
                consumes = _CUSTOM_PATCH_TYPES if r.custom else _PATCH_TYPES
                patch = {**_operation(r, "patch", "patch", _PATCH), "consumes": consumes}
                out[f"{scope}/{r.name}/{{name}}"] = {
                    "parameters": [_path_param("name"), *namespace],
                    "patch": patch,
                }
    return out


# --- the document and its representations --------------------------------------------------


def document() -> dict[str, Any]:
    return {
        "swagger": "2.0",
        "info": {"title": "Kubernetes", "version": schemas.KUBERNETES_VERSION},
        "paths": paths(),
        "definitions": definitions(),
    }


@functools.cache
def json_document() -> Representation:
    return _represent(json.dumps(document(), separators=(",", ":")).encode(), JSON)


@functools.cache
def protobuf_document() -> Representation:
    return _represent(openapiv2proto.document(document()), PROTOBUF)


def _clauses(accept: str) -> list[tuple[str, str]]:
    """The media ranges of an Accept header, best first (q=0 ones dropped), as goautoneg."""
    ranked: list[tuple[float, int, str, str]] = []
    for position, part in enumerate((accept or "*/*").split(",")):
        media, *params = (p.strip() for p in part.split(";"))
        quality = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        kind, _, sub = media.partition("/")
        if quality > 0 and kind:
            ranked.append((-quality, position, kind, sub or "*"))
    return [(kind, sub) for _, _, kind, sub in sorted(ranked)]


def negotiate(accept: str) -> Representation | None:
    """The representation an Accept header asks for; None when it accepts none (406)."""
    for kind, sub in _clauses(accept):
        for accepted_kind, accepted_sub, content_type in _ACCEPTED:
            if kind in (accepted_kind, "*") and sub in (accepted_sub, "*"):
                return json_document() if content_type == JSON else protobuf_document()
    return None


def matches(etag: str, if_none_match: str) -> bool:
    """Whether an If-None-Match header names `etag` (or `*`): the client's copy is current."""
    tags = {t.strip().removeprefix("W/") for t in if_none_match.split(",")}
    return etag in tags or "*" in tags
