"""One helper per Store: made once on first use, another for another Store, gone with it."""

from __future__ import annotations

import gc
from pathlib import Path

from podwall.apiserver.perstore import PerStore
from podwall.apiserver.store import Store


def test_one_helper_per_store_made_on_first_use(tmp_path: Path) -> None:
    made: list[Store] = []

    def make(store: Store) -> object:
        made.append(store)
        return object()

    per_store = PerStore(make)
    first, second = Store(tmp_path / "a.db"), Store(tmp_path / "b.db")
    try:
        assert per_store(first) is per_store(first)
        assert per_store(second) is not per_store(first)
        assert made == [first, second]
    finally:
        first.close()
        second.close()


def test_a_store_is_not_kept_alive(tmp_path: Path) -> None:
    per_store = PerStore(lambda store: object())
    store = Store(tmp_path / "a.db")
    per_store(store)
    store.close()
    del store
    gc.collect()
    assert len(per_store._made) == 0
