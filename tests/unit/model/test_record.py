"""Record behaves as the frozen, keyword-only, slotted dataclass it stands in for."""

from __future__ import annotations

import copy
import dataclasses
import pickle
import textwrap
from collections.abc import Callable
from functools import cached_property
from pathlib import Path
from typing import Any, ClassVar

import pytest
from hypothesis import given
from hypothesis import strategies as st

from podwall.model.record import Record, asdict, field, fields, replace

SRC = Path(__file__).resolve().parents[3] / "src"


class Point(Record):
    LIMIT: ClassVar[int] = 10  # a ClassVar is no field
    x: int
    y: int = 0
    tags: tuple[str, ...] = ()


class Tagged(Record):
    name: str
    seen: frozenset[str] = field(default_factory=frozenset)
    note: str = field(default="", compare=False)


class Point3(Point):
    z: int = 0


class Identity(Record, eq=False):
    value: int


class Mutable(Record, frozen=False):
    value: int


class Positional(Record, kw_only=False):
    a: int
    b: str = "b"


class Squares(Record, dict=True):
    n: int
    calls: list[int] = field(default_factory=list, compare=False)

    @cached_property
    def square(self) -> int:
        self.calls.append(self.n)
        return self.n * self.n


class Empty(Record):
    pass


class Keyed(Record, cache_hash=True):
    name: str
    parts: tuple[str, ...] = ()


def _raises(error: type[Exception], make: Callable[[], object]) -> str:
    with pytest.raises(error) as caught:
        make()
    return str(caught.value)


# (make a record, what its repr reads)
REPRS: dict[str, tuple[Callable[[], object], str]] = {
    "defaults filled in": (lambda: Point(x=1), "Point(x=1, y=0, tags=())"),
    "strings quoted": (lambda: Point(x=1, tags=("a",)), "Point(x=1, y=0, tags=('a',))"),
    "inherited fields first": (lambda: Point3(x=1, z=3), "Point3(x=1, y=0, tags=(), z=3)"),
    "uncompared fields shown": (
        lambda: Tagged(name="t"),
        "Tagged(name='t', seen=frozenset(), note='')",
    ),
    "no fields": (Empty, "Empty()"),
    "positional": (lambda: Positional(1), "Positional(a=1, b='b')"),
}


@pytest.mark.parametrize("case", REPRS)
def test_repr_reads_as_a_dataclass(case: str) -> None:
    make, text = REPRS[case]
    assert repr(make()) == text


# (two records, whether == holds)
EQUALITY: dict[str, tuple[object, object, bool]] = {
    "same values": (Point(x=1, y=2), Point(x=1, y=2), True),
    "a value differs": (Point(x=1, y=2), Point(x=1, y=3), False),
    "an uncompared field differs": (Tagged(name="t", note="a"), Tagged(name="t", note="b"), True),
    "a factory field differs": (Tagged(name="t", seen=frozenset("a")), Tagged(name="t"), False),
    "a subclass with the same values": (Point(x=1), Point3(x=1), False),
    "a tuple of the same values": (Point(x=1), (1, 0, ()), False),
    "no fields": (Empty(), Empty(), True),
    "eq=False, same values": (Identity(value=1), Identity(value=1), False),
    "positional and keyword": (Positional(1, "c"), Positional(a=1, b="c"), True),
}


@pytest.mark.parametrize("case", EQUALITY)
def test_eq_and_hash(case: str) -> None:
    a, b, equal = EQUALITY[case]
    assert (a == b) is equal
    assert (a != b) is not equal
    if equal:
        assert hash(a) == hash(b)
        assert len({a, b}) == 1


def test_a_cached_hash_is_the_uncached_one_and_survives_a_copy() -> None:
    record = Keyed(name="a", parts=("x",))
    assert hash(record) == hash(record) == hash(("a", ("x",)))
    assert record == Keyed(name="a", parts=("x",))
    copied = pickle.loads(pickle.dumps(record))
    assert hash(copied) == hash(record)
    assert repr(copied) == "Keyed(name='a', parts=('x',))"


def test_eq_false_keeps_identity() -> None:
    one = Identity(value=1)
    assert one == one
    assert hash(one) == object.__hash__(one)


def test_a_mutable_record_with_eq_is_unhashable_as_a_dataclass() -> None:
    record = Mutable(value=1)
    record.value = 2
    assert record == Mutable(value=2)
    assert "unhashable" in _raises(TypeError, lambda: hash(record))


# (a record, what to do to it)
FROZEN: dict[str, tuple[object, Callable[[Any], None]]] = {
    "assign a field": (Point(x=1), lambda r: setattr(r, "x", 2)),
    "assign a new name": (Point(x=1), lambda r: setattr(r, "w", 2)),
    "delete a field": (Point(x=1), lambda r: delattr(r, "x")),
    "assign an inherited field": (Point3(x=1), lambda r: setattr(r, "x", 2)),
}


@pytest.mark.parametrize("case", FROZEN)
def test_frozen_refuses_changes(case: str) -> None:
    record, change = FROZEN[case]
    before = repr(record)
    _raises(AttributeError, lambda: change(record))
    assert repr(record) == before


def test_object_setattr_still_sets_a_field() -> None:
    record = Point(x=1)
    object.__setattr__(record, "x", 5)
    assert record.x == 5


