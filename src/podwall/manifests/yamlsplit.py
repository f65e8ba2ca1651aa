"""A YAML stream cut before document markers into pieces that parse alone to its documents.

A line that starts with `---` and a blank (or ends there) is a document marker wherever it
appears: libyaml and PyYAML's scanner end any plain or block scalar there, and a quoted or flow
collection left open across it is an error in the whole stream as in the piece. Anchors and
tags do not reach across documents. So the pieces' documents, in order, are the stream's, and a
piece fails to parse only where the stream does.

Cut only streams without directives (`%YAML`, `%TAG` belong to the document after them) and
with no line break but `\\n` and `\\r\\n`: each piece's first line is counted by its `\\n`s, as
libyaml counts lines for these two breaks and not for the others (`\\r`, NEL, LS, PS).

Must not: parse, or cut where it is not sure (fewer pieces are always correct).
"""

from __future__ import annotations

import itertools
import re

_MARKER = re.compile(r"^---(?=[ \t\r\n]|\Z)", re.MULTILINE)


def _unsure(text: str) -> bool:
    """A directive, or a line break but \\n and \\r\\n (string scans: ~3 ms a MB, one regex ~28)."""
    return (
        text.startswith("%")
        or "\n%" in text
        or any(c in text for c in "\x85\u2028\u2029")
        or text.count("\r") != text.count("\r\n")
    )


def pieces(text: str, count: int) -> list[tuple[int, str]]:
    """`text` in at most `count` pieces of about equal size, each with the lines before it."""
    if count < 2 or _unsure(text):
        return [(0, text)]
    cuts = [0]
    for k in range(1, count):
        marker = _MARKER.search(text, max(cuts[-1] + 1, len(text) * k // count))
        if marker is None:
            break
        cuts.append(marker.start())
    cuts.append(len(text))
    out = []
    lines = 0
    for start, end in itertools.pairwise(cuts):
        out.append((lines, text[start:end]))
        lines += text.count("\n", start, end)
    return out
