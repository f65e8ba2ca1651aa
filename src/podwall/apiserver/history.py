"""The watch cache: the last changes of every resource, and the state they reach back to.

Each committed change is a `Change` (its resourceVersion, type, key, the object as a watch
delivers it, and the object before it). `History` keeps, per resource, the last `capacity`
changes; a resource's `floor` is the resourceVersion at or below which its history is no longer
complete (what it held when the Store opened, or the last change it dropped). From a history
that reaches back far enough a watch replays what happened after a resourceVersion, and a list
or a continued list is served as it was at an older resourceVersion (`state_at`): both cost
the changes since then, never the number of stored objects. No locking here: the Store's lock
guards it.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from podwall.apiserver.objectindex import Key, Stored

ADDED, MODIFIED, DELETED = "ADDED", "MODIFIED", "DELETED"


@dataclass(frozen=True, slots=True)
class Change:
    """One committed change of one object."""

    resource_version: int
    type: str  # ADDED, MODIFIED or DELETED
    resource: str
    namespace: str
    name: str
    stored: Stored  # as watches deliver it (DELETED: the last state, with the deletion's RV)
    previous: Stored | None  # before the change (None for ADDED)

    @property
    def key(self) -> Key:
        return (self.namespace, self.name)


class TooOld(Exception):
    """The history of a resource does not reach back to the resourceVersion asked for."""

    def __init__(self, resource_version: int, floor: int) -> None:
        super().__init__(f"too old resource version: {resource_version} ({floor})")
        self.resource_version = resource_version
        self.floor = floor


class History:
    """Per resource, the last `capacity` changes in resourceVersion order."""

    def __init__(self, capacity: int, floor: int) -> None:
        self.capacity = capacity
        self._start = floor  # what the Store held when it opened is not history
        self._changes: dict[str, deque[Change]] = {}
        self._floors: dict[str, int] = {}

    def floor(self, resource: str) -> int:
        return self._floors.get(resource, self._start)

    def append(self, change: Change) -> None:
        changes = self._changes.get(change.resource)
        if changes is None:
            changes = self._changes[change.resource] = deque(maxlen=self.capacity)
        if len(changes) == self.capacity:
            self._floors[change.resource] = changes[0].resource_version
        changes.append(change)

    def since(self, resource: str, resource_version: int) -> list[Change]:
        """The changes after `resource_version`, oldest first; TooOld if some were dropped."""
        floor = self.floor(resource)
        if resource_version < floor:
            raise TooOld(resource_version, floor)
        out: list[Change] = []
        for change in reversed(self._changes.get(resource, ())):
            if change.resource_version <= resource_version:
                break
            out.append(change)
        out.reverse()
        return out

    def state_at(
        self, resource: str, resource_version: int, namespace: str | None
    ) -> dict[Key, Stored | None]:
        """What the keys changed since `resource_version` held then (None: did not exist).

        Keys that did not change since are as the index holds them now.
        """
        state: dict[Key, Stored | None] = {}
        for change in reversed(self.since(resource, resource_version)):
            if namespace is None or change.namespace == namespace:
                state[change.key] = change.previous  # the oldest change after the RV wins
        return state
