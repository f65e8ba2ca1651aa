"""A Job's pods: completion indexes, their intervals, and the back-off after failures."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from podwall.controllers import jobpods
from podwall.controllers.meta import rfc3339

from .cluster import T0


@pytest.mark.parametrize(
    ("indexes", "text"),
    [
        pytest.param(set(), "", id="none"),
        pytest.param({0}, "0", id="one"),
        pytest.param({0, 1, 2, 4}, "0-2,4", id="a run and a single"),
        pytest.param({3, 5, 6, 9, 10, 11}, "3,5-6,9-11", id="several runs"),
    ],
)
def test_completed_indexes_are_written_as_intervals(indexes: set[int], text: str) -> None:
    assert jobpods.format_intervals(indexes) == text
    assert jobpods.parse_intervals(text) == indexes


@given(st.sets(st.integers(min_value=0, max_value=200)))
def test_intervals_read_back_what_was_written(indexes: set[int]) -> None:
    assert jobpods.parse_intervals(jobpods.format_intervals(indexes)) == indexes


def test_unreadable_intervals_are_skipped() -> None:
    assert jobpods.parse_intervals("1,x,3-a,5-6") == {1, 5, 6}


def indexed_pod(index: int, phase: str) -> dict[str, Any]:
    annotations = {"batch.kubernetes.io/job-completion-index": str(index)}
    return {"metadata": {"annotations": annotations}, "status": {"phase": phase}}


def test_pending_indexes_skip_the_done_and_the_busy() -> None:
    active = [indexed_pod(1, "Running")]
    assert jobpods.pending_indexes(5, {0, 3}, active, 2) == [2, 4]
    assert jobpods.pending_indexes(5, {0, 3}, active, 9) == [2, 4]
    assert jobpods.succeeded_indexes([indexed_pod(2, "Succeeded"), indexed_pod(7, "Succeeded"),
                                      indexed_pod(1, "Failed")], 5) == {2}  # fmt: skip


def failed_pod(seconds: int) -> dict[str, Any]:
    finished = rfc3339(T0 + timedelta(seconds=seconds))
    state = {"terminated": {"exitCode": 1, "finishedAt": finished}}
    return {"metadata": {}, "status": {"phase": "Failed", "containerStatuses": [{"state": state}]}}


@pytest.mark.parametrize(
    ("failed", "elapsed", "remaining"),
    [
        pytest.param(0, 0, None, id="no failure: no wait"),
        pytest.param(1, 0, 10, id="one failure: 10 s"),
        pytest.param(3, 15, 25, id="three: 40 s from the last, 15 s gone"),
        pytest.param(12, 0, 360, id="many: at most 6 minutes"),
        pytest.param(1, 10, None, id="waited out"),
    ],
)
def test_the_back_off_doubles_from_the_last_failure(
    failed: int, elapsed: int, remaining: int | None
) -> None:
    now = T0 + timedelta(seconds=elapsed)
    left = jobpods.backoff_remaining(failed, [failed_pod(0)], now)
    assert (left.total_seconds() if left else None) == remaining


def test_a_pod_being_deleted_is_terminating_not_active() -> None:
    pod = {"metadata": {"deletionTimestamp": rfc3339(T0)}, "status": {"phase": "Running"}}
    assert not jobpods.is_active(pod)
    assert jobpods.is_terminating(pod)
    pod["status"]["phase"] = "Succeeded"
    assert not jobpods.is_terminating(pod)
