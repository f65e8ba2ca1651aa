"""ClusterNetworkPolicy validation, as the API server does it for the CRD, plus what podwall
cannot enforce.

In order: the apiVersion (kubectl's "no matches for kind"), ObjectMeta as for any cluster-scoped
custom resource (a namespace in the manifest is dropped, as kubectl drops it), then the CRD's
schema and CEL rules (`cnpschema`). Two checks are podwall's own and say so:

- label selectors are checked as `metav1.LabelSelectorAsSelector` would parse them: the CRD's
  schema leaves their content unchecked, and a selector that cannot be parsed cannot be
  enforced (an implementation would fail on it at run time);
- `domainNames` peers are rejected as unsupported: a domain name's addresses are known only
  to a DNS-aware dataplane at connection time, which podwall does not have, and an analysis
  of manifests offline cannot know them either. Rejecting is honest; guessing is not.

Pure: no I/O here.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from podwall.model import strictfields
from podwall.model.clusterpolicy import API_VERSION, KIND
from podwall.model.cnpschema import CLUSTER_NETWORK_POLICY
from podwall.model.fielderrors import FieldError, forbidden, invalid
from podwall.model.fieldpath import child, index
from podwall.model.labelvalidation import validate_label_selector
from podwall.model.validation import validate_object_meta

__all__ = [
    "DOMAIN_NAMES_UNSUPPORTED",
    "spec_items",
    "spec_selectors",
    "under_any",
    "unknown_fields",
    "validate_cluster_network_policy",
]

DOMAIN_NAMES_UNSUPPORTED = (
    "not supported by podwall: a domainNames peer needs DNS-aware enforcement, which podwall "
    "does not implement; write the addresses as a networks peer instead"
)


def validate_cluster_network_policy(body: Mapping[str, Any]) -> list[FieldError]:
    """Every error of one ClusterNetworkPolicy (the raw object), in the API server's words."""
    if not isinstance(body, Mapping):
        return [invalid("<document>", body, "must be an object")]
    errs = _api_version(body.get("apiVersion"))
    meta = body.get("metadata")
    if isinstance(meta, Mapping):
        meta = {k: v for k, v in meta.items() if k != "namespace"}
    errs += validate_object_meta(meta, "metadata")
    schema_errs = CLUSTER_NETWORK_POLICY.validate(body, earlier=errs)
    errs += schema_errs
    # podwall's own checks look only at what the schema found well formed.
    broken = [e.path for e in schema_errs]
    errs += [e for e in _own_checks(body.get("spec")) if not under_any(e.path, broken)]
    return errs


def unknown_fields(body: Mapping[str, Any]) -> list[str]:
    """Fields neither the CRD nor ObjectMeta declares, as strict field validation reports them."""
    meta_only = {"metadata": body.get("metadata")}
    return strictfields.unknown_fields(meta_only) + CLUSTER_NETWORK_POLICY.unknown_fields(body)


def _api_version(value: object) -> list[FieldError]:
    if value == API_VERSION:
        return []
    detail = f'no matches for kind "{KIND}" in version "{value}" (podwall knows {API_VERSION})'
    return [invalid("apiVersion", value, detail)]


def under_any(path: str, prefixes: list[str]) -> bool:
    return any(path == p or path.startswith((p + ".", p + "[")) for p in prefixes)


def _own_checks(spec: object) -> Iterator[FieldError]:
    if not isinstance(spec, Mapping):
        return
    for path, selector in spec_selectors(spec):
        yield from validate_label_selector(selector, path)
    for i, rule in spec_items(spec.get("egress"), "spec.egress"):
        for j, peer in spec_items(rule.get("to"), child(i, "to")):
            if peer.get("domainNames") is not None:
                yield forbidden(child(j, "domainNames"), DOMAIN_NAMES_UNSUPPORTED)


def spec_selectors(spec: Mapping[str, Any]) -> Iterator[tuple[str, object]]:
    """Every label selector of the spec with its path."""
    yield from _peer_selectors(spec.get("subject"), "spec.subject")
    for direction, peers_field in (("ingress", "from"), ("egress", "to")):
        for rule_path, rule in spec_items(spec.get(direction), child("spec", direction)):
            for peer_path, peer in spec_items(rule.get(peers_field), child(rule_path, peers_field)):
                yield from _peer_selectors(peer, peer_path)


def _peer_selectors(peer: object, path: str) -> Iterator[tuple[str, object]]:
    if not isinstance(peer, Mapping):
        return
    for name in ("namespaces", "nodes"):
        if peer.get(name) is not None:
            yield child(path, name), peer[name]
    pods = peer.get("pods")
    if isinstance(pods, Mapping):
        for name in ("namespaceSelector", "podSelector"):
            if pods.get(name) is not None:
                yield child(child(path, "pods"), name), pods[name]


def spec_items(raw: object, path: str) -> Iterator[tuple[str, Mapping[str, Any]]]:
    if isinstance(raw, list):
        for i, item in enumerate(raw):
            if isinstance(item, Mapping):
                yield index(path, i), item
