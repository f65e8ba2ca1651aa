"""The recipes' two-port app: a hello on 8000, the recipe's metrics on 5000."""

from __future__ import annotations

import pytest

from podwall.runtime.standins.twoports import API_PORT, METRICS_PORT, Counter, answer


def test_the_metrics_are_the_recipes_lines_with_the_request_count() -> None:
    status, body = answer(METRICS_PORT, "/metrics", 3)
    assert status == 200
    assert body == b"http.requests=3\ngo.goroutines=5\ngo.cpus=1\n"


@pytest.mark.parametrize(
    ("port", "path", "status"),
    [(API_PORT, "/", 200), (API_PORT, "/anything", 200), (METRICS_PORT, "/", 404)],
    ids=["the api's hello", "the api answers every path", "metrics only at /metrics"],
)
def test_each_port_answers_its_own_paths(port: int, path: str, status: int) -> None:
    assert answer(port, path, 1)[0] == status


def test_the_counter_counts_requests_from_one() -> None:
    counter = Counter()
    assert [counter.count() for _ in range(3)] == [1, 2, 3]
