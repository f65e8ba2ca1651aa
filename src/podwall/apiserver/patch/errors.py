"""PatchError: what the API server answers when a patch cannot be applied (an ApiError).

The constructors mirror the apimachinery errors the PATCH handler returns
(`staging/src/k8s.io/apiserver/pkg/endpoints/handlers/patch.go`):

| failure                                   | upstream                              | HTTP |
|-------------------------------------------|---------------------------------------|------|
| unknown Content-Type                      | negotiation.NewUnsupportedMediaTypeError | 415 |
| body is not decodable / malformed patch   | errors.NewBadRequest                  | 400  |
| JSON patch operation fails                | errors.NewGenericServerResponse(422)  | 422  |
| patched document does not decode          | errors.NewInvalid(GroupKind{}, "", …) | 422  |
| other strategic-merge-patch failures      | a plain Go error → ErrorToAPIStatus   | 500  |

Pure: no I/O here.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from typing import Any

from podwall.apiserver.errors import ApiError


class PatchError(ApiError):
    """An ApiError raised while a patch is applied; the Status is the API server's."""


def bad_request(message: str) -> PatchError:
    """errors.NewBadRequest: 400 BadRequest."""
    return PatchError(400, "BadRequest", message)


def unprocessable(server_message: str) -> PatchError:
    """errors.NewGenericServerResponse(422, "", GroupResource{}, "", msg, 0, false).

    The message is the generic one; the real failure travels as the only cause.
    """
    return PatchError(
        422,
        "Invalid",
        "the server rejected our request due to an error in our request",
        {"causes": [{"reason": "UnexpectedServerResponse", "message": server_message}]},
    )


def invalid_patch(patched: str, detail: str) -> PatchError:
    """errors.NewInvalid(GroupKind{}, "", {field.Invalid(NewPath("patch"), patched, detail)})."""
    cause = f"Invalid value: {json.dumps(patched)}: {detail}"
    return PatchError(
        422,
        "Invalid",
        f' "" is invalid: patch: {cause}',
        {"causes": [{"reason": "FieldValueInvalid", "message": cause, "field": "patch"}]},
    )


def unsupported_media_type(accepted: Sequence[str]) -> PatchError:
    """negotiation.NewUnsupportedMediaTypeError: 415 UnsupportedMediaType."""
    return PatchError(
        415,
        "UnsupportedMediaType",
        "the body of the request was in an unknown format - accepted media types include: "
        + ", ".join(accepted),
    )


def internal(message: str) -> PatchError:
    """A plain Go error that reached responsewriters.ErrorToAPIStatus: 500, reason unknown."""
    return PatchError(500, "", message)


def go_value(value: object) -> str:
    """fmt.Sprintf("%v", v) of a decoded JSON value, for messages that quote a value."""
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return _go_float(value)
    if isinstance(value, Mapping):
        items = " ".join(f"{k}:{go_value(value[k])}" for k in sorted(value))
        return f"map[{items}]"
    if isinstance(value, list | tuple):
        return "[" + " ".join(go_value(v) for v in value) + "]"
    return str(value)


def _go_float(value: float) -> str:
    """%v of a float64: shortest repr, exponent form from 1e21 (strconv 'g' with -1)."""
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if value == int(value) and abs(value) < 1e21:
        return str(int(value))
    text = repr(value)
    if "e" in text:
        mantissa, exp = text.split("e")
        sign = "-" if exp.startswith("-") else "+"
        return f"{mantissa}e{sign}{exp.lstrip('+-').zfill(2)}"
    return text


def decode_json(body: bytes | str) -> Any:
    """json.Unmarshal of a request body; a syntax error becomes 400 BadRequest.

    Python's decoder words its errors differently from Go's ("invalid character …").
    """
    try:
        return json.loads(body, parse_constant=_reject_constant)
    except (ValueError, UnicodeDecodeError) as exc:
        raise bad_request(str(exc)) from None


def _reject_constant(name: str) -> Any:
    """NaN and Infinity are not JSON (Python's decoder accepts them, Go's does not)."""
    raise ValueError(f"invalid JSON literal {name}")
