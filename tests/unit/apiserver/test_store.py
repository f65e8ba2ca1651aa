"""The SQLite store: metadata it owns, conflicts, watches with resume, and durability."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from podwall.apiserver import store as store_module
from podwall.apiserver.errors import (
    AlreadyExistsError,
    ApiError,
    ConflictError,
    ExpiredError,
    NotFoundError,
)
from podwall.apiserver.store import Store

NETPOL = "networkpolicies.networking.k8s.io"


def namespace(name: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}


def policy(name: str, ns: str = "default", **labels: str) -> dict[str, Any]:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": name, "namespace": ns, "labels": labels},
        "spec": {"podSelector": {}},
    }


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store(tmp_path / "state.db")
    s.create("namespaces", namespace("default"))
    s.create("namespaces", namespace("other"))
    yield s
    s.close()


def test_create_sets_the_metadata_the_server_owns(store: Store) -> None:
    created = store.create(NETPOL, policy("a"))
    meta = created["metadata"]
    assert meta["resourceVersion"] == str(store.resource_version)
    assert meta["generation"] == 1
    uid = uuid.UUID(meta["uid"])
    assert (str(uid), uid.version, uid.variant) == (meta["uid"], 4, uuid.RFC_4122)
    assert meta["creationTimestamp"].endswith("Z")
    assert store.get(NETPOL, "default", "a") == created


@pytest.mark.parametrize(
    ("seconds", "stamp"),
    [
        ([0.0], ["1970-01-01T00:00:00Z"]),
        ([59.9, 60.0], ["1970-01-01T00:00:59Z", "1970-01-01T00:01:00Z"]),
        ([1_800_000_000.2, 1_800_000_000.7], ["2027-01-15T08:00:00Z"] * 2),
        ([5.5, 4.5], ["1970-01-01T00:00:05Z", "1970-01-01T00:00:04Z"]),
    ],
    ids=["epoch", "next-second", "same-second", "clock-stepped-back"],
)
def test_creation_timestamps_follow_the_clock_to_the_second(
    monkeypatch: pytest.MonkeyPatch, seconds: list[float], stamp: list[str]
) -> None:
    clock = iter(seconds)
    monkeypatch.setattr(store_module.time, "time", lambda: next(clock))
    monkeypatch.setattr(store_module, "_STAMP", [(-1, "")])
    assert [store_module.now_rfc3339() for _ in seconds] == stamp


def test_every_write_takes_the_next_global_resource_version(store: Store) -> None:
    first = int(store.create(NETPOL, policy("a"))["metadata"]["resourceVersion"])
    second = int(store.create(NETPOL, policy("b"))["metadata"]["resourceVersion"])
    assert second == first + 1


def test_create_of_an_existing_name_is_already_exists(store: Store) -> None:
    store.create(NETPOL, policy("a"))
    with pytest.raises(
        AlreadyExistsError, match=r'networkpolicies\.networking\.k8s\.io "a" already'
    ):
        store.create(NETPOL, policy("a"))


def test_create_in_a_missing_namespace_is_not_found(store: Store) -> None:
    with pytest.raises(NotFoundError, match='namespaces "nope" not found'):
        store.create(NETPOL, policy("a", ns="nope"))


def test_generate_name_appends_five_characters(store: Store) -> None:
    obj = policy("")
    obj["metadata"]["generateName"] = "web-"
    name = store.create(NETPOL, obj)["metadata"]["name"]
    assert name.startswith("web-")
    assert len(name) == len("web-") + 5


def test_list_sorts_by_namespace_then_name(store: Store) -> None:
    for ns, name in [("other", "a"), ("default", "c"), ("default", "b")]:
        store.create(NETPOL, policy(name, ns))
    items, rv = store.list(NETPOL)
    assert [(i["metadata"]["namespace"], i["metadata"]["name"]) for i in items] == [
        ("default", "b"),
        ("default", "c"),
        ("other", "a"),
    ]
    assert rv == store.resource_version
    assert [i["metadata"]["name"] for i in store.list(NETPOL, "other")[0]] == ["a"]


def test_update_with_a_stale_resource_version_is_a_conflict(store: Store) -> None:
    created = store.create(NETPOL, policy("a"))
    store.update(NETPOL, created)  # the same RV: accepted (and a no-op)
    changed = store.update(
        NETPOL, {**created, "spec": {"podSelector": {"matchLabels": {"x": "y"}}}}
    )
    assert changed["metadata"]["generation"] == 2
    with pytest.raises(ConflictError, match="the object has been modified"):
        store.update(NETPOL, created)


def test_an_update_that_changes_nothing_keeps_the_resource_version(store: Store) -> None:
    created = store.create(NETPOL, policy("a"))
    before = store.resource_version
    assert store.update(NETPOL, created)["metadata"]["resourceVersion"] == str(before)
    assert store.resource_version == before


def test_labels_change_the_resource_version_but_not_the_generation(store: Store) -> None:
    created = store.create(NETPOL, policy("a"))
    created["metadata"]["labels"] = {"tier": "web"}
    updated = store.update(NETPOL, created)
    assert updated["metadata"]["generation"] == 1
    assert int(updated["metadata"]["resourceVersion"]) > int(created["metadata"]["resourceVersion"])


def test_preserve_keeps_the_stored_status(store: Store) -> None:
    obj = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "default"}}
    store.create("pods", {**obj, "spec": {}, "status": {"phase": "Running"}})
    updated = store.update("pods", {**obj, "spec": {"x": 1}, "status": {}}, preserve=("status",))
    assert updated["status"] == {"phase": "Running"}


def test_mutate_reads_and_writes_atomically(store: Store) -> None:
    store.create(NETPOL, policy("a"))

    def add_label(obj: dict[str, Any]) -> dict[str, Any]:
        obj["metadata"]["labels"]["n"] = str(int(obj["metadata"]["labels"].get("n", "0")) + 1)
        return obj

    threads = [
        threading.Thread(target=lambda: store.mutate(NETPOL, "default", "a", add_label))
        for _ in range(20)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert store.get(NETPOL, "default", "a")["metadata"]["labels"]["n"] == "20"


def test_delete_returns_the_object_with_the_deletion_resource_version(store: Store) -> None:
    store.create(NETPOL, policy("a"))
    deleted = store.delete(NETPOL, "default", "a")
    assert deleted["metadata"]["resourceVersion"] == str(store.resource_version)
    with pytest.raises(NotFoundError):
        store.get(NETPOL, "default", "a")


def test_delete_preconditions(store: Store) -> None:
    store.create(NETPOL, policy("a"))
    with pytest.raises(ConflictError, match="Precondition failed: UID"):
        store.delete(NETPOL, "default", "a", uid="not-the-uid")


def test_deleting_a_namespace_deletes_its_objects(store: Store) -> None:
    store.create(NETPOL, policy("a", ns="other"))
    store.create(NETPOL, policy("b"))
    store.delete("namespaces", "", "other")
    assert [i["metadata"]["name"] for i in store.list(NETPOL)[0]] == ["b"]


def test_watch_without_a_resource_version_starts_with_added_events(store: Store) -> None:
    store.create(NETPOL, policy("a"))
    with store.watch(NETPOL) as watch:
        first = watch.get(timeout=1)
        assert first is not None
        assert (first.type, first.object["metadata"]["name"]) == ("ADDED", "a")
        assert watch.get(timeout=0.05) is None


def test_watch_from_a_resource_version_replays_only_later_changes(store: Store) -> None:
    created = store.create(NETPOL, policy("a"))
    rv = int(created["metadata"]["resourceVersion"])
    store.create(NETPOL, policy("b"))
    store.delete(NETPOL, "default", "a")
    with store.watch(NETPOL, resource_version=rv) as watch:
        events = [watch.get(timeout=1) for _ in range(2)]
        assert [(e.type, e.object["metadata"]["name"]) for e in events if e] == [
            ("ADDED", "b"),
            ("DELETED", "a"),
        ]
        assert watch.get(timeout=0.05) is None  # "a" is not replayed as ADDED
        store.create(NETPOL, policy("c"))
        live = watch.get(timeout=1)
        assert live is not None
        assert (live.type, live.object["metadata"]["name"]) == ("ADDED", "c")


def test_watch_filters_by_namespace_and_predicate_with_transitions(store: Store) -> None:
    def web(obj: Any) -> bool:
        return bool(obj["metadata"].get("labels", {}).get("tier") == "web")

    with store.watch(NETPOL, "default", store.resource_version, web) as watch:
        store.create(NETPOL, policy("x", ns="other", tier="web"))
        obj = store.create(NETPOL, policy("a"))
        obj["metadata"]["labels"] = {"tier": "web"}
        obj = store.update(NETPOL, obj)
        obj["metadata"]["labels"] = {}
        store.update(NETPOL, obj)
        types = [(e.type, e.object["metadata"]["name"]) for e in iter_events(watch)]
    assert types == [("ADDED", "a"), ("DELETED", "a")]


def iter_events(watch: Any) -> list[Any]:
    events = []
    while (event := watch.get(timeout=0.1)) is not None:
        events.append(event)
    return events


def test_a_resource_version_older_than_the_history_is_expired(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.db", history=2)
    try:
        store.create("namespaces", namespace("default"))
        for name in "abc":
            store.create(NETPOL, policy(name))
        with pytest.raises(ExpiredError, match="too old resource version"):
            store.watch(NETPOL, resource_version=1)
    finally:
        store.close()


def test_async_watch_wakes_up_on_a_write_from_another_thread(store: Store) -> None:
    async def scenario() -> str | None:
        with store.watch(NETPOL, resource_version=store.resource_version) as watch:
            threading.Timer(0.05, lambda: store.create(NETPOL, policy("late"))).start()
            event = await watch.next(timeout=2)
            return None if event is None else event.object["metadata"]["name"]

    assert asyncio.run(scenario()) == "late"


def test_async_watch_times_out_with_none(store: Store) -> None:
    async def scenario() -> object:
        with store.watch(NETPOL, resource_version=store.resource_version) as watch:
            return await watch.next(timeout=0.05)

    assert asyncio.run(scenario()) is None


def test_closing_and_reopening_brings_back_every_object_and_the_counter(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    store = Store(path)
    store.create("namespaces", namespace("default"))
    for name in ("a", "b"):
        store.create(NETPOL, policy(name))
    store.delete(NETPOL, "default", "a")
    objects, rv = store.list(NETPOL)
    store.close()
    reopened = Store(path)
    try:
        assert reopened.list(NETPOL) == (objects, rv)
        assert reopened.resource_version == rv
        created = reopened.create(NETPOL, policy("c"))
        assert created["metadata"]["resourceVersion"] == str(rv + 1)
    finally:
        reopened.close()
    assert oct(path.stat().st_mode & 0o777) == "0o600"


@pytest.mark.parametrize("last", ["create", "update", "delete"])
def test_reopening_resumes_after_the_last_write_whatever_it_was(tmp_path: Path, last: str) -> None:
    path = tmp_path / "state.db"
    store = Store(path)
    store.create("namespaces", namespace("default"))
    store.create(NETPOL, policy("a"))
    store.delete(NETPOL, "default", "a")
    store.create(NETPOL, policy("b"))
    if last == "create":
        store.create(NETPOL, policy("c"))
    elif last == "update":
        store.mutate(NETPOL, "default", "b", lambda obj: {**obj, "spec": {"podSelector": {}}})
    else:
        store.delete(NETPOL, "default", "b")
    rv = store.resource_version
    store.close()
    reopened = Store(path)
    try:
        assert reopened.resource_version == rv
        created = reopened.create(NETPOL, policy("d"))
        assert created["metadata"]["resourceVersion"] == str(rv + 1)
    finally:
        reopened.close()


def test_listeners_run_before_the_write_returns_and_may_write_themselves(store: Store) -> None:
    seen: list[tuple[str, str, str]] = []

    def controller(resource: str, event: Any) -> None:
        name = event.object["metadata"]["name"]
        seen.append((resource, event.type, name))
        if resource == NETPOL and event.type == "ADDED" and not name.endswith("-child"):
            store.create(NETPOL, policy(f"{name}-child"))

    remove = store.on_commit(controller)
    store.create(NETPOL, policy("a"))
    assert store.get(NETPOL, "default", "a-child")  # there before create() returned
    assert seen == [(NETPOL, "ADDED", "a"), (NETPOL, "ADDED", "a-child")]
    remove()
    store.create(NETPOL, policy("b"))
    assert len(seen) == 2


def test_a_failing_listener_does_not_undo_the_write(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(resource: str, event: Any) -> None:
        raise RuntimeError("boom")

    store.on_commit(broken)
    store.create(NETPOL, policy("a"))
    assert store.get(NETPOL, "default", "a")
    assert "store listener failed" in caplog.text


# Memory: decoded once, shared read-only, copies on request.


def test_reads_share_one_object_and_get_hands_out_a_private_copy(store: Store) -> None:
    store.create(NETPOL, policy("a"))
    shared = store.read(NETPOL, "default", "a")
    assert store.read(NETPOL, "default", "a").obj is shared.obj
    assert store.select(NETPOL)[0][0].obj is shared.obj
    mine = store.get(NETPOL, "default", "a")
    assert mine == shared.obj
    assert mine is not shared.obj
    mine["metadata"]["labels"]["changed"] = "yes"
    assert "changed" not in store.read(NETPOL, "default", "a").obj["metadata"]["labels"]
    assert json.loads(shared.text) == shared.obj


def test_nothing_is_decoded_but_what_the_store_opens_with(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.db")
    store.create("namespaces", namespace("default"))
    for name in "ab":
        store.create(NETPOL, policy(name))
    store.list(NETPOL)
    store.page(NETPOL, "default", limit=1)
    with store.watch(NETPOL) as watch:
        assert watch.get(timeout=1) is not None
    assert store.counts.decodes == 0
    store.close()
    reopened = Store(tmp_path / "s.db")
    try:
        assert reopened.counts.decodes == 3  # each stored object once
        reopened.list(NETPOL)
        assert reopened.counts.decodes == 3
    finally:
        reopened.close()


# Cost: a write touches what it writes, whatever the store holds.


def _filled(size: int) -> Store:
    store = Store(":memory:")
    store.create("namespaces", namespace("default"))
    store.create("namespaces", namespace("other"))
    with ThreadPoolExecutor(8) as pool:  # concurrent writers share commits: filling is quick
        list(pool.map(lambda i: store.create(NETPOL, policy(f"p{i:05d}", "other")), range(size)))
    store.create(NETPOL, policy("target"))
    return store


def _relabel(obj: dict[str, Any]) -> dict[str, Any]:
    obj["metadata"]["labels"] = {"changed": "yes"}
    return obj


OPERATIONS: dict[str, Callable[[Store], object]] = {
    "create": lambda s: s.create(NETPOL, policy("new")),
    "update": lambda s: s.update(NETPOL, {**policy("target"), "spec": {"podSelector": {"a": 1}}}),
    "mutate": lambda s: s.mutate(NETPOL, "default", "target", _relabel),
    "delete": lambda s: s.delete(NETPOL, "default", "target"),
    "get": lambda s: s.get(NETPOL, "default", "target"),
    "list a namespace": lambda s: s.list(NETPOL, "default"),
    "page of 10": lambda s: s.page(NETPOL, limit=10),
}


@pytest.mark.parametrize("operation", OPERATIONS, ids=list(OPERATIONS))
def test_an_operation_costs_the_same_with_10_or_2000_objects_stored(operation: str) -> None:
    costs = []
    for size in (10, 2000):
        store = _filled(size)
        try:
            before = store.counts.copy()
            OPERATIONS[operation](store)
            costs.append(store.counts.minus(before))
        finally:
            store.close()
    assert costs[0] == costs[1]
    assert costs[0].visits <= 11  # a page of 10 looks at one object more
    assert costs[0].decodes == 0


# Durability and group commit.


def test_a_write_is_acknowledged_and_visible_only_once_durable(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.db")
    store.create("namespaces", namespace("default"))
    blocker = sqlite3.connect(tmp_path / "s.db", isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")  # the committer's next transaction has to wait

    async def writers() -> list[str]:
        tasks = [asyncio.ensure_future(store.acreate(NETPOL, policy(f"w{i}"))) for i in range(10)]
        await asyncio.sleep(0.2)
        assert not any(t.done() for t in tasks)  # nothing acknowledged: not on disk yet
        assert store.select(NETPOL)[0] == []  # nor visible to readers
        before = store.counts.commits
        blocker.execute("COMMIT")
        done = await asyncio.gather(*tasks)
        assert 1 <= store.counts.commits - before <= 2  # the ten share (at most) two commits
        return [s.name for s in done]

    try:
        assert asyncio.run(writers()) == [f"w{i}" for i in range(10)]
        assert [s.name for s in store.select(NETPOL)[0]] == [f"w{i}" for i in range(10)]
    finally:
        blocker.close()
        store.close()


def test_a_lone_async_write_commits_in_its_own_thread_and_is_durable(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.db")
    store.create("namespaces", namespace("default"))
    seen: list[tuple[str, str]] = []
    store.on_commit(lambda resource, event: seen.append((event.object["metadata"]["name"], "")))
    committing: list[str] = []
    write = store._committer._write

    def spy(batch: Any) -> None:
        committing.append(threading.current_thread().name)
        write(batch)

    store._committer._write = spy  # type: ignore[method-assign]

    async def lone() -> str:
        created = await store.acreate(NETPOL, policy("solo"), alone=True)
        return created.name

    try:
        assert asyncio.run(lone()) == "solo"
        assert committing == [threading.current_thread().name]
        assert ("solo", "") in seen  # the listeners saw it before it was acknowledged
    finally:
        store.close()
    reopened = Store(tmp_path / "s.db")
    try:
        assert reopened.read(NETPOL, "default", "solo").name == "solo"
    finally:
        reopened.close()


def test_a_failed_commit_fails_its_writes_and_the_store_goes_on(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.db")
    store.create("namespaces", namespace("default"))
    trigger = sqlite3.connect(tmp_path / "s.db", isolation_level=None)
    trigger.execute(
        "CREATE TRIGGER refuse BEFORE INSERT ON objects WHEN NEW.name = 'boom' "
        "BEGIN SELECT RAISE(ABORT, 'disk says no'); END"
    )
    trigger.close()
    try:
        rv = store.resource_version
        with pytest.raises(ApiError, match="disk says no") as raised:
            store.create(NETPOL, policy("boom"))
        assert raised.value.code == 500
        with pytest.raises(NotFoundError):
            store.get(NETPOL, "default", "boom")
        assert store.resource_version == rv
        created = store.create(NETPOL, policy("fine"))
        assert created["metadata"]["resourceVersion"] == str(rv + 1)
    finally:
        store.close()


@pytest.mark.parametrize("alone", [False, True], ids=["committer-thread", "alone"])
def test_a_failed_commit_fails_its_async_writes_too(tmp_path: Path, alone: bool) -> None:
    store = Store(tmp_path / "s.db")
    store.create("namespaces", namespace("default"))
    trigger = sqlite3.connect(tmp_path / "s.db", isolation_level=None)
    trigger.execute(
        "CREATE TRIGGER refuse BEFORE INSERT ON objects WHEN NEW.name = 'boom' "
        "BEGIN SELECT RAISE(ABORT, 'disk says no'); END"
    )
    trigger.close()

    async def writes() -> tuple[str, str]:
        with pytest.raises(ApiError, match="disk says no") as raised:
            await store.acreate(NETPOL, policy("boom"), alone=alone)
        fine = await store.acreate(NETPOL, policy("fine"), alone=alone)
        return str(raised.value.code), fine.name

    try:
        assert asyncio.run(writes()) == ("500", "fine")
    finally:
        store.close()


def test_listeners_see_every_change_once_in_resource_version_order(store: Store) -> None:
    seen: list[int] = []

    def listener(resource: str, event: Any) -> None:
        seen.append(event.resource_version)
        name = event.object["metadata"]["name"]
        if event.type == "ADDED" and name.startswith("w") and not name.endswith("-echo"):
            store.create(NETPOL, policy(f"{name}-echo"))  # a write from the listener thread

    store.on_commit(listener)
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda i: store.create(NETPOL, policy(f"w{i}")), range(20)))
    assert seen == sorted(seen)
    assert len(seen) == len(set(seen)) == 40
    assert len(store.select(NETPOL)[0]) == 40


def test_a_write_while_preparing_another_is_refused(store: Store) -> None:
    store.create(NETPOL, policy("a"))

    def nested(obj: dict[str, Any]) -> dict[str, Any]:
        store.create(NETPOL, policy("inner"))
        return obj

    with pytest.raises(RuntimeError, match="cannot wait while another"):
        store.mutate(NETPOL, "default", "a", nested)


# Pages.


def test_pages_follow_key_order_across_namespaces(store: Store) -> None:
    for ns, name in [("other", "a"), ("default", "c"), ("default", "b"), ("other", "b")]:
        store.create(NETPOL, policy(name, ns))
    first = store.page(NETPOL, limit=3)
    assert [(s.namespace, s.name) for s in first.items] == [
        ("default", "b"),
        ("default", "c"),
        ("other", "a"),
    ]
    assert first.last == ("other", "a")
    rest = store.page(NETPOL, limit=3, after=first.last)
    assert [(s.namespace, s.name) for s in rest.items] == [("other", "b")]
    assert rest.last is None


def test_a_page_at_an_older_resource_version_shows_the_list_as_it_was(store: Store) -> None:
    for name in "abcd":
        store.create(NETPOL, policy(name))
    first = store.page(NETPOL, "default", limit=2)
    assert [s.name for s in first.items] == ["a", "b"]
    store.delete(NETPOL, "default", "c")
    store.create(NETPOL, policy("bb"))
    store.mutate(NETPOL, "default", "d", _relabel)
    rest = store.page(NETPOL, "default", after=first.last, at=first.resource_version)
    assert [s.name for s in rest.items] == ["c", "d"]
    assert "changed" not in rest.items[1].obj["metadata"]["labels"]
    assert rest.resource_version == first.resource_version
    latest = store.page(NETPOL, "default", after=first.last)
    assert [s.name for s in latest.items] == ["bb", "d"]


def test_a_page_older_than_the_history_is_expired(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.db", history=2)
    try:
        store.create("namespaces", namespace("default"))
        rv = store.create(NETPOL, policy("a"))["metadata"]["resourceVersion"]
        for name in "bcd":
            store.create(NETPOL, policy(name))
        with pytest.raises(ExpiredError):
            store.page(NETPOL, at=int(rv))
    finally:
        store.close()


def test_a_watch_can_end_its_initial_events_with_a_bookmark(store: Store) -> None:
    store.create(NETPOL, policy("a"))
    rv = store.resource_version
    with store.watch(NETPOL, send_initial_events=True) as watch:
        added, end = watch.get(timeout=1), watch.get(timeout=1)
        assert added is not None
        assert added.type == "ADDED"
        assert end is not None
        assert end.type == "BOOKMARK"
        assert end.resource_version == rv
        assert end.object["metadata"]["annotations"] == {"k8s.io/initial-events-end": "true"}
        assert watch.progress() == rv
    with store.watch(NETPOL, send_initial_events=False) as quiet:
        assert quiet.get(timeout=0.05) is None


WRITER = """
import asyncio, sys, threading
from podwall.apiserver.store import Store
store = Store(sys.argv[1])
store.create("namespaces", {"metadata": {"name": "default"}})
lock = threading.Lock()
def write(k):
    for i in range(10_000):
        name = f"w{k}-{i}"
        store.create("configmaps", {"metadata": {"name": name, "namespace": "default"}})
        with lock:
            print(name, flush=True)  # acknowledged
