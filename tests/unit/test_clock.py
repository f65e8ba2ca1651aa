"""The wall clock the API server and the agent read: aware, in UTC, moving forward."""

from __future__ import annotations

from datetime import UTC, timedelta

from podwall.clock import utc_now


def test_now_is_utc_and_does_not_go_back() -> None:
    first = utc_now()
    assert first.tzinfo is UTC
    assert utc_now() - first >= timedelta(0)
