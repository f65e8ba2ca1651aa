"""Field errors: one problem with one field, printed as the API server prints it.

Ports k8s.io/apimachinery's `util/validation/field` errors.go: the error types, how an error
renders (`<path>: <type>: <value>: <detail>`), and the constructors validation code uses. Paths
are built with `fieldpath`. Pure: no I/O here.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum

from podwall.errors import PodwallError
from podwall.model.goquote import GoSlice, go_quote
from podwall.model.record import Record


class ValidationError(PodwallError, ValueError):
    """Input that breaks the Kubernetes API's rules; the message says so in its words."""


class ErrorType(StrEnum):
    """field.ErrorType; each value is what ErrorType.String() prints."""

    INVALID = "Invalid value"
    REQUIRED = "Required value"
    UNSUPPORTED = "Unsupported value"
    FORBIDDEN = "Forbidden"
    DUPLICATE = "Duplicate value"
    TOO_LONG = "Too long"
    TOO_MANY = "Too many"
    NOT_FOUND = "Not found"


# field.Error.ErrorBody prints no value for these types.
_VALUELESS = frozenset({ErrorType.REQUIRED, ErrorType.FORBIDDEN, ErrorType.TOO_LONG})


class FieldError(Record):
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
    import json  # only an error's odd value needs it: valid input never imports it

    try:
        return json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        return repr(value)


def aggregate(messages: Sequence[str]) -> str:
    """utilerrors.NewAggregate(...).Error(): one message as is, several as `[a, b]`."""
    unique = list(dict.fromkeys(messages))
    return unique[0] if len(unique) == 1 else "[" + ", ".join(unique) + "]"


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
