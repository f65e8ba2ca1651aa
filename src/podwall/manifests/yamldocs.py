"""YAML text to plain Python documents, each beside the node it was built from.

The nodes come from libyaml (PyYAML's C parser) when PyYAML was built with it, else from the
pure-Python parser; either way they carry the `start_mark` line that the reader reports. The
objects are what `yaml.safe_load_all` gives (YAML 1.1: `on`/`yes` booleans, octal, merge keys,
last duplicate key wins), built here along a short path for the shapes manifests have (mappings,
sequences and scalars with the standard tags). Anything else (merge keys, `!!set`, unknown tags,
unhashable keys, nesting deeper than the stack) goes to PyYAML's own SafeConstructor, which then
gives the answer or the error it always gives.

Must not: read files, know Kubernetes, or hold nodes past the document they belong to.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

WITH_LIBYAML: bool = bool(getattr(yaml, "__with_libyaml__", False))

_TAG = "tag:yaml.org,2002:"
_STR, _MAP, _SEQ = _TAG + "str", _TAG + "map", _TAG + "seq"
# Scalar tags whose SafeConstructor is a plain function of the node (no generator, no state):
# the short path may call it directly. `merge` and `value` keys change their mapping: not here.
_SCALARS = frozenset(_TAG + t for t in ("str", "null", "bool", "int", "float", "timestamp"))


class _Fallback(Exception):
    """The short path met a shape it leaves to PyYAML's SafeConstructor."""


class _Build:
    """The short path: nodes to dicts, lists and scalars; `memo` keeps anchors' objects shared."""

    def __init__(self, constructors: dict[Any, Callable[[Any, Node], Any]], loader: Any) -> None:
        self._scalar = {tag: constructors[tag] for tag in _SCALARS}
        self._loader = loader
        self._memo: dict[Node, Any] = {}

    def node(self, node: Node) -> Any:
        tag = node.tag
        kind = type(node)
        if kind is ScalarNode:
            if tag == _STR:
                return node.value
            if tag in self._scalar:
                return self._scalar[tag](self._loader, node)
            raise _Fallback
        # An alias is the same node object again: the same Python object, as PyYAML gives.
        if node in self._memo:
            return self._memo[node]
        if kind is MappingNode and tag == _MAP:
            return self._mapping(node)
        if kind is SequenceNode and tag == _SEQ:
            items: list[Any] = []
            self._memo[node] = items
            items.extend([self.node(item) for item in node.value])
            return items
        raise _Fallback

    def _mapping(self, node: Node) -> dict[Any, Any]:
        mapping: dict[Any, Any] = {}
        self._memo[node] = mapping
        scalars = self._scalar
        for key, value in node.value:
            # Scalar keys of these tags are hashable; `<<`, `=`, and collections are not ours.
            if type(key) is not ScalarNode or key.tag not in scalars:
                raise _Fallback
            # Strings inline: most keys and values are, and a call each was a third of the build.
            mapping[key.value if key.tag == _STR else self.node(key)] = (
                value.value if type(value) is ScalarNode and value.tag == _STR else self.node(value)
            )
        return mapping


def _loader_class(base: type[Any]) -> type[Any]:
    """`base` (CSafeLoader or SafeLoader) with the short path and a cache of implicit tags."""

    class Loader(base):  # type: ignore[misc]
        def __init__(self, stream: str) -> None:
            super().__init__(stream)
            if not self.yaml_path_resolvers:
                # The same few words (`name`, `app`, `TCP`) recur through a file, and the
                # parser asks for each one's implicit tag: regex matching in a Python call
                # each time was a fifth of the parse. Without path resolvers (SafeLoader has
                # none) the answer depends on the arguments only, so a C-level cache answers.
                self.__dict__["resolve"] = functools.lru_cache(maxsize=None)(self.resolve)

        def dispose(self) -> None:
            self.__dict__.pop("resolve", None)  # the cache holds the file's words and `self`
            super().dispose()

        def construct_document(self, node: Node) -> Any:
            try:
                return _Build(self.yaml_constructors, self).node(node)
            except (_Fallback, RecursionError):
                return super().construct_document(node)

    return Loader


SafeLoader: type[Any] = _loader_class(yaml.SafeLoader)
CSafeLoader: type[Any] | None = _loader_class(yaml.CSafeLoader) if WITH_LIBYAML else None


def documents(text: str, *, pure: bool = False) -> Iterator[tuple[Node, Any]]:
    """Each document of `text` with its root node, empty ones included (their object is None).

    `pure` uses the pure-Python parser even when libyaml is there (to compare the two).
    Raises `yaml.YAMLError` as PyYAML does.
    """
    loader = _loader(text, pure)
    try:
        while loader.check_node():
            node = loader.get_node()
            yield node, loader.construct_document(node)
    finally:
        loader.dispose()


def nodes(text: str, *, pure: bool = False) -> Iterator[Node]:
    """The root node of each document of `text`, empty ones included; no objects built."""
    loader = _loader(text, pure)
    try:
        while loader.check_node():
            yield loader.get_node()
    finally:
        loader.dispose()


def _loader(text: str, pure: bool) -> Any:
    return (SafeLoader if pure or CSafeLoader is None else CSafeLoader)(text)
