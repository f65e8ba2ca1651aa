"""yamlsplit: pieces whose documents, lines and errors are the whole stream's."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from podwall.manifests import yamldocs, yamlsplit


def _documents(text: str) -> Any:
    """(line, object) of each document, or the error's class."""
    try:
        return [(node.start_mark.line, doc) for node, doc in yamldocs.documents(text)]
    except yaml.YAMLError as exc:
        return type(exc).__name__


def _pieced(text: str, count: int) -> Any:
    out: list[tuple[int, Any]] = []
    for before, piece in yamlsplit.pieces(text, count):
        documents = _documents(piece)
        if isinstance(documents, str):
            return documents
        out += [(before + line, doc) for line, doc in documents]
    return out


CASES = [
    ("plain documents", "a: 1\n---\nb: 2\n---\nc: 3\n"),
    ("a marker with a comment", "a: 1\n--- # two\nb: 2\n"),
    ("a marker with its document on the line", "--- a\n--- [b]\n--- {c: 1}\n"),
    ("empty documents", "---\n---\n---\na: 1\n---\n"),
    ("comments before the first marker", "# head\n\n---\na: 1\n---\nb: 2\n"),
    ("a block scalar ended by a marker", "a: |\n  x\n---\nb: 2\n"),
    ("a top-level block scalar", "--- |\n  x\n  y\n---\nz\n"),
    ("a document end marker", "a: 1\n...\n---\nb: 2\n"),
    ("windows line ends", "a: 1\r\n---\r\nb: 2\r\n---\r\nc: 3\r\n"),
    ("dashes that are no marker", "a: ---\nb: '---'\n----\n---x: 1\n"),
    ("anchors in each document", "a: &x 1\nb: *x\n---\nc: &x 2\nd: *x\n"),
    ("a quoted scalar left open across a marker", "a: 'x\n---\nb: 2'\n"),
    ("a flow collection left open across a marker", "a: [1,\n---\n2]\n"),
    ("an alias to an anchor of the document before", "a: &x 1\n---\nb: *x\n"),
]


@pytest.mark.parametrize("count", [2, 3, 7])
@pytest.mark.parametrize(("text"), [pytest.param(text, id=name) for name, text in CASES])
def test_the_pieces_parse_to_the_whole_streams_documents_or_error(text: str, count: int) -> None:
    assert _pieced(text, count) == _documents(text)


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("%YAML 1.1\n---\na: 1\n---\nb: 2\n", id="a-directive"),
        pytest.param("a: 1\r---\rb: 2\r", id="old-mac-line-ends"),
        pytest.param("a: 1\x85---\x85b: 2\n---\nc: 3\n", id="a-next-line-character"),
        pytest.param("a: 1\u2028---\nb: 2\n", id="a-line-separator"),
    ],
)
def test_a_stream_it_is_not_sure_of_stays_whole(text: str) -> None:
    assert yamlsplit.pieces(text, 4) == [(0, text)]


def test_pieces_are_cut_at_markers_near_equal_sizes() -> None:
    text = "".join(f"---\nname: n{i:03d}\n" for i in range(300))
    pieces = yamlsplit.pieces(text, 3)
    assert len(pieces) == 3
    assert "".join(piece for _, piece in pieces) == text
    assert all(piece.startswith("---\n") for _, piece in pieces)
    assert max(len(p) for _, p in pieces) < 1.1 * len(text) / 3


_lines = st.sampled_from(
    ["a: 1", "- x", "b: |", "  text", "---", "--- x", "...", "c: 'q", "  r'", "# c", "", "d: [1,"]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_lines, max_size=25), st.integers(min_value=2, max_value=6))
def test_any_stream_of_these_lines_pieces_to_the_same_answer(lines: list[str], count: int) -> None:
    text = "\n".join(lines) + "\n"
    assert _pieced(text, count) == _documents(text)
