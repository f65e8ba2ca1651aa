"""Decoding raw JSON/YAML as Go's encoding/json would, reporting what it would refuse.

A value of the wrong type is reported as a field error and becomes MALFORMED (present, but not
checked further); null or absent becomes None (Go's zero value). `object_rules` turns a check of
one decoded object into a validator of the raw value, so no validator repeats the decoding.
Pure: no I/O here.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from enum import Enum
from typing import Any, Concatenate, Literal, ParamSpec, TypeVar

from podwall.model.fielderrors import FieldError, invalid
from podwall.model.fieldpath import key


class Malformed(Enum):
    """The one value of a field whose JSON type is wrong."""

    MALFORMED = "malformed"


MALFORMED = Malformed.MALFORMED
INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1

P = ParamSpec("P")
T = TypeVar("T")
ObjectCheck = Callable[Concatenate[Mapping[str, Any], str, list[FieldError], P], None]
Validator = Callable[Concatenate[object, str, P], list[FieldError]]


def object_rules(check: ObjectCheck[P]) -> Validator[P]:
    """A validator of one JSON object from `check(obj, path, errs, ...)`.

    The validator decodes the raw value first: anything but an object (or null) is its one
    error; null is checked as `{}`. `check` appends its errors to `errs`.
    """

    @functools.wraps(check)
    def validate(raw: object, path: str, /, *args: P.args, **kwargs: P.kwargs) -> list[FieldError]:
        errs: list[FieldError] = []
        obj = decode_object(raw, path, errs)
        if obj is not MALFORMED:
            check(obj or {}, path, errs, *args, **kwargs)
        return errs

    return validate


def _typed(
    raw: object, path: str, errs: list[FieldError], kind: type[T] | tuple[type[T], ...], noun: str
) -> T | Literal[Malformed.MALFORMED] | None:
    """`raw` when it is null or of `kind`; else the error encoding/json's refusal becomes."""
    if raw is None or isinstance(raw, kind):
        return raw
    errs.append(invalid(path, raw, f"must be {noun}"))
    return MALFORMED


def decode_object(
    raw: object, path: str, errs: list[FieldError]
) -> Mapping[str, Any] | Literal[Malformed.MALFORMED] | None:
    if type(raw) is dict:  # what YAML and JSON decode to: no abstract-class check needed
        return raw
    return _typed(raw, path, errs, Mapping, "an object")


def decode_list(
    raw: object, path: str, errs: list[FieldError]
) -> Sequence[Any] | Literal[Malformed.MALFORMED] | None:
    return _typed(raw, path, errs, (list, tuple), "a list")


def decode_string(
    raw: object, path: str, errs: list[FieldError]
) -> str | Literal[Malformed.MALFORMED] | None:
    if type(raw) is str:
        return raw
    return _typed(raw, path, errs, str, "a string")


def decode_bool(
    raw: object, path: str, errs: list[FieldError]
) -> bool | Literal[Malformed.MALFORMED] | None:
    return _typed(raw, path, errs, bool, "a boolean")


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


def decode_int_or_string(
    raw: object, path: str, errs: list[FieldError]
) -> int | str | Literal[Malformed.MALFORMED] | None:
    """intstr.IntOrString: a JSON number (int32) or a JSON string."""
    if isinstance(raw, str):
        return raw
    if raw is None or (isinstance(raw, int) and not isinstance(raw, bool)):
        return decode_int32(raw, path, errs)
    errs.append(invalid(path, raw, "must be an integer or a string"))
    return MALFORMED


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
