"""NetworkPolicy validation, exactly as the Kubernetes API server does it on create.

Owns the port of kubernetes' `pkg/apis/networking/validation` (ValidateNetworkPolicy and its
helpers) and the parts of ObjectMeta validation a manifest can trip, with upstream's messages
word for word. Label and selector rules live in `labelvalidation`, DNS names in `dnsnames`,
raw-value decoding in `decoding`, field errors themselves in `fielderrors`. Every error is
reported in one pass, in the order upstream appends them. Pure: no I/O here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from podwall.model.cidr import GoIPNet, parse_cidr_sloppy
from podwall.model.decoding import (
    MALFORMED,
    decode_int32,
    decode_int_or_string,
    decode_list,
    decode_string,
    decode_string_map,
    object_rules,
)
from podwall.model.dnsnames import byte_len, is_dns1123_label, is_dns1123_subdomain, max_len_error
from podwall.model.fielderrors import (
    FieldError,
    forbidden,
    invalid,
    not_supported,
    required,
    too_long,
)
from podwall.model.fieldpath import child, index
from podwall.model.goquote import GoSlice
from podwall.model.labelvalidation import (
    is_qualified_name,
    validate_label_selector,
    validate_labels,
)

__all__ = ["validate_network_policy"]

PROTOCOLS = ("TCP", "UDP", "SCTP")
POLICY_TYPES = ("Ingress", "Egress")
TOTAL_ANNOTATION_SIZE_LIMIT = 256 * (1 << 10)


def validate_network_policy(body: Mapping[str, Any]) -> list[FieldError]:
    """ValidateNetworkPolicy: the metadata, then the spec.

    `body` is the raw JSON/YAML object of one NetworkPolicy (apiVersion, kind, metadata, spec).
    """
    if not isinstance(body, Mapping):
        return [invalid("<document>", body, "must be an object")]
    errs = validate_object_meta(body.get("metadata"), "metadata")
    errs += validate_network_policy_spec(body.get("spec"), "spec")
    return errs


# ObjectMeta: apimachinery api/validation objectmeta.go and generic.go.


def validate_network_policy_name(name: str, prefix: bool) -> list[str]:
    """ValidateNetworkPolicyName: NameIsDNSSubdomain."""
    if prefix and name.endswith("-"):
        name = name[:-2] + "a"  # maskTrailingDash, which (upstream) drops two characters
    return is_dns1123_subdomain(name)


@object_rules
def validate_object_meta(meta: Mapping[str, Any], path: str, errs: list[FieldError]) -> None:
    """ValidateObjectMeta: generateName, name, namespace, labels, annotations.

    A missing namespace is not an error here: kubectl fills it in from the context.
    """
    generate_name = decode_string(meta.get("generateName"), child(path, "generateName"), errs)
    if isinstance(generate_name, str) and generate_name:
        msgs = validate_network_policy_name(generate_name, prefix=True)
        errs += [invalid(child(path, "generateName"), generate_name, msg) for msg in msgs]
    name = decode_string(meta.get("name"), child(path, "name"), errs)
    if isinstance(name, str) and name:
        msgs = validate_network_policy_name(name, prefix=False)
        errs += [invalid(child(path, "name"), name, msg) for msg in msgs]
    elif name is not MALFORMED and not generate_name:
        errs.append(required(child(path, "name"), "name or generateName is required"))
    namespace = decode_string(meta.get("namespace"), child(path, "namespace"), errs)
    if isinstance(namespace, str) and namespace:
        msgs = is_dns1123_label(namespace)  # ValidateNamespaceName: NameIsDNSLabel
        errs += [invalid(child(path, "namespace"), namespace, msg) for msg in msgs]
    labels = decode_string_map(meta.get("labels"), child(path, "labels"), errs)
    if labels is not MALFORMED:
        errs += validate_labels(labels, child(path, "labels"))
    annotations = decode_string_map(meta.get("annotations"), child(path, "annotations"), errs)
    if annotations is not MALFORMED:
        errs += validate_annotations(annotations, child(path, "annotations"))


def validate_annotations(annotations: Mapping[str, str], path: str) -> list[FieldError]:
    """ValidateAnnotations: keys are qualified names in any case; 256 KiB in all."""
    errs = []
    for name in sorted(annotations):
        errs += [invalid(path, name, msg) for msg in is_qualified_name(name.lower())]
    size = sum(byte_len(k) + byte_len(v) for k, v in annotations.items())
    if size > TOTAL_ANNOTATION_SIZE_LIMIT:
        errs.append(too_long(path, "", TOTAL_ANNOTATION_SIZE_LIMIT))
    return errs


# pkg/apis/networking/validation/validation.go.


@object_rules
def validate_network_policy_spec(
    spec: Mapping[str, Any], path: str, errs: list[FieldError]
) -> None:
    """ValidateNetworkPolicySpec: podSelector, ingress rules, egress rules, policyTypes."""
    errs += validate_label_selector(spec.get("podSelector"), child(path, "podSelector"))
    for direction, peers_field in (("ingress", "from"), ("egress", "to")):
        rules_path = child(path, direction)
        rules = decode_list(spec.get(direction), rules_path, errs)
        if rules is not MALFORMED:
            for i, rule in enumerate(rules or ()):
                errs += _validate_rule(rule, index(rules_path, i), peers_field)
    errs += _validate_policy_types(spec.get("policyTypes"), child(path, "policyTypes"))


@object_rules
def _validate_rule(
    rule: Mapping[str, Any], path: str, errs: list[FieldError], peers_field: str
) -> None:
    """The loop body of ValidateNetworkPolicySpec: every port, then every peer."""
    for field_name, validate in (
        ("ports", validate_network_policy_port),
        (peers_field, validate_network_policy_peer),
    ):
        items_path = child(path, field_name)
        items = decode_list(rule.get(field_name), items_path, errs)
        if items is not MALFORMED:
            for i, item in enumerate(items or ()):
                errs += validate(item, index(items_path, i))


def _validate_policy_types(raw: object, path: str) -> list[FieldError]:
    """The policyTypes part of ValidateNetworkPolicySpec (empty is defaulted, so never wrong)."""
    errs: list[FieldError] = []
    items = decode_list(raw, path, errs)
    if items is MALFORMED or not items:
        return errs
    types = [decode_string(item, index(path, i), errs) for i, item in enumerate(items)]
    if len(types) > len(POLICY_TYPES):
        as_go = GoSlice(
            "networking.PolicyType", tuple(t if isinstance(t, str) else "" for t in types)
        )
        errs.append(invalid(path, as_go, "may not specify more than two policyTypes"))
        return errs
    for i, policy_type in enumerate(types):
        if policy_type is not MALFORMED and policy_type not in POLICY_TYPES:
            errs.append(not_supported(index(path, i), policy_type or "", POLICY_TYPES))
    return errs


@object_rules
def validate_network_policy_port(
    port: Mapping[str, Any], path: str, errs: list[FieldError]
) -> None:
    """ValidateNetworkPolicyPort: protocol, then port and endPort together."""
    protocol = decode_string(port.get("protocol"), child(path, "protocol"), errs)
    if isinstance(protocol, str) and protocol not in PROTOCOLS:
        errs.append(not_supported(child(path, "protocol"), protocol, PROTOCOLS))
    port_path, end_path = child(path, "port"), child(path, "endPort")
    number = decode_int_or_string(port.get("port"), port_path, errs)
    end = decode_int32(port.get("endPort"), end_path, errs)
    if isinstance(number, int):
        errs += [invalid(port_path, number, msg) for msg in is_valid_port_num(number)]
        if isinstance(end, int):
            if end < number:
                errs.append(invalid(end_path, end, "must be greater than or equal to `port`"))
            errs += [invalid(end_path, end, msg) for msg in is_valid_port_num(end)]
    elif isinstance(number, str):
        if isinstance(end, int):
            errs.append(invalid(end_path, end, "may not be specified when `port` is non-numeric"))
        errs += [invalid(port_path, number, msg) for msg in is_valid_port_name(number)]
    elif number is None and isinstance(end, int):
        errs.append(invalid(end_path, end, "may not be specified when `port` is not specified"))


@object_rules
def validate_network_policy_peer(
    peer: Mapping[str, Any], path: str, errs: list[FieldError]
) -> None:
    """ValidateNetworkPolicyPeer: exactly one kind of peer; selectors may be combined."""
    count = 0
    for selector_field in ("podSelector", "namespaceSelector"):
        if peer.get(selector_field) is not None:
            count += 1
            errs += validate_label_selector(peer[selector_field], child(path, selector_field))
    ip_block = peer.get("ipBlock")
    if ip_block is not None:
        count += 1
        errs += validate_ip_block(ip_block, child(path, "ipBlock"))
    if count == 0:
        errs.append(required(path, "must specify a peer"))
    elif count > 1 and ip_block is not None:
        errs.append(forbidden(path, "may not specify both ipBlock and another peer"))


@object_rules
def validate_ip_block(block: Mapping[str, Any], path: str, errs: list[FieldError]) -> None:
    """ValidateIPBlock: cidr is required and valid; each except lies strictly inside it."""
    cidr_path = child(path, "cidr")
    cidr = decode_string(block.get("cidr"), cidr_path, errs)
    if cidr is MALFORMED:
        return
    if not cidr:
        errs.append(required(cidr_path))
        return
    errs += is_valid_cidr_for_legacy_field(cidr_path, cidr)
    network = parse_cidr_sloppy(cidr)
    if network is None:
        return
    except_path = child(path, "except")
    excepts = decode_list(block.get("except"), except_path, errs)
    if excepts is MALFORMED:
        return
    for i, raw_except in enumerate(excepts or ()):
        errs += _validate_except(raw_except, index(except_path, i), network)


def _validate_except(raw: object, path: str, network: GoIPNet) -> list[FieldError]:
    """One `except` entry of ValidateIPBlock: a CIDR strictly inside `cidr`."""
    errs: list[FieldError] = []
    text = decode_string(raw, path, errs)
    if text is MALFORMED:
        return errs
    text = text or ""
    errs += is_valid_cidr_for_legacy_field(path, text)
    excluded = parse_cidr_sloppy(text)
    if excluded is not None and (
        not network.contains(excluded.ip) or network.prefix >= excluded.prefix
    ):
        errs.append(invalid(path, text, "must be a strict subset of `cidr`"))
    return errs


# apimachinery util/validation/validation.go: ports.


def is_valid_port_num(port: int) -> list[str]:
    """IsValidPortNum."""
    return [] if 1 <= port <= 65535 else ["must be between 1 and 65535, inclusive"]


_PORT_NAME_CHARSET = re.compile("[-a-z0-9]+")
_PORT_NAME_LETTER = re.compile("[a-z]")


def is_valid_port_name(port: str) -> list[str]:
    """IsValidPortName: an IANA_SVC_NAME (RFC 6335), lower case only."""
    errs = []
    if byte_len(port) > 15:
        errs.append(max_len_error(15))
    if not _PORT_NAME_CHARSET.fullmatch(port):
        errs.append("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)")
    if not _PORT_NAME_LETTER.search(port):
        errs.append("must contain at least one letter (a-z)")
    if "--" in port:
        errs.append("must not contain consecutive hyphens")
    if port and (port[0] == "-" or port[-1] == "-"):
        errs.append("must not begin or end with a hyphen")
    return errs


# CIDRs: IsValidCIDRForLegacyField with StrictIPCIDRValidation off (its default), which accepts
# whatever k8s.io/utils/net.ParseCIDRSloppy (Go 1.16's net.ParseCIDR) accepts: host bits set,
# leading zeros, IPv4-mapped IPv6.


def is_valid_cidr_for_legacy_field(path: str, value: str) -> list[FieldError]:
    """IsValidCIDRForLegacyField."""
    if parse_cidr_sloppy(value) is not None:
        return []
    return [invalid(path, value, "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)")]
