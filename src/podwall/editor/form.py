"""The structured form of a draft policy, as the page edits it, to and from Kubernetes JSON.

The form keeps what a user typed (strings, possibly invalid) so that validation can point at
the field; it never decides anything. Shape (all keys always present):

    {"name": str, "namespace": str, "labels": {}, "annotations": {},
     "podSelector": Selector,
     "ingress": {"isolated": bool, "rules": [Rule]}, "egress": {...}}
    Selector = {"matchLabels": [{"key", "value"}],
                "matchExpressions": [{"key", "operator", "values": [str]}]}
    Rule = {"peers": [Peer], "ports": [{"protocol", "port", "endPort"}]}   (strings)
    Peer = {"podSelector": Selector | None, "namespaceSelector": Selector | None,
            "ipBlock": {"cidr": str, "except": [str]} | None, "group": str}

`group` places a peer in the picture as the Cilium editor does: `namespace` (pods of the
policy's namespace), `namespaces` (pods of namespaces chosen by labels), `cluster` (any
namespace) or `cidr` (outside addresses). Pure: no I/O here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from podwall.editor.errors import EditorError

JSON = dict[str, Any]
API_VERSION = "networking.k8s.io/v1"
DIRECTIONS = (("ingress", "from", "Ingress"), ("egress", "to", "Egress"))
GROUPS = ("namespace", "namespaces", "cluster", "cidr")


class FormError(EditorError, ValueError):
    """A body (or a posted form) whose shape the picture cannot show; validation says why."""


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def as_map(value: object, what: str) -> Mapping[str, Any]:
    """A form's object field (`{}` when absent); FormError naming `what` otherwise."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise FormError(f"{what} must be an object")
    return value


def as_list(value: object, what: str) -> list[Any]:
    """A form's list field (`[]` when absent); FormError naming `what` otherwise."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise FormError(f"{what} must be a list")
    return value


# Kubernetes JSON to the form.


def selector_form(raw: object, what: str) -> JSON:
    sel = as_map(raw, what)
    labels = as_map(sel.get("matchLabels"), f"{what}.matchLabels")
    exprs = as_list(sel.get("matchExpressions"), f"{what}.matchExpressions")
    return {
        "matchLabels": [{"key": _text(k), "value": _text(v)} for k, v in labels.items()],
        "matchExpressions": [_expression_form(e, f"{what}.matchExpressions") for e in exprs],
    }


def _expression_form(raw: object, what: str) -> JSON:
    expr = as_map(raw, what)
    values = as_list(expr.get("values"), f"{what}.values")
    return {
        "key": _text(expr.get("key")),
        "operator": _text(expr.get("operator")),
        "values": [_text(v) for v in values],
    }


def peer_group(peer: Mapping[str, Any]) -> str:
    if peer.get("ipBlock") is not None:
        return "cidr"
    ns = peer.get("namespaceSelector")
    if ns is None:
        return "namespace"
    if not ns.get("matchLabels") and not ns.get("matchExpressions"):
        return "cluster"
    return "namespaces"


def _peer_form(raw: object, what: str) -> JSON:
    peer = as_map(raw, what)
    block = peer.get("ipBlock")
    form: JSON = {
        "podSelector": None,
        "namespaceSelector": None,
        "ipBlock": None,
    }
    for name in ("podSelector", "namespaceSelector"):
        if peer.get(name) is not None:
            form[name] = selector_form(peer[name], f"{what}.{name}")
    if block is not None:
        b = as_map(block, f"{what}.ipBlock")
        excepts = as_list(b.get("except"), f"{what}.ipBlock.except")
        form["ipBlock"] = {"cidr": _text(b.get("cidr")), "except": [_text(e) for e in excepts]}
    form["group"] = peer_group(form)
    return form


def _port_form(raw: object, what: str) -> JSON:
    port = as_map(raw, what)
    return {
        "protocol": _text(port.get("protocol")),
        "port": _text(port.get("port")),
        "endPort": _text(port.get("endPort")),
    }


def _rule_form(raw: object, peers_field: str, what: str) -> JSON:
    rule = as_map(raw, what)
    return {
        "peers": [
            _peer_form(p, f"{what}.{peers_field}")
            for p in as_list(rule.get(peers_field), f"{what}.{peers_field}")
        ],
        "ports": [_port_form(p, f"{what}.ports") for p in as_list(rule.get("ports"), what)],
    }


def from_body(body: Mapping[str, Any]) -> JSON:
    """The form of a NetworkPolicy object; `isolated` follows the API's policyTypes defaulting."""
    meta = as_map(body.get("metadata"), "metadata")
    spec = as_map(body.get("spec"), "spec")
    form: JSON = {
        "name": _text(meta.get("name")),
        "namespace": _text(meta.get("namespace")),
        "labels": dict(as_map(meta.get("labels"), "metadata.labels")),
        "annotations": dict(as_map(meta.get("annotations"), "metadata.annotations")),
        "podSelector": selector_form(spec.get("podSelector"), "spec.podSelector"),
    }
    declared = [_text(t) for t in as_list(spec.get("policyTypes"), "spec.policyTypes")]
    for direction, peers_field, _ in DIRECTIONS:
        rules = as_list(spec.get(direction), f"spec.{direction}")
        form[direction] = {
            "rules": [
                _rule_form(r, peers_field, f"spec.{direction}[{i}]") for i, r in enumerate(rules)
            ]
        }
    # networking/v1 defaulting: without policyTypes, a policy affects ingress always and egress
    # when it has egress rules.
    if declared:
        form["ingress"]["isolated"] = "Ingress" in declared
        form["egress"]["isolated"] = "Egress" in declared
    else:
        form["ingress"]["isolated"] = True
        form["egress"]["isolated"] = bool(form["egress"]["rules"])
    return form