# (a call, the TypeError Python gives a function with that signature)
BAD_CALLS: dict[str, tuple[Callable[[], object], str]] = {
    "missing": (
        lambda: Point(),  # type: ignore[call-arg]
        "Point.__init__() missing 1 required keyword-only argument: 'x'",
    ),
    "unknown": (
        lambda: Point(x=1, w=2),  # type: ignore[call-arg]
        "Point.__init__() got an unexpected keyword argument 'w'",
    ),
    "positional": (
        lambda: Point(1),  # type: ignore[call-arg]
        "Point.__init__() takes 1 positional argument but 2 were given",
    ),
    "missing positional": (
        lambda: Positional(),  # type: ignore[call-arg]
        "Positional.__init__() missing 1 required positional argument: 'a'",
    ),
}


@pytest.mark.parametrize("case", BAD_CALLS)
def test_a_bad_call_raises_pythons_own_type_error(case: str) -> None:
    make, message = BAD_CALLS[case]
    assert _raises(TypeError, make) == message


def test_a_bad_first_call_still_leaves_a_working_class() -> None:
    """The first instantiation compiles __init__; failing in it must not spoil the class."""

    class Late(Record):
        a: int

    _raises(TypeError, lambda: Late())  # type: ignore[call-arg]
    assert Late(a=1).a == 1


def test_a_default_factory_makes_a_fresh_value_each_time() -> None:
    one, two = Squares(n=1), Squares(n=2)
    one.calls.append(1)
    assert two.calls == []


def test_records_are_slotted() -> None:
    assert not hasattr(Point(x=1), "__dict__")
    assert vars(Point3)["__slots__"] == ("z",)


def test_cached_property_with_dict() -> None:
    record = Squares(n=3)
    assert (record.square, record.square) == (9, 9)
    assert record.calls == [3]
    assert replace(record, n=4).square == 16


def test_replace_fields_asdict() -> None:
    record = Point3(x=1, tags=("a",))
    assert replace(record, y=5) == Point3(x=1, y=5, tags=("a",))
    assert replace(record) == record
    assert fields(Point3) == ("x", "y", "tags", "z") == fields(record)
    assert asdict(record) == {"x": 1, "y": 0, "tags": ("a",), "z": 0}
    message = _raises(TypeError, lambda: replace(record, w=1))
    assert message == "Point3.__init__() got an unexpected keyword argument 'w'"


COPIES: dict[str, Callable[[Any], Any]] = {
    "pickle": lambda r: pickle.loads(pickle.dumps(r)),
    "copy": copy.copy,
    "deepcopy": copy.deepcopy,
}


@pytest.mark.parametrize("how", COPIES)
@pytest.mark.parametrize(
    "record",
    [Point3(x=1, z=2), Tagged(name="t", seen=frozenset("a"), note="n"), Positional(2), Empty()],
    ids=repr,
)
def test_copies_are_equal_records_of_the_same_class(how: str, record: Record) -> None:
    copied = COPIES[how](record)
    assert type(copied) is type(record)
    assert copied == record
    assert repr(copied) == repr(record)


def test_deepcopy_copies_the_values() -> None:
    record = Tagged(name="t", seen=frozenset("a"))
    copied = copy.deepcopy(record)
    assert copied.seen == record.seen
    assert copied.seen is not record.seen


def test_unknown_class_keyword_is_refused() -> None:
    with pytest.raises(TypeError, match="order"):

        class Ordered(Record, order=True):
            a: int


@dataclasses.dataclass(frozen=True, kw_only=True)
class _Twin:
    a: int
    b: str = ""
    c: tuple[int, ...] = ()


class _Twin2(Record):
    a: int
    b: str = ""
    c: tuple[int, ...] = ()


_values = st.fixed_dictionaries(
    {"a": st.integers(-3, 3), "b": st.sampled_from(["", "x", "y'"]), "c": st.tuples(st.integers())}
)


@given(_values, _values)
def test_a_record_agrees_with_a_frozen_kw_only_dataclass(
    one: dict[str, Any], two: dict[str, Any]
) -> None:
    """==, hash equality and repr (bar the class's name) are a dataclass's."""
    r1, r2, d1, d2 = _Twin2(**one), _Twin2(**two), _Twin(**one), _Twin(**two)
    assert (r1 == r2) is (d1 == d2)
    assert (hash(r1) == hash(r2)) is (hash(d1) == hash(d2))
    assert repr(r1).replace("_Twin2", "_Twin", 1) == repr(d1)


BAD_USES = textwrap.dedent(
    """\
    from podwall.model.record import Record, field

    class A(Record):
        a: int
        b: list[int] = field(default_factory=list)

    class Loose(Record, frozen=False, kw_only=False):
        a: int

    A(b=[1])
    A(a=1, z=2)
    A(1)
    A(a=1).a = 2
    Loose(1).a = 3
    """
)


def test_mypy_rejects_what_the_runtime_rejects(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """dataclass_transform tells mypy the records' signatures and that they are frozen; a
    class keyword loosens that (the last line passes)."""
    from mypy import api

    bad = tmp_path / "bad.py"
    bad.write_text(BAD_USES)
    monkeypatch.setenv("MYPYPATH", str(SRC))
    out, _, status = api.run(
        ["--strict", "--no-incremental", "--cache-dir", str(tmp_path / "cache"), str(bad)]
    )
    errors = [line.split(": error: ", 1)[1] for line in out.splitlines() if ": error: " in line]
    assert status == 1
    assert errors == [
        'Missing named argument "a" for "A"  [call-arg]',
        'Unexpected keyword argument "z" for "A"  [call-arg]',
        'Too many positional arguments for "A"  [call-arg]',
        'Property "a" defined in "A" is read-only  [misc]',
    ]
