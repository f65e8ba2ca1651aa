"""Request bodies checked against the upstream types before anything else reads them.

kube-apiserver decodes a body into its Go structs; a value of the wrong JSON type is a 400 in
`encoding/json`'s words ("cannot unmarshal bool into Go struct field ServiceSpec.spec.ports of
type []v1.ServicePort"). podwall keeps bodies as JSON, so it walks them along the schemas of
`schemas` and answers the same. Unknown fields are not this module's (admission's
fieldValidation handles them); `null` is accepted anywhere, as Go decodes it to the zero value.

Every write's body is checked, and nearly every body fits: each schema is compiled once into a
predicate (`fits`) that says only whether a value fits; the walk that words the error
(`errors_in`) runs only for a body that does not.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from podwall.apiserver import errors, schemas
from podwall.apiserver.resources import Resource
from podwall.model.jsonkinds import go_json_type

_INT_RANGES = {"int32": (-(2**31), 2**31 - 1), "int64": (-(2**63), 2**63 - 1)}
_SCALARS = {"string": "string", "boolean": "bool", "number": "float64"}


@dataclass(frozen=True, slots=True)
class Mismatch:
    """Where a value does not fit: Go's UnmarshalTypeError, in its own words."""

    value: str  # "bool", "number 1.5", ...
    struct: str  # the Go struct holding the field
    path: str  # the JSON field path from the root, without indexes
    go_type: str

    def message(self) -> str:
        return (
            f"json: cannot unmarshal {self.value} into Go struct field "
            f"{self.struct}.{self.path} of type {self.go_type}"
        )


@functools.cache  # a few hundred type names, asked for at every object of every body
def _go_name(name: str) -> str:
    """`io.k8s.api.core.v1.ServicePort` -> `v1.ServicePort`."""
    package, _, short = name.rpartition(".")
    return f"{package.rpartition('.')[2]}.{short}"


def _resolve(schema: Mapping[str, Any]) -> tuple[str | None, Mapping[str, Any]]:
    name = schemas.ref_name(schema)
    if name is None:
        return None, schema
    return name, schemas.definitions().get(name, {})


@functools.cache
def _go_type_of(name: str) -> str:
    return go_type(schemas.definitions().get(name, {}), name)


def go_type(schema: Mapping[str, Any], name: str | None = None) -> str:
    """The Go type a schema stands for, as `encoding/json` names it in errors."""
    if name is None:
        name, schema = _resolve(schema)
        if name is not None:
            return _go_type_of(name)
    if name is not None and (schema.get("properties") or name.endswith((".Time", ".MicroTime"))):
        return _go_name(name)
    if name in (schemas.INT_OR_STRING, schemas.QUANTITY):
        return _go_name(name)
    kind = schema.get("type")
    if kind == "array":
        return "[]" + go_type(schema.get("items", {}))
    if kind == "object" and "additionalProperties" in schema:
        return "map[string]" + go_type(schema["additionalProperties"])
    if kind == "integer":
        return str(schema.get("format") or "int")
    if kind == "string" and schema.get("format") == "byte":
        return "[]uint8"
    if isinstance(kind, str):
        return _SCALARS.get(kind, kind)
    return _go_name(name) if name else "interface {}"


def _scalar_error(value: Any, schema: Mapping[str, Any], name: str | None) -> str | None:
    """The `value` part of the error when `value` does not fit a scalar schema, else None."""
    if name == schemas.INT_OR_STRING:
        ok = isinstance(value, (str, int)) and not isinstance(value, bool)
        return None if ok else go_json_type(value)
    if name == schemas.QUANTITY:
        ok = isinstance(value, (str, int, float)) and not isinstance(value, bool)
        return None if ok else go_json_type(value)
    kind = schema.get("type")
    if kind == "string":
        return None if isinstance(value, str) else go_json_type(value)
    if kind == "boolean":
        return None if isinstance(value, bool) else go_json_type(value)
    if kind == "number":
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        return None if ok else go_json_type(value)
    if kind == "integer":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return go_json_type(value)
        low, high = _INT_RANGES.get(str(schema.get("format")), _INT_RANGES["int64"])
        if isinstance(value, float) or not low <= value <= high:
            return f"number {value}"
    return None


