"""The wall clock in UTC, and the type of a clock: what the API server's and the node agent's
steps read the time from, and what a test hands them instead.

Owns nothing else; the pure layers never read it (their times are passed in).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)
