"""Where an object came from: file, document and line, for error messages.

Pure: no I/O here.
"""

from __future__ import annotations

from podwall.model.record import Record


class Source(Record):
    """A manifest's origin; `line` is 1-based, 0 when unknown."""

    file: str = "<memory>"
    line: int = 0
    document: int = 0

    def render(self) -> str:
        return f"{self.file}:{self.line}" if self.line else self.file


UNKNOWN = Source()
