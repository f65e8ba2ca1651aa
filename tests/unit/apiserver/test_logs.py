"""pods/log over a real HTTPS server on loopback, with a fake runtime whose log is a temp file."""

from __future__ import annotations

import os
import re
import ssl
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from starlette.datastructures import QueryParams

from podwall.apiserver import logs
from podwall.apiserver.errors import ApiError
from podwall.apiserver.podruntime import ExecProcess, ExecRequest, PodLookupError
from podwall.apiserver.server import Server
from podwall.runtime import containerlogs

POD = {
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {"name": "web"},
    "spec": {"containers": [{"name": "c", "image": "alpine"}, {"name": "side", "image": "x"}]},
}
LOG = "/api/v1/namespaces/default/pods/web/log"
STAMP = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z "


class FakeRuntime:
    """Container `c` of `web` logs to `path`; `side` is not running."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def check_container(self, namespace: str, pod: str, container: str) -> None:
        raise PodLookupError("not used here")

    def exec(self, namespace: str, pod: str, container: str, request: ExecRequest) -> ExecProcess:
        raise PodLookupError("not used here")

    def log_path(self, namespace: str, pod: str, container: str | None) -> Path:
        if container != "c":
            raise PodLookupError(
                f'container "{container}" in pod "{pod}" is waiting to start: ContainerCreating'
            )
        return self.path


def test_stamp_prefixes_only_line_starts() -> None:
    moment = datetime(2025, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)
    data, open_line = logs.stamp(b"a\nb", moment, True)
    assert data == b"2025-01-02T03:04:05.678901000Z a\n2025-01-02T03:04:05.678901000Z b"
    assert open_line is False
    assert logs.stamp(b"c\n", moment, False) == (b"c\n", True)


def test_last_lines_reads_from_the_end(tmp_path: Path) -> None:
    path = tmp_path / "log"
    path.write_bytes(b"".join(b"line %d\n" % i for i in range(20000)))
    size = path.stat().st_size
    assert logs.last_lines(path, 2, size) == b"line 19998\nline 19999\n"
    assert logs.last_lines(path, 0, size) == b""
    assert logs.last_lines(path, 10**6, size) == path.read_bytes()


def test_options_reject_bad_numbers() -> None:
    with pytest.raises(ApiError, match="tailLines"):
        logs.log_options(QueryParams("tailLines=x"))
    with pytest.raises(ApiError, match="greater than or equal to 0"):
        logs.log_options(QueryParams("tailLines=-1"))
    with pytest.raises(ApiError, match="at most one of"):
        logs.log_options(QueryParams("sinceSeconds=5&sinceTime=2025-01-01T00:00:00Z"))
    assert logs.log_options(QueryParams("follow=true&tailLines=3")).tail_lines == 3


@pytest.fixture
def log_file(tmp_path: Path) -> Path:
    path = tmp_path / "c.log"
    path.write_bytes(b"one\ntwo\nthree\n")
    return path


def _start(state: Path, runtime: FakeRuntime | None) -> Server:
    server = Server(state, port=0, runtime=runtime)
    server.start()
    with _client(server) as client:
        assert client.post("/api/v1/namespaces/default/pods", json=POD).status_code == 201
    return server


@pytest.fixture
def server(tmp_path: Path, log_file: Path) -> Iterator[Server]:
    s = _start(tmp_path / "state", FakeRuntime(log_file))
    try:
        yield s
    finally:
        s.stop()


def _client(server: Server) -> httpx.Client:
    return httpx.Client(
        base_url=server.url,
        verify=ssl.create_default_context(cafile=str(server.state_dir / "ca.crt")),
        headers={"Authorization": f"Bearer {server.token}"},
        timeout=10,
    )


def get(server: Server, query: str = "container=c") -> httpx.Response:
    with _client(server) as client:
        return client.get(f"{LOG}?{query}")


def test_the_whole_log_as_text(server: Server) -> None:
    response = get(server)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert response.content == b"one\ntwo\nthree\n"


def test_tail_limit_and_timestamps(server: Server) -> None:
    assert get(server, "container=c&tailLines=2").content == b"two\nthree\n"
    assert get(server, "container=c&limitBytes=5").content == b"one\nt"
    stamped = get(server, "container=c&timestamps=true&tailLines=1").text
    assert re.fullmatch(STAMP + "three\n", stamped)


def test_since_skips_a_log_not_written_since(server: Server, log_file: Path) -> None:
    assert get(server, "container=c&sinceSeconds=60").content == b"one\ntwo\nthree\n"
    old = time.time() - 3600
    os.utime(log_file, (old, old))
    assert get(server, "container=c&sinceSeconds=60").content == b""
    assert get(server, "container=c&sinceTime=2000-01-01T00:00:00Z").content != b""


def test_previous_reads_the_instance_before_the_last_restart(
    server: Server, log_file: Path
) -> None:
    containerlogs.rotate(log_file)
    log_file.write_bytes(b"again\n")
    assert get(server, "container=c&previous=true&follow=true").content == b"one\ntwo\nthree\n"
    assert get(server, "container=c").content == b"again\n"


def test_errors_are_statuses(server: Server) -> None:
    previous = get(server, "container=c&previous=true")
    assert (previous.status_code, previous.json()["message"]) == (
        400,
        'previous terminated container "c" in pod "web" not found',
    )
    bad = get(server, "container=nope")
    assert (bad.status_code, bad.json()["message"]) == (
        400,
        "container nope is not valid for pod web",
    )
    waiting = get(server, "container=side")
    assert (waiting.status_code, waiting.json()["message"]) == (
        400,
        'container "side" in pod "web" is waiting to start: ContainerCreating',
    )
    several = get(server, "")
    assert several.status_code == 400
    assert several.json()["message"] == (
        "a container name must be specified for pod web, choose one of: [c side]"
    )
    with _client(server) as client:
        missing = client.get("/api/v1/namespaces/default/pods/nosuch/log")
    assert (missing.status_code, missing.json()["message"]) == (404, 'pods "nosuch" not found')


def test_without_a_runtime_logs_say_so(tmp_path: Path) -> None:
    server = _start(tmp_path / "state", None)
    try:
        response = get(server)
        assert response.status_code == 503
        assert response.json()["message"].startswith("pod runtime not attached")
    finally:
        server.stop()


def _append_later(path: Path, data: bytes, delay: float) -> threading.Timer:
    def append() -> None:
        with path.open("ab") as handle:
            handle.write(data)

    timer = threading.Timer(delay, append)
    timer.start()
    return timer


def test_follow_streams_new_lines_until_the_pod_is_deleted(server: Server, log_file: Path) -> None:
    with _client(server) as client, client.stream("GET", f"{LOG}?container=c&follow=true") as r:
        assert r.status_code == 200
        chunks = r.iter_bytes()
        assert next(chunks) == b"one\ntwo\nthree\n"
        timer = _append_later(log_file, b"four\n", 0.3)
        assert next(chunks) == b"four\n"
        timer.join()
        assert client.delete("/api/v1/namespaces/default/pods/web").status_code == 200
        # The server ends the stream: one it kept open would fail on the client's read timeout.
        assert list(chunks) == []


def test_follow_ends_when_the_container_terminated(server: Server, log_file: Path) -> None:
    assert server.store is not None

    def terminate(pod: dict[str, object]) -> dict[str, object]:
        pod["status"] = {"containerStatuses": [{"name": "c", "state": {"terminated": {}}}]}
        return pod

    with _client(server) as client, client.stream("GET", f"{LOG}?container=c&follow=true") as r:
        chunks = r.iter_bytes()
        assert next(chunks) == b"one\ntwo\nthree\n"
        server.store.mutate("pods", "default", "web", terminate)
        with log_file.open("ab") as handle:
            handle.write(b"last words\n")
        assert b"".join(chunks) == b"last words\n"


def test_follow_with_timestamps_stamps_new_lines(server: Server, log_file: Path) -> None:
    query = "container=c&follow=true&timestamps=true&tailLines=0"
    with _client(server) as client, client.stream("GET", f"{LOG}?{query}") as r:
        chunks = r.iter_bytes()
        timer = _append_later(log_file, b"new\n", 0.3)
        assert re.fullmatch(STAMP + "new\n", next(chunks).decode())
        timer.join()


def test_a_follower_that_goes_away_is_let_go(server: Server) -> None:
    for _ in range(3):  # each stream ends with its client
        with _client(server) as client, client.stream("GET", f"{LOG}?container=c&follow=true") as r:
            assert next(r.iter_bytes()) == b"one\ntwo\nthree\n"
    # Let go: no request of theirs is left running for stop() to wait on or cancel (seen in
    # the server's own state; a wall-clock bound on stop() was a guess a loaded machine beat).
    assert server._uvicorn is not None
    state = server._uvicorn.server_state
    deadline = time.monotonic() + 60
    while state.tasks or state.connections:
        assert time.monotonic() < deadline, f"left running: {state.tasks} {state.connections}"
        time.sleep(0.02)
    server.stop()
