"""One helper object per Store, made on first use and dropped with its Store.

Owns the weak, locked map from a Store to what serves it (the deletion marks, the Event
recorder), so that no module keeps a Store alive or makes two helpers for one Store.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Generic, TypeVar

if TYPE_CHECKING:
    from podwall.apiserver.store import Store

T = TypeVar("T")


class PerStore(Generic[T]):
    """`per_store(store)`: the one `make(store)` of that Store."""

    def __init__(self, make: Callable[[Store], T]) -> None:
        self._make = make
        self._made: weakref.WeakKeyDictionary[Store, T] = weakref.WeakKeyDictionary()
        self._lock = threading.Lock()

    def __call__(self, store: Store) -> T:
        with self._lock:
            made = self._made.get(store)
            if made is None:
                made = self._made[store] = self._make(store)
            return made
