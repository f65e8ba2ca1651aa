"""One manifest document as read (`RawObject`), and the lenient readers of its fields that every
conversion shares: objects, strings, labels and label selectors as Go would decode them.

Pure: no I/O. `convert` (NetworkPolicies and the other kinds) and `cnpconvert`
(ClusterNetworkPolicies) build the model from these.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from podwall.model.labels import LabelSelector, Operator, Requirement
from podwall.model.record import Record, field
from podwall.model.source import UNKNOWN, Source

Raw = Mapping[str, Any]

CLUSTER_SCOPED_KINDS = frozenset(
    {
        "Namespace",
        "Node",
        "ClusterNetworkPolicy",
        "AdminNetworkPolicy",
        "BaselineAdminNetworkPolicy",
    }
)


class RawObject(Record):
    """One manifest document with where it came from."""

    body: Raw
    source: Source = field(default=UNKNOWN, compare=False)

    @property
    def kind(self) -> str:
        return str(self.body.get("kind", ""))

    @property
    def name(self) -> str:
        return str(meta_of(self.body).get("name", ""))

    @property
    def namespace(self) -> str:
        return str(meta_of(self.body).get("namespace") or "default")

    def describe(self) -> str:
        if self.kind in CLUSTER_SCOPED_KINDS:
            return f"{self.kind} {self.name}"
        return f"{self.kind} {self.namespace}/{self.name}"


def meta_of(body: Raw) -> Raw:
    meta = body.get("metadata")
    return meta if isinstance(meta, Mapping) else {}


def as_map(raw: object) -> Raw:
    """A field that should hold an object; anything else converts as an empty one."""
    return raw if isinstance(raw, Mapping) else {}


def text_of(value: object) -> str:
    """A map[string]string value: JSON null decodes to "" in Go, not to "None"."""
    return "" if value is None else str(value)


def labels_of(meta: Raw) -> dict[str, str]:
    labels = meta.get("labels")
    if not isinstance(labels, Mapping):
        return {}
    return {str(k): text_of(v) for k, v in labels.items()}


def selector(raw: Raw | None) -> LabelSelector:
    """A metav1.LabelSelector; `None` or `{}` is the empty selector (matches everything)."""
    if not raw:
        return LabelSelector()
    match_labels = tuple(
        sorted((str(k), text_of(v)) for k, v in (raw.get("matchLabels") or {}).items())
    )
    exprs = tuple(
        Requirement(
            key=str(e["key"]),
            operator=Operator.of_metav1(e["operator"]),
            values=frozenset(text_of(v) for v in e.get("values") or ()),
        )
        for e in raw.get("matchExpressions") or ()
    )
    return LabelSelector(match_labels=match_labels, match_expressions=exprs)
