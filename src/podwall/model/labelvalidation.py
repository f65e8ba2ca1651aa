"""The apimachinery half of NetworkPolicy validation: field errors, labels, selectors and names.

Ports, with the API server's own wording, k8s.io/apimachinery's `util/validation/field` (errors
and how they print), `apis/meta/v1/validation` (labels and label selectors) and
`api/validate/content` (label keys and values, DNS-1123 names), plus the type checks that stand in
for `encoding/json` when the input is raw YAML. `validation.py` builds the NetworkPolicy rules on
top of this. Pure: no I/O here.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import Enum, StrEnum
from typing import Any, Literal


class ErrorType(StrEnum):
    """field.ErrorType; each value is what ErrorType.String() prints."""

    INVALID = "Invalid value"
    REQUIRED = "Required value"
    UNSUPPORTED = "Unsupported value"
    FORBIDDEN = "Forbidden"
    DUPLICATE = "Duplicate value"
    TOO_LONG = "Too long"
    TOO_MANY = "Too many"


# field.Error.ErrorBody prints no value for these types.
_VALUELESS = frozenset({ErrorType.REQUIRED, ErrorType.FORBIDDEN, ErrorType.TOO_LONG})


@dataclass(frozen=True, slots=True)
class GoSlice:
    """A Go slice of a named string type, for values that upstream prints with `%#v`."""

    type_name: str
    items: tuple[str, ...]

    def __str__(self) -> str:
        return f"[]{self.type_name}{{{', '.join(go_quote(i) for i in self.items)}}}"


@dataclass(frozen=True, slots=True, kw_only=True)
class FieldError:
    """field.Error: one problem with one field."""

    path: str
    type: ErrorType
    value: object = None
    detail: str = ""

    def render(self) -> str:
        """field.Error.Error(): `<path>: <body>`."""
        return f"{self.path}: {self.body()}"

    def body(self) -> str:
        """field.Error.ErrorBody(): the type, the value unless the type hides it, the detail."""
        text = str(self.type)
        if self.type not in _VALUELESS:
            text += f": {go_value(self.value)}"
        if self.detail:
            text += f": {self.detail}"
        return text


def go_value(value: object) -> str:
    """A bad value as ErrorBody prints it: strings `%q`, numbers and bools `%v`, nil `null`.

    Values that only a type error can produce (floats, lists, maps) print as JSON.
    """
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | str):
        return go_quote(value) if isinstance(value, str) else str(value)
    if isinstance(value, GoSlice):
        return str(value)
    try:
        return json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        return repr(value)


_GO_ESCAPES = {
    "\a": r"\a",
    "\b": r"\b",
    "\f": r"\f",
    "\n": r"\n",
    "\r": r"\r",
    "\t": r"\t",
    "\v": r"\v",
    "\\": r"\\",
    '"': r"\"",
}


def go_quote(text: str) -> str:
    """strconv.Quote: double quotes, Go escapes, printable runes kept as they are."""
    out = ['"']
    for ch in text:
        code = ord(ch)
        if ch in _GO_ESCAPES:
            out.append(_GO_ESCAPES[ch])
        elif 0xD800 <= code <= 0xDFFF:
            out.append("\ufffd")  # encoding/json decodes a lone surrogate to U+FFFD
        elif ch.isprintable():
            out.append(ch)
        elif code < 0x20 or code == 0x7F:
            out.append(f"\\x{code:02x}")
        elif code < 0x10000:
            out.append(f"\\u{code:04x}")
        else:
            out.append(f"\\U{code:08x}")
    out.append('"')
    return "".join(out)


# The constructors of field/errors.go.


def invalid(path: str, value: object, detail: str) -> FieldError:
    return FieldError(path=path, type=ErrorType.INVALID, value=value, detail=detail)


def required(path: str, detail: str = "") -> FieldError:
    return FieldError(path=path, type=ErrorType.REQUIRED, value="", detail=detail)


def forbidden(path: str, detail: str) -> FieldError:
    return FieldError(path=path, type=ErrorType.FORBIDDEN, value="", detail=detail)


def not_supported(path: str, value: object, valid: Sequence[str]) -> FieldError:
    detail = "supported values: " + ", ".join(go_quote(v) for v in valid) if valid else ""
    return FieldError(path=path, type=ErrorType.UNSUPPORTED, value=value, detail=detail)


def too_long(path: str, value: object, max_length: int) -> FieldError:
    detail = f"must have at most {max_length} bytes"
    return FieldError(path=path, type=ErrorType.TOO_LONG, value=value, detail=detail)


# field.Path, as strings: `spec.ingress[0].from[1]`.


def child(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def index(path: str, i: int) -> str:
    return f"{path}[{i}]"


def key(path: str, name: str) -> str:
    return f"{path}[{name}]"


# Decoding: what encoding/json would refuse. A value of the wrong type is reported and becomes
# MALFORMED (present, but not checked further); null or absent becomes None (Go's zero value).


class Malformed(Enum):
    """The one value of a field whose JSON type is wrong."""

    MALFORMED = "malformed"


MALFORMED = Malformed.MALFORMED
INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1


def decode_object(
    raw: object, path: str, errs: list[FieldError]
) -> Mapping[str, Any] | Literal[Malformed.MALFORMED] | None:
    if raw is None or isinstance(raw, Mapping):
        return raw
    errs.append(invalid(path, raw, "must be an object"))
    return MALFORMED


def decode_list(
    raw: object, path: str, errs: list[FieldError]
) -> Sequence[Any] | Literal[Malformed.MALFORMED] | None:
    if raw is None or isinstance(raw, list | tuple):
        return raw
    errs.append(invalid(path, raw, "must be a list"))
    return MALFORMED


def decode_string(
    raw: object, path: str, errs: list[FieldError]
) -> str | Literal[Malformed.MALFORMED] | None:
    if raw is None or isinstance(raw, str):
        return raw
    errs.append(invalid(path, raw, "must be a string"))
    return MALFORMED


def decode_int32(
    raw: object, path: str, errs: list[FieldError]
) -> int | Literal[Malformed.MALFORMED] | None:
    if raw is None:
        return None
    if not isinstance(raw, int) or isinstance(raw, bool):
        errs.append(invalid(path, raw, "must be an integer"))
        return MALFORMED
    if not INT32_MIN <= raw <= INT32_MAX:
        errs.append(invalid(path, raw, f"must be an integer between {INT32_MIN} and {INT32_MAX}"))
        return MALFORMED
    return raw


def decode_string_map(
    raw: object, path: str, errs: list[FieldError]
) -> dict[str, str] | Literal[Malformed.MALFORMED]:
    """A map[string]string; a null value decodes to ""."""
    obj = decode_object(raw, path, errs)
    if obj is MALFORMED:
        return MALFORMED
    out: dict[str, str] = {}
    for k, v in (obj or {}).items():
        if not isinstance(k, str):
            errs.append(invalid(path, k, "keys must be strings"))
        elif v is not None and not isinstance(v, str):
            errs.append(invalid(key(path, k), v, "must be a string"))
        else:
            out[k] = v or ""
    return out


# api/validate/content: errors.go, kube.go, dns.go.


def max_len_error(length: int) -> str:
    """MaxLenError."""
    return f"must be no more than {length} bytes"


def regex_error(msg: str, fmt: str, *examples: str) -> str:
    """RegexError, including its double space before each `or`."""
    if not examples:
        return f"{msg} (regex used for validation is '{fmt}')"
    msg += " (e.g. "
    for i, example in enumerate(examples):
        if i > 0:
            msg += " or "
        msg += f"'{example}', "
    return msg + f"regex used for validation is '{fmt}')"


def byte_len(value: str) -> int:
    """len() of a Go string: UTF-8 bytes."""
    return len(value.encode("utf-8", "surrogatepass"))


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
DNS1123_LABEL_FMT = "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_DNS1123_LABEL_MSG = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', "
    "and must start and end with an alphanumeric character"
)
DNS1123_SUBDOMAIN_FMT = DNS1123_LABEL_FMT + r"(\." + DNS1123_LABEL_FMT + ")*"
_DNS1123_SUBDOMAIN_MSG = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or "
    "'.', and must start and end with an alphanumeric character"
)
_LABEL_KEY_RE = re.compile(LABEL_KEY_FMT)
_LABEL_VALUE_RE = re.compile(LABEL_VALUE_FMT)
_DNS1123_LABEL_RE = re.compile(DNS1123_LABEL_FMT)
_DNS1123_SUBDOMAIN_RE = re.compile(DNS1123_SUBDOMAIN_FMT)


def is_dns1123_label(value: str) -> list[str]:
    """IsDNS1123Label."""
    errs = []
    if byte_len(value) > 63:
        errs.append(max_len_error(63))
    if not _DNS1123_LABEL_RE.fullmatch(value):
        if _DNS1123_SUBDOMAIN_RE.fullmatch(value):
            errs.append("must not contain dots")
        else:
            errs.append(regex_error(_DNS1123_LABEL_MSG, DNS1123_LABEL_FMT, "my-name", "123-abc"))
    return errs


def is_dns1123_subdomain(value: str) -> list[str]:
    """IsDNS1123Subdomain."""
    errs = []
    if byte_len(value) > 253:
        errs.append(max_len_error(253))
    if not _DNS1123_SUBDOMAIN_RE.fullmatch(value):
        errs.append(regex_error(_DNS1123_SUBDOMAIN_MSG, DNS1123_SUBDOMAIN_FMT, "example.com"))
    return errs


def is_qualified_name(value: str) -> list[str]:
    """IsQualifiedName (content.IsLabelKey): a name with an optional DNS-subdomain prefix."""
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
        return [
            f"a valid label key {example} with an optional DNS subdomain prefix and '/' "
            "(e.g. 'example.com/MyName')"
        ]
    if not name:
        errs.append("name part must be non-empty")
    elif byte_len(name) > 63:
        errs.append(f"name part {max_len_error(63)}")
    if not _LABEL_KEY_RE.fullmatch(name):
        example = regex_error(_LABEL_KEY_MSG, LABEL_KEY_FMT, "MyName", "my.name", "123-abc")
        errs.append(f"name part {example}")
    return errs


def is_valid_label_value(value: str) -> list[str]:
    """IsValidLabelValue (content.IsLabelValue)."""
    errs = []
    if byte_len(value) > 63:
        errs.append(max_len_error(63))
    if not _LABEL_VALUE_RE.fullmatch(value):
        errs.append(regex_error(_LABEL_VALUE_MSG, LABEL_VALUE_FMT, "MyValue", "my_value", "12345"))
    return errs


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


def validate_label_selector(raw: object, path: str) -> list[FieldError]:
    """ValidateLabelSelector, with AllowInvalidLabelValueInSelector false (as on create)."""
    errs: list[FieldError] = []
    selector = decode_object(raw, path, errs)
    if selector is MALFORMED or selector is None:
        return errs
    labels_path = child(path, "matchLabels")
    labels = decode_string_map(selector.get("matchLabels"), labels_path, errs)
    if labels is not MALFORMED:
        errs += validate_labels(labels, labels_path)
    exprs_path = child(path, "matchExpressions")
    exprs = decode_list(selector.get("matchExpressions"), exprs_path, errs)
    if exprs is not MALFORMED:
        for i, expr in enumerate(exprs or ()):
            errs += validate_label_selector_requirement(expr, index(exprs_path, i))
    return errs


def validate_label_selector_requirement(raw: object, path: str) -> list[FieldError]:
    """ValidateLabelSelectorRequirement: the operator, the key, then each value."""
    errs: list[FieldError] = []
    req = decode_object(raw, path, errs)
    if req is MALFORMED:
        return errs
    req = req or {}
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
        if operator in ("In", "NotIn"):
            if not values and raw_values is not MALFORMED:
                errs.append(
                    required(values_path, "must be specified when `operator` is 'In' or 'NotIn'")
                )
        elif operator in ("Exists", "DoesNotExist"):
            if values:
                errs.append(
                    forbidden(
                        values_path,
                        "may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
                    )
                )
        else:
            errs.append(
                invalid(child(path, "operator"), operator or "", "not a valid selector operator")
            )
    if name is not MALFORMED:
        errs += validate_label_name(name or "", child(path, "key"))
    for i, value in enumerate(values):
        if value is not MALFORMED:
            msgs = is_valid_label_value(value)
            errs += [invalid(index(values_path, i), value, msg) for msg in msgs]
    return errs
