"""The Store's memory: every stored object decoded once, beside its JSON text.

`Stored` pairs an object's decoded dict with its compact JSON text. The dict is shared by every
reader and is read-only by contract (predicates, Tables and controllers read it; whoever wants
to change an object takes `thaw(stored.obj)`); the text is what responses and watch events are
written from, so serving an object never encodes it again. `ObjectIndex` holds them by resource,
then namespace, then name, each namespace's names kept sorted: a namespaced list, or one page of
any list, costs what it returns, never what the store holds.

No locking and no I/O here: the Store guards the index with its lock. `OpCounts` counts the
work the index and the Store do (objects visited, copies, encodes, decodes, SQL statements), so
tests can state as a law that a write's cost does not grow with the number of stored objects.
"""

from __future__ import annotations

import bisect
import dataclasses
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from podwall.apiserver import jsontext

Object = dict[str, Any]
Key = tuple[str, str]  # (namespace, name); namespace "" for cluster-scoped kinds


@dataclass(slots=True)
class OpCounts:
    """Work done so far; compare two snapshots (`copy()`) around an operation."""

    visits: int = 0  # stored objects the index handed out or examined
    copies: int = 0  # thaw() of a stored object for a caller that may change it
    encodes: int = 0  # objects turned into JSON text
    decodes: int = 0  # JSON texts turned into objects (only when loading from disk)
    statements: int = 0  # SQL statements executed
    commits: int = 0  # transactions committed (one fsync each)

    def copy(self) -> OpCounts:
        return dataclasses.replace(self)

    def minus(self, before: OpCounts) -> OpCounts:
        fields = dataclasses.fields(self)
        return OpCounts(*(getattr(self, f.name) - getattr(before, f.name) for f in fields))


@dataclass(frozen=True, slots=True)
class Stored:
    """One object as stored: `obj` (shared, never to be changed) and its JSON `text`."""

    obj: Object = field(repr=False)
    text: str = field(repr=False)
    resource_version: int

    @property
    def namespace(self) -> str:
        return str(self.obj["metadata"].get("namespace") or "")

    @property
    def name(self) -> str:
        return str(self.obj["metadata"]["name"])


def dumps(obj: Mapping[str, Any]) -> str:
    """The compact JSON the Store keeps and serves."""
    return jsontext.dumps(obj)


def stored(obj: Object, counts: OpCounts) -> Stored:
    """A Stored for `obj`, which the caller hands over and must not touch again."""
    counts.encodes += 1
    return Stored(obj, dumps(obj), int(obj["metadata"].get("resourceVersion") or 0))


def thaw(value: Any) -> Any:
    """A deep copy of a JSON tree (dicts, lists, scalars), as fast as decoding its text."""
    kind = type(value)
    if kind is dict:
        return {k: thaw(v) for k, v in value.items()}
    if kind is list:
        return [thaw(v) for v in value]
    return value


class _Resource:
    """One resource's objects: namespace -> name -> Stored, and the keys in sorted order."""

    __slots__ = ("by_namespace", "names", "namespaces")

    def __init__(self) -> None:
        self.by_namespace: dict[str, dict[str, Stored]] = {}
        self.names: dict[str, list[str]] = {}  # namespace -> its names, sorted
        self.namespaces: list[str] = []  # namespaces holding at least one object, sorted


class ObjectIndex:
    """Stored objects by resource, namespace and name (see the module docstring)."""

    def __init__(self, counts: OpCounts) -> None:
        self.counts = counts
        self._resources: dict[str, _Resource] = {}

    def get(self, resource: str, namespace: str, name: str) -> Stored | None:
        table = self._resources.get(resource)
        if table is None:
            return None
        found = table.by_namespace.get(namespace, {}).get(name)
        if found is not None:
            self.counts.visits += 1
        return found

    def put(self, resource: str, namespace: str, name: str, value: Stored) -> None:
        """Insert or replace."""
        table = self._resources.get(resource)
        if table is None:
            table = self._resources[resource] = _Resource()
        objects = table.by_namespace.get(namespace)
        if objects is None:
            objects = table.by_namespace[namespace] = {}
            table.names[namespace] = []
            bisect.insort(table.namespaces, namespace)
        if name not in objects:
            bisect.insort(table.names[namespace], name)
        objects[name] = value

    def remove(self, resource: str, namespace: str, name: str) -> None:
        table = self._resources.get(resource)
        objects = None if table is None else table.by_namespace.get(namespace)
        if table is None or objects is None or objects.pop(name, None) is None:
            return
        names = table.names[namespace]
        del names[bisect.bisect_left(names, name)]
        if not objects:
            del table.by_namespace[namespace]
            del table.names[namespace]
            del table.namespaces[bisect.bisect_left(table.namespaces, namespace)]

    def contains(self, resource: str, namespace: str, name: str) -> bool:
        table = self._resources.get(resource)
        return table is not None and name in table.by_namespace.get(namespace, {})

    def resources(self) -> list[str]:
        return sorted(self._resources)

    def in_namespace(self, resource: str, namespace: str) -> list[tuple[str, Stored]]:
        """(name, Stored) of one resource in one namespace, sorted by name."""
        table = self._resources.get(resource)
        if table is None or namespace not in table.by_namespace:
            return []
        objects = table.by_namespace[namespace]
        self.counts.visits += len(objects)
        return [(name, objects[name]) for name in table.names[namespace]]

    def scan(
        self, resource: str, namespace: str | None = None, after: Key | None = None
    ) -> Iterator[tuple[Key, Stored]]:
        """Objects in (namespace, name) order, from just after `after`, lazily.

        `namespace` None scans every namespace. The caller holds the Store's lock while it
        consumes the iterator; an object is counted as visited when it is yielded.
        """
        table = self._resources.get(resource)
        if table is None:
            return
        if namespace is not None:
            spaces = [namespace] if namespace in table.by_namespace else []
        elif after is None:
            spaces = table.namespaces
        else:
            start = bisect.bisect_left(table.namespaces, after[0])
            spaces = table.namespaces[start:]
        counts = self.counts
        for space in spaces:
            objects = table.by_namespace.get(space)
            if objects is None:  # emptied while the caller paused between items
                continue
            names = table.names[space]
            first = 0
            if after is not None and space == after[0]:
                first = bisect.bisect_right(names, after[1])
            elif after is not None and space < after[0]:
                continue
            for i in range(first, len(names)):
                name = names[i]
                counts.visits += 1
                yield (space, name), objects[name]
