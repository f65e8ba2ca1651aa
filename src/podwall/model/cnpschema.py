"""The ClusterNetworkPolicy CRD's schema (network-policy-api v0.2.0, experimental channel).

`SPEC` is `config/crd/experimental/policy.networking.k8s.io_clusternetworkpolicies.yaml`'s
`spec` schema without its descriptions; a test holds it equal to that file. The experimental
channel is the standard one plus `nodes` and `domainNames` peers and one CEL rule, so every
standard policy validates the same here. `CEL` gives each `x-kubernetes-validations` rule of
the CRD its meaning in Python. Pure: no I/O here.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Any

from podwall.model.openapischema import CelRule, Schema, StructuralSchema


def _string(**bounds: Any) -> dict[str, Any]:
    return {"type": "string", **bounds}


def port_number_schema() -> dict[str, Any]:
    return {"format": "int32", "maximum": 65535, "minimum": 1, "type": "integer"}


def selector_schema() -> dict[str, Any]:
    """metav1.LabelSelector as controller-gen writes it."""
    requirement = {
        "properties": {
            "key": _string(),
            "operator": _string(),
            "values": {"items": _string(), "type": "array", "x-kubernetes-list-type": "atomic"},
        },
        "required": ["key", "operator"],
        "type": "object",
    }
    return {
        "properties": {
            "matchExpressions": {
                "items": requirement,
                "type": "array",
                "x-kubernetes-list-type": "atomic",
            },
            "matchLabels": {"additionalProperties": _string(), "type": "object"},
        },
        "type": "object",
        "x-kubernetes-map-type": "atomic",
    }


def namespaced_pod_schema() -> dict[str, Any]:
    return {
        "properties": {"namespaceSelector": selector_schema(), "podSelector": selector_schema()},
        "required": ["podSelector"],
        "type": "object",
    }


RANGE_RULE = "self.start < self.end"
CIDR_RULE = "isCIDR(self)"
NAMED_PORT_RULE = (
    "!(self.to.exists(peer, has(peer.networks) || has(peer.nodes) || has(peer.domainNames)) "
    "&& has(self.protocols) && self.protocols.exists(protocol, "
    "has(protocol.destinationNamedPort)))"
)


def _protocol_fields() -> dict[str, Any]:
    port = {
        "maxProperties": 1,
        "minProperties": 1,
        "properties": {
            "number": port_number_schema(),
            "range": {
                "properties": {"end": port_number_schema(), "start": port_number_schema()},
                "required": ["end", "start"],
                "type": "object",
                "x-kubernetes-validations": [
                    {"message": "Start port must be less than End port", "rule": RANGE_RULE}
                ],
            },
        },
        "type": "object",
    }
    one = {"minProperties": 1, "properties": {"destinationPort": port}, "type": "object"}
    return {
        "items": {
            "maxProperties": 1,
            "minProperties": 1,
            "properties": {
                "destinationNamedPort": _string(),
                "sctp": one,
                "tcp": one,
                "udp": one,
            },
            "type": "object",
        },
        "maxItems": 25,
        "minItems": 1,
        "type": "array",
    }


DOMAIN_NAME_PATTERN = (
    r"^(\*\.)?([a-zA-z0-9]([-a-zA-Z0-9_]*[a-zA-Z0-9])?\.)+"
    r"[a-zA-z0-9]([-a-zA-Z0-9_]*[a-zA-Z0-9])?\.?$"
)


def _egress_peer() -> dict[str, Any]:
    return {
        "maxProperties": 1,
        "minProperties": 1,
        "properties": {
            "domainNames": {
                "items": _string(pattern=DOMAIN_NAME_PATTERN),
                "maxItems": 25,
                "minItems": 1,
                "type": "array",
                "x-kubernetes-list-type": "set",
            },
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
            "pods": namespaced_pod_schema(),
        },
        "type": "object",
    }


def _ingress_peer() -> dict[str, Any]:
    return {
        "maxProperties": 1,
        "minProperties": 1,
        "properties": {"namespaces": selector_schema(), "pods": namespaced_pod_schema()},
        "type": "object",
    }


def _rule(peers_field: str, peer: dict[str, Any]) -> dict[str, Any]:
    return {
        "properties": {
            "action": {"enum": ["Accept", "Deny", "Pass"], "type": "string"},
            peers_field: {"items": peer, "maxItems": 25, "minItems": 1, "type": "array"},
            "name": _string(maxLength=100),
            "protocols": _protocol_fields(),
        },
        "required": ["action", peers_field],
        "type": "object",
    }


def _egress_rule() -> dict[str, Any]:
    rule = _rule("to", _egress_peer())
    rule["x-kubernetes-validations"] = [
        {
            "message": (
                "networks/nodes/domainNames peer cannot be set with namedPorts since there "
                "are no namedPorts for networks/nodes/domainNames"
            ),
            "rule": NAMED_PORT_RULE,
        }
    ]
    return rule


SPEC: Schema = {
    "properties": {
        "egress": {"items": _egress_rule(), "maxItems": 25, "type": "array"},
        "ingress": {"items": _rule("from", _ingress_peer()), "maxItems": 25, "type": "array"},
        "priority": {"format": "int32", "maximum": 1000, "minimum": 0, "type": "integer"},
        "subject": {
            "maxProperties": 1,
            "minProperties": 1,
            "properties": {"namespaces": selector_schema(), "pods": namespaced_pod_schema()},
            "type": "object",
        },
        "tier": {"enum": ["Admin", "Baseline"], "type": "string"},
    },
    "required": ["priority", "subject", "tier"],
    "type": "object",
}

# The object: metadata is ObjectMeta's to validate, status is the status subresource's (the
# API server drops it on create).
OBJECT: Schema = {
    "properties": {
        "apiVersion": _string(),
        "kind": _string(),
        "metadata": {"type": "object"},
        "spec": SPEC,
        "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
    },
    "required": ["metadata", "spec"],
    "type": "object",
}


def is_cidr(value: object) -> bool:
    """The Kubernetes CEL library's isCIDR: netip.ParsePrefix, with no zone and no IPv4-mapped
    IPv6 address. Host bits may be set; IPv4 octets may not have leading zeros."""
    if not isinstance(value, str):
        return False
    address, slash, bits = value.partition("/")
    if not slash or not bits.isdigit() or (len(bits) > 1 and bits[0] == "0") or "%" in address:
        return False
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return False
    return int(bits) <= ip.max_prefixlen


def _range_ordered(value: object) -> bool:
    if not isinstance(value, Mapping):
        return True
    start, end = value.get("start"), value.get("end")
    return not (isinstance(start, int) and isinstance(end, int)) or start < end


def _no_named_port_for_addresses(value: object) -> bool:
    if not isinstance(value, Mapping):
        return True
    peers = value.get("to") or ()
    by_address = any(
        isinstance(p, Mapping) and any(p.get(f) is not None for f in _ADDRESS_PEERS) for p in peers
    )
    named = any(
        isinstance(p, Mapping) and p.get("destinationNamedPort") is not None
        for p in value.get("protocols") or ()
    )
    return not (by_address and named)


_ADDRESS_PEERS = ("networks", "nodes", "domainNames")

CEL: Mapping[str, CelRule] = {
    RANGE_RULE: _range_ordered,
    CIDR_RULE: is_cidr,
    NAMED_PORT_RULE: _no_named_port_for_addresses,
}

CLUSTER_NETWORK_POLICY = StructuralSchema(schema=OBJECT, cel=CEL)
