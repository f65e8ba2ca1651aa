"""`/openapi/v3` and `/openapi/v2` (kubectl-api.md §4.2), with the upstream schemas.

kubectl's default `apply` (validate=strict) asks whether the server supports the
`fieldValidation` query parameter: it looks, per group-version document, for a PATCH operation
carrying the object's GVK and that parameter. `kubectl explain` reads the schemas: each
group-version document carries, in `components.schemas`, the complete upstream schemas
(`schemas`) of the kinds it serves and of everything they reference, descriptions included.
"""

from __future__ import annotations

import functools
import hashlib
import json
from typing import Any

from podwall.apiserver import crds, schemas
from podwall.apiserver.resources import GROUP_VERSIONS, Resource, in_group_version


def _path_key(group: str, version: str) -> str:
    return f"apis/{group}/{version}" if group else f"api/{version}"


def _param(name: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "schema": {"type": "string", "uniqueItems": True}}


def _kind_schemas(served: list[Resource]) -> list[str]:
    """The schema names of the served kinds and of their lists."""
    names = []
    for r in served:
        for kind in (r.kind, f"{r.kind}List"):
            name = _schema_name(r, kind)
            if name is not None:
                names.append(name)
    return names


def _schema_name(r: Resource, kind: str) -> str | None:
    if r.custom:
        return crds.schema_name(r.group, r.version, kind)
    return schemas.name_for(r.group, r.version, kind)


def _custom_schemas(served: list[Resource]) -> dict[str, schemas.Schema]:
    found: dict[str, schemas.Schema] = {}
    for r in served:
        if r.custom:
            found.update(crds.openapi_schemas(r.key, r.version))
    return found


def _ref(name: str) -> dict[str, str]:
    return {"$ref": schemas.REF_PREFIX + name}


@functools.cache
def group_version_document(group: str, version: str) -> bytes | None:
    served = in_group_version(group, version)
    if not served:
        return None
    paths: dict[str, Any] = {}
    custom = _custom_schemas(served)
    defs = {**schemas.definitions(), **custom}
    prefix = "/" + _path_key(group, version)
    for r in served:
        scope = f"{prefix}/namespaces/{{namespace}}" if r.namespaced else prefix
        gvk = {"group": r.group, "version": r.version, "kind": r.kind}
        params = [_param("dryRun"), _param("fieldManager"), _param("fieldValidation")]
        name = _schema_name(r, r.kind)
        content = {"application/json": {"schema": _ref(name)}} if name else {}
        operation = {
            "operationId": f"patch{r.kind}",
            "x-kubernetes-action": "patch",
            "x-kubernetes-group-version-kind": gvk,
            "parameters": params,
            "responses": {"200": {"description": "OK", "content": content}},
        }
        create = {**operation, "operationId": f"create{r.kind}", "x-kubernetes-action": "post"}
        paths[f"{scope}/{r.name}/{{name}}"] = {"patch": operation}
        paths[f"{scope}/{r.name}"] = {"post": create}
    doc = {
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": "v1.32.0"},
        "paths": paths,
        "components": {
            "schemas": {n: defs[n] for n in schemas.closure(_kind_schemas(served), custom)}
        },
    }
    return json.dumps(doc, separators=(",", ":")).encode()


@functools.cache
def root_document() -> bytes:
    paths = {}
    for group, version in GROUP_VERSIONS:
        doc = group_version_document(group, version)
        assert doc is not None
        digest = hashlib.sha256(doc).hexdigest().upper()
        key = _path_key(group, version)
        paths[key] = {"serverRelativeURL": f"/openapi/v3/{key}?hash={digest}"}
    return json.dumps({"paths": paths}, separators=(",", ":")).encode()


def document_for(path: str) -> bytes | None:
    """The document for `api/v1` or `apis/<group>/<version>`."""
    parts = path.strip("/").split("/")
    if len(parts) == 2 and parts[0] == "api":
        return group_version_document("", parts[1])
    if len(parts) == 3 and parts[0] == "apis":
        return group_version_document(parts[1], parts[2])
    return None


# OpenAPI v2, for kubectl 1.27 and older: it asks `/openapi/v2` in protobuf (gnostic's
# openapi_v2.Document) whether PATCH of a GVK takes `fieldValidation`. Hand-encoded: the few
# messages and field numbers below come from gnostic's OpenAPIv2.proto.
# The Accept header names `application/com.github.proto-openapi.spec.v2@v1.0+protobuf`, which Go's
# mime parser rejects in a Content-Type; kube-openapi answers it as octet-stream.
V2_CONTENT_TYPE = "application/octet-stream"


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _field(number: int, payload: bytes | str) -> bytes:
    """A length-delimited field (wire type 2): a string or an embedded message."""
    data = payload.encode() if isinstance(payload, str) else payload
    return _varint(number << 3 | 2) + _varint(len(data)) + data


def _bool_field(number: int) -> bytes:
    return _varint(number << 3) + b"\x01"


def _named_any(name: str, yaml_text: str) -> bytes:
    return _field(1, name) + _field(2, _field(2, yaml_text))  # NamedAny{name, Any{yaml}}


def _query_parameter(name: str) -> bytes:
    # QueryParameterSubSchema{in=2, name=4, type=6, unique_items=20}
    sub = _field(2, "query") + _field(4, name) + _field(6, "string") + _bool_field(20)
    # ParametersItem{parameter=1: Parameter{non_body_parameter=2: NonBodyParameter{query=3}}}
    return _field(1, _field(2, _field(3, sub)))


def _operation(operation_id: str, action: str, gvk: dict[str, str]) -> bytes:
    gvk_yaml = f"group: {gvk['group']!r}\nkind: {gvk['kind']}\nversion: {gvk['version']}\n"
    ok = _field(1, "200") + _field(2, _field(1, _field(1, "OK")))  # NamedResponseValue
    out = _field(5, operation_id)
    for param in ("dryRun", "fieldManager", "fieldValidation"):
        out += _field(8, _query_parameter(param))
    out += _field(9, _field(1, ok))
    out += _field(13, _named_any("x-kubernetes-action", f"{action}\n"))
    out += _field(13, _named_any("x-kubernetes-group-version-kind", gvk_yaml))
    return out


@functools.cache
def v2_protobuf() -> bytes:
    """The openapi_v2.Document: one PATCH and one POST operation per served kind."""
    paths = b""
    for group, version in GROUP_VERSIONS:
        prefix = "/" + _path_key(group, version)
        for r in in_group_version(group, version):
            scope = f"{prefix}/namespaces/{{namespace}}" if r.namespaced else prefix
            gvk = {"group": r.group, "version": r.version, "kind": r.kind}
            patch = _field(8, _operation(f"patch{r.kind}", "patch", gvk))  # PathItem.patch
            post = _field(4, _operation(f"create{r.kind}", "post", gvk))  # PathItem.post
            paths += _field(2, _field(1, f"{scope}/{r.name}/{{name}}") + _field(2, patch))
            paths += _field(2, _field(1, f"{scope}/{r.name}") + _field(2, post))
    info = _field(1, "Kubernetes") + _field(2, "v1.32.0")
    return _field(1, "2.0") + _field(2, info) + _field(8, paths)
