"""The controllers' actions through the Store: status kept, Updates conditional on what was read."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from podwall.apiserver.bootstrap import bootstrap
from podwall.apiserver.errors import ConflictError
from podwall.apiserver.recorder import Recorder
from podwall.apiserver.store import Store
from podwall.apiserver.writes import Writer
from podwall.controllers import Create, Delete, Update, UpdateStatus


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store(tmp_path / "state.db")
    bootstrap(s)
    yield s
    s.close()


@pytest.fixture
def writer(store: Store) -> Writer:
    return Writer(store, Recorder(store))


def replicaset(replicas: int, status: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {"name": "rs", "namespace": "default"},
        "spec": {"replicas": replicas},
        "status": status or {},
    }


def test_an_update_keeps_the_stored_status_and_a_status_update_the_spec(
    store: Store, writer: Writer
) -> None:
    store.create("replicasets.apps", replicaset(1, {"replicas": 1}))
    writer.apply([Update(replicaset(2, {"replicas": 9}))])
    writer.apply([UpdateStatus(replicaset(7, {"replicas": 2}))])
    stored = store.get("replicasets.apps", "default", "rs")
    assert (stored["spec"]["replicas"], stored["status"]["replicas"]) == (2, 2)


def test_an_update_of_an_object_changed_since_it_was_read_is_a_conflict(
    store: Store, writer: Writer
) -> None:
    read = store.create("replicasets.apps", replicaset(1))
    store.update("replicasets.apps", {**read, "spec": {"replicas": 5}})  # a client's change
    with pytest.raises(ConflictError):
        writer.apply([Update(replicaset(2))], {"replicasets.apps": [read]})
    assert store.get("replicasets.apps", "default", "rs")["spec"]["replicas"] == 5


def test_apply_answers_the_highest_resource_version_written(store: Store, writer: Writer) -> None:
    written = writer.apply([Create(replicaset(1)), Update(replicaset(3))])
    assert written == store.resource_version
    assert writer.writes == 2


def test_deleting_what_is_gone_writes_nothing(writer: Writer) -> None:
    assert writer.apply([Delete("replicasets.apps", "default", "nothing")]) == 0
