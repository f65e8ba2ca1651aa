"""Informers: caches and indexes kept from the Store's events, in whatever order they come."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from podwall.apiserver.bootstrap import bootstrap
from podwall.apiserver.informers import Informer, Informers
from podwall.apiserver.store import ADDED, DELETED, MODIFIED, Store, WatchEvent

Change = tuple[str | None, str | None]


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store(tmp_path / "state.db")
    bootstrap(s)
    yield s
    s.close()


def pod(name: str, rv: int = 0, **labels: str) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "namespace": "default", "labels": labels}
    if rv:
        meta["resourceVersion"] = str(rv)
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": {"containers": []}}


def labelled(obj: dict[str, Any]) -> list[tuple[str, str]]:
    return sorted((obj.get("metadata") or {}).get("labels", {}).items())


def watching(informers: Informers, resource: str = "pods") -> tuple[Informer, list[Change]]:
    """An informer of `resource` indexed by label, and the changes its handler saw, by name."""
    informer = informers.informer(resource)
    informer.add_index("label", labelled)
    seen: list[Change] = []

    def name(obj: dict[str, Any] | None) -> str | None:
        return None if obj is None else str(obj["metadata"]["name"])

    informer.add_handler(lambda old, new: seen.append((name(old), name(new))))
    return informer, seen


def names(objects: list[dict[str, Any]]) -> list[str]:
    return [o["metadata"]["name"] for o in objects]


def test_start_lists_what_exists_and_follows_changes(store: Store) -> None:
    store.create("pods", pod("a", app="web"))
    informers = Informers(store)
    informer, seen = watching(informers)
    informers.start()
    assert seen == [(None, "a")]
    store.create("pods", pod("b", app="web"))
    changed = store.get("pods", "default", "a")
    changed["metadata"]["labels"] = {"app": "db"}
    store.update("pods", changed)
    store.delete("pods", "default", "b")
    assert seen == [(None, "a"), (None, "b"), ("a", "a"), ("b", None)]
    assert names(informer.by_index("label", ("app", "db"))) == ["a"]
    assert informer.by_index("label", ("app", "web")) == []
    assert informers.caught_up()
    informers.stop()


def test_matching_intersects_index_values_and_counts_what_it_reads(store: Store) -> None:
    informers = Informers(store)
    informer, _ = watching(informers)
    informers.start()
    store.create("pods", pod("a", app="web", tier="front"))
    store.create("pods", pod("b", app="web", tier="back"))
    store.create("pods", pod("c", app="db", tier="front"))
    before = informers.reads
    found = informer.matching("label", [("app", "web"), ("tier", "front")])
    assert names(found) == ["a"]
    assert informers.reads - before == 1
    assert informer.count("label", ("app", "web")) == 2
    assert informers.reads - before == 1, "counting reads no object"
    informers.stop()


class FakeStore:
    """Only what Informers use of a Store, with the listener in the test's hands."""

    def __init__(self) -> None:
        self.resource_version = 10
        self.listener: Any = None

    def on_commit(self, listener: Any) -> Any:
        self.listener = listener
        return lambda: None

    def list(self, resource: str) -> tuple[list[dict[str, Any]], int]:
        return [], self.resource_version

    def deliver(self, kind: str, obj: dict[str, Any], rv: int) -> None:
        self.resource_version = max(self.resource_version, rv)
        self.listener("pods", WatchEvent(kind, obj, rv))


@pytest.fixture
def fake() -> Iterator[tuple[FakeStore, Informers, Informer]]:
    store = FakeStore()
    informers = Informers(store)  # type: ignore[arg-type]
    informer, _ = watching(informers)
    informers.start()
    yield store, informers, informer
    informers.stop()


def test_an_older_event_never_replaces_a_newer_object(
    fake: tuple[FakeStore, Informers, Informer],
) -> None:
    store, _, informer = fake
    store.deliver(MODIFIED, pod("a", 12, app="new"), 12)
    store.deliver(ADDED, pod("a", 11, app="old"), 11)
    found = informer.get("default", "a")
    assert found is not None
    assert found["metadata"]["labels"] == {"app": "new"}


def test_a_deleted_object_is_not_revived_by_a_late_event(
    fake: tuple[FakeStore, Informers, Informer],
) -> None:
    store, _, informer = fake
    store.deliver(DELETED, pod("a", 12), 12)
    store.deliver(ADDED, pod("a", 11, app="web"), 11)
    assert informer.get("default", "a") is None
    assert informer.by_index("label", ("app", "web")) == []


def test_applied_moves_only_over_changes_without_gaps(
    fake: tuple[FakeStore, Informers, Informer],
) -> None:
    store, informers, _ = fake
    store.deliver(ADDED, pod("a", 11), 11)
    store.deliver(ADDED, pod("c", 13), 13)
    assert informers.applied == 11, "12 has not come yet"
    assert not informers.wait_for(12, timeout=0)
    store.deliver(ADDED, pod("b", 12), 12)
    assert informers.applied == 13
    assert informers.wait_for(13, timeout=0)


def test_a_metadata_cache_keeps_only_metadata(store: Store) -> None:
    store.create("pods", pod("a", app="web"))
    informers = Informers(store)
    informer = informers.informer("pods", full=False)
    informers.start()
    found = informer.get("default", "a")
    assert found is not None
    assert sorted(found) == ["apiVersion", "kind", "metadata"]
    informers.stop()


def test_names_in_a_namespace_are_tested_without_reading_objects(store: Store) -> None:
    store.create("pods", pod("a"))
    informers = Informers(store)
    informer = informers.informer("pods")
    informers.start()
    taken = informer.names_in("default")
    assert ("a" in taken, "b" in taken) == (True, False)
    assert informers.reads == 0
    informers.stop()
