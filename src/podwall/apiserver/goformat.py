"""Values in field errors as Go's `%#v` prints them, for errors kubectl shows verbatim.

Pure formatting: no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from podwall.model.goquote import GoSlice, go_quote


class GoText(GoSlice, frozen=True):
    """A value already printed as Go's `%#v` prints it (its one item)."""

    def __str__(self) -> str:
        return self.items[0]


def go_label_selector(selector: Any) -> str:
    """A *metav1.LabelSelector as field.Invalid prints it: `%#v` of the struct (nil: null)."""
    if not isinstance(selector, dict):
        return "null"
    labels = selector.get("matchLabels")
    if labels is None:
        match_labels = "map[string]string(nil)"
    else:
        pairs = ", ".join(f"{go_quote(k)}:{go_quote(str(v))}" for k, v in sorted(labels.items()))
        match_labels = f"map[string]string{{{pairs}}}"
    expressions = selector.get("matchExpressions")
    if expressions is None:
        match_expressions = "[]v1.LabelSelectorRequirement(nil)"
    else:
        items = ", ".join(_go_requirement(e) for e in expressions if isinstance(e, dict))
        match_expressions = f"[]v1.LabelSelectorRequirement{{{items}}}"
    return f"v1.LabelSelector{{MatchLabels:{match_labels}, MatchExpressions:{match_expressions}}}"


def _go_requirement(requirement: dict[str, Any]) -> str:
    values = requirement.get("values")
    if values is None:
        printed = "[]string(nil)"
    else:
        printed = "[]string{" + ", ".join(go_quote(str(v)) for v in values) + "}"
    key, operator = (
        go_quote(str(requirement.get("key", ""))),
        go_quote(str(requirement.get("operator", ""))),
    )
    return f"v1.LabelSelectorRequirement{{Key:{key}, Operator:{operator}, Values:{printed}}}"


class GoStringMap(GoSlice, frozen=True):
    """A map[string]string as `%#v` prints it; `items` holds keys and values in turn."""

    def __str__(self) -> str:
        pairs = zip(self.items[::2], self.items[1::2], strict=True)
        return (
            "map[string]string{" + ", ".join(f"{go_quote(k)}:{go_quote(v)}" for k, v in pairs) + "}"
        )


def go_map(labels: Mapping[str, str]) -> GoSlice:
    flat = tuple(str(x) for k in sorted(labels) for x in (k, labels[k]))
    return GoStringMap("", flat)
