"""One document's nodes out of a multi-document text, without composing the others again.

Errors are located one field at a time (`reader.field_line`), often thousands in one file of
thousands of documents; composing the whole file for each was quadratic (minutes for a
1,500-pod file with a bad port on each pod). The spans of the last text's documents (a few
integers each, not its nodes, which are forty times the text's size) are kept, and a document
is composed from its slice alone: its nodes' lines are then counted from the document's first
line, so the answer carries the number of lines to add.

Must not: keep nodes, or answer differently from composing the whole text; where a slice could
read differently (directives, a byte-order mark) or does not read back as one document, the
whole text is composed as before.
"""

from __future__ import annotations

import threading
from typing import NamedTuple

import yaml
from yaml.nodes import Node, ScalarNode

from podwall.manifests import yamldocs


class Located(NamedTuple):
    node: Node
    lines_before: int  # add to the node's (and its children's) `start_mark.line`


class _Span(NamedTuple):
    start: int  # character index of the root node's first character
    end: int  # and just past its last
    line: int  # 0-based, as in PyYAML's marks
    column: int


_lock = threading.Lock()
# The last text asked about: its documents' spans (None: not YAML), and whether slices of it
# are safe to read alone (no directives, no byte-order mark).
_last: tuple[str, list[_Span] | None, bool] = ("", [], True)


def document_node(text: str, document: int) -> Located | None:
    """The root node of the `document`-th non-empty document of `text`; None if none or bad."""
    spans, sliceable = _spans(text)
    if spans is None or document >= len(spans):
        return None
    span = spans[document]
    if sliceable:
        # Spaces stand for what precedes the root on its first line (`--- `), so that the
        # columns, and with them the block structure, are the file's.
        piece = " " * span.column + text[span.start : span.end]
        try:
            nodes = [n for n in yamldocs.nodes(piece) if not is_null(n)]
        except yaml.YAMLError:
            nodes = []
        if len(nodes) == 1 and nodes[0].start_mark.index == span.column:
            return Located(nodes[0], span.line)
    return _whole(text, document)


def is_null(node: Node | None) -> bool:
    return node is None or (isinstance(node, ScalarNode) and node.tag == "tag:yaml.org,2002:null")


def _spans(text: str) -> tuple[list[_Span] | None, bool]:
    """Each non-empty document's span (None: not YAML), and if slices are safe. Cached."""
    global _last
    with _lock:
        cached_text, cached, sliceable = _last
    if cached_text is text or cached_text == text:
        return cached, sliceable
    sliceable = not (text.startswith(("\ufeff", "%")) or "\n%" in text)
    try:
        spans: list[_Span] | None = [
            _Span(n.start_mark.index, n.end_mark.index, n.start_mark.line, n.start_mark.column)
            for n in yamldocs.nodes(text)
            if not is_null(n)
        ]
    except yaml.YAMLError:
        spans = None
    with _lock:
        _last = (text, spans, sliceable)
    return spans, sliceable


def _whole(text: str, document: int) -> Located | None:
    try:
        nodes = [n for n in yamldocs.nodes(text) if not is_null(n)]
    except yaml.YAMLError:
        return None
    return Located(nodes[document], 0) if document < len(nodes) else None
