"""`/openapi/v3` (kubectl-api.md §4.2), with the upstream schemas; `/openapi/v2` is `openapiv2`'s.

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


def path_key(group: str, version: str) -> str:
    return f"apis/{group}/{version}" if group else f"api/{version}"


def _param(name: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "schema": {"type": "string", "uniqueItems": True}}


def _kind_schemas(served: list[Resource]) -> list[str]:
    """The schema names of the served kinds and of their lists."""
    names = []
    for r in served:
        for kind in (r.kind, f"{r.kind}List"):
            name = schema_name(r, kind)
            if name is not None:
                names.append(name)
    return names


def schema_name(r: Resource, kind: str) -> str | None:
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
def group_version_schemas(group: str, version: str) -> dict[str, schemas.Schema]:
    """The schemas a group-version document carries: its kinds, their lists, what they reach."""
    served = in_group_version(group, version)
    custom = _custom_schemas(served)
    defs = {**schemas.definitions(), **custom}
    return {n: defs[n] for n in schemas.closure(_kind_schemas(served), custom)}


@functools.cache
def group_version_document(group: str, version: str) -> bytes | None:
    served = in_group_version(group, version)
    if not served:
        return None
    paths: dict[str, Any] = {}
    prefix = "/" + path_key(group, version)
    for r in served:
        scope = f"{prefix}/namespaces/{{namespace}}" if r.namespaced else prefix
        gvk = {"group": r.group, "version": r.version, "kind": r.kind}
        params = [_param("dryRun"), _param("fieldManager"), _param("fieldValidation")]
        name = schema_name(r, r.kind)
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
        "components": {"schemas": group_version_schemas(group, version)},
    }
    return json.dumps(doc, separators=(",", ":")).encode()


@functools.cache
def root_document() -> bytes:
    paths = {}
    for group, version in GROUP_VERSIONS:
        doc = group_version_document(group, version)
        assert doc is not None
        digest = hashlib.sha256(doc).hexdigest().upper()
        key = path_key(group, version)
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