def errors_in(
    value: Any, schema: Mapping[str, Any], struct: str, path: str, name: str | None = None
) -> Iterator[Mismatch]:
    """Every place where `value` does not fit `schema`; `struct`/`path` say where it is."""
    if value is None:
        return
    if name is None:
        name, schema = _resolve(schema)
    kind = schema.get("type")
    properties = schema.get("properties")
    if properties is not None or (kind == "object" and "additionalProperties" not in schema):
        if not isinstance(value, dict):
            if properties is None and name is None:
                return  # a free-form object (RawExtension's siblings): anything goes
            yield Mismatch(go_json_type(value), struct, path, go_type(schema, name))
            return
        inner = _go_name(name).rpartition(".")[2] if name else struct
        for key, item in value.items():
            field = (properties or {}).get(key)
            if field is not None:
                yield from errors_in(item, field, inner, f"{path}.{key}" if path else key)
        return
    if kind == "object":
        if not isinstance(value, dict):
            yield Mismatch(go_json_type(value), struct, path, go_type(schema, name))
            return
        for item in value.values():
            yield from errors_in(item, schema["additionalProperties"], struct, path)
        return
    if kind == "array":
        if not isinstance(value, list):
            yield Mismatch(go_json_type(value), struct, path, go_type(schema, name))
            return
        for item in value:
            yield from errors_in(item, schema.get("items", {}), struct, path)
        return
    wrong = _scalar_error(value, schema, name)
    if wrong is not None:
        yield Mismatch(wrong, struct, path, go_type(schema, name))


Fits = Callable[[Any], bool]


def _always(value: Any) -> bool:
    return True


@functools.cache  # one predicate per schema name, shared by every schema that refers to it
def _named(name: str) -> Fits:
    return _compile(schemas.definitions().get(name, {}), name)


def _referring(name: str) -> Fits:
    # Bound at the first call, not at compile time: schemas refer to themselves (JSONSchemaProps).
    def fits(value: Any) -> bool:
        return value is None or _named(name)(value)

    return fits


def _compile(schema: Mapping[str, Any], name: str | None = None) -> Fits:
    """A predicate true exactly when `errors_in(value, schema, ..., name)` finds nothing."""
    if name is None:
        ref = schemas.ref_name(schema)
        if ref is not None:
            return _referring(ref)
    kind = schema.get("type")
    properties = schema.get("properties")
    if properties is not None or (kind == "object" and "additionalProperties" not in schema):
        return _struct(properties, free=properties is None and name is None)
    if kind == "object":
        return _container(dict, dict.values, _compile(schema["additionalProperties"]))
    if kind == "array":
        return _container(list, iter, _compile(schema.get("items", {})))
    if name not in (schemas.INT_OR_STRING, schemas.QUANTITY) and kind in _EXACT_TYPES:
        exact = _EXACT_TYPES[kind]
        return lambda value: value is None or isinstance(value, exact)
    if kind is None and name is None:
        return _always
    return lambda value: value is None or _scalar_error(value, schema, name) is None


_EXACT_TYPES: dict[str, type] = {"string": str, "boolean": bool}


def _struct(properties: Mapping[str, Any] | None, *, free: bool) -> Fits:
    fields = {key: _compile(field) for key, field in (properties or {}).items()}

    def fits(value: Any) -> bool:
        if value is None:
            return True
        if not isinstance(value, dict):
            return free  # a free-form object (RawExtension's siblings) takes anything
        for key, item in value.items():
            field = fields.get(key)
            if field is not None and not field(item):
                return False
        return True

    return fits


def _container(kind: type, items: Callable[[Any], Any], item_fits: Fits) -> Fits:
    def fits(value: Any) -> bool:
        if value is None:
            return True
        if not isinstance(value, kind):
            return False
        return all(map(item_fits, items(value)))

    return fits


def fits(name: str, value: Any) -> bool:
    """Whether `value` fits the schema called `name`: `errors_in` would find nothing."""
    return _named(name)(value)


def check(resource: Resource, body: Mapping[str, Any], kind: str | None = None) -> None:
    """400 BadRequest, as kube-apiserver words it, when `body` does not fit the kind's types.

    `kind` names another kind of the resource's group-version (a subresource's: Scale)."""
    kind = kind or resource.kind
    group, version = resource.group, resource.version
    if kind == "Scale":
        group, version = "autoscaling", "v1"
    name = schemas.name_for(group, version, kind)
    if name is None:
        return
    if fits(name, body):
        return
    schema = schemas.definitions()[name]
    first = next(errors_in(body, schema, _go_name(name).rpartition(".")[2], "", name), None)
    if first is not None:
        raise errors.bad_request(
            f'{kind} in version "{version}" cannot be handled as a {kind}: {first.message()}'
        )


def drop_nulls(value: Any) -> Any:
    """The object as kube-apiserver keeps it: a field sent as `null` is unset.

    Go decodes a JSON null into a nil pointer, map or slice, and encodes that back as an absent
    field (omitempty), so `metadata: {labels: null}` is stored as `metadata: {}`. Items of a
    list stay where they are.

    The result is a new tree (no dict or list of `value` in it): the caller may change it."""
    if type(value) in _LEAVES:
        return value
    if isinstance(value, dict):
        return {k: drop_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [drop_nulls(v) for v in value]
    return value


_LEAVES = frozenset({str, int, float, bool, type(None)})
