"""Recording Events: a repeat is counted on the event it repeats, without listing any."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from podwall.apiserver.bootstrap import bootstrap
from podwall.apiserver.recorder import Recorder, recorder_for, write_event
from podwall.apiserver.store import Store
from podwall.controllers import events

T0 = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
RS = {
    "apiVersion": "apps/v1",
    "kind": "ReplicaSet",
    "metadata": {"name": "web-1", "namespace": "default", "uid": "rs-uid"},
}


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store(tmp_path / "state.db")
    bootstrap(s)
    yield s
    s.close()


@pytest.fixture
def no_lists(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    """The recorder never lists: a list of events would fail the test."""

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the recorder listed objects")

    monkeypatch.setattr(store, "list", refuse)


def stored(store: Store) -> list[dict[str, Any]]:
    return Store.list(store, "events", "default")[0]


@pytest.mark.usefixtures("no_lists")
def test_a_repeat_counts_on_the_event_it_repeats(store: Store) -> None:
    recorder = Recorder(store)
    recorder.record(events.successful_create(RS, "web-1-abcde", T0))
    recorder.record(events.successful_create(RS, "web-1-abcde", T0 + timedelta(seconds=5)))
    (event,) = stored(store)
    assert event["count"] == 2
    assert (event["firstTimestamp"], event["lastTimestamp"]) == (
        "2026-11-26T10:00:00Z",
        "2026-11-26T10:00:05Z",
    )


@pytest.mark.usefixtures("no_lists")
def test_different_events_are_different_objects(store: Store) -> None:
    recorder = Recorder(store)
    recorder.record(events.successful_create(RS, "web-1-abcde", T0))
    recorder.record(events.successful_create(RS, "web-1-fghjk", T0))
    assert sorted(e["message"] for e in stored(store)) == [
        "Created pod: web-1-abcde",
        "Created pod: web-1-fghjk",
    ]
    assert len({e["metadata"]["name"] for e in stored(store)}) == 2


@pytest.mark.usefixtures("no_lists")
def test_a_repeat_of_an_event_that_was_deleted_is_a_new_event(store: Store) -> None:
    recorder = Recorder(store)
    first = events.successful_create(RS, "web-1-abcde", T0)
    recorder.record(first)
    store.delete("events", "default", first["metadata"]["name"])
    recorder.record(events.successful_create(RS, "web-1-abcde", T0 + timedelta(seconds=1)))
    (event,) = stored(store)
    assert event["count"] == 1


@pytest.mark.usefixtures("no_lists")
def test_a_name_taken_moves_to_the_next_nanosecond(store: Store) -> None:
    first = events.successful_create(RS, "web-1-abcde", T0)
    store.create("events", first)  # by someone else: this recorder does not know it
    Recorder(store).record(first)
    names = sorted(e["metadata"]["name"] for e in stored(store))
    prefix, _, nanos = first["metadata"]["name"].rpartition(".")
    assert names == sorted([first["metadata"]["name"], f"{prefix}.{int(nanos, 16) + 1:x}"])


def test_write_event_records_through_the_stores_one_recorder(store: Store) -> None:
    assert recorder_for(store) is recorder_for(store)
    write_event(store, events.successful_create(RS, "web-1-abcde", T0))
    write_event(store, events.successful_create(RS, "web-1-abcde", T0))
    (event,) = stored(store)
    assert event["count"] == 2


def test_an_event_that_cannot_be_stored_is_dropped_not_raised(store: Store) -> None:
    lost = events.successful_create(
        {**RS, "metadata": {**RS["metadata"], "namespace": "gone"}}, "x", T0
    )
    assert Recorder(store).record(lost) == 0
