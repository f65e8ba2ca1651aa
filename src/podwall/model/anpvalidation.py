"""AdminNetworkPolicy and BaselineAdminNetworkPolicy validation (policy.networking.k8s.io/
v1alpha1), as the API server does it for their CRDs, plus what podwall cannot enforce.

As `cnpvalidation` does for ClusterNetworkPolicy, in order: the apiVersion, ObjectMeta as for any
cluster-scoped custom resource, then the CRD's schema and CEL rules (`anpschema`) over the object
as the API server defaults it (a port's `protocol` is TCP when left out). The
BaselineAdminNetworkPolicy's name must be `default` (the CRD's own CEL rule). podwall's own
checks, which say so:

- label selectors must parse (`metav1.LabelSelectorAsSelector`), as for ClusterNetworkPolicy;
- `domainNames` peers are unsupported, as for ClusterNetworkPolicy;
- a port's protocol must be TCP, UDP or SCTP: the CRD leaves `v1.Protocol` unchecked, and a
  rule for a protocol podwall cannot match cannot be enforced;
- a `portRange`'s start must be less than its end, as the API's documentation says (v0.2.0's
  CRD checks it; v0.1's does not): an empty range would silently match nothing.

Pure: no I/O here.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping
from typing import Any

from podwall.model import strictfields
from podwall.model.anpschema import (
    ADMIN_NETWORK_POLICY,
    BASELINE_ADMIN_NETWORK_POLICY,
    DEFAULT_PROTOCOL,
)
from podwall.model.clusterpolicy import (
    ADMIN_NETWORK_POLICY as ANP_KIND,
)
from podwall.model.clusterpolicy import (
    BASELINE_ADMIN_NETWORK_POLICY as BANP_KIND,
)
from podwall.model.clusterpolicy import V1ALPHA1
from podwall.model.cnpvalidation import (
    DOMAIN_NAMES_UNSUPPORTED,
    spec_items,
    spec_selectors,
    under_any,
)
from podwall.model.fielderrors import FieldError, forbidden, invalid, not_supported
from podwall.model.fieldpath import child
from podwall.model.labelvalidation import validate_label_selector
from podwall.model.openapischema import StructuralSchema
from podwall.model.validation import validate_object_meta

__all__ = ["KINDS", "defaulted", "unknown_fields", "validate"]

KINDS = (ANP_KIND, BANP_KIND)
_SCHEMAS: Mapping[str, StructuralSchema] = {
    ANP_KIND: ADMIN_NETWORK_POLICY,
    BANP_KIND: BASELINE_ADMIN_NETWORK_POLICY,
}
PROTOCOLS = ("SCTP", "TCP", "UDP")
RANGE_ORDER = "Start port must be less than End port"


def validate(kind: str, body: Mapping[str, Any]) -> list[FieldError]:
    """Every error of one AdminNetworkPolicy or BaselineAdminNetworkPolicy (`kind`), in the API
    server's words."""
    if not isinstance(body, Mapping):
        return [invalid("<document>", body, "must be an object")]
    body = defaulted(body)
    errs = _api_version(kind, body.get("apiVersion"))
    meta = body.get("metadata")
    if isinstance(meta, Mapping):
        meta = {k: v for k, v in meta.items() if k != "namespace"}
    errs += validate_object_meta(meta, "metadata")
    schema_errs = _SCHEMAS[kind].validate(body, earlier=errs)
    errs += schema_errs
    broken = [e.path for e in schema_errs]
    own = _own_checks(body.get("spec"), domain_names=kind == ANP_KIND)
    errs += [e for e in own if not under_any(e.path, broken)]
    return errs


def unknown_fields(kind: str, body: Mapping[str, Any]) -> list[str]:
    """Fields neither the CRD nor ObjectMeta declares, as strict field validation reports them."""
    meta_only = {"metadata": body.get("metadata")}
    return strictfields.unknown_fields(meta_only) + _SCHEMAS[kind].unknown_fields(body)


def defaulted(body: Mapping[str, Any]) -> dict[str, Any]:
    """The object as the API server stores it: the CRD's `default: TCP` filled into every
    `portNumber` and `portRange` that leaves its protocol out. A copy; `body` is unchanged."""
    out = copy.deepcopy(dict(body))
    spec = out.get("spec")
    if not isinstance(spec, Mapping):
        return out
    for direction in ("ingress", "egress"):
        for _, rule in spec_items(spec.get(direction), ""):
            for _, port in spec_items(rule.get("ports"), ""):
                for field_name in ("portNumber", "portRange"):
                    value = port.get(field_name)
                    if isinstance(value, dict) and value.get("protocol") is None:
                        value["protocol"] = DEFAULT_PROTOCOL
    return out


def _api_version(kind: str, value: object) -> list[FieldError]:
    if value == V1ALPHA1:
        return []
    detail = f'no matches for kind "{kind}" in version "{value}" (podwall knows {V1ALPHA1})'
    return [invalid("apiVersion", value, detail)]


def _own_checks(spec: object, *, domain_names: bool) -> Iterator[FieldError]:
    """`domain_names`: whether the kind has such peers (for the other, one is an unknown
    field, reported as such)."""
    if not isinstance(spec, Mapping):
        return
    for path, selector in spec_selectors(spec):
        yield from validate_label_selector(selector, path)
    for direction in ("ingress", "egress"):
        for rule_path, rule in spec_items(spec.get(direction), child("spec", direction)):
            for port_path, port in spec_items(rule.get("ports"), child(rule_path, "ports")):
                yield from _port_checks(port, port_path)
    for i, rule in spec_items(spec.get("egress") if domain_names else None, "spec.egress"):
        for j, peer in spec_items(rule.get("to"), child(i, "to")):
            if peer.get("domainNames") is not None:
                yield forbidden(child(j, "domainNames"), DOMAIN_NAMES_UNSUPPORTED)


def _port_checks(port: Mapping[str, Any], path: str) -> Iterator[FieldError]:
    for field_name in ("portNumber", "portRange"):
        value = port.get(field_name)
        if not isinstance(value, Mapping):
            continue
        protocol = value.get("protocol")
        if protocol not in PROTOCOLS:
            yield not_supported(child(child(path, field_name), "protocol"), protocol, PROTOCOLS)
    span = port.get("portRange")
    if isinstance(span, Mapping):
        start, end = span.get("start"), span.get("end")
        if isinstance(start, int) and isinstance(end, int) and start >= end:
            yield invalid(child(path, "portRange"), "object", RANGE_ORDER)
