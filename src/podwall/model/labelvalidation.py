"""Label keys, label values and label selectors, validated as the API server does.

Ports apimachinery's `api/validate/content` kube.go (IsQualifiedName, IsValidLabelValue) and
`apis/meta/v1/validation` (ValidateLabels, ValidateLabelSelector and its requirements), with
upstream's messages word for word. Field errors live in `fielderrors`, raw-value decoding in
`decoding`, DNS names in `dnsnames`. Pure: no I/O here.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from typing import Any, Literal

from podwall.model.decoding import (
    MALFORMED,
    Malformed,
    decode_list,
    decode_string,
    decode_string_map,
    object_rules,
)
from podwall.model.dnsnames import (
    byte_len,
    conform,
    is_dns1123_subdomain,
    max_len_error,
    regex_error,
)
from podwall.model.fielderrors import FieldError, forbidden, invalid, required
from podwall.model.fieldpath import child, index

LABEL_KEY_FMT = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
_LABEL_KEY_MSG = (
    "must consist of alphanumeric characters, '-', '_' or '.', "
    "and must start and end with an alphanumeric character"
)
LABEL_VALUE_FMT = f"({LABEL_KEY_FMT})?"
_LABEL_VALUE_MSG = (
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or "
    "'.', and must start and end with an alphanumeric character"
)
_LABEL_KEY_RE = re.compile(LABEL_KEY_FMT)
_LABEL_VALUE_RE = re.compile(LABEL_VALUE_FMT)


def is_qualified_name(value: str) -> list[str]:
    """IsQualifiedName (content.IsLabelKey): a name with an optional DNS-subdomain prefix."""
    return list(_qualified_name_errors(value))


# A cluster repeats a few label keys and values on every object (`app`, `tier`, `web`): each is
# checked once. Bounded, so an adversarial input cannot grow it without end.
@functools.lru_cache(maxsize=4096)
def _qualified_name_errors(value: str) -> tuple[str, ...]:
    errs: list[str] = []
    parts = value.split("/")
    if len(parts) == 1:
        name = parts[0]
    elif len(parts) == 2:
        prefix, name = parts
        if not prefix:
            errs.append("prefix part must be non-empty")
        else:
            errs.extend(f"prefix part {msg}" for msg in is_dns1123_subdomain(prefix))
    else:
        example = regex_error(_LABEL_KEY_MSG, LABEL_KEY_FMT, "MyName", "my.name", "123-abc")
        return (
            f"a valid label key {example} with an optional DNS subdomain prefix and '/' "
            "(e.g. 'example.com/MyName')",
        )
    if not name:
        errs.append("name part must be non-empty")
    elif byte_len(name) > 63:
        errs.append(f"name part {max_len_error(63)}")
    if not _LABEL_KEY_RE.fullmatch(name):
        example = regex_error(_LABEL_KEY_MSG, LABEL_KEY_FMT, "MyName", "my.name", "123-abc")
        errs.append(f"name part {example}")
    return tuple(errs)


_LABEL_VALUE_WRONG = regex_error(_LABEL_VALUE_MSG, LABEL_VALUE_FMT, "MyValue", "my_value", "12345")


def is_valid_label_value(value: str) -> list[str]:
    """IsValidLabelValue (content.IsLabelValue)."""
    return list(_label_value_errors(value))


@functools.lru_cache(maxsize=4096)
def _label_value_errors(value: str) -> tuple[str, ...]:
    return tuple(conform(value, 63, _LABEL_VALUE_RE, _LABEL_VALUE_WRONG))


# apis/meta/v1/validation/validation.go.


def validate_label_name(name: str, path: str) -> list[FieldError]:
    """ValidateLabelName."""
    return [invalid(path, name, msg) for msg in is_qualified_name(name)]


def validate_labels(labels: Mapping[str, str], path: str) -> list[FieldError]:
    """ValidateLabels. Go walks the map in random order; this walks it in key order."""
    errs = []
    for name in sorted(labels):
        errs += validate_label_name(name, path)
        errs += [invalid(path, labels[name], msg) for msg in is_valid_label_value(labels[name])]
    return errs


@object_rules
def validate_label_selector(selector: Mapping[str, Any], path: str, errs: list[FieldError]) -> None:
    """ValidateLabelSelector, with AllowInvalidLabelValueInSelector false (as on create)."""
    labels_path = child(path, "matchLabels")
    labels = decode_string_map(selector.get("matchLabels"), labels_path, errs)
    if labels is not MALFORMED:
        errs += validate_labels(labels, labels_path)
    exprs_path = child(path, "matchExpressions")
    exprs = decode_list(selector.get("matchExpressions"), exprs_path, errs)
    if exprs is not MALFORMED:
        for i, expr in enumerate(exprs or ()):
            errs += validate_label_selector_requirement(expr, index(exprs_path, i))


@object_rules
def validate_label_selector_requirement(
    req: Mapping[str, Any], path: str, errs: list[FieldError]
) -> None:
    """ValidateLabelSelectorRequirement: the operator, the key, then each value."""
    name = decode_string(req.get("key"), child(path, "key"), errs)
    operator = decode_string(req.get("operator"), child(path, "operator"), errs)
    values_path = child(path, "values")
    raw_values = decode_list(req.get("values"), values_path, errs)
    values: list[str | Literal[Malformed.MALFORMED]] = []
    if raw_values is not MALFORMED:
        for i, raw_value in enumerate(raw_values or ()):
            value = decode_string(raw_value, index(values_path, i), errs)
            values.append(MALFORMED if value is MALFORMED else (value or ""))
    if operator is not MALFORMED:
        errs += _operator_errors(operator or "", path, bool(values), raw_values is MALFORMED)
    if name is not MALFORMED:
        errs += validate_label_name(name or "", child(path, "key"))
    for i, value in enumerate(values):
        if value is not MALFORMED:
            msgs = is_valid_label_value(value)
            errs += [invalid(index(values_path, i), value, msg) for msg in msgs]


def _operator_errors(
    operator: str, path: str, has_values: bool, values_malformed: bool
) -> list[FieldError]:
    """The operator's part of ValidateLabelSelectorRequirement: values as it wants them."""
    values_path = child(path, "values")
    if operator in ("In", "NotIn"):
        if has_values or values_malformed:
            return []
        return [required(values_path, "must be specified when `operator` is 'In' or 'NotIn'")]
    if operator in ("Exists", "DoesNotExist"):
        if not has_values:
            return []
        detail = "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"
        return [forbidden(values_path, detail)]
    return [invalid(child(path, "operator"), operator, "not a valid selector operator")]
