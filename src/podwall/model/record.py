"""Typed value records that cost nothing to import or to create: `Record`, `field`, `replace`.

Pure: no I/O here. Imports only `typing` and `operator`, which the review commands load
anyway: no `dataclasses` (creating a dataclass compiles six methods, ~1 ms a class), no
`msgspec` (its import brings `typing_extensions`, `inspect`, `uuid`, `decimal`: ~10 ms).

`class X(Record)` is a frozen, keyword-only, slotted record; the class keywords `frozen=False`,
`kw_only=False`, `eq=False` (identity == and hash), `dict=True` (a `__dict__` beside the
slots, for `functools.cached_property`) and `cache_hash=True` (a frozen record's hash kept in a
slot after its first use, for dict keys looked up in hot loops) change that; a subclass
inherits its base's keywords.
Fields come from the class's own annotations (strings under `from __future__ import
annotations`; ClassVar skipped), inherited fields first; `field(default_factory=...,
compare=False)` as in dataclasses.

Creating a class builds only its slots and a few tuples. `__init__` is generated as
dataclasses does (one compiled function, a slot setter per field) but compiled lazily: the
class's first instantiation compiles and installs it, so only the classes a command uses pay
(~50-150 us each, once).
"""

from __future__ import annotations

from operator import attrgetter
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar, dataclass_transform, overload

if TYPE_CHECKING:
    from collections.abc import Callable

_T = TypeVar("_T")
_R = TypeVar("_R", bound="Record")


class _Missing:
    __slots__ = ()

    def __repr__(self) -> str:
        return "<missing>"


MISSING: Any = _Missing()


class Field:
    """What `field()` returns, read once when the class is made."""

    __slots__ = ("compare", "default", "default_factory")

    def __init__(self, default: Any, default_factory: Any, compare: bool) -> None:
        self.default = default
        self.default_factory = default_factory
        self.compare = compare


@overload
def field(*, default: _T, compare: bool = True) -> _T: ...
@overload
def field(*, default_factory: Callable[[], _T], compare: bool = True) -> _T: ...
@overload
def field(*, compare: bool = True) -> Any: ...
def field(*, default: Any = MISSING, default_factory: Any = MISSING, compare: bool = True) -> Any:
    """A field's default or default factory, and whether == and hash look at it."""
    if default is not MISSING and default_factory is not MISSING:
        raise ValueError("cannot specify both default and default_factory")
    return Field(default, default_factory, compare)


def _is_classvar(annotation: object) -> bool:
    """Whether an annotation is a ClassVar: by its text, as dataclasses does for strings."""
    if isinstance(annotation, str):
        return annotation.startswith(("ClassVar", "typing.ClassVar", "t.ClassVar"))
    return annotation is ClassVar or getattr(annotation, "__origin__", None) is ClassVar


_OPTIONS = {"frozen": True, "kw_only": True, "eq": True, "dict": False, "cache_hash": False}


@dataclass_transform(kw_only_default=True, frozen_default=True, field_specifiers=(field,))
class _RecordMeta(type):
    """Sets `__slots__` from the class's own annotations before the class is made."""

    def __new__(
        mcs, name: str, bases: tuple[type, ...], ns: dict[str, Any], **options: bool
    ) -> _RecordMeta:
        inherited: dict[str, Field] = {}
        config = dict(_OPTIONS)
        slotted: set[str] = set()
        for base in reversed(bases):
            if isinstance(base, _RecordMeta):
                inherited.update(base.__record_specs__)
                config.update(base.__record_config__)
            slotted.update(getattr(base, "__record_slots__", ()))
        unknown = set(options) - set(_OPTIONS)
        if unknown:
            raise TypeError(f"{name}: unknown class keywords {sorted(unknown)}")
        config.update(options)
        own: dict[str, Field] = {}
        for fname, annotation in ns.get("__annotations__", {}).items():
            if _is_classvar(annotation):
                continue
            value = ns.pop(fname, MISSING)
            own[fname] = value if isinstance(value, Field) else Field(value, MISSING, True)
        specs = {**inherited, **own}
        slots = [n for n in own if n not in slotted]
        if config["dict"] and "__dict__" not in slotted:
            slots.append("__dict__")
        cache_hash = config["cache_hash"] and config["eq"] and config["frozen"]
        if cache_hash and "_record_hash" not in slotted:
            slots.append("_record_hash")
        ns["__slots__"] = tuple(slots)
        ns["__record_slots__"] = frozenset(slotted | set(slots))
        ns["__record_specs__"] = specs
        ns["__record_config__"] = config
        ns["__record_fields__"] = tuple(specs)
        ns["__match_args__"] = tuple(specs)
        compared = [n for n, f in specs.items() if f.compare]
        key = attrgetter(*compared) if compared else _no_key
        ns["__record_key__"] = key
        if config["eq"]:
            ns.setdefault("__eq__", _eq(key))
            if "__hash__" not in ns:
                hasher = _cached_hash if cache_hash else _hash
                ns["__hash__"] = hasher(key) if config["frozen"] else None
        else:
            ns.setdefault("__eq__", object.__eq__)
            ns.setdefault("__hash__", object.__hash__)
        if config["frozen"]:
            ns.setdefault("__setattr__", _frozen_setattr)
            ns.setdefault("__delattr__", _frozen_delattr)
        else:
            ns.setdefault("__setattr__", object.__setattr__)
            ns.setdefault("__delattr__", object.__delattr__)
        cls = super().__new__(mcs, name, bases, ns)
        if "__init__" not in ns:
            cls.__init__ = _placeholder(cls)  # type: ignore[misc]
        return cls

    __record_specs__: dict[str, Field]
    __record_config__: dict[str, bool]