async def alone():
    for i in range(10_000):
        name = f"alone-{i}"
        await store.acreate("configmaps", {"metadata": {"name": name, "namespace": "default"}},
                            alone=True)
        with lock:
            print(name, flush=True)  # acknowledged
threads = [threading.Thread(target=write, args=(k,)) for k in range(4)]
threads.append(threading.Thread(target=asyncio.run, args=(alone(),)))
[t.start() for t in threads]
[t.join() for t in threads]
"""


def test_every_acknowledged_write_survives_kill_9(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(path)], stdout=subprocess.PIPE, text=True, env=env
    )
    acknowledged: list[str] = []
    try:
        assert writer.stdout is not None
        while len(acknowledged) < 200:  # five writers sharing commits, well under way
            line = writer.stdout.readline()
            assert line, "the writer ended early"
            acknowledged.append(line.strip())
    finally:
        writer.send_signal(signal.SIGKILL)  # by pid: the process this test started
        writer.wait(10)
        if writer.stdout is not None:
            acknowledged += [line.strip() for line in writer.stdout if line.strip()]
            writer.stdout.close()
    reopened = Store(path)
    try:
        stored = {s.name for s in reopened.select("configmaps")[0]}
    finally:
        reopened.close()
    assert set(acknowledged) <= stored
    assert any(name.startswith("alone-") for name in acknowledged)
