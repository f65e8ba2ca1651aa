"""Form, YAML and validation: the tutorial's policy round-trips and errors carry their path."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import yaml

from podwall.editor.drafts import parse_yaml, render_form
from podwall.editor.form import empty_form, from_body, to_body
from podwall.model.convert import network_policy
from podwall.model.rawobject import RawObject
from tests.unit.editor.apiclient import TUTORIAL

ALLOW = TUTORIAL / "backend-allow-ingress-frontend.yaml"


def selector(**labels: str) -> dict[str, Any]:
    return {
        "matchLabels": [{"key": k, "value": v} for k, v in labels.items()],
        "matchExpressions": [],
    }


def tutorial_form() -> dict[str, Any]:
    """What the page sends after the lab's clicks in the Cilium editor (task 10.1.5)."""
    form = empty_form(name="backend-allow-ingress-frontend")
    form["podSelector"] = selector(app="backend")
    form["ingress"]["isolated"] = True
    form["ingress"]["rules"].append(
        {
            "peers": [
                {
                    "podSelector": selector(app="frontend"),
                    "namespaceSelector": None,
                    "ipBlock": None,
                    "group": "namespace",
                }
            ],
            "ports": [],
        }
    )
    return form


def test_the_tutorial_policy_from_the_form_is_the_tutorials_yaml() -> None:
    draft = render_form(tutorial_form())
    assert draft.errors == []
    assert draft.yaml == ALLOW.read_text()  # byte for byte, as the lab prints it


def test_the_tutorial_yaml_parses_to_the_tutorial_form() -> None:
    draft = parse_yaml(ALLOW.read_text())
    assert draft.errors == []
    assert draft.problem is None
    assert draft.form == render_form(tutorial_form()).form
    assert draft.policy is not None
    assert draft.policy.key == "default/backend-allow-ingress-frontend"


RICH = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: db
  namespace: prod
  labels: {team: data}
spec:
  podSelector:
    matchLabels: {app: db}
    matchExpressions:
    - {key: tier, operator: In, values: [a, b]}
    - {key: canary, operator: DoesNotExist}
  ingress:
  - from:
    - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: web}}
      podSelector: {matchLabels: {app: api}}
    - namespaceSelector: {}
    - ipBlock: {cidr: 10.0.0.0/8, except: [10.1.0.0/16]}
    ports:
    - {port: 5432}
    - {port: 6000, endPort: 6010, protocol: SCTP}
  - {}
  egress:
  - to:
    - podSelector: {}
    ports:
    - {port: dns, protocol: UDP}
"""


@pytest.mark.parametrize(
    "text",
    [
        RICH,
        ALLOW.read_text(),
        (TUTORIAL / "backend-ingress-deny.yaml").read_text(),
        "kind: NetworkPolicy\napiVersion: networking.k8s.io/v1\nmetadata: {name: e}\n"
        "spec: {podSelector: {}, egress: [{}]}\n",
    ],
)
def test_parse_render_round_trips(text: str) -> None:
    parsed = parse_yaml(text)
    assert parsed.errors == []
    assert parsed.form is not None
    rendered = render_form(copy.deepcopy(parsed.form))
    assert rendered.errors == []
    assert rendered.form == parsed.form  # the form survives the trip
    # ... and so does the policy, as the API server would read it (defaulting included).
    original = network_policy(RawObject(body=yaml.safe_load(text)))
    again = network_policy(RawObject(body=yaml.safe_load(rendered.yaml)))
    assert again == original


def test_the_form_sorts_peers_into_the_cilium_groups() -> None:
    form = from_body(yaml.safe_load(RICH))
    groups = [p["group"] for p in form["ingress"]["rules"][0]["peers"]]
    assert groups == ["namespaces", "cluster", "cidr"]
    assert form["egress"]["rules"][0]["peers"][0]["group"] == "namespace"


def test_policy_types_follow_the_api_defaulting() -> None:
    form = from_body(yaml.safe_load(RICH))  # no policyTypes, egress rules present
    assert (form["ingress"]["isolated"], form["egress"]["isolated"]) == (True, True)
    body = to_body(form)
    assert body["spec"]["policyTypes"] == ["Ingress", "Egress"]


def test_a_rendered_label_key_that_is_blank_is_left_out() -> None:
    form = tutorial_form()
    form["podSelector"]["matchLabels"].append({"key": "", "value": ""})
    body = to_body(form)
    assert body["spec"]["podSelector"] == {"matchLabels": {"app": "backend", "": ""}}


def test_an_invalid_cidr_is_reported_at_its_field_in_the_api_servers_words() -> None:
    form = tutorial_form()
    form["ingress"]["rules"][0]["peers"].append(
        {
            "podSelector": None,
            "namespaceSelector": None,
            "ipBlock": {"cidr": "10.0.0.0/33", "except": []},
        }
    )
    draft = render_form(form)
    assert draft.policy is None
    assert draft.errors == [
        {
            "path": "spec.ingress[0].from[1].ipBlock.cidr",
            "message": 'spec.ingress[0].from[1].ipBlock.cidr: Invalid value: "10.0.0.0/33": '
            "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)",
            "line": 18,
        }
    ]
    assert draft.yaml.splitlines()[17].strip() == "cidr: 10.0.0.0/33"


def test_yaml_errors_carry_path_and_line() -> None:
    text = ALLOW.read_text().replace("app: frontend", "app: frontend\n          form: x")
    draft = parse_yaml(text)
    assert [(e["path"], e["line"]) for e in draft.errors] == [("spec.ingress[0].from[0].form", 17)]
    assert draft.errors[0]["message"] == (
        'strict decoding error: unknown field "spec.ingress[0].from[0].form"'
    )
    bad_port = ALLOW.read_text() + "      ports:\n        - port: 70000\n"
    errors = parse_yaml(bad_port).errors
    assert errors[0]["path"] == "spec.ingress[0].ports[0].port"
    assert "must be between 1 and 65535, inclusive" in errors[0]["message"]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("a: [", "invalid YAML"),
        ("kind: Pod\nmetadata: {name: p}\n", "no NetworkPolicy"),
    ],
)
def test_text_that_holds_no_policy_says_why(text: str, problem: str) -> None:
    draft = parse_yaml(text)
    assert draft.form is None
    assert draft.problem is not None
    assert problem in draft.problem


def test_a_shape_the_form_cannot_hold_is_still_validated() -> None:
    draft = parse_yaml("kind: NetworkPolicy\nmetadata: {name: x}\nspec: {podSelector: []}\n")
    assert draft.form is None
    assert draft.problem is not None
    assert draft.errors[0]["path"] == "spec.podSelector"


def test_rules_of_a_side_the_policy_does_not_isolate_are_flagged() -> None:
    form = tutorial_form()
    form["egress"]["rules"].append({"peers": [], "ports": []})
    assert render_form(form).notes == [
        "the egress rules have no effect: policyTypes does not include Egress "
        "(switch on default deny egress to use them)"
    ]
