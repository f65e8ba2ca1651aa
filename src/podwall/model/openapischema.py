"""A custom resource checked against its CRD's structural schema, as the API server does it.

Ports what apiextensions-apiserver runs on create for the keywords CRDs use: kube-openapi's
schema validation (type, required, enum, minimum/maximum, maxLength, pattern, min/maxItems,
min/maxProperties, additionalProperties) turned into field errors by `ValidateCustomResource`,
then `x-kubernetes-list-type: set` duplicates, then the `x-kubernetes-validations` (CEL) rules,
which are skipped when an earlier error blocks them (`hasBlockingErr`). Messages are
upstream's, word for word. CEL is not interpreted: each rule's text maps to a Python predicate
the schema's owner supplies; an unknown rule text is a programming error.

Null values count as absent: the API server prunes nulls of non-nullable fields. Pure: no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from podwall.model.fielderrors import (
    ErrorType,
    FieldError,
    invalid,
    not_supported,
    required,
    too_long,
)
from podwall.model.fieldpath import NIL, child, index
from podwall.model.jsonkinds import openapi_type
from podwall.model.record import Record, field

Schema = Mapping[str, Any]
CelRule = Callable[[Any], bool]

_BLOCKED = (
    "some validation rules were not checked because the object was invalid; "
    "correct the existing errors to complete validation"
)


class StructuralSchema(Record):
    """A CRD's openAPIV3Schema and the predicates standing for its CEL rules (by rule text)."""

    schema: Schema
    cel: Mapping[str, CelRule] = field(default_factory=dict)

    def validate(self, value: object, earlier: Sequence[FieldError] = ()) -> list[FieldError]:
        """Every schema error, then every CEL error unless one of them or of the `earlier`
        errors (ObjectMeta's) blocks the CEL rules."""
        errs: list[FieldError] = []
        _check(value, self.schema, "", errs)
        errs += _duplicates(value, self.schema, "")
        if any(_blocks_cel(e) for e in (*earlier, *errs)):
            return [*errs, invalid(NIL, "null", _BLOCKED)]
        return errs + list(self._cel(value, self.schema, ""))

    def unknown_fields(self, value: object) -> list[str]:
        """Paths (`spec.ingress[0].form`) of the fields the schema does not declare."""
        return list(_unknown(value, self.schema, ""))

    def _cel(self, value: object, schema: Schema, path: str) -> Iterator[FieldError]:
        if value is None:
            return
        for item_path, item, item_schema in _children(value, schema, path):
            yield from self._cel(item, item_schema, item_path)
        for rule in schema.get("x-kubernetes-validations", ()):
            predicate = self.cel[rule["rule"]]
            if not predicate(value):
                yield invalid(path or NIL, schema.get("type", ""), rule["message"])


_BLOCKING = frozenset(
    {ErrorType.UNSUPPORTED, ErrorType.REQUIRED, ErrorType.TOO_LONG, ErrorType.TOO_MANY}
)


def _blocks_cel(err: FieldError) -> bool:
    """hasBlockingErr: "type/maxLength/maxItems/MaxProperties/required/enum violation/wrong
    type field validation failures are viewed as blocking err for CEL validation"."""
    return err.type in _BLOCKING or (
        err.type is ErrorType.INVALID and " must be of type " in err.detail
    )


def _check(value: object, schema: Schema, path: str, errs: list[FieldError]) -> None:
    """kube-openapi's SchemaValidator on one value; `value` is not None."""
    expected = schema.get("type")
    actual = openapi_type(value)
    if expected and actual != expected:
        errs.append(_type_error(path, expected, actual))
        return
    if isinstance(value, Mapping):
        _check_object(value, schema, path, errs)
    elif isinstance(value, list | tuple):
        _check_array(value, schema, path, errs)
    elif isinstance(value, str):
        _check_string(value, schema, path, errs)
    elif isinstance(value, int | float) and not isinstance(value, bool):
        _check_number(value, schema, path, errs)
    if "enum" in schema and value not in schema["enum"]:
        errs.append(not_supported(path, value, [str(v) for v in schema["enum"]]))


def _check_object(
    value: Mapping[str, Any], schema: Schema, path: str, errs: list[FieldError]
) -> None:
    present = {k: v for k, v in value.items() if v is not None}
    count = len(present)
    # objectValidator returns at once when the number of properties is out of bounds.
    if "minProperties" in schema and count < schema["minProperties"]:
        detail = f"{path} in body should have at least {schema['minProperties']} properties"
        errs.append(invalid(path, count, detail))
        return
    if "maxProperties" in schema and count > schema["maxProperties"]:
        errs.append(_too_many(path, count, schema["maxProperties"]))
        return
    for name in schema.get("required", ()):
        if name not in present:
            errs.append(required(child(path, name)))
    for item_path, item, item_schema in _children(present, schema, path):
        _check(item, item_schema, item_path, errs)


