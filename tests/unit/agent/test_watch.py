"""The informer against a scripted API server: paged lists, watches resumed from the last
resourceVersion, bookmarks, a new list after 410 Gone, back-off on errors."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from podwall.agent import kinds
from podwall.agent.backoff import Backoff
from podwall.agent.cache import Cache
from podwall.agent.client import ApiError, Unreachable
from podwall.agent.metrics import Metrics
from podwall.agent.watch import Informer
from tests.unit.agent.objects import cluster_policy, pod

Step = dict[str, Any] | Exception | list[dict[str, Any]]


class FakeStream:
    def __init__(self, events: list[dict[str, Any]], then: Exception | None) -> None:
        self._events = events
        self._then = then

    def events(self) -> Iterator[dict[str, Any]]:
        yield from self._events
        if self._then is not None:
            raise self._then

    def close(self) -> None:
        pass


class FakeConnection:
    """Answers from a script: a dict is a list page, a list is a watch's events, an exception
    is raised (by the request, or by a watch after its events when it follows a list). At
    the end of the script it sets `stop` and answers one last empty watch."""

    def __init__(self, script: list[Step], stop: threading.Event) -> None:
        self.script = list(script)
        self.stop = stop
        self.calls: list[tuple[str, dict[str, str | int]]] = []

    def _next(self) -> Step:
        if not self.script:
            self.stop.set()
            return []
        return self.script.pop(0)

    def request(self, method: str, path: str, query: Any = (), body: Any = None) -> Any:
        self.calls.append(("list", dict(query)))
        step = self._next()
        if isinstance(step, Exception):
            raise step
        assert isinstance(step, dict), f"expected a list, the script has {step!r}"
        return step

    def stream(self, path: str, query: Any, read_seconds: float) -> FakeStream:
        self.calls.append(("watch", dict(query)))
        step = self._next()
        if isinstance(step, Exception):
            raise step
        assert isinstance(step, list), f"expected a watch, the script has {step!r}"
        then = self.script.pop(0) if self.script and isinstance(self.script[0], Exception) else None
        assert then is None or isinstance(then, Exception)
        return FakeStream(step, then)


def page(items: list[dict[str, Any]], rv: str, more: str = "") -> dict[str, Any]:
    return {"items": items, "metadata": {"resourceVersion": rv, "continue": more}}


def event(kind: str, obj: dict[str, Any]) -> dict[str, Any]:
    return {"type": kind, "object": obj}


def run(
    script: list[Step], kind: kinds.Kind = kinds.PODS
) -> tuple[FakeConnection, Cache, Metrics, Informer]:
    stop = threading.Event()
    connection = FakeConnection(script, stop)
    cache = Cache([kind])
    metrics = Metrics()
    informer = Informer(
        connection,  # type: ignore[arg-type]
        kind,
        cache,
        metrics,
        stop,
        backoff=Backoff(draw=lambda low, high: 0.0),
        page_size=2,
    )
    informer.start()
    assert stop.wait(10), "the script did not run to its end"
    informer.close()
    return connection, cache, metrics, informer


def names(cache: Cache) -> list[str]:
    return sorted(p.name for p in cache.snapshot().cluster.pods)


def sample(metrics: Metrics, name: str, **labels: str) -> float:
    value = metrics.registry.get_sample_value(name, labels)
    return 0.0 if value is None else value


def test_a_list_is_read_page_by_page_then_watched_from_its_version() -> None:
    connection, cache, _, informer = run(
        [page([pod("a"), pod("b")], "", more="token"), page([pod("c")], "15")]
    )
    assert names(cache) == ["a", "b", "c"]
    assert [c[1].get("continue") for c in connection.calls[:2]] == [None, "token"]
    watch = connection.calls[2][1]
    assert watch["resourceVersion"] == "15"
    assert watch["allowWatchBookmarks"] == "true"
    assert informer.listed.is_set()


def test_watch_events_change_the_cache_and_the_next_watch_resumes_after_them() -> None:
    connection, cache, metrics, _ = run(
        [
            page([pod("a", rv="3")], "10"),
            [event("ADDED", pod("b", rv="11")), event("DELETED", pod("a", rv="12"))],
            [event("BOOKMARK", {"metadata": {"resourceVersion": "40"}})],
        ]
    )
    assert names(cache) == ["b"]
    watches = [c[1]["resourceVersion"] for c in connection.calls if c[0] == "watch"]
    assert watches == ["10", "12", "40"]
    assert sample(metrics, "podwall_agent_watch_restarts_total", kind="pods", reason="closed") == 3
    assert cache.snapshot().resource_versions["pods"] == "40"


def test_410_gone_lists_again_and_replaces_the_kind() -> None:
    gone = {"kind": "Status", "code": 410, "reason": "Expired", "message": "too old"}
    _, cache, metrics, _ = run(
        [
            page([pod("a"), pod("b")], "10"),
            [event("ERROR", gone)],
            page([pod("b")], "50"),
        ]
    )
    assert names(cache) == ["b"]
    assert sample(metrics, "podwall_agent_relists_total", kind="pods") == 1
    assert sample(metrics, "podwall_agent_watch_restarts_total", kind="pods", reason="expired") == 1


def test_a_failure_is_logged_backed_off_and_the_watch_resumes_where_it_was(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, "podwall.agent.watch")
    connection, cache, metrics, informer = run(
        [
            page([], "10"),
            [event("ADDED", pod("a", rv="11"))],
            Unreachable("Connection reset by peer"),
            Unreachable("Connection refused"),
            ApiError(503, "Service Unavailable", "etcd is down"),
            [event("ADDED", pod("b", rv="12"))],
        ]
    )
    assert names(cache) == ["a", "b"]
    watches = [c[1]["resourceVersion"] for c in connection.calls if c[0] == "watch"]
    assert watches == ["10", "11", "11", "11", "12"]
    logged = [r.getMessage() for r in caplog.records]
    assert logged == [
        "watch failed kind=pods error=Connection reset by peer retry_in=0.0s",
        "watch failed kind=pods error=Connection refused retry_in=0.0s",
        "watch failed kind=pods error=503 Service Unavailable: etcd is down retry_in=0.0s",
    ]
    assert sample(metrics, "podwall_agent_watch_restarts_total", kind="pods", reason="error") == 3
    assert informer.error is None  # cleared by the watch that worked


def test_a_refused_list_is_kept_as_the_error_for_start_up_to_read() -> None:
    forbidden = ApiError(403, "Forbidden", 'pods is forbidden: User "x" cannot list resource')
    _, _, _, informer = run([forbidden])
    assert informer.error is forbidden
    assert not informer.listed.is_set()


NOT_FOUND = ApiError(404, "NotFound", "the server could not find the requested resource")


def cnp_names(cache: Cache) -> list[str]:
    return sorted(p.name for p in cache.snapshot().cluster.cluster_policies)


def test_an_optional_kind_not_served_is_none_logged_once_and_checked_again(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, "podwall.agent.watch")
    connection, cache, _, informer = run(
        [NOT_FOUND, NOT_FOUND, NOT_FOUND, page([cluster_policy("deny-a")], "20")],
        kinds.CLUSTER_NETWORK_POLICIES,
    )
    assert informer.listed.is_set()
    assert informer.error is None
    assert cnp_names(cache) == ["deny-a"]
    assert [c[0] for c in connection.calls] == ["list", "list", "list", "list", "watch"]
    logged = [
        r.getMessage() for r in caplog.records if "kind=clusternetworkpolicies" in r.getMessage()
    ]
    assert logged[0].startswith("the API server does not serve kind=clusternetworkpolicies")
    assert sum("does not serve" in m for m in logged) == 1
    assert "kind=clusternetworkpolicies is served now" in logged


def test_an_optional_kind_whose_crd_goes_away_is_emptied() -> None:
    _, cache, _, informer = run(
        [page([cluster_policy("deny-a")], "20"), [], NOT_FOUND], kinds.CLUSTER_NETWORK_POLICIES
    )
    assert cnp_names(cache) == []
    assert informer.listed.is_set()


def test_a_404_on_a_built_in_kind_is_an_error() -> None:
    _, _, _, informer = run([NOT_FOUND])
    assert informer.error is NOT_FOUND
    assert not informer.listed.is_set()