def _no_key(record: object) -> tuple[()]:
    return ()


def _eq(key: Callable[[Any], Any]) -> Callable[[Any, object], bool]:
    """`__eq__` over the values `key` reads (a closure: no compiling)."""

    def __eq__(self: Any, other: object) -> bool:
        if other.__class__ is self.__class__:
            return key(self) == key(other)  # type: ignore[no-any-return]
        return NotImplemented

    return __eq__


def _hash(key: Callable[[Any], Any]) -> Callable[[Any], int]:
    """`__hash__` over the values `key` reads."""

    def __hash__(self: Any) -> int:
        return hash(key(self))

    return __hash__


def _cached_hash(key: Callable[[Any], Any]) -> Callable[[Any], int]:
    """`__hash__` over the values `key` reads, kept in a slot after the first call: for
    records that are dict keys in hot loops (a selector cache hashes its key each lookup)."""

    def __hash__(self: Any) -> int:
        try:
            return self._record_hash  # type: ignore[no-any-return]
        except AttributeError:
            value = hash(key(self))
            object.__setattr__(self, "_record_hash", value)
            return value

    return __hash__


def _frozen_setattr(self: object, name: str, value: object) -> None:
    raise AttributeError(f"cannot assign to field {name!r}")


def _frozen_delattr(self: object, name: str) -> None:
    raise AttributeError(f"cannot delete field {name!r}")


def _placeholder(cls: type) -> Callable[..., None]:
    """An `__init__` that, on the class's first instantiation, compiles the real one,
    installs it on `cls` and calls it."""

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        real = _compile_init(cls)
        type.__setattr__(cls, "__init__", real)
        real(self, *args, **kwargs)

    __init__.__qualname__ = f"{cls.__qualname__}.__init__"
    return __init__


def _compile_init(cls: Any) -> Callable[..., None]:
    """The `__init__` of `cls`, generated as dataclasses does: each field set through its
    slot's setter (frozen records refuse `setattr`)."""
    specs: dict[str, Field] = cls.__record_specs__
    params: list[str] = []
    body: list[str] = []
    scope: dict[str, Any] = {"__MISSING": MISSING}
    for name, spec in specs.items():
        scope[f"__set_{name}"] = getattr(cls, name).__set__
        if spec.default_factory is not MISSING:
            scope[f"__factory_{name}"] = spec.default_factory
            params.append(f"{name}=__MISSING")
            value = f"__factory_{name}() if {name} is __MISSING else {name}"
        elif spec.default is not MISSING:
            scope[f"__default_{name}"] = spec.default
            params.append(f"{name}=__default_{name}")
            value = name
        else:
            params.append(name)
            value = name
        body.append(f"  __set_{name}(self, {value})")
    star = "*, " if cls.__record_config__["kw_only"] and params else ""
    source = (
        f"def __create_fn__({', '.join(scope)}):\n"
        f" def __init__(self, {star}{', '.join(params)}):\n"
        + ("\n".join(body) or "  pass")
        + "\n return __init__\n"
    )
    namespace: dict[str, Any] = {}
    exec(source, {}, namespace)
    init: Callable[..., None] = namespace["__create_fn__"](**scope)
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    return init


class Record(metaclass=_RecordMeta):
    """A frozen, keyword-only, slotted value record; see the module docstring."""

    __record_fields__: ClassVar[tuple[str, ...]]
    __record_key__: ClassVar[Callable[[Any], Any]]

    if TYPE_CHECKING:

        def __init_subclass__(
            cls,
            *,
            frozen: bool = True,
            kw_only: bool = True,
            eq: bool = True,
            dict: bool = False,
        ) -> None: ...

    def __repr__(self) -> str:
        parts = ", ".join(f"{n}={getattr(self, n)!r}" for n in self.__record_fields__)
        return f"{self.__class__.__qualname__}({parts})"

    def __getstate__(self) -> tuple[Any, ...]:
        return tuple(getattr(self, n) for n in self.__record_fields__)

    def __setstate__(self, state: tuple[Any, ...]) -> None:
        for name, value in zip(self.__record_fields__, state, strict=True):
            object.__setattr__(self, name, value)


def fields(cls_or_record: type[Record] | Record) -> tuple[str, ...]:
    """The names of a record's fields, inherited first."""
    return cls_or_record.__record_fields__


def asdict(record: Record) -> dict[str, Any]:
    """A record's fields by name, shallow (as msgspec.structs.asdict)."""
    return {n: getattr(record, n) for n in record.__record_fields__}


def replace(record: _R, /, **changes: Any) -> _R:
    """A copy of `record` with `changes`, made by its `__init__` (which names a bad key)."""
    for name in record.__record_fields__:
        if name not in changes:
            changes[name] = getattr(record, name)
    return type(record)(**changes)
