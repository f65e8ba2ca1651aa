"""yamldocs: the same objects and errors as PyYAML's safe loaders, from libyaml or pure Python."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from podwall.manifests import yamldocs

ROOT = Path(__file__).parents[3]
PATHS = ("pure", "libyaml")

needs_libyaml = pytest.mark.skipif(not yamldocs.WITH_LIBYAML, reason="PyYAML without libyaml")


def _pyyaml_loader(path: str) -> Any:
    return yaml.SafeLoader if path == "pure" else yaml.CSafeLoader


def _ours(text: str, path: str) -> str:
    """The objects (by repr: `True` is not `1`) and root lines, or the error, as text."""
    try:
        docs = list(yamldocs.documents(text, pure=path == "pure"))
    except RecursionError:  # the pure-Python parser recurses; where it stops may differ
        return "RecursionError"
    except yaml.YAMLError as exc:
        return f"{type(exc).__name__}: {exc}"
    return repr([(node.start_mark.line, doc) for node, doc in docs])


def _theirs(text: str, path: str) -> str:
    """The same, from PyYAML's own `load_all` and `compose_all`."""
    loader = _pyyaml_loader(path)
    try:
        docs = list(yaml.load_all(text, Loader=loader))
        lines = [node.start_mark.line for node in yaml.compose_all(text, Loader=loader)]
    except RecursionError:  # the pure-Python parser recurses; where it stops may differ
        return "RecursionError"
    except yaml.YAMLError as exc:
        return f"{type(exc).__name__}: {exc}"
    return repr(list(zip(lines, docs, strict=True)))


def _path(name: str) -> Any:
    marks = [needs_libyaml] if name == "libyaml" else []
    return pytest.param(name, id=name, marks=marks)


# YAML 1.1 as PyYAML reads it, including what the short path hands to SafeConstructor.
QUIRKS = [
    ("on, yes, off and no are booleans", "a: on\nb: yes\nc: Off\nd: NO\ne: 'on'\n"),
    ("a leading 0 is octal, 0x hex, 0b binary", "a: 010\nb: 0x1F\nc: 0b101\nd: 1_000\ne: 09\n"),
    ("sexagesimal numbers", "a: 1:30\nb: 1:30.5\n"),
    ("floats, infinities and not-a-number", "a: 1.5\nb: .inf\nc: -.Inf\nd: 1e3\ne: 6.8e+3\n"),
    ("null in its spellings", "a: ~\nb: null\nc:\nd: Null\n"),
    (
        "timestamps and dates",
        "a: 2024-01-02\nb: 2024-01-02T03:04:05Z\nc: 2001-12-14 21:59:43.1 -5\n",
    ),
    ("quoted scalars stay strings", "a: '1'\nb: \"true\"\nc: '~'\nd: \"0x10\"\n"),
    ("explicit standard tags", "a: !!str 1\nb: !!int '7'\nc: !!float 1\nd: !!bool 'yes'\n"),
    ("the last of duplicate keys wins", "a: 1\nb: 2\na: 3\n"),
    ("non-string keys", "1: a\ntrue: b\n~: c\n1.5: d\n2024-01-02: e\n"),
    ("a merge key", "base: &b {x: 1, y: 2}\nd:\n  <<: *b\n  y: 3\n"),
    ("a merge of a list of mappings", "a: &a {x: 1}\nb: &b {y: 2}\nc:\n  <<: [*a, *b]\n"),
    ("a merge of a scalar is an error", "a:\n  <<: 1\n"),
    ("anchors share one object", "a: &x [1, 2]\nb: *x\nc: &m {k: v}\nd: *m\n"),
    ("a recursive list", "a: &x [1, *x]\n"),
    ("a recursive mapping", "&m {a: *m}\n"),
    ("an unknown alias is an error", "a: *nowhere\n"),
    ("a set", "!!set {a, b}\n"),
    ("an ordered map and pairs", "a: !!omap [x: 1, y: 2]\nb: !!pairs [x: 1, x: 2]\n"),
    ("binary", "a: !!binary aGVsbG8=\n"),
    ("a value key", "a:\n  =: 1\n"),
    ("a value key as a value is an error", "a: =\n"),
    ("a mapping as a key is an error", "? {a: 1}\n: b\n"),
    ("a list as a key is an error", "? [a]\n: b\n"),
    ("an unknown tag is an error", "a: !Ref x\n"),
    ("a python tag is an error", "a: !!python/tuple [1, 2]\n"),
    ("multiple documents", "a: 1\n---\nb: 2\n---\n- 3\n"),
    ("empty documents", "---\n---\na: 1\n---\n# nothing\n---\n"),
    ("only a marker", "---\n"),
    ("nothing at all", ""),
    ("only a comment", "# nothing\n"),
    ("a document end marker", "a: 1\n...\n---\nb: 2\n...\n"),
    ("a directive", "%YAML 1.1\n---\na: 1\n"),
    ("a tab in indentation is an error", "a:\n\tb: 1\n"),
    ("an unclosed flow mapping is an error", "a: {b: 1\n"),
    ("a bad indentation is an error", "a: 1\n b: 2\n"),
    ("a scalar document", "just text\n"),
    ("block scalars", "a: |\n  line 1\n  line 2\nb: >-\n  folded\n  text\n"),
    ("flow documents on the marker line", "--- {a: 1}\n--- [b]\n"),
    ("comments and blank lines before content", "\n# c\n\n---\n\n# c\nkind: Pod\n"),
    ("Windows line endings", "a: 1\r\n---\r\nb: 2\r\n"),
    ("unicode", "name: caf\u00e9\nemoji: \U0001f600\n"),
    ("deep nesting goes to SafeConstructor", "a: " + "[" * 600 + "]" * 600 + "\n"),
]


