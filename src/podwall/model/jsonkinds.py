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


# encoding/json's words in UnmarshalTypeError ("cannot unmarshal number into ...").
_GO_JSON = {
    JsonKind.BOOL: "bool",
    JsonKind.INT: "number",
    JsonKind.FLOAT: "number",
    JsonKind.STRING: "string",
    JsonKind.ARRAY: "array",
    JsonKind.OBJECT: "object",
}


def go_json_type(value: object) -> str:
    """The JSON type word Go's encoding/json uses in UnmarshalTypeError messages."""
    return _GO_JSON.get(json_kind(value), "null")
