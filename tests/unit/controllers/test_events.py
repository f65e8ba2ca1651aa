"""Events: upstream's names, reasons, messages and sources, and counting repeats."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from podwall.controllers import Create, Update, record
from podwall.controllers import events as ev

T0 = datetime.fromisoformat("2026-11-26T10:00:00+00:00")
POD = {
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {
        "name": "backend-65f7c794cc-b9j66",
        "namespace": "default",
        "uid": "u",
        "resourceVersion": "7",
    },
    "spec": {"nodeName": "podwall"},
}


def test_an_event_is_named_after_its_object_and_the_time_in_hex_nanoseconds() -> None:
    event = ev.scheduled(POD, "podwall", T0)
    name = event["metadata"]["name"]
    assert re.fullmatch(r"backend-65f7c794cc-b9j66\.[0-9a-f]{16}", name)
    nanos = int(name.rsplit(".", 1)[1], 16)
    assert nanos // 1000 == int(T0.timestamp()) * 10**6


def test_the_scheduler_event_reads_as_describe_prints_it() -> None:
    event = ev.scheduled(POD, "podwall", T0)
    assert event["reason"] == "Scheduled"
    assert event["message"] == "Successfully assigned default/backend-65f7c794cc-b9j66 to podwall"
    assert event["source"] == {"component": "default-scheduler"}
    assert event["reportingComponent"] == "default-scheduler"
    assert event["involvedObject"] == {
        "kind": "Pod",
        "namespace": "default",
        "name": "backend-65f7c794cc-b9j66",
        "uid": "u",
        "apiVersion": "v1",
        "resourceVersion": "7",
    }
    assert (event["firstTimestamp"], event["lastTimestamp"], event["count"]) == (
        "2026-11-26T10:00:00Z",
        "2026-11-26T10:00:00Z",
        1,
    )
    assert event["type"] == "Normal"


def test_kubelet_events_name_the_container_and_the_node() -> None:
    image = "docker.io/cilium/json-mock:1.2"
    made = [
        ev.pulled(POD, "backend-container", image, T0),
        ev.created(POD, "backend-container", T0),
        ev.started(POD, "backend-container", T0),
    ]
    assert [(e["reason"], e["message"]) for e in made] == [
        ("Pulled", f'Container image "{image}" already present on machine'),
        ("Created", "Created container: backend-container"),
        ("Started", "Started container backend-container"),
    ]
    for event in made:
        assert event["involvedObject"]["fieldPath"] == "spec.containers{backend-container}"
        assert event["source"] == {"component": "kubelet", "host": "podwall"}
        assert event["reportingInstance"] == "podwall"
    assert len({e["metadata"]["name"] for e in made}) == 3, "events made at once get distinct names"


def test_warnings_are_warnings() -> None:
    failed = ev.failed(POD, "c", "Error: ImageNotSupported", T0)
    assert (failed["type"], failed["reason"]) == ("Warning", "Failed")
    back_off = ev.back_off(POD, "c", T0)
    assert (
        back_off["message"]
        == "Back-off restarting failed container c in pod backend-65f7c794cc-b9j66_default(u)"
    )


def test_a_repeated_event_is_counted_on_the_stored_one() -> None:
    first = ev.back_off(POD, "c", T0)
    assert isinstance(record(first, []), Create)
    again = record(ev.back_off(POD, "c", T0 + timedelta(minutes=2)), [first])
    assert isinstance(again, Update)
    assert again.obj["metadata"]["name"] == first["metadata"]["name"]
    assert again.obj["count"] == 2
    assert again.obj["firstTimestamp"] == "2026-11-26T10:00:00Z"
    assert again.obj["lastTimestamp"] == "2026-11-26T10:02:00Z"


def test_a_different_message_is_a_different_event() -> None:
    first = ev.failed(POD, "c", "Error: one", T0)
    assert isinstance(record(ev.failed(POD, "c", "Error: two", T0), [first]), Create)


def test_a_new_event_whose_name_is_taken_moves_to_the_next_nanosecond() -> None:
    first = ev.failed(POD, "c", "Error: one", T0)
    clash = ev.failed(POD, "c", "Error: two", T0)
    clash["metadata"]["name"] = first["metadata"]["name"]
    made = record(clash, [first])
    assert isinstance(made, Create)
    prefix, _, nanos = first["metadata"]["name"].rpartition(".")
    assert made.obj["metadata"]["name"] == f"{prefix}.{int(nanos, 16) + 1:x}"


def test_a_failed_mount_is_a_warning_about_the_pod() -> None:
    event = ev.failed_mount(POD, "kube-api-access", 'failed to fetch token: x "y" not found', T0)
    assert (event["type"], event["reason"]) == ("Warning", "FailedMount")
    assert event["message"] == (
        'MountVolume.SetUp failed for volume "kube-api-access" : '
        'failed to fetch token: x "y" not found'
    )
    assert "fieldPath" not in event["involvedObject"]
    assert event["source"] == {"component": "kubelet", "host": "podwall"}
