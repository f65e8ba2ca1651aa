"""What a request asks, in authorization's terms: kube-apiserver's RequestInfoFactory.

A resource request (`/api/v1/...`, `/apis/GROUP/VERSION/...` with a resource) has a verb (get,
list, watch, create, update, patch, delete, deletecollection), API group, namespace, resource,
subresource and name; anything else (`/api`, `/apis/apps`, `/version`, `/healthz`, `/openapi/v3`)
is a non-resource request whose verb is the HTTP method in lower case. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import parse_qs

_VERBS = {"POST": "create", "GET": "get", "HEAD": "get", "PUT": "update", "PATCH": "patch",
          "DELETE": "delete"}  # fmt: skip
_NAMESPACE_SUBRESOURCES = frozenset({"status", "finalize"})
_SPECIAL_VERBS = frozenset({"proxy", "watch"})


@dataclass(frozen=True, slots=True)
class Attributes:
    """authorizer.Attributes without the user."""

    verb: str
    resource_request: bool
    path: str = ""
    api_group: str = ""
    api_version: str = ""
    namespace: str = ""
    resource: str = ""
    subresource: str = ""
    name: str = ""

    @property
    def combined_resource(self) -> str:
        return f"{self.resource}/{self.subresource}" if self.subresource else self.resource


def _query(query_string: str) -> Mapping[str, list[str]]:
    return parse_qs(query_string, keep_blank_values=True)


def _name_from_field_selector(selector: str) -> str:
    """The name a `metadata.name=NAME` (or `==`) field selector requires exactly, else ''."""
    for term in selector.split(","):
        for op in ("==", "="):
            key, sep, value = term.partition(op)
            if sep and key.strip() == "metadata.name" and "!" not in key:
                value = value.strip()
                return value if value and "/" not in value and value not in (".", "..") else ""
    return ""


@lru_cache(maxsize=4096)  # pure, and most requests repeat a path (a collection, an object)
def request_info(method: str, path: str, query_string: str = "") -> Attributes:
    """The attributes of `method path?query`, as kube-apiserver derives them."""
    parts = [p for p in path.strip("/").split("/") if p]
    non_resource = Attributes(verb=method.lower(), resource_request=False, path=path)
    if not parts or parts[0] not in ("api", "apis"):
        return non_resource
    if parts[0] == "apis":
        if len(parts) < 3:
            return non_resource
        group, version, rest = parts[1], parts[2], parts[3:]
    else:
        if len(parts) < 2:
            return non_resource
        group, version, rest = "", parts[1], parts[2:]
    if not rest:
        return non_resource
    verb = _VERBS.get(method.upper(), "")
    if rest[0] in _SPECIAL_VERBS:
        if len(rest) < 2:
            return non_resource
        verb, rest = rest[0], rest[1:]
    namespace = ""
    if rest[0] == "namespaces" and len(rest) > 1:
        namespace = rest[1]
        if len(rest) > 2 and rest[2] not in _NAMESPACE_SUBRESOURCES:
            rest = rest[2:]
    resource = rest[0]
    name = rest[1] if len(rest) >= 2 else ""
    subresource = rest[2] if len(rest) >= 3 and verb not in _SPECIAL_VERBS else ""
    if not name and verb == "get":
        query = _query(query_string)
        watch = (query.get("watch") or [""])[0].lower() in ("true", "1")
        verb = "watch" if watch else "list"
        name = _name_from_field_selector((query.get("fieldSelector") or [""])[0])
    elif not name and verb == "delete":
        verb = "deletecollection"
    return Attributes(
        verb=verb, resource_request=True, path=path, api_group=group, api_version=version,
        namespace=namespace, resource=resource, subresource=subresource, name=name,
    )  # fmt: skip
