"""Discovery documents, legacy (`APIVersions`, `APIGroupList`, `APIResourceList`) and aggregated
(`APIGroupDiscoveryList` v2), built from the resource table (kubectl-api.md §3), and
`/version`."""

from __future__ import annotations

import platform
from typing import Any

from podwall import __version__
from podwall.apiserver.resources import GROUP_VERSIONS, RESOURCES, Resource, in_group_version

AGGREGATED_VERSIONS = ("v2", "v2beta1")  # kubectl 1.27 knows only v2beta1 (same shape)
KUBERNETES_VERSION = (1, 32, 0)  # the Kubernetes API version podwall serves
_GOARCH = {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm", "ppc64le": "ppc64le"}


def server_version() -> dict[str, str]:
    """`GET /version`, as kubectl reads it: `major` and `minor` (kubectl's version-skew check
    and the gcloud kubectl dispatcher pick by them) and a semantic `gitVersion`, whose build
    metadata names what answers: `v1.32.0+podwall.0.1.0` (semver ignores it when comparing).
    No `gitCommit`, `buildDate`, `goVersion` or `compiler`: podwall is not a Go build of
    Kubernetes, and kubectl needs none of them (absent fields decode as empty strings)."""
    major, minor, patch = KUBERNETES_VERSION
    return {
        "major": str(major),
        "minor": str(minor),
        "gitVersion": f"v{major}.{minor}.{patch}+podwall.{__version__}",
        "platform": platform_name(platform.system(), platform.machine()),
    }


def platform_name(system: str, machine: str) -> str:
    """`linux/amd64`: the OS and architecture in Go's words, as Kubernetes reports them."""
    return f"{system.lower()}/{_GOARCH.get(machine, machine.lower())}"


def aggregated_content_type(version: str) -> str:
    return f"application/json;g=apidiscovery.k8s.io;v={version};as=APIGroupDiscoveryList"


def wants_aggregated(accept: str) -> str | None:
    """The APIGroupDiscoveryList version the Accept header prefers, or None for legacy."""
    for media_type in accept.replace(" ", "").split(","):
        params = dict(p.partition("=")[::2] for p in media_type.split(";")[1:])
        if (
            params.get("g") == "apidiscovery.k8s.io"
            and params.get("as") == "APIGroupDiscoveryList"
            and params.get("v") in AGGREGATED_VERSIONS
        ):
            return params["v"]
    return None


def _groups() -> list[str]:
    return [g for g in dict.fromkeys(g for g, _ in GROUP_VERSIONS) if g]


def api_versions(server_address: str) -> dict[str, Any]:
    return {
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [
            {"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}
        ],
    }


def api_group_list() -> dict[str, Any]:
    groups = []
    for group in _groups():
        versions = [
            {"groupVersion": f"{group}/{v}", "version": v} for g, v in GROUP_VERSIONS if g == group
        ]
        groups.append({"name": group, "versions": versions, "preferredVersion": versions[0]})
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}


def api_group(group: str) -> dict[str, Any] | None:
    for entry in api_group_list()["groups"]:
        if entry["name"] == group:
            return {"kind": "APIGroup", "apiVersion": "v1", **entry}
    return None


def _aliases(r: Resource) -> dict[str, list[str]]:
    """The other names kubectl knows a resource by (`po`, `all`), as both discovery documents
    list them: only those it has."""
    lists = {"shortNames": r.short_names, "categories": r.categories}
    return {key: list(names) for key, names in lists.items() if names}


def api_resource_list(group: str, version: str) -> dict[str, Any] | None:
    served = in_group_version(group, version)
    if not served:
        return None
    resources: list[dict[str, Any]] = []
    for r in served:
        entry: dict[str, Any] = {
            "name": r.name,
            "singularName": r.singular,
            "namespaced": r.namespaced,
            "kind": r.kind,
            "verbs": list(r.verbs),
            **_aliases(r),
        }
        resources.append(entry)
        for sub in r.subresources:
            sub_entry: dict[str, Any] = {
                "name": f"{r.name}/{sub.name}",
                "singularName": "",
                "namespaced": r.namespaced,
                "kind": sub.kind,
                "verbs": list(sub.verbs),
            }
            if sub.group is not None:
                sub_entry["group"] = sub.group
                sub_entry["version"] = sub.version
            resources.append(sub_entry)
    return {
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": f"{group}/{version}" if group else version,
        "resources": resources,
    }


def _aggregated_resource(r: Resource) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "resource": r.name,
        "responseKind": {"group": r.group, "version": r.version, "kind": r.kind},
        "scope": "Namespaced" if r.namespaced else "Cluster",
        "singularResource": r.singular,
        "verbs": list(r.verbs),
        **_aliases(r),
    }
    if r.subresources:
        entry["subresources"] = [
            {
                "subresource": s.name,
                "responseKind": {
                    "group": r.group if s.group is None else s.group,
                    "version": r.version if s.version is None else s.version,
                    "kind": s.kind,
                },
                "verbs": list(s.verbs),
            }
            for s in r.subresources
        ]
    return entry


def _aggregated_group(group: str) -> dict[str, Any]:
    versions = [
        {
            "version": v,
            "resources": [_aggregated_resource(r) for r in in_group_version(group, v)],
            "freshness": "Current",
        }
        for g, v in GROUP_VERSIONS
        if g == group
    ]
    metadata: dict[str, Any] = {"creationTimestamp": None}
    if group:
        metadata["name"] = group
    return {"metadata": metadata, "versions": versions}


def aggregated(core: bool, version: str = "v2") -> dict[str, Any]:
    """`/api` (core=True) or `/apis` as one APIGroupDiscoveryList."""
    groups = [""] if core else _groups()
    return {
        "kind": "APIGroupDiscoveryList",
        "apiVersion": f"apidiscovery.k8s.io/{version}",
        "metadata": {},
        "items": [_aggregated_group(g) for g in groups],
    }


__all__ = ["RESOURCES"]
