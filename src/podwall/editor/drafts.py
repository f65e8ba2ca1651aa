"""A draft policy from YAML or from the form: its form, canonical YAML and validation errors.

A draft is a NetworkPolicy or a ClusterNetworkPolicy. Every error is the API server's
(`podwall.model.validation`, or the CRD's for a ClusterNetworkPolicy, `cnpvalidation`; strict
decoding included), with its field path and, for YAML, its line. Pure: no I/O here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from podwall.editor import cnpform, yamltext
from podwall.editor.form import JSON, FormError, from_body, to_body
from podwall.manifests.reader import LoadError, field_line, load_text
from podwall.model import cnpvalidation, strictfields
from podwall.model.clusterpolicy import KIND as CLUSTER_KIND
from podwall.model.clusterpolicy import ClusterNetworkPolicy
from podwall.model.convert import cluster_network_policy, network_policy
from podwall.model.policy import NetworkPolicy
from podwall.model.rawobject import RawObject
from podwall.model.source import Source
from podwall.model.validation import validate_network_policy

DRAFT_FILE = "<draft>"
KINDS = ("NetworkPolicy", CLUSTER_KIND)
Policy = NetworkPolicy | ClusterNetworkPolicy


@dataclass(kw_only=True)
class Draft:
    """The outcome of reading a draft; `policy` (a NetworkPolicy) or `cluster_policy` is set
    only when it is valid."""

    kind: str = "NetworkPolicy"
    form: JSON | None = None
    yaml: str = ""
    body: Mapping[str, Any] | None = None
    errors: list[JSON] = field(default_factory=list)
    problem: str | None = None  # YAML that does not parse, or holds no policy
    notes: list[str] = field(default_factory=list)
    policy: NetworkPolicy | None = None
    cluster_policy: ClusterNetworkPolicy | None = None

    @property
    def valid(self) -> Policy | None:
        """The draft's policy, of either kind, when it is valid."""
        return self.policy if self.policy is not None else self.cluster_policy

    def to_json(self) -> JSON:
        valid = self.valid
        return {
            "kind": self.kind,
            "form": self.form,
            "yaml": self.yaml,
            "errors": self.errors,
            "problem": self.problem,
            "notes": self.notes,
            "valid": valid is not None,
            "policy": valid.key if valid is not None else None,
        }


def validate(body: Mapping[str, Any], text: str = "", document: int = 0) -> list[JSON]:
    """The API server's errors: `{"path", "message", "line"}` (line in `text`, when given)."""
    if body.get("kind") == CLUSTER_KIND:
        pairs = [(e.path, e.render()) for e in cnpvalidation.validate_cluster_network_policy(body)]
        pairs += [(p, strictfields.render(p)) for p in cnpvalidation.unknown_fields(body)]
    else:
        pairs = [(e.path, e.render()) for e in validate_network_policy(body)]
        pairs += [(p, strictfields.render(p)) for p in strictfields.unknown_fields(body)]
    return [
        {
            "path": path,
            "message": message,
            "line": field_line(text, document, path) if text else None,
        }
        for path, message in pairs
    ]


def _finish(draft: Draft, body: Mapping[str, Any], document: int) -> Draft:
    draft.body = body
    draft.errors = validate(body, draft.yaml, document)
    if body.get("kind") == CLUSTER_KIND:
        return _finish_cluster(draft, body)
    try:
        draft.form = from_body(body)
    except FormError as exc:
        draft.problem = f"the picture cannot show this policy: {exc}"
    if not draft.errors:
        draft.policy = network_policy(RawObject(body=body, source=Source(file=DRAFT_FILE)))
    draft.notes = _notes(body)
    return draft


def _finish_cluster(draft: Draft, body: Mapping[str, Any]) -> Draft:
    draft.kind = CLUSTER_KIND
    try:
        draft.form = cnpform.from_body(body)
    except FormError as exc:
        draft.problem = f"the form cannot show this policy: {exc}"
    if not draft.errors:
        raw = RawObject(body=body, source=Source(file=DRAFT_FILE))
        draft.cluster_policy = cluster_network_policy(raw)
    return draft


def _notes(body: Mapping[str, Any]) -> list[str]:
    notes = []
    if body.get("apiVersion") != "networking.k8s.io/v1":
        notes.append(
            f"apiVersion is {body.get('apiVersion')!r}; NetworkPolicy is networking.k8s.io/v1"
        )
    spec = body.get("spec")
    if not isinstance(spec, Mapping):
        return notes
    types = spec.get("policyTypes")
    if not types:
        notes.append(
            "no policyTypes: the API server fills them in (Ingress always, Egress when there "
            "are egress rules), so this policy isolates the selected pods for ingress"
        )
    elif isinstance(types, list):
        for direction, policy_type in (("ingress", "Ingress"), ("egress", "Egress")):
            if spec.get(direction) and policy_type not in types:
                notes.append(
                    f"the {direction} rules have no effect: policyTypes does not include "
                    f"{policy_type} (switch on default deny {direction} to use them)"
                )
    return notes


def parse_yaml(text: str) -> Draft:
    """The first NetworkPolicy or ClusterNetworkPolicy in `text` (the YAML pane or an import)."""
    draft = Draft(yaml=text)
    try:
        loaded = load_text(text, DRAFT_FILE)
    except LoadError as exc:
        draft.problem = str(exc).removeprefix(f"{DRAFT_FILE}:").strip()
        return draft
    objects = [o for o in loaded.objects if o.kind in KINDS]
    if not objects:
        kinds = ", ".join(sorted({o.kind or "<no kind>" for o in loaded.objects})) or "nothing"
        draft.problem = (
            f"no NetworkPolicy or ClusterNetworkPolicy (kind: NetworkPolicy, kind: "
            f"ClusterNetworkPolicy) here; found {kinds}"
        )
        return draft
    if len(objects) > 1:
        draft.notes.append(f"{len(objects)} policies here; the first one is the draft")
    first = objects[0]
    notes = draft.notes
    draft = _finish(draft, first.body, first.source.document)
    draft.notes = notes + draft.notes
    return draft


def render_form(form: Mapping[str, Any]) -> Draft:
    """Canonical YAML of a form, the form as the API would read it back, and the errors."""
    body = cnpform.to_body(form) if cnpform.is_cluster_form(form) else to_body(form)
    draft = Draft(yaml=yamltext.dump(body))
    return _finish(draft, body, 0)
