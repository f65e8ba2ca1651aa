"""status.ephemeralContainerStatuses as the kubelet reports them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from podwall.controllers.ephemeralstatus import (
    ephemeral_running,
    ephemeral_terminated,
    ephemeral_waiting,
    names,
)

T0 = datetime(2026, 12, 7, 7, 0, tzinfo=UTC)
T1 = datetime(2026, 12, 7, 7, 1, tzinfo=UTC)


def pod() -> dict[str, Any]:
    return {
        "metadata": {"name": "p", "uid": "u1"},
        "spec": {
            "containers": [{"name": "app", "image": "busybox"}],
            "ephemeralContainers": [
                {"name": "one", "image": "busybox"},
                {"name": "two", "image": "nicolaka/netshoot"},
            ],
        },
        "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]},
    }


def test_names_in_spec_order() -> None:
    assert names(pod()) == ["one", "two"]


def test_running_then_terminated_keeps_its_start_and_is_never_ready() -> None:
    running = ephemeral_running(pod(), "two", T0)
    one, two = running["status"]["ephemeralContainerStatuses"]
    assert one["state"] == {"waiting": {"reason": "ContainerCreating"}}
    assert two["state"] == {"running": {"startedAt": "2026-12-07T07:00:00Z"}}
    assert two["ready"] is False
    assert two["started"] is True
    done = ephemeral_terminated(running, "two", 2, T1)
    terminated = done["status"]["ephemeralContainerStatuses"][1]["state"]["terminated"]
    assert terminated == {
        "exitCode": 2,
        "reason": "Error",
        "startedAt": "2026-12-07T07:00:00Z",
        "finishedAt": "2026-12-07T07:01:00Z",
        "containerID": two["containerID"],
    }
    assert done["status"]["ephemeralContainerStatuses"][1]["restartCount"] == 0


def test_the_pods_phase_and_conditions_are_left_alone() -> None:
    before = pod()
    after = ephemeral_terminated(ephemeral_running(before, "one", T0), "one", 0, T1)
    assert after["status"]["phase"] == "Running"
    assert after["status"]["conditions"] == before["status"]["conditions"]
    assert "containerStatuses" not in after["status"]
    state = after["status"]["ephemeralContainerStatuses"][0]["state"]
    assert state["terminated"]["reason"] == "Completed"


def test_waiting_says_why() -> None:
    out = ephemeral_waiting(pod(), "one", "ImageNotSupported", "no stand-in")
    state = out["status"]["ephemeralContainerStatuses"][0]["state"]
    assert state == {"waiting": {"reason": "ImageNotSupported", "message": "no stand-in"}}
