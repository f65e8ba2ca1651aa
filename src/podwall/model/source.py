"""Where an object came from: file, document and line, for error messages.

Pure: no I/O here.
"""

from __future__ import annotations

from functools import cache
from operator import attrgetter
from typing import Any, ClassVar

from msgspec import Struct


class Source(Struct, frozen=True, kw_only=True):
    """A manifest's origin; `line` is 1-based, 0 when unknown."""

    file: str = "<memory>"
    line: int = 0
    document: int = 0

    def render(self) -> str:
        return f"{self.file}:{self.line}" if self.line else self.file


UNKNOWN = Source()


class Sourced(Struct, frozen=True, kw_only=True):
    """A record read from a manifest, whose `source` (and any other field named in
    `UNCOMPARED`) takes no part in == or hash: the same policy read from two files is the
    same policy.

    msgspec compares and hashes every field and has no `field(compare=False)`; these two
    methods are the smallest stand-in (a subclass declares the fields, this declares none).
    """

    UNCOMPARED: ClassVar[frozenset[str]] = frozenset({"source"})

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        compared = _compared(type(self))
        return compared(self) == compared(other)  # type: ignore[no-any-return]

    def __hash__(self) -> int:
        return hash(_compared(type(self))(self))


@cache
def _compared(cls: type[Sourced]) -> attrgetter[Any]:
    """The fields of `cls` that == and hash compare, read in one C call."""
    return attrgetter(*(name for name in cls.__struct_fields__ if name not in cls.UNCOMPARED))
