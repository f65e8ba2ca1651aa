"""What kind of value decoded JSON holds, and the words Go and kube-openapi have for each kind.

Owns the one classification of decoded JSON (None, bool, int, float, str, list, dict); error
messages name a value's kind in their own vocabulary (encoding/json, reflect, kube-openapi), as
a table over `JsonKind`. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum, auto


class JsonKind(Enum):
    NULL = auto()
    BOOL = auto()
    INT = auto()
    FLOAT = auto()
    STRING = auto()
    ARRAY = auto()
    OBJECT = auto()
    OTHER = auto()  # not something JSON decodes to


def json_kind(value: object) -> JsonKind:
    if value is None:
        return JsonKind.NULL
    if isinstance(value, bool):  # before int: bool is an int in Python
        return JsonKind.BOOL
    if isinstance(value, int):
        return JsonKind.INT
    if isinstance(value, float):
        return JsonKind.FLOAT
    if isinstance(value, str):
        return JsonKind.STRING
    if isinstance(value, Mapping):
        return JsonKind.OBJECT
    if isinstance(value, list | tuple):
        return JsonKind.ARRAY
    return JsonKind.OTHER


# Each kind's word in encoding/json's UnmarshalTypeError ("cannot unmarshal number into ..."),
# in reflect's Kind (as strategic merge patch prints it) and in kube-openapi's messages.
_WORDS: dict[JsonKind, tuple[str, str, str]] = {
    JsonKind.NULL: ("null", "nil", "null"),
    JsonKind.BOOL: ("bool", "bool", "boolean"),
    JsonKind.INT: ("number", "int64", "integer"),
    JsonKind.FLOAT: ("number", "float64", "number"),
    JsonKind.STRING: ("string", "string", "string"),
    JsonKind.ARRAY: ("array", "list", "array"),
    JsonKind.OBJECT: ("object", "map", "object"),
    JsonKind.OTHER: ("null", "nil", ""),
}


def go_json_type(value: object) -> str:
    """The JSON type word Go's encoding/json uses in UnmarshalTypeError messages."""
    return _WORDS[json_kind(value)][0]


def go_kind(value: object) -> str:
    """The reflect.Kind of what encoding/json decodes `value` into (`map`, `int64`, `nil`)."""
    return _WORDS[json_kind(value)][1]


def openapi_type(value: object) -> str:
    """The JSON type name kube-openapi reports for a value; a float without a fraction is an
    integer there, and a value JSON cannot hold is named by its Python type."""
    if isinstance(value, float) and value.is_integer():
        return "integer"
    return _WORDS[json_kind(value)][2] or type(value).__name__
