"""Files, directories and stdin to `RawObject`s with file and line.

Multi-document YAML, JSON and `kind: List` are all accepted. YAML is parsed by `yamldocs`
(libyaml when present); a document's line is where its root node starts.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import yaml

from podwall.errors import PodwallError
from podwall.manifests import forkmap, yamldocs
from podwall.manifests.files import manifest_files, pathname
from podwall.model.rawobject import RawObject
from podwall.model.record import Record, field
from podwall.model.source import Source


class LoadError(PodwallError):
    """A file that cannot be read or parsed; the message names the file and line."""


# Filled in as files are read, never compared: identity equality is enough.
class Loaded(Record, frozen=False, eq=False):
    """The objects read, in order, each file's text by name (to find a field's line), and the
    directories given that hold no manifest file (a mistyped path reads as no objects)."""

    objects: list[RawObject] = field(default_factory=list)
    texts: dict[str, str] = field(default_factory=dict)
    empty_directories: list[str] = field(default_factory=list)


def load_paths(paths: Iterable[str], *, stdin: Any = None) -> Loaded:
    """Load every manifest under `paths`; `-` reads standard input once."""
    loaded = Loaded()
    texts: list[tuple[str, str]] = []  # all read before any is parsed, to share the parsing
    for path in paths:
        if path == "-":
            texts.append(("<stdin>", (stdin or sys.stdin).read()))
            continue
        files = manifest_files(path)
        if files is None:
            raise LoadError(f"{pathname(path)}: no such file or directory")
        if not files:
            loaded.empty_directories.append(pathname(path))
        for file in files:
            try:
                with open(file, encoding="utf-8") as handle:
                    text = handle.read()
            except OSError as exc:
                raise LoadError(f"{file}: cannot read: {exc.strerror or exc}") from exc
            except UnicodeDecodeError as exc:
                raise LoadError(f"{file}: cannot read: not UTF-8 text ({exc.reason})") from exc
            texts.append((file, text))
    for (name, text), documents in zip(texts, _parse_all(texts), strict=True):
        _add_documents(loaded, name, text, documents)
    return loaded


def load_text(text: str, name: str = "<memory>") -> Loaded:
    loaded = Loaded()
    _add(loaded, name, text)
    return loaded


def _add(loaded: Loaded, name: str, text: str) -> None:
    _add_documents(loaded, name, text, _documents(name, text))


def _add_documents(loaded: Loaded, name: str, text: str, documents: list[_Document]) -> None:
    loaded.texts[name] = text
    for index, (line, doc, item_lines) in enumerate(documents):
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
    from podwall.manifests import docindex  # lists, errors and findings only (see field_line)

    located = docindex.document_node(text, document)
    return list(_list_item_lines(*located)) if located is not None else []


def _list_item_lines(node: yaml.Node, lines_before: int = 0) -> Iterator[int]:
    from podwall.manifests import docindex

    items = _child(node, "items")
    for item in items.value if isinstance(items, yaml.SequenceNode) else ():
        if _is_list_node(item):
            yield from _list_item_lines(item, lines_before)
        elif not docindex.is_null(item):  # `_flatten` skips null items too
            yield lines_before + item.start_mark.line + 1


def _is_list_node(node: yaml.Node | None) -> bool:
    kind = _child(node, "kind")
    return (
        isinstance(kind, yaml.ScalarNode)
        and str(kind.value).endswith("List")
        and isinstance(_child(node, "items"), yaml.SequenceNode)
    )


# A document: its first line, its object, and the line of each item if it is a `kind: List`.
_Document = tuple[int, Any, list[int]]


def _documents(name: str, text: str) -> list[_Document]:
    """The non-empty documents of `text`, all parsed before any is returned."""
    if _json_like(name, text):
        import json  # only for JSON input: YAML manifests never pay for it

        try:
            docs = _json_documents(text)
        except json.JSONDecodeError:
            pass  # YAML is a superset of JSON; let the YAML parser report the error
        else:
            return [
                (line, doc, _item_lines(text, index) if _is_list(doc) else [])
                for index, (line, doc) in enumerate(docs)
            ]
    try:
        return _yaml_documents(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{name}:{mark.line + 1}" if mark is not None else name
        problem = getattr(exc, "problem", None) or str(exc)
        raise LoadError(f"{where}: invalid YAML: {problem}") from exc


# Below this a stream parses in less time than forking a process to share the work takes.
PARALLEL_BYTES = 256 * 1024


def _json_like(name: str, text: str) -> bool:
    first = _NOT_SPACE.search(text)  # not text.lstrip(): a copy of a large text each time
    return name.endswith(".json") or (first is not None and first.group() in "{[")


# A YAML piece to parse: the index of its file, the lines before it in the file, its text.
_Piece = tuple[int, int, str]


def _parse_all(texts: list[tuple[str, str]]) -> list[list[_Document]]:
    """The documents of each text. Much YAML is cut into pieces (yamlsplit) shared out among
    the cores (forkmap), each core taking a run of consecutive pieces of about equal size."""
    is_yaml = [not _json_like(name, text) for name, text in texts]
    yaml_bytes = sum(len(text) for (_, text), y in zip(texts, is_yaml, strict=True) if y)
    if yaml_bytes < PARALLEL_BYTES or not forkmap.can_fork():
        return [_documents(name, text) for name, text in texts]
    from podwall.manifests import yamlsplit  # large inputs only: its pattern costs a start-up

    cores = forkmap.cores()
    size = max(yaml_bytes // (8 * cores), 1)  # pieces small enough to even out the shares
    pieces: list[_Piece] = [
        (i, before, piece)
        for i, (_, text) in enumerate(texts)
        if is_yaml[i]
        for before, piece in yamlsplit.pieces(text, -(-len(text) // size))
    ]
    shares: list[list[_Piece]] = [[] for _ in range(cores)]
    done = 0
    for piece in pieces:  # to the share its middle falls in
        shares[min((2 * done + len(piece[2])) * cores // (2 * yaml_bytes), cores - 1)].append(piece)
        done += len(piece[2])
    shares = [share for share in shares if share]
    try:
        parsed = forkmap.map_parts(_parse_share, shares)
    except yaml.YAMLError:  # the first error, and its line, as the whole file gives it
        return [_documents(name, text) for name, text in texts]
    out: list[list[_Document]] = [[] for _ in texts]
    for share, documents in zip(shares, parsed, strict=True):
        for (i, _, _), part in zip(share, documents, strict=True):
            out[i] += part
    for i, (name, text) in enumerate(texts):
        if not is_yaml[i]:
            out[i] = _documents(name, text)
    return out


def _parse_share(share: list[_Piece]) -> list[list[_Document]]:
    return [_yaml_documents(text, before) for _, before, text in share]


def _yaml_documents(text: str, before: int = 0) -> list[_Document]:
    """The non-empty documents of a YAML text that has `before` lines before it in its file."""
    return [
        (
            before + node.start_mark.line + 1,
            doc,
            list(_list_item_lines(node, before)) if _is_list(doc) else [],
        )
        for node, doc in yamldocs.documents(text)
        if doc is not None
    ]


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
    # Imported here: only errors and lint findings are located, and a manifest without a
    # `kind: List` never needs document spans (nor pays for their import).
    from podwall.manifests import docindex

    located = docindex.document_node(text, document)
    if located is None:
        return None
    root, before = located  # the nodes' lines count from their document's first line
    if line is not None and _is_list_node(root):
        root = _list_item(root, line - before) or root
    found = before + root.start_mark.line + 1
    node: yaml.Node | None = root
    for step in _steps(path):
        key = _key(node, step)
        node = _child(node, step)
        if node is None:
            break
        # A mapping field is on the line of its key (`ipBlock:`), not of its value's content.
        found = before + (key or node).start_mark.line + 1
    return found


def _key(node: yaml.Node | None, step: str | int) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode) and isinstance(step, str):
        for key, _ in node.value:
            if key.value == step:
                return key  # type: ignore[no-any-return]
    return None


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
