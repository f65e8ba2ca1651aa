"""Files, directories and stdin to `RawObject`s with file and line.

Multi-document YAML, JSON and `kind: List` are all accepted. Parsing uses libyaml when present.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from podwall.errors import PodwallError
from podwall.model.convert import RawObject
from podwall.model.source import Source

try:
    _Loader: type[Any] = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - libyaml missing
    _Loader = yaml.SafeLoader

MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")


class LoadError(PodwallError):
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
            except UnicodeDecodeError as exc:
                raise LoadError(f"{file}: cannot read: not UTF-8 text ({exc.reason})") from exc
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
        item_lines = _item_lines(text, index) if _is_list(doc) else []
        for position, body in enumerate(_flatten(doc, name, line)):
            at = item_lines[position] if position < len(item_lines) else line
            loaded.objects.append(
                RawObject(body=body, source=Source(file=name, line=at, document=index))
            )


def _is_list(doc: Any) -> bool:
    kind = doc.get("kind") if isinstance(doc, Mapping) else None
    return isinstance(kind, str) and kind.endswith("List") and isinstance(doc.get("items"), list)


def _item_lines(text: str, document: int) -> list[int]:
    """The line of each item of a `kind: List` document (nested lists flattened)."""
    node = _document_node(text, document)
    return list(_list_item_lines(node)) if node is not None else []


def _list_item_lines(node: yaml.Node) -> Iterator[int]:
    items = _child(node, "items")
    for item in items.value if isinstance(items, yaml.SequenceNode) else ():
        if _is_list_node(item):
            yield from _list_item_lines(item)
        elif not _is_null(item):  # `_flatten` skips null items too
            yield item.start_mark.line + 1


def _is_list_node(node: yaml.Node | None) -> bool:
    kind = _child(node, "kind")
    return (
        isinstance(kind, yaml.ScalarNode)
        and str(kind.value).endswith("List")
        and isinstance(_child(node, "items"), yaml.SequenceNode)
    )


def _documents(name: str, text: str) -> Iterator[tuple[int, Any]]:
    if name.endswith(".json") or text.lstrip().startswith(("{", "[")):
        import json  # only for JSON input: YAML manifests never pay for it

        try:
            docs = _json_documents(text)
        except json.JSONDecodeError:
            pass  # YAML is a superset of JSON; let the YAML parser report the error
        else:
            yield from docs
            return
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
    pending = False  # a `---` was seen and its document's first content line is not yet
    for number, raw in enumerate(text.splitlines(), start=1):
        content = bool(raw.strip()) and not raw.lstrip().startswith("#")
        if raw.startswith("---") and raw[3:4] in ("", " ", "\t"):
            rest = raw[3:].strip()
            if pending:
                lines.append(number)  # the previous document is empty: point at its marker
            pending = not rest or rest.startswith("#")
            if not pending:
                lines.append(number)
        elif pending and content:
            lines.append(number)
            pending = False
        elif not lines and content and not raw.startswith("%"):
            lines.append(number)  # the first document has no `---`
    if pending:
        lines.append(len(text.splitlines()))  # a trailing `---`: an empty last document
    return lines


_NOT_SPACE = re.compile(r"\S")


def _json_documents(text: str) -> list[tuple[int, Any]]:
    """One JSON value or a stream of them (as `jq` prints), each with its first line."""
    import json

    decoder = json.JSONDecoder()
    docs: list[tuple[int, Any]] = []
    position = 0
    while (start := _NOT_SPACE.search(text, position)) is not None:
        doc, position = decoder.raw_decode(text, start.start())
        docs.append((text.count("\n", 0, start.start()) + 1, doc))
    return docs


def _flatten(doc: Any, name: str, line: int) -> Iterator[Mapping[str, Any]]:
    if doc is None:
        return
    if not isinstance(doc, Mapping):
        raise LoadError(
            f"{name}:{line}: expected a Kubernetes object (a mapping), got {type(doc).__name__}"
        )
    if _is_list(doc):
        for item in doc["items"]:
            yield from _flatten(item, name, line)
        return
    yield doc


def field_line(text: str, document: int, path: str, line: int | None = None) -> int | None:
    """The 1-based line of field `path` (`spec.ingress[0].from[1]`) in document `document`.

    `document` counts non-empty documents, as `Source.document` does. For an item of a
    `kind: List`, `line` (its `Source.line`) says which item.
    """
    node: yaml.Node | None = _document_node(text, document)
    if node is None:
        return None
    if line is not None and _is_list_node(node):
        node = _list_item(node, line) or node
    found = node.start_mark.line + 1
    for step in _steps(path):
        key = _key(node, step)
        node = _child(node, step)
        if node is None:
            break
        # A mapping field is on the line of its key (`ipBlock:`), not of its value's content.
        found = (key or node).start_mark.line + 1
    return found


def _key(node: yaml.Node | None, step: str | int) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode) and isinstance(step, str):
        for key, _ in node.value:
            if key.value == step:
                return key  # type: ignore[no-any-return]
    return None


def _document_node(text: str, document: int) -> yaml.Node | None:
    """The root node of the `document`-th non-empty document (empty ones compose to null)."""
    try:
        nodes = [n for n in yaml.compose_all(text, Loader=_Loader) if not _is_null(n)]
    except yaml.YAMLError:
        return None
    return nodes[document] if document < len(nodes) else None


def _is_null(node: yaml.Node | None) -> bool:
    return node is None or (
        isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:null"
    )


def _list_item(node: yaml.Node, line: int) -> yaml.Node | None:
    items = _child(node, "items")
    for item in items.value if isinstance(items, yaml.SequenceNode) else ():
        if _is_list_node(item):
            found = _list_item(item, line)
            if found is not None:
                return found
        elif item.start_mark.line + 1 == line:
            return item  # type: ignore[no-any-return]
    return None


_STEP = re.compile(r"\[([^\]]*)\]|\.?([^.\[]+)")


def _steps(path: str) -> Iterator[str | int]:
    """`spec.ingress[0].from[1]`, `metadata.labels[app.kubernetes.io/name]` to their steps."""
    for match in _STEP.finditer(path):
        bracket, name = match.groups()
        if name is not None:
            yield name
        else:
            yield int(bracket) if bracket.isdigit() else bracket


def _child(node: yaml.Node | None, step: str | int) -> yaml.Node | None:
    found: yaml.Node | None = None
    if isinstance(node, yaml.MappingNode) and isinstance(step, str):
        found = next((value for key, value in node.value if key.value == step), None)
    elif isinstance(node, yaml.SequenceNode) and isinstance(step, int) and step < len(node.value):
        found = node.value[step]
    return found