def _check_array(value: Sequence[Any], schema: Schema, path: str, errs: list[FieldError]) -> None:
    if "minItems" in schema and len(value) < schema["minItems"]:
        detail = f"{path} in body should have at least {schema['minItems']} items"
        errs.append(invalid(path, len(value), detail))
    if "maxItems" in schema and len(value) > schema["maxItems"]:
        errs.append(_too_many(path, len(value), schema["maxItems"]))
    for item_path, item, item_schema in _children(value, schema, path):
        if item is None:
            errs.append(_type_error(item_path, item_schema.get("type", "object"), "null"))
        else:
            _check(item, item_schema, item_path, errs)


def _check_string(value: str, schema: Schema, path: str, errs: list[FieldError]) -> None:
    if "maxLength" in schema and len(value) > schema["maxLength"]:
        errs.append(too_long(path, value, schema["maxLength"]))
    if "minLength" in schema and len(value) < schema["minLength"]:
        detail = f"{path} in body should be at least {schema['minLength']} chars long"
        errs.append(invalid(path, value, detail))
    pattern = schema.get("pattern")
    if pattern is not None and not _regex(pattern).search(value):
        errs.append(invalid(path, value, f"{path} in body should match '{pattern}'"))


def _check_number(value: float, schema: Schema, path: str, errs: list[FieldError]) -> None:
    if "minimum" in schema and value < schema["minimum"]:
        detail = f"{path} in body should be greater than or equal to {schema['minimum']}"
        errs.append(invalid(path, value, detail))
    if "maximum" in schema and value > schema["maximum"]:
        detail = f"{path} in body should be less than or equal to {schema['maximum']}"
        errs.append(invalid(path, value, detail))


def _type_error(path: str, expected: str, actual: str) -> FieldError:
    """errors.InvalidType as ValidateCustomResource reports it: the value is the JSON type."""
    return invalid(path, actual, f'{path} in body must be of type {expected}: "{actual}"')


def _too_many(path: str, actual: int, most: int) -> FieldError:
    """field.TooMany, which maxItems and maxProperties errors become."""
    noun = "item" if most == 1 else "items"
    detail = f"must have at most {most} {noun}"
    return FieldError(path=path, type=ErrorType.TOO_MANY, value=actual, detail=detail)


_REGEXES: dict[str, re.Pattern[str]] = {}


def _regex(pattern: str) -> re.Pattern[str]:
    compiled = _REGEXES.get(pattern)
    if compiled is None:
        compiled = _REGEXES[pattern] = re.compile(pattern)
    return compiled


def _children(value: object, schema: Schema, path: str) -> Iterator[tuple[str, Any, Schema]]:
    """The declared children of an object or array with their schemas (nulls skipped)."""
    if isinstance(value, Mapping):
        properties = schema.get("properties", {})
        extra = schema.get("additionalProperties")
        for name, item in value.items():
            item_schema = properties.get(name, extra if isinstance(extra, Mapping) else None)
            if item_schema is not None and item is not None:
                yield child(path, str(name)), item, item_schema
    elif isinstance(value, list | tuple) and "items" in schema:
        for i, item in enumerate(value):
            yield index(path, i), item, schema["items"]


def _duplicates(value: object, schema: Schema, path: str) -> list[FieldError]:
    """structurallisttype.ValidateListSetsAndMaps for `set` lists: each repeat is an error."""
    errs: list[FieldError] = []
    if isinstance(value, list | tuple) and schema.get("x-kubernetes-list-type") == "set":
        seen: list[object] = []
        for i, item in enumerate(value):
            if item in seen:
                errs.append(FieldError(path=index(path, i), type=ErrorType.DUPLICATE, value=item))
            else:
                seen.append(item)
    if isinstance(value, Mapping | list | tuple):
        for item_path, item, item_schema in _children(value, schema, path):
            errs += _duplicates(item, item_schema, item_path)
    return errs


def _unknown(value: object, schema: Schema, path: str) -> Iterator[str]:
    if schema.get("x-kubernetes-preserve-unknown-fields"):
        return
    if isinstance(value, Mapping):
        properties = schema.get("properties")
        if properties is None and "additionalProperties" not in schema:
            return  # `type: object` alone (metadata): checked elsewhere
        for name in value:
            if name not in (properties or {}) and "additionalProperties" not in schema:
                yield child(path, str(name))
    for item_path, item, item_schema in _children(value, schema, path):
        yield from _unknown(item, item_schema, item_path)