def empty_form(name: str = "untitled-policy", namespace: str = "") -> JSON:
    return from_body({"metadata": {"name": name, "namespace": namespace}, "spec": {}})


# The form to Kubernetes JSON, keys in the order the tutorial writes them.


def _number_or_text(value: str) -> int | str:
    return int(value) if value.isdigit() and len(value) < 10 else value


def selector_body(form: object, what: str) -> JSON:
    sel = as_map(form, what)
    out: JSON = {}
    labels = as_list(sel.get("matchLabels"), f"{what}.matchLabels")
    if labels:
        out["matchLabels"] = {
            _text(as_map(item, what).get("key")): _text(as_map(item, what).get("value"))
            for item in labels
        }
    exprs = as_list(sel.get("matchExpressions"), f"{what}.matchExpressions")
    if exprs:
        out["matchExpressions"] = [_expression_body(e, what) for e in exprs]
    return out


def _expression_body(form: object, what: str) -> JSON:
    expr = as_map(form, what)
    out: JSON = {"key": _text(expr.get("key")), "operator": _text(expr.get("operator"))}
    values = [_text(v) for v in as_list(expr.get("values"), f"{what}.values")]
    if values:
        out["values"] = values
    return out


def _peer_body(form: object, what: str) -> JSON:
    peer = as_map(form, what)
    out: JSON = {}
    for name in ("podSelector", "namespaceSelector"):
        if peer.get(name) is not None:
            out[name] = selector_body(peer[name], f"{what}.{name}")
    if peer.get("ipBlock") is not None:
        block = as_map(peer["ipBlock"], f"{what}.ipBlock")
        out["ipBlock"] = {"cidr": _text(block.get("cidr"))}
        excepts = [_text(e) for e in as_list(block.get("except"), f"{what}.ipBlock.except")]
        if excepts:
            out["ipBlock"]["except"] = excepts
    return out


def _port_body(form: object, what: str) -> JSON:
    port = as_map(form, what)
    out: JSON = {}
    protocol, number, end = (_text(port.get(k)).strip() for k in ("protocol", "port", "endPort"))
    if protocol:
        out["protocol"] = protocol
    if number:
        out["port"] = _number_or_text(number)
    if end:
        out["endPort"] = _number_or_text(end)
    return out


def _rule_body(form: object, peers_field: str, what: str) -> JSON:
    rule = as_map(form, what)
    out: JSON = {}
    peers = as_list(rule.get("peers"), f"{what}.peers")
    if peers:
        out[peers_field] = [_peer_body(p, what) for p in peers]
    ports = as_list(rule.get("ports"), f"{what}.ports")
    if ports:
        out["ports"] = [_port_body(p, what) for p in ports]
    return out


def to_body(form: Mapping[str, Any]) -> JSON:
    """The NetworkPolicy object of a form; raises FormError when the form is malformed."""
    meta: JSON = {"name": _text(form.get("name")).strip()}
    namespace = _text(form.get("namespace")).strip()
    if namespace:
        meta["namespace"] = namespace
    for extra in ("labels", "annotations"):
        values = as_map(form.get(extra), extra)
        if values:
            meta[extra] = {_text(k): _text(v) for k, v in values.items()}
    spec: JSON = {"podSelector": selector_body(form.get("podSelector"), "podSelector")}
    sides = {d: as_map(form.get(d), d) for d, _, _ in DIRECTIONS}
    types = [t for d, _, t in DIRECTIONS if sides[d].get("isolated")]
    if types:
        spec["policyTypes"] = types
    for direction, peers_field, _ in DIRECTIONS:
        rules = as_list(sides[direction].get("rules"), f"{direction}.rules")
        if rules:
            spec[direction] = [
                _rule_body(r, peers_field, f"{direction}.rules[{i}]") for i, r in enumerate(rules)
            ]
    return {"apiVersion": API_VERSION, "kind": "NetworkPolicy", "metadata": meta, "spec": spec}
