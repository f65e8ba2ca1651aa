"""Back-off: doubling up to a cap, drawn between half and all of it, reset by a success."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from podwall.agent.backoff import Backoff


def ceilings(backoff: Backoff, count: int) -> list[float]:
    return [backoff.next() for _ in range(count)]


def test_each_failure_doubles_the_delay_up_to_the_cap() -> None:
    backoff = Backoff(first=0.5, cap=3.0, draw=lambda low, high: high)
    assert ceilings(backoff, 5) == [0.5, 1.0, 2.0, 3.0, 3.0]


def test_a_success_starts_again_from_the_first_delay() -> None:
    backoff = Backoff(first=0.5, cap=30.0, draw=lambda low, high: high)
    ceilings(backoff, 4)
    backoff.reset()
    assert backoff.next() == 0.5


@given(failures=st.integers(min_value=1, max_value=2000), cap=st.floats(0.1, 60.0))
def test_the_delay_is_between_half_the_ceiling_and_the_ceiling(failures: int, cap: float) -> None:
    backoff = Backoff(first=0.2, cap=cap)
    for _ in range(failures - 1):
        backoff.next()
    ceiling = min(cap, 0.2 * 2 ** min(failures - 1, 32))
    assert ceiling / 2 <= backoff.next() <= ceiling
