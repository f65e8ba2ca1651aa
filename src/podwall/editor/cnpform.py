"""The structured form of a draft ClusterNetworkPolicy, to and from Kubernetes JSON.

Like the NetworkPolicy form (`form`), it keeps what a user typed (strings, possibly invalid)
so that validation can point at the field, and decides nothing. Shape (all keys present):

    {"kind": "ClusterNetworkPolicy", "name": str, "tier": str, "priority": str,
     "subject": {"type": "namespaces" | "pods", "namespaceSelector": Selector,
                 "podSelector": Selector},
     "ingress": {"rules": [Rule]}, "egress": {"rules": [Rule]}}
    Rule = {"name": str, "action": str, "peers": [Peer], "ports": [Port]}
    Peer = {"type": "namespaces" | "pods" | "nodes" | "networks" | "domainNames",
            "namespaceSelector": Selector, "podSelector": Selector,
            "nodeSelector": Selector, "values": [str]}
    Port = {"protocol": "TCP" | "UDP" | "SCTP" | "named", "port": str, "end": str,
            "name": str}

A peer's type says which of its fields the body gets (`values` are a `networks` or
`domainNames` peer's). Selectors are `form`'s. Pure: no I/O here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from podwall.editor.form import JSON, FormError, as_list, as_map, selector_body, selector_form
from podwall.model.clusterpolicy import API_VERSION, KIND

PEER_TYPES = ("namespaces", "pods", "nodes", "networks", "domainNames")
_PROTOCOL_FIELDS = {"TCP": "tcp", "UDP": "udp", "SCTP": "sctp"}
_DIRECTIONS = (("ingress", "from"), ("egress", "to"))


def is_cluster_form(form: Mapping[str, Any]) -> bool:
    return form.get("kind") == KIND


def _text(value: object) -> str:
    return "" if value is None else str(value)


def _blank() -> JSON:
    return {"matchLabels": [], "matchExpressions": []}


# Kubernetes JSON to the form.


def _selectors(raw: Mapping[str, Any], what: str) -> JSON:
    return {
        "namespaceSelector": selector_form(
            raw.get("namespaceSelector"), f"{what}.namespaceSelector"
        )
        if raw.get("namespaceSelector") is not None
        else _blank(),
        "podSelector": selector_form(raw.get("podSelector"), f"{what}.podSelector"),
    }


def _subject_form(raw: object) -> JSON:
    subject = as_map(raw, "spec.subject")
    if subject.get("pods") is not None:
        return {"type": "pods", **_selectors(as_map(subject["pods"], "spec.subject.pods"), "pods")}
    ns = selector_form(subject.get("namespaces"), "spec.subject.namespaces")
    return {"type": "namespaces", "namespaceSelector": ns, "podSelector": _blank()}


def _peer_form(raw: object, what: str) -> JSON:
    peer = as_map(raw, what)
    form: JSON = {
        "type": "namespaces",
        "namespaceSelector": _blank(),
        "podSelector": _blank(),
        "nodeSelector": _blank(),
        "values": [],
    }
    found = [t for t in PEER_TYPES if peer.get(t) is not None]
    if len(found) > 1:
        raise FormError(f"{what} sets {' and '.join(found)}: a peer has one of them")
    kind = found[0] if found else "namespaces"
    form["type"] = kind
    if kind == "namespaces":
        form["namespaceSelector"] = selector_form(peer.get("namespaces"), f"{what}.namespaces")
    elif kind == "pods":
        form.update(_selectors(as_map(peer["pods"], f"{what}.pods"), f"{what}.pods"))
    elif kind == "nodes":
        form["nodeSelector"] = selector_form(peer["nodes"], f"{what}.nodes")
    else:
        form["values"] = [_text(v) for v in as_list(peer[kind], f"{what}.{kind}")]
    return form


def _port_form(raw: object, what: str) -> JSON:
    entry = as_map(raw, what)
    form: JSON = {"protocol": "TCP", "port": "", "end": "", "name": ""}
    if entry.get("destinationNamedPort") is not None:
        return {**form, "protocol": "named", "name": _text(entry["destinationNamedPort"])}
    for protocol, field in _PROTOCOL_FIELDS.items():
        if entry.get(field) is None:
            continue
        port = as_map(as_map(entry[field], f"{what}.{field}").get("destinationPort"), what)
        span = as_map(port.get("range"), f"{what}.{field}.destinationPort.range")
        if span:
            return {**form, "protocol": protocol, "port": _text(span.get("start")),
                    "end": _text(span.get("end"))}  # fmt: skip
        return {**form, "protocol": protocol, "port": _text(port.get("number"))}
    return form


def _rule_form(raw: object, peers_field: str, what: str) -> JSON:
    rule = as_map(raw, what)
    return {
        "name": _text(rule.get("name")),
        "action": _text(rule.get("action")),
        "peers": [
            _peer_form(p, f"{what}.{peers_field}[{j}]")
            for j, p in enumerate(as_list(rule.get(peers_field), f"{what}.{peers_field}"))
        ],
        "ports": [
            _port_form(p, f"{what}.protocols[{j}]")
            for j, p in enumerate(as_list(rule.get("protocols"), f"{what}.protocols"))
        ],
    }


def from_body(body: Mapping[str, Any]) -> JSON:
    """The form of a ClusterNetworkPolicy object."""
    meta = as_map(body.get("metadata"), "metadata")
    spec = as_map(body.get("spec"), "spec")
    form: JSON = {
        "kind": KIND,
        "name": _text(meta.get("name")),
        "tier": _text(spec.get("tier")),
        "priority": _text(spec.get("priority")),
        "subject": _subject_form(spec.get("subject")),
    }
    for direction, peers_field in _DIRECTIONS:
        rules = as_list(spec.get(direction), f"spec.{direction}")
        form[direction] = {
            "rules": [
                _rule_form(r, peers_field, f"spec.{direction}[{i}]") for i, r in enumerate(rules)
            ]
        }
    return form


def empty_form(name: str = "untitled-cluster-policy", tier: str = "Admin") -> JSON:
    body = {"metadata": {"name": name}, "spec": {"tier": tier, "priority": 100}}
    return {**from_body(body), "subject": _subject_form({"namespaces": {}})}


# The form to Kubernetes JSON, keys in the order upstream's examples write them.


def _number_or_text(value: str) -> int | str:
    text = value.strip()
    return int(text) if text.isdigit() and len(text) < 10 else text


def _subject_body(form: object) -> JSON:
    subject = as_map(form, "subject")
    if subject.get("type") == "pods":
        return {"pods": _namespaced_pods(subject, "subject")}
    return {"namespaces": selector_body(subject.get("namespaceSelector"), "subject")}


def _namespaced_pods(form: Mapping[str, Any], what: str) -> JSON:
    return {
        "namespaceSelector": selector_body(form.get("namespaceSelector"), what),
        "podSelector": selector_body(form.get("podSelector"), what),
    }


def _peer_body(form: object, what: str) -> JSON:
    peer = as_map(form, what)
    kind = _text(peer.get("type"))
    if kind == "namespaces":
        return {"namespaces": selector_body(peer.get("namespaceSelector"), what)}
    if kind == "pods":
        return {"pods": _namespaced_pods(peer, what)}
    if kind == "nodes":
        return {"nodes": selector_body(peer.get("nodeSelector"), what)}
    if kind in ("networks", "domainNames"):
        values = [_text(v).strip() for v in as_list(peer.get("values"), f"{what}.values")]
        return {kind: [v for v in values if v]}
    raise FormError(f"{what}: a peer's type is one of {', '.join(PEER_TYPES)}, not {kind!r}")


def _port_body(form: object, what: str) -> JSON:
    port = as_map(form, what)
    protocol = _text(port.get("protocol")) or "TCP"
    if protocol == "named":
        return {"destinationNamedPort": _text(port.get("name")).strip()}
    field = _PROTOCOL_FIELDS.get(protocol)
    if field is None:
        raise FormError(f"{what}: protocol is TCP, UDP, SCTP or named, not {protocol!r}")
    start, end = _text(port.get("port")).strip(), _text(port.get("end")).strip()
    if start and end:
        span = {"start": _number_or_text(start), "end": _number_or_text(end)}
        return {field: {"destinationPort": {"range": span}}}
    if start:
        return {field: {"destinationPort": {"number": _number_or_text(start)}}}
    return {field: {}}  # the CRD requires a port: validation says so at this field


def _rule_body(form: object, peers_field: str, what: str) -> JSON:
    rule = as_map(form, what)
    out: JSON = {}
    name = _text(rule.get("name")).strip()
    if name:
        out["name"] = name
    out["action"] = _text(rule.get("action"))
    out[peers_field] = [
        _peer_body(p, f"{what}.peers[{j}]")
        for j, p in enumerate(as_list(rule.get("peers"), f"{what}.peers"))
    ]
    ports = as_list(rule.get("ports"), f"{what}.ports")
    if ports:
        out["protocols"] = [_port_body(p, f"{what}.ports[{j}]") for j, p in enumerate(ports)]
    return out


def to_body(form: Mapping[str, Any]) -> JSON:
    """The ClusterNetworkPolicy object of a form; raises FormError when it is malformed."""
    spec: JSON = {
        "tier": _text(form.get("tier")),
        "priority": _number_or_text(_text(form.get("priority"))),
        "subject": _subject_body(form.get("subject")),
    }
    for direction, peers_field in _DIRECTIONS:
        rules = as_list(as_map(form.get(direction), direction).get("rules"), f"{direction}.rules")
        if rules:
            spec[direction] = [
                _rule_body(r, peers_field, f"{direction}.rules[{i}]") for i, r in enumerate(rules)
            ]
    name = _text(form.get("name")).strip()
    return {"apiVersion": API_VERSION, "kind": KIND, "metadata": {"name": name}, "spec": spec}
