"""docindex: one document composed from its slice reads as it does in the whole file."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from podwall.manifests import docindex, yamldocs

ROOT = Path(__file__).parents[3]


@pytest.fixture(autouse=True, params=["libyaml", "pure"])
def parser(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "libyaml" and not yamldocs.WITH_LIBYAML:
        pytest.skip("PyYAML without libyaml")
    if request.param == "pure":
        monkeypatch.setattr(yamldocs, "CSafeLoader", None)
    return str(request.param)


def _shape(node: Node, lines_before: int) -> Any:
    """The node tree with each node's file line and column: what `field_line` reads."""
    where = (lines_before + node.start_mark.line, node.start_mark.column, node.tag)
    if isinstance(node, ScalarNode):
        return (*where, node.value)
    if isinstance(node, SequenceNode):
        return (*where, [_shape(item, lines_before) for item in node.value])
    assert isinstance(node, MappingNode)
    pairs = [(_shape(k, lines_before), _shape(v, lines_before)) for k, v in node.value]
    return (*where, pairs)


def _whole_file(text: str) -> list[Any]:
    return [_shape(n, 0) for n in yamldocs.nodes(text) if not docindex.is_null(n)]


def _one_at_a_time(text: str) -> list[Any]:
    shapes = []
    for document in range(len(_whole_file(text)) + 1):
        located = docindex.document_node(text, document)
        if located is None:
            break
        shapes.append(_shape(located.node, located.lines_before))
    return shapes


LAYOUTS = [
    ("one document", "kind: Pod\nmetadata:\n  name: a\n"),
    ("documents after markers", "a: 1\n---\nb:\n  - 2\n---\n\n# c\nc: {d: [3]}\n"),
    ("empty documents between", "---\n---\na: 1\n---\n# nothing\n---\nb: 2\n---\n"),
    ("flow documents on the marker line", "--- {a: 1}\n--- [b, {c: d}]\n"),
    ("a root indented under its marker", "---\n  a: 1\n  b:\n    c: 2\n---\n  d: 3\n"),
    ("a document end marker", "a: 1\n...\n---\nb: 2\n...\n"),
    ("block scalars", "a: |\n  x\n  y\nb: >-\n  z\n---\nc: |+\n  w\n\n"),
    ("anchors stay within their document", "a: &x {k: 1}\nb: *x\n---\nc: &x [2]\nd: *x\n"),
    ("a directive reads the whole file", "%YAML 1.1\n---\na: 1\n---\nb: 2\n"),
    ("a byte-order mark reads the whole file", "\ufeffa: 1\n---\nb: 2\n"),
    ("Windows line endings", "a: 1\r\n---\r\nb:\r\n  c: 2\r\n"),
    ("unicode before a document", "a: caf\u00e9 \U0001f600\n---\nb: \u00e9\n"),
    ("a comment after the root", "a: 1\n# trailing\n---\nb: 2 # here\n"),
    ("a tagged root", "--- !!map\na: 1\n--- !!seq\n- 2\n"),
    ("a merge key", "a: &b {x: 1}\nc:\n  <<: *b\n---\nd: 1\n"),
]


@pytest.mark.parametrize("text", [c[1] for c in LAYOUTS], ids=[c[0] for c in LAYOUTS])
def test_a_document_alone_has_the_lines_it_has_in_the_file(text: str) -> None:
    assert _one_at_a_time(text) == _whole_file(text)


def test_the_repositorys_manifests_read_the_same_alone() -> None:
    files = [
        path
        for folder in ("examples", "tests/fixtures", "deploy", "demo")
        for path in sorted((ROOT / folder).rglob("*"))
        if path.suffix in (".yaml", ".yml") and path.is_file()
    ]
    assert files
    for path in files:
        text = path.read_text(encoding="utf-8")
        assert _one_at_a_time(text) == _whole_file(text), path


def test_a_generated_cluster_reads_the_same_alone(tmp_path: Path) -> None:
    script = ROOT / "bench" / "gen_cluster.py"
    args = ["--namespaces", "5", "--pods", "2-4", "--policies", "1-3", "--seed", "3"]
    subprocess.run([sys.executable, str(script), *args, "--out", str(tmp_path)], check=True)
    for path in sorted(tmp_path.glob("*.yaml")):
        text = path.read_text(encoding="utf-8")
        assert _one_at_a_time(text) == _whole_file(text), path


def test_a_document_past_the_last_is_none() -> None:
    assert docindex.document_node("a: 1\n---\nb: 2\n", 2) is None


def test_text_that_is_not_yaml_has_no_documents() -> None:
    assert docindex.document_node("a: [1\n", 0) is None


def test_a_text_asked_about_again_is_not_composed_again(monkeypatch: pytest.MonkeyPatch) -> None:
    text = "a: 1\n---\n  b: 2\n--- {c: 3}\n"
    docindex.document_node(text, 0)
    composed: list[str] = []
    real = yamldocs.nodes

    def counting(piece: str, *, pure: bool = False) -> Any:
        composed.append(piece)
        return real(piece, pure=pure)

    monkeypatch.setattr(yamldocs, "nodes", counting)
    for document in (2, 1, 0):
        docindex.document_node(text, document)
    # Each alone, from its root on, with spaces for what precedes the root on its line.
    assert composed == ["    {c: 3}", "  b: 2\n", "a: 1\n"]