@pytest.mark.parametrize("path", [_path(p) for p in PATHS])
@pytest.mark.parametrize("text", [c[1] for c in QUIRKS], ids=[c[0] for c in QUIRKS])
def test_objects_lines_and_errors_are_pyyamls(text: str, path: str) -> None:
    assert _ours(text, path) == _theirs(text, path)


def _shared(text: str, pure: bool) -> bool:
    ((_, doc),) = yamldocs.documents(text, pure=pure)
    return doc["a"] is doc["b"]


@pytest.mark.parametrize("pure", [True, pytest.param(False, marks=needs_libyaml)])
def test_an_alias_is_the_same_object_as_its_anchor(pure: bool) -> None:
    assert _shared("a: &x {k: [1]}\nb: *x\n", pure)


def _repository_manifests() -> Iterator[Path]:
    for folder in ("examples", "tests/fixtures", "deploy", "demo"):
        for path in sorted((ROOT / folder).rglob("*")):
            if path.suffix in (".yaml", ".yml") and path.is_file():
                yield path


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    out = tmp_path_factory.mktemp("cluster")
    script = ROOT / "bench" / "gen_cluster.py"
    args = ["--namespaces", "20", "--pods", "5-10", "--policies", "1-3", "--seed", "7"]
    subprocess.run([sys.executable, str(script), *args, "--out", str(out)], check=True)
    return sorted(out.glob("*.yaml"))


def _both_paths(text: str) -> None:
    ours = _ours(text, "libyaml")
    assert ours == _ours(text, "pure")
    assert ours == _theirs(text, "libyaml")


@needs_libyaml
def test_libyaml_and_pure_python_agree_on_the_repositorys_manifests() -> None:
    files = list(_repository_manifests())
    assert files
    for path in files:
        _both_paths(path.read_text(encoding="utf-8"))


@needs_libyaml
def test_libyaml_and_pure_python_agree_on_a_generated_cluster(generated: list[Path]) -> None:
    assert generated
    for path in generated:
        _both_paths(path.read_text(encoding="utf-8"))


_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.text(max_size=8),
    st.sampled_from(["on", "yes", "0o7", "010", "1:30", "~", "<<", "=", "2024-01-02", "0x1f"]),
)
_values = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner),
    max_leaves=20,
)


@settings(max_examples=100, deadline=None)
@given(docs=st.lists(_values, max_size=3), flow=st.sampled_from([None, True, False]))
def test_any_dumped_stream_reads_back_as_pyyaml_reads_it(docs: list[Any], flow: bool) -> None:
    text = yaml.safe_dump_all(docs, default_flow_style=flow)
    for path in PATHS:
        if path == "pure" or yamldocs.WITH_LIBYAML:
            assert _ours(text, path) == _theirs(text, path)


_pieces = st.sampled_from(
    ["a", ": ", "- ", "\n", "  ", "---\n", "<<", "&x ", "*x", "[", "]", "{", "}", ", ", "on",
     "010", "!!set ", "? ", "'", "#", "\t", "=", "1", "~"]
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(pieces=st.lists(_pieces, max_size=24))
def test_any_text_reads_or_fails_as_pyyaml_does(pieces: list[str]) -> None:
    text = "".join(pieces)
    for path in PATHS:
        if path == "pure" or yamldocs.WITH_LIBYAML:
            assert _ours(text, path) == _theirs(text, path)
