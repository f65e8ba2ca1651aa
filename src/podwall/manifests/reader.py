"""Files, directories and stdin to `RawObject`s with file and line.

Multi-document YAML, JSON and `kind: List` are all accepted. Parsing uses libyaml when present.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from podwall.model.convert import RawObject
from podwall.model.source import Source

try:
    _Loader: type[Any] = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - libyaml missing
    _Loader = yaml.SafeLoader

MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")


class LoadError(Exception):
    """A file that cannot be read or parsed; the message names the file and line."""


@dataclass(kw_only=True)
class Loaded:
    objects: list[RawObject] = field(default_factory=list)
    texts: dict[str, str] = field(default_factory=dict)


def load_paths(paths: Iterable[str], *, stdin: Any = None) -> Loaded:
    """Load every manifest under `paths`; `-` reads standard input once."""
    loaded = Loaded()
    for path in paths:
        if path == "-":
            text = (stdin or sys.stdin).read()
            _add(loaded, "<stdin>", text)
            continue
        for file in _expand(Path(path)):
            try:
                text = file.read_text(encoding="utf-8")
            except OSError as exc:
                raise LoadError(f"{file}: cannot read: {exc.strerror or exc}") from exc
            _add(loaded, str(file), text)
    return loaded


def load_text(text: str, name: str = "<memory>") -> Loaded:
    loaded = Loaded()
    _add(loaded, name, text)
    return loaded


def _expand(path: Path) -> Iterator[Path]:
    if path.is_dir():
        yield from sorted(
            p for p in path.rglob("*") if p.is_file() and p.suffix in MANIFEST_SUFFIXES
        )
    elif path.exists():
        yield path
    else:
        raise LoadError(f"{path}: no such file or directory")


def _add(loaded: Loaded, name: str, text: str) -> None:
    loaded.texts[name] = text
    for index, (line, doc) in enumerate(_documents(name, text)):
        for body in _flatten(doc, name, line):
            loaded.objects.append(
                RawObject(body=body, source=Source(file=name, line=line, document=index))
            )


def _documents(name: str, text: str) -> Iterator[tuple[int, Any]]:
    if name.endswith(".json") or text.lstrip().startswith(("{", "[")):
        try:
            yield 1, json.loads(text)
            return
        except json.JSONDecodeError:
            pass  # YAML is a superset of JSON; let the YAML parser report the error
    try:
        docs = list(yaml.load_all(text, Loader=_Loader))
        lines = _document_lines(text)
        if len(lines) != len(docs):
            # An unusual layout (directives, flow documents): take the lines from the composer.
            lines = [n.start_mark.line + 1 for n in yaml.compose_all(text, Loader=_Loader)]
        for line, doc in zip(lines, docs, strict=False):
            if doc is not None:
                yield line, doc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{name}:{mark.line + 1}" if mark is not None else name
        problem = getattr(exc, "problem", None) or str(exc)
        raise LoadError(f"{where}: invalid YAML: {problem}") from exc


def _document_lines(text: str) -> list[int]:
    """The first line of each document, found from `---` markers without composing nodes."""
    lines: list[int] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        if raw.startswith("---"):
            rest = raw[3:].strip()
            lines.append(number if rest and not rest.startswith("#") else number + 1)
        elif not lines and raw.strip() and not raw.lstrip().startswith(("#", "%")):
            lines.append(number)  # the first document has no `---`
    return lines


def _flatten(doc: Any, name: str, line: int) -> Iterator[Mapping[str, Any]]:
    if doc is None:
        return
    if not isinstance(doc, Mapping):
        raise LoadError(
            f"{name}:{line}: expected a Kubernetes object (a mapping), got {type(doc).__name__}"
        )
    kind = doc.get("kind")
    if isinstance(kind, str) and kind.endswith("List") and isinstance(doc.get("items"), list):
        for item in doc["items"]:
            yield from _flatten(item, name, line)
        return
    yield doc


def field_line(text: str, document: int, path: str) -> int | None:
    """The 1-based line of field `path` (`spec.ingress[0].from[1]`) in document `document`."""
    try:
        nodes = [n for n in yaml.compose_all(text, Loader=_Loader) if n is not None]
    except yaml.YAMLError:
        return None
    if document >= len(nodes):
        return None
    node: yaml.Node | None = nodes[document]
    line = node.start_mark.line + 1 if node else None
    for step in _steps(path):
        node = _child(node, step)
        if node is None:
            break
        line = node.start_mark.line + 1
    return line


def _steps(path: str) -> Iterator[str | int]:
    for part in path.replace("]", "").split("."):
        name, *indexes = part.split("[")
        if name:
            yield name
        for index in indexes:
            yield int(index) if index.isdigit() else index


def _child(node: yaml.Node | None, step: str | int) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode) and isinstance(step, str):
        for key, value in node.value:
            if key.value == step:
                return value
    if isinstance(node, yaml.SequenceNode) and isinstance(step, int) and step < len(node.value):
        return node.value[step]
    return None
