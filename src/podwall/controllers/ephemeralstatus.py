"""`status.ephemeralContainerStatuses`: what the kubelet reports of a pod's ephemeral containers.

Mirrors the kubelet's `convertToAPIContainerStatuses` for `spec.ephemeralContainers`: one
status per ephemeral container, in spec order, never ready (ephemeral containers take no part
in the pod's readiness, so the pod's phase and conditions are left as they are), never
restarted. Pure functions of the pod; the kubelet writes the result.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from podwall.controllers.meta import rfc3339
from podwall.controllers.podstatus import CONTAINER_CREATING

Obj = dict[str, Any]
FIELD = "ephemeralContainerStatuses"


def names(pod: Mapping[str, Any]) -> list[str]:
    """The pod's ephemeral containers, in spec order."""
    found = (pod.get("spec") or {}).get("ephemeralContainers") or ()
    return [str(c.get("name")) for c in found if isinstance(c, Mapping)]


def _update(pod: Mapping[str, Any], name: str, state: Callable[[dict[str, Any]], None]) -> Obj:
    out = copy.deepcopy(dict(pod))
    status = out.setdefault("status", {})
    known = {s.get("name"): s for s in status.get(FIELD) or ()}
    statuses = []
    for c in (out.get("spec") or {}).get("ephemeralContainers") or ():
        entry = dict(known.get(c.get("name")) or {})
        entry.setdefault("name", c.get("name"))
        entry["image"] = c.get("image", "")
        entry.setdefault("imageID", "")
        entry.setdefault("lastState", {})
        entry["ready"] = False
        entry.setdefault("restartCount", 0)
        entry.setdefault("state", {"waiting": {"reason": CONTAINER_CREATING}})
        if entry["name"] == name:
            state(entry)
        statuses.append(entry)
    status[FIELD] = statuses
    return out


def ephemeral_running(pod: Mapping[str, Any], name: str, started_at: datetime) -> Obj:
    """The ephemeral container runs (never ready: it serves nothing)."""
    uid = str((pod.get("metadata") or {}).get("uid") or "")

    def running(entry: dict[str, Any]) -> None:
        entry["state"] = {"running": {"startedAt": rfc3339(started_at)}}
        entry["started"] = True
        entry["imageID"] = f"{entry['image']}@podwall"
        entry["containerID"] = f"podwall://{uid}/{name}"

    return _update(pod, name, running)


def ephemeral_waiting(pod: Mapping[str, Any], name: str, reason: str, message: str) -> Obj:
    """The ephemeral container cannot start (`ImageNotSupported`, `RunContainerError`)."""

    def waiting(entry: dict[str, Any]) -> None:
        state = {"reason": reason, **({"message": message} if message else {})}
        entry["state"] = {"waiting": state}
        entry["started"] = False

    return _update(pod, name, waiting)


def ephemeral_terminated(pod: Mapping[str, Any], name: str, exit_code: int, now: datetime) -> Obj:
    """The ephemeral container exited; it stays terminated (it is never restarted)."""

    def terminated(entry: dict[str, Any]) -> None:
        running = (entry.get("state") or {}).get("running") or {}
        state: dict[str, Any] = {
            "exitCode": exit_code,
            "reason": "Completed" if exit_code == 0 else "Error",
            "startedAt": running.get("startedAt", rfc3339(now)),
            "finishedAt": rfc3339(now),
        }
        if entry.get("containerID"):
            state["containerID"] = entry["containerID"]
        entry["state"] = {"terminated": state}
        entry["started"] = False

    return _update(pod, name, terminated)
