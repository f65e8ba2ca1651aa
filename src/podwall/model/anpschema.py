"""The AdminNetworkPolicy and BaselineAdminNetworkPolicy CRDs' schemas (network-policy-api
v0.1.7, experimental channel; v0.1.8 ships the same files).

`ANP_SPEC` and `BANP_SPEC` are the `spec` schemas of
`config/crd/experimental/policy.networking.k8s.io_{adminnetworkpolicies,
baselineadminnetworkpolicies}.yaml` without their descriptions; a test holds them equal to those
files. The experimental channel is the standard one plus `namedPort` ports, `nodes` peers (and,
for the AdminNetworkPolicy, `domainNames`), so every standard policy validates the same here.
`CEL` gives each `x-kubernetes-validations` rule its meaning in Python. The building blocks
(selectors, port numbers, CIDRs) are ClusterNetworkPolicy's, which took them over unchanged.
Pure: no I/O here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from podwall.model.cnpschema import (
    CIDR_RULE,
    DOMAIN_NAME_PATTERN,
    is_cidr,
    namespaced_pod_schema,
    port_number_schema,
    selector_schema,
)
from podwall.model.openapischema import CelRule, Schema, StructuralSchema

# The API server fills `protocol` with this default before it validates (it is required).
DEFAULT_PROTOCOL = "TCP"

ANP_NAMED_PORT_RULE = (
    "!(self.to.exists(peer, has(peer.networks) || has(peer.nodes) || has(peer.domainNames)) "
    "&& has(self.ports) && self.ports.exists(port, has(port.namedPort)))"
)
ANP_NAMED_PORT_MESSAGE = (
    "networks/nodes/domainNames peer cannot be set with namedPorts since there are no "
    "namedPorts for networks/nodes/domainNames"
)
BANP_NAMED_PORT_RULE = (
    "!(self.to.exists(peer, has(peer.networks) || has(peer.nodes)) && has(self.ports) && "
    "self.ports.exists(port, has(port.namedPort)))"
)
BANP_NAMED_PORT_MESSAGE = (
    "networks/nodes peer cannot be set with namedPorts since there are no namedPorts for "
    "networks/nodes"
)
BANP_NAME_RULE = "self.metadata.name == 'default'"
BANP_NAME = "default"
BANP_NAME_MESSAGE = (
    'Only one baseline admin network policy with metadata.name="default" can be created in the '
    "cluster"
)


def _pods() -> dict[str, Any]:
    pods = namespaced_pod_schema()
    pods["required"] = ["namespaceSelector", "podSelector"]
    return pods


def _ports() -> dict[str, Any]:
    protocol = {"default": DEFAULT_PROTOCOL, "type": "string"}
    return {
        "items": {
            "maxProperties": 1,
            "minProperties": 1,
            "properties": {
                "namedPort": {"type": "string"},
                "portNumber": {
                    "properties": {"port": port_number_schema(), "protocol": protocol},
                    "required": ["port", "protocol"],
                    "type": "object",
                },
                "portRange": {
                    "properties": {
                        "end": port_number_schema(),
                        "protocol": dict(protocol),
                        "start": port_number_schema(),
                    },
                    "required": ["end", "start"],
                    "type": "object",
                },
            },
            "type": "object",
        },
        "maxItems": 100,
        "minItems": 1,
        "type": "array",
    }


def _peers(properties: dict[str, Any]) -> dict[str, Any]:
    peer = {"maxProperties": 1, "minProperties": 1, "properties": properties, "type": "object"}
    return {"items": peer, "maxItems": 100, "minItems": 1, "type": "array"}


def _egress_peer(*, domain_names: bool) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "namespaces": selector_schema(),
        "networks": {
            "items": {
                "maxLength": 43,
                "type": "string",
                "x-kubernetes-validations": [
                    {"message": "Invalid CIDR format provided", "rule": CIDR_RULE}
                ],
            },
            "maxItems": 25,
            "minItems": 1,
            "type": "array",
            "x-kubernetes-list-type": "set",
        },
        "nodes": selector_schema(),
        "pods": _pods(),
    }
    if domain_names:
        properties["domainNames"] = {
            "items": {"pattern": DOMAIN_NAME_PATTERN, "type": "string"},
            "maxItems": 25,
            "minItems": 1,
            "type": "array",
            "x-kubernetes-list-type": "set",
        }
    return _peers(properties)


def _rule(actions: list[str], peers_field: str, peers: dict[str, Any]) -> dict[str, Any]:
    return {
        "properties": {
            "action": {"enum": actions, "type": "string"},
            peers_field: peers,
            "name": {"maxLength": 100, "type": "string"},
            "ports": _ports(),
        },
        "required": ["action", peers_field],
        "type": "object",
    }


def _spec(*, baseline: bool) -> dict[str, Any]:
    actions = ["Allow", "Deny"] if baseline else ["Allow", "Deny", "Pass"]
    rule, message = (
        (BANP_NAMED_PORT_RULE, BANP_NAMED_PORT_MESSAGE)
        if baseline
        else (ANP_NAMED_PORT_RULE, ANP_NAMED_PORT_MESSAGE)
    )
    egress = _rule(actions, "to", _egress_peer(domain_names=not baseline))
    egress["x-kubernetes-validations"] = [{"message": message, "rule": rule}]
    ingress_peers = _peers({"namespaces": selector_schema(), "pods": _pods()})
    spec: dict[str, Any] = {
        "properties": {
            "egress": {"items": egress, "maxItems": 100, "type": "array"},
            "ingress": {
                "items": _rule(actions, "from", ingress_peers),
                "maxItems": 100,
                "type": "array",
            },
            "subject": {
                "maxProperties": 1,
                "minProperties": 1,
                "properties": {"namespaces": selector_schema(), "pods": _pods()},
                "type": "object",
            },
        },
        "required": ["subject"] if baseline else ["priority", "subject"],
        "type": "object",
    }
    if not baseline:
        spec["properties"]["priority"] = {
            "format": "int32",
            "maximum": 1000,
            "minimum": 0,
            "type": "integer",
        }
    return spec


ANP_SPEC: Schema = _spec(baseline=False)
BANP_SPEC: Schema = _spec(baseline=True)


def _object(spec: Schema, *, baseline: bool) -> Schema:
    """The object: metadata is ObjectMeta's to validate, status the status subresource's."""
    out: dict[str, Any] = {
        "properties": {
            "apiVersion": {"type": "string"},
            "kind": {"type": "string"},
            "metadata": {"type": "object"},
            "spec": spec,
            "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
        },
        "required": ["metadata", "spec"],
        "type": "object",
    }
    if baseline:
        out["x-kubernetes-validations"] = [{"message": BANP_NAME_MESSAGE, "rule": BANP_NAME_RULE}]
    return out


ANP_OBJECT = _object(ANP_SPEC, baseline=False)
BANP_OBJECT = _object(BANP_SPEC, baseline=True)


def _named_port_only_for_pods(address_peers: tuple[str, ...]) -> CelRule:
    def holds(value: object) -> bool:
        if not isinstance(value, Mapping):
            return True
        by_address = any(
            isinstance(p, Mapping) and any(p.get(f) is not None for f in address_peers)
            for p in value.get("to") or ()
        )
        named = any(
            isinstance(p, Mapping) and p.get("namedPort") is not None
            for p in value.get("ports") or ()
        )
        return not (by_address and named)

    return holds


def _named_default(value: object) -> bool:
    meta = value.get("metadata") if isinstance(value, Mapping) else None
    return not isinstance(meta, Mapping) or meta.get("name") == BANP_NAME


CEL: Mapping[str, CelRule] = {
    CIDR_RULE: is_cidr,
    ANP_NAMED_PORT_RULE: _named_port_only_for_pods(("networks", "nodes", "domainNames")),
    BANP_NAMED_PORT_RULE: _named_port_only_for_pods(("networks", "nodes")),
    BANP_NAME_RULE: _named_default,
}

ADMIN_NETWORK_POLICY = StructuralSchema(schema=ANP_OBJECT, cel=CEL)
BASELINE_ADMIN_NETWORK_POLICY = StructuralSchema(schema=BANP_OBJECT, cel=CEL)
