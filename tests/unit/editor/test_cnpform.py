"""The ClusterNetworkPolicy form: YAML to form to YAML gives the YAML back, for every kind of
subject, peer and protocol; a malformed form is a FormError naming the field."""

from __future__ import annotations

import re
from typing import Any

import pytest

from podwall.editor import cnpform
from podwall.editor.drafts import parse_yaml, render_form
from podwall.editor.form import FormError

API = {"apiVersion": "policy.networking.k8s.io/v1alpha2", "kind": "ClusterNetworkPolicy"}


def body(spec: dict[str, Any], name: str = "p") -> dict[str, Any]:
    return {**API, "metadata": {"name": name}, "spec": spec}


CONTROL_PLANE = {"key": "node-role.kubernetes.io/control-plane", "operator": "Exists"}
NS = {"namespaces": {"matchLabels": {"team": "a"}}}
PODS = {"pods": {"namespaceSelector": {}, "podSelector": {"matchLabels": {"app": "db"}}}}
ROUND_TRIPS: list[tuple[str, dict[str, Any]]] = [
    ("namespaces subject, no rules", {"tier": "Admin", "priority": 10, "subject": NS}),
    (
        "pods subject, ingress with ports",
        {"tier": "Baseline", "priority": 0, "subject": PODS,
         "ingress": [{"name": "deny-db", "action": "Deny", "from": [NS, PODS],
                      "protocols": [{"tcp": {"destinationPort": {"number": 5432}}},
                                    {"udp": {"destinationPort": {"range": {"start": 1, "end": 9}}}},
                                    {"destinationNamedPort": "metrics"}]}]},
    ),
    (
        "egress to networks, nodes and domain names",
        {"tier": "Admin", "priority": 3, "subject": NS,
         "egress": [{"action": "Pass", "to": [{"networks": ["10.0.0.0/8", "fd00::/8"]}]},
                    {"name": "nodes", "action": "Accept",
                     "to": [{"nodes": {"matchExpressions": [CONTROL_PLANE]}}]},
                    {"action": "Deny", "to": [{"domainNames": ["example.com"]}],
                     "protocols": [{"sctp": {"destinationPort": {"number": 9}}}]}]},
    ),
]  # fmt: skip


@pytest.mark.parametrize(("spec"), [r[1] for r in ROUND_TRIPS], ids=[r[0] for r in ROUND_TRIPS])
def test_body_to_form_to_body_is_the_body(spec: dict[str, Any]) -> None:
    original = body(spec)
    form = cnpform.from_body(original)
    assert cnpform.is_cluster_form(form)
    assert cnpform.to_body(form) == original
    assert cnpform.from_body(cnpform.to_body(form)) == form


def test_a_yaml_draft_round_trips_and_is_valid() -> None:
    text = (
        "apiVersion: policy.networking.k8s.io/v1alpha2\nkind: ClusterNetworkPolicy\n"
        "metadata:\n  name: deny-db\nspec:\n  tier: Admin\n  priority: 10\n"
        "  subject:\n    namespaces: {}\n  ingress:\n  - name: deny\n    action: Deny\n"
        "    from:\n    - namespaces: {}\n"
    )
    draft = parse_yaml(text)
    assert draft.kind == "ClusterNetworkPolicy"
    assert draft.errors == []
    assert draft.cluster_policy is not None
    assert draft.cluster_policy.key == "admin/deny-db"
    assert draft.form is not None
    again = render_form(draft.form)  # the editor's canonical YAML, read back the same
    assert parse_yaml(again.yaml).form == draft.form
    assert render_form(parse_yaml(again.yaml).form or {}).yaml == again.yaml
    assert again.to_json()["policy"] == "admin/deny-db"


def test_errors_point_at_the_field_and_its_line() -> None:
    text = (
        "apiVersion: policy.networking.k8s.io/v1alpha2\nkind: ClusterNetworkPolicy\n"
        "metadata:\n  name: p\nspec:\n  tier: Admin\n  priority: 1001\n"
        "  subject:\n    namespaces: {}\n"
    )
    draft = parse_yaml(text)
    assert draft.cluster_policy is None
    assert [(e["path"], e["line"]) for e in draft.errors] == [("spec.priority", 7)]
    assert "should be less than or equal to 1000" in draft.errors[0]["message"]


def test_an_empty_form_is_a_valid_admin_policy_on_every_namespace() -> None:
    draft = render_form(cnpform.empty_form())
    assert draft.errors == []
    assert draft.body is not None
    assert draft.body["spec"] == {"tier": "Admin", "priority": 100, "subject": {"namespaces": {}}}


@pytest.mark.parametrize(
    ("change", "says"),
    [
        ({"ingress": {"rules": [{"action": "Deny", "peers": [{"type": "cats"}]}]}},
         "ingress.rules[0].peers[0]: a peer's type is one of"),
        ({"egress": {"rules": [{"action": "Deny", "peers": [],
                                 "ports": [{"protocol": "ICMP"}]}]}},
         "egress.rules[0].ports[0]: protocol is TCP, UDP, SCTP or named"),
        ({"subject": []}, "subject must be an object"),
    ],
    ids=["unknown peer type", "unknown protocol", "subject not an object"],
)  # fmt: skip
def test_a_malformed_form_names_the_field(change: dict[str, Any], says: str) -> None:
    with pytest.raises(FormError, match=re.escape(says)):
        cnpform.to_body({**cnpform.empty_form(), **change})
