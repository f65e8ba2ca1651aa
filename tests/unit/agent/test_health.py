"""The agent's HTTP port: liveness, readiness and the Prometheus exposition."""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest

from podwall.agent.health import HealthServer
from podwall.agent.metrics import Metrics


class Checks:
    def __init__(self) -> None:
        self.health: str | None = None
        self.readiness: str | None = "not ready: listing pods"


@pytest.fixture
def served() -> Iterator[tuple[str, Checks, Metrics]]:
    checks, metrics = Checks(), Metrics()
    server = HealthServer(
        "127.0.0.1",
        0,
        healthy=lambda: checks.health,
        ready=lambda: checks.readiness,
        metrics=metrics.exposition,
    )
    server.start()
    host, port = server.address
    try:
        yield f"http://{host}:{port}", checks, metrics
    finally:
        server.close()


def get(url: str) -> tuple[int, str, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as reply:
            return reply.status, reply.headers["Content-Type"], reply.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers["Content-Type"], exc.read().decode()


def test_readyz_says_why_not_until_ready(served: tuple[str, Checks, Metrics]) -> None:
    url, checks, _ = served
    assert get(url + "/readyz") == (503, "text/plain", "not ready: listing pods\n")
    checks.readiness = None
    assert get(url + "/readyz") == (200, "text/plain", "ok\n")


def test_healthz_fails_when_a_thread_ended(served: tuple[str, Checks, Metrics]) -> None:
    url, checks, _ = served
    assert get(url + "/healthz")[0] == 200
    checks.health = "watch threads ended: pods"
    assert get(url + "/healthz") == (500, "text/plain", "watch threads ended: pods\n")


def test_metrics_are_the_prometheus_text_format(served: tuple[str, Checks, Metrics]) -> None:
    url, _, metrics = served
    metrics.nft_errors.inc()
    status, kind, body = get(url + "/metrics")
    assert status == 200
    assert kind.startswith("text/plain; version=")
    assert "podwall_agent_nft_errors_total 1.0" in body.splitlines()
    assert "_created" not in body


def test_other_paths_are_not_found(served: tuple[str, Checks, Metrics]) -> None:
    url, _, _ = served
    assert get(url + "/")[0] == 404
