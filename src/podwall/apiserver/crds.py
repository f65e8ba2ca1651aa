"""The CustomResourceDefinitions the API server serves as if they were installed.

ClusterNetworkPolicy (network-policy-api v0.2.0, experimental channel) and its predecessors
AdminNetworkPolicy and BaselineAdminNetworkPolicy (v0.1.7, experimental channel), each read from
the CRD file upstream ships (`crds/`, unchanged; a test holds each equal to the copy the
model's schema is checked against). This module owns what kube-apiserver derives from a CRD for
clients: the OpenAPI v3 component schemas it publishes (what `kubectl explain` reads) and the
printer columns (`kubectl get`). The resource table entry is `resources`'; what a custom
resource must look like is `podwall.model.cnpvalidation`'s, not this module's.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources as package_files
from typing import Any

import yaml

Schema = dict[str, Any]

CLUSTER_NETWORK_POLICIES = "clusternetworkpolicies.policy.networking.k8s.io"
ADMIN_NETWORK_POLICIES = "adminnetworkpolicies.policy.networking.k8s.io"
BASELINE_ADMIN_NETWORK_POLICIES = "baselineadminnetworkpolicies.policy.networking.k8s.io"
_FILES = {
    key: f"policy.networking.k8s.io_{key.partition('.')[0]}.yaml"
    for key in (CLUSTER_NETWORK_POLICIES, ADMIN_NETWORK_POLICIES, BASELINE_ADMIN_NETWORK_POLICIES)
}
_META = "io.k8s.apimachinery.pkg.apis.meta.v1."
_METADATA_DOC = (
    "Standard object's metadata. More info: "
    "https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata"
)
_LIST_METADATA_DOC = (
    "Standard list metadata. More info: "
    "https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds"
)
# ObjectMeta's `name` description, which kube-apiserver gives every table's Name column.
NAME_DESCRIPTION = (
    "Name must be unique within a namespace. Is required when creating resources, although "
    "some resources may allow a client to request the name to be generated automatically. "
    "Name is primarily intended for creation idempotence and configuration definition. Cannot "
    "be updated. More info: "
    "https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names"
)


@dataclass(frozen=True, slots=True)
class PrinterColumn:
    """One `additionalPrinterColumns` entry of a CRD version."""

    name: str
    type: str
    json_path: str
    description: str
    priority: int = 0
    format: str = ""


def resource_keys() -> tuple[str, ...]:
    """The resource keys (`clusternetworkpolicies.policy.networking.k8s.io`) served by CRD."""
    return tuple(_FILES)


@functools.cache
def definition(key: str) -> Mapping[str, Any]:
    """The CustomResourceDefinition object, as upstream's file declares it."""
    text = package_files.files("podwall.apiserver").joinpath("crds", _FILES[key]).read_text()
    crd: Mapping[str, Any] = yaml.safe_load(text)
    return crd


def established(key: str) -> dict[str, Any]:
    """The CRD object as the API server holds it once installed: its names accepted, its
    conditions `NamesAccepted` and `Established`, its stored version."""
    crd = copy.deepcopy(dict(definition(key)))
    crd.pop("status", None)
    crd["status"] = {
        "acceptedNames": dict(crd["spec"]["names"]),
        "conditions": [
            _condition("NamesAccepted", "NoConflicts", "no conflicts found"),
            _condition(
                "Established", "InitialNamesAccepted", "the initial names have been accepted"
            ),
        ],
        "storedVersions": [served_version(key)],
    }
    return crd


def _condition(kind: str, reason: str, message: str) -> dict[str, str]:
    # No lastTransitionTime: the store stamps objects, not conditions; it is optional here.
    return {"type": kind, "status": "True", "reason": reason, "message": message}


def served_version(key: str) -> str:
    """The version the API server serves (the CRD's storage version)."""
    return str(next(v["name"] for v in definition(key)["spec"]["versions"] if v["storage"]))


def _version(key: str, version: str) -> Mapping[str, Any]:
    return next(v for v in definition(key)["spec"]["versions"] if v["name"] == version)


def printer_columns(key: str, version: str) -> tuple[PrinterColumn, ...]:
    """The version's additional printer columns, with the description kube-apiserver gives a
    column that has none (apiextensions' tableconvertor)."""
    return tuple(
        PrinterColumn(
            name=c["name"],
            type=c["type"],
            json_path=c["jsonPath"],
            description=c.get("description")
            or f"Custom resource definition column (in JSONPath format): {c['jsonPath']}",
            priority=int(c.get("priority", 0)),
            format=c.get("format", ""),
        )
        for c in _version(key, version).get("additionalPrinterColumns") or ()
    )


def schema_name(group: str, version: str, kind: str) -> str:
    """util.ToRESTFriendlyName: the group's domain reversed, `io.k8s.networking.policy...`."""
    reversed_group = ".".join(reversed(group.split(".")))
    return f"{reversed_group}.{version}.{kind}"


def openapi_schemas(key: str, version: str) -> dict[str, Schema]:
    """The kind's and its list's component schemas, as kube-apiserver's CRD OpenAPI builder
    publishes them: metadata points to ObjectMeta (ListMeta for the list), and each carries
    its `x-kubernetes-group-version-kind`."""
    crd = definition(key)
    group, names = crd["spec"]["group"], crd["spec"]["names"]
    kind, list_kind = names["kind"], names["listKind"]
    schema: Schema = dict(_version(key, version)["schema"]["openAPIV3Schema"])
    properties = dict(schema["properties"])
    properties["metadata"] = {
        "allOf": [{"$ref": _ref(_META + "ObjectMeta")}],
        "description": _METADATA_DOC,
    }
    schema["properties"] = properties
    schema["x-kubernetes-group-version-kind"] = [{"group": group, "kind": kind, "version": version}]
    name = schema_name(group, version, kind)
    list_schema: Schema = {
        "description": f"{list_kind} is a list of {kind}",
        "required": ["items"],
        "properties": {
            "apiVersion": properties["apiVersion"],
            "items": {
                "description": (
                    f"List of {names['plural']}. More info: "
                    "https://git.k8s.io/community/contributors/devel/api-conventions.md"
                ),
                "items": {"$ref": _ref(name)},
                "type": "array",
            },
            "kind": properties["kind"],
            "metadata": {
                "allOf": [{"$ref": _ref(_META + "ListMeta")}],
                "description": _LIST_METADATA_DOC,
            },
        },
        "type": "object",
        "x-kubernetes-group-version-kind": [
            {"group": group, "kind": list_kind, "version": version}
        ],
    }
    return {name: schema, schema_name(group, version, list_kind): list_schema}


def _ref(name: str) -> str:
    return "#/components/schemas/" + name


def json_path_value(obj: Mapping[str, Any], json_path: str) -> object:
    """A simple JSONPath (`.spec.tier`), as the CRD columns use; None where a key is missing
    (the tableconvertor allows missing keys)."""
    value: object = obj
    for part in json_path.strip(".").split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value
