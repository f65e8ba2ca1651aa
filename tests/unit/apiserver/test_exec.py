"""pods/exec over a real HTTPS server on loopback, with the `websockets` client as kubectl.

The query checks need nothing. The WebSocket tests run commands in a throwaway network namespace
made here (`netns` marker), through a fake PodRuntime that maps the pod `web` to it and starts
commands there as the kubelet does (kubeletexec).
"""

from __future__ import annotations

import json
import os
import secrets
import ssl
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from starlette.datastructures import QueryParams
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection, connect

from podwall.apiserver import exec as pod_exec
from podwall.apiserver import kubeletexec
from podwall.apiserver.errors import ApiError
from podwall.apiserver.kubeletexec import ExecTarget, LocalProcess
from podwall.apiserver.podruntime import ExecRequest, PodLookupError
from podwall.apiserver.server import Server
from podwall.runtime import process

V5 = "v5.channel.k8s.io"
V4 = "v4.channel.k8s.io"
POD = {
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {"name": "web"},
    "spec": {"containers": [{"name": "c", "image": "alpine"}]},
}


# Pure parts.


def test_options_need_a_command_and_a_stream() -> None:
    with pytest.raises(ApiError, match="at least one command"):
        pod_exec.exec_options(QueryParams("stdout=true"))
    with pytest.raises(ApiError, match="at least 1 of stdin, stdout, stderr"):
        pod_exec.exec_options(QueryParams("command=ls"))


def test_options_with_a_tty_drop_stderr() -> None:
    options = pod_exec.exec_options(
        QueryParams("command=sh&command=-c&command=x&stdout=true&stderr=true&tty=true&container=c")
    )
    assert options.command == ("sh", "-c", "x")
    assert (options.stdin, options.stdout, options.stderr, options.tty) == (
        False,
        True,
        False,
        True,
    )
    assert options.container == "c"


# Over a real server.


class FakeRuntime:
    """The pod `web` (container `c`) lives in `netns`; anything else is not running."""

    def __init__(self, netns: str, log_dir: Path) -> None:
        self.netns = netns
        self.log_dir = log_dir

    def check_container(self, namespace: str, pod: str, container: str) -> None:
        if (namespace, pod, container) != ("default", "web", "c"):
            raise PodLookupError(f'container not found ("{container}")')

    def exec(self, namespace: str, pod: str, container: str, request: ExecRequest) -> LocalProcess:
        self.check_container(namespace, pod, container)
        target = ExecTarget(
            netns=self.netns, hostname="web", image="alpine", env={"GREETING": "hi"}
        )
        return kubeletexec.start_in_pod(target, request)

    def log_path(self, namespace: str, pod: str, container: str | None) -> Path:
        return self.log_dir / f"{container}.log"


@pytest.fixture(scope="module")
def netns() -> Iterator[str]:
    if os.geteuid() != 0:
        pytest.skip("needs root (a network namespace)")
    name = "pw-t" + secrets.token_hex(4)
    subprocess.run(["ip", "netns", "add", name], check=True, timeout=30)
    try:
        subprocess.run(["ip", "-n", name, "link", "set", "lo", "up"], check=True, timeout=30)
        process.write_pod_files(
            name, hostname="web", resolv_conf=process.resolv_conf("default"),
            hosts=process.hosts_file("web"),
        )  # fmt: skip
        yield name
    finally:
        process.remove_pod_files(name)
        subprocess.run(["ip", "netns", "del", name], check=False, timeout=30)


def _start(state: Path, runtime: FakeRuntime | None) -> Server:
    server = Server(state, port=0, runtime=runtime)
    server.start()
    with _http(server) as client:
        assert client.post("/api/v1/namespaces/default/pods", json=POD).status_code == 201
    return server


@pytest.fixture(scope="module")
def server(netns: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("exec")
    s = _start(tmp / "state", FakeRuntime(netns, tmp / "logs"))
    try:
        yield s
    finally:
        s.stop()


def _ssl(server: Server) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(server.state_dir / "ca.crt"))


def _http(server: Server) -> httpx.Client:
    return httpx.Client(
        base_url=server.url,
        verify=_ssl(server),
        headers={"Authorization": f"Bearer {server.token}"},
        timeout=10,
    )


def exec_url(server: Server, command: list[str], pod: str = "web", **flags: Any) -> str:
    query: list[tuple[str, str]] = [("command", c) for c in command]
    query += [(k, str(v).lower() if isinstance(v, bool) else str(v)) for k, v in flags.items()]
    base = server.url.replace("https://", "wss://")
    return f"{base}/api/v1/namespaces/default/pods/{pod}/exec?{urlencode(query)}"


def open_exec(
    server: Server,
    command: list[str],
    *,
    protocols: tuple[str, ...] = (V5,),
    token: str | None = None,
    **flags: Any,
) -> ClientConnection:
    flags.setdefault("container", "c")
    return connect(
        exec_url(server, command, **flags),
        ssl=_ssl(server),
        subprotocols=list(protocols),  # type: ignore[arg-type]
        additional_headers={"Authorization": f"Bearer {token or server.token}"},
        compression=None,
        proxy=None,
        open_timeout=10,
    )


def collect(ws: ClientConnection, timeout: float = 60) -> tuple[dict[int, bytes], list[Any], int]:
    """Everything the server sends until it closes: bytes per channel, Statuses, close code."""
    streams: dict[int, bytes] = {}
    statuses: list[Any] = []
    deadline = time.monotonic() + timeout
    try:
        while True:
            message = ws.recv(timeout=max(0.1, deadline - time.monotonic()))
            assert isinstance(message, bytes), "text frames make kubectl abort"
            channel, data = message[0], message[1:]
            assert not statuses, f"channel {channel} after the Status"
            if channel == pod_exec.ERROR:
                statuses.append(json.loads(data))
            else:
                streams[channel] = streams.get(channel, b"") + data
    except ConnectionClosed:
        pass
    assert ws.close_code is not None
    return streams, statuses, ws.close_code


def recv_bytes(ws: ClientConnection, timeout: float = 60) -> bytes:
    message = ws.recv(timeout=timeout)
    assert isinstance(message, bytes), "text frames make kubectl abort"
    return message


def run(
    server: Server, command: list[str], stdin: bytes | None = None, **flags: Any
) -> tuple[dict[int, bytes], list[Any], int]:
    flags.setdefault("stdout", True)
    flags.setdefault("stderr", True)
    with open_exec(server, command, stdin=stdin is not None, **flags) as ws:
        if stdin is not None:
            ws.send(bytes([pod_exec.STDIN]) + stdin)
            ws.send(bytes([pod_exec.CLOSE, pod_exec.STDIN]))
        return collect(ws)


def denial(error: pytest.ExceptionInfo[InvalidStatus]) -> tuple[int, Any]:
    response = error.value.response
    return response.status_code, json.loads(response.body or b"{}")


@pytest.mark.netns
def test_stdout_stderr_then_success_then_close_1000(server: Server) -> None:
    streams, statuses, code = run(server, ["sh", "-c", "echo out; echo err >&2; echo $GREETING"])
    assert streams == {1: b"out\nhi\n", 2: b"err\n"}
    assert statuses == [{"metadata": {}, "status": "Success"}]
    assert code == 1000


@pytest.mark.netns
def test_a_non_zero_exit_is_one_failure_status_with_the_code(server: Server) -> None:
    streams, statuses, code = run(server, ["sh", "-c", "echo before; exit 28"])
    assert streams == {1: b"before\n"}
    assert len(statuses) == 1
    assert statuses[0]["reason"] == "NonZeroExitCode"
    assert statuses[0]["details"]["causes"] == [{"reason": "ExitCode", "message": "28"}]
    assert code == 1000


@pytest.mark.netns
def test_killed_by_a_signal_is_128_plus_the_signal(server: Server) -> None:
    _, statuses, _ = run(server, ["sh", "-c", "kill -9 $$"])
    assert statuses[0]["details"]["causes"] == [{"reason": "ExitCode", "message": "137"}]


@pytest.mark.netns
def test_the_command_runs_as_the_pod_user_with_the_pod_hostname(server: Server, netns: str) -> None:
    streams, _, _ = run(server, ["sh", "-c", "id -u; hostname"])
    assert streams[1] == f"{process.pod_uid(netns)}\nweb\n".encode()


@pytest.mark.netns
def test_stdin_and_its_close(server: Server) -> None:
    streams, statuses, _ = run(server, ["cat"], stdin=b"hello stdin\n")
    assert streams[1] == b"hello stdin\n"
    assert statuses == [{"metadata": {}, "status": "Success"}]


@pytest.mark.netns
def test_all_output_is_flushed_before_the_status(server: Server) -> None:
    streams, statuses, _ = run(server, ["sh", "-c", "head -c 1000000 /dev/zero | tr '\\0' a"])
    assert streams[1] == b"a" * 1_000_000
    assert len(statuses) == 1


@pytest.mark.netns
def test_a_tty_starts_at_the_first_size_and_follows_resizes(server: Server) -> None:
    command = ["sh", "-c", "stty size; read line; stty size; exit 3"]
    with open_exec(server, command, stdin=True, stdout=True, tty=True) as ws:
        ws.send(bytes([pod_exec.RESIZE]) + b'{"Width":100,"Height":30}\n')
        assert recv_bytes(ws) == b"\x0130 100\r\n"
        # No pause between the two: the server sets the pty's size as it reads the resize,
        # before it queues the stdin sent after it, so `stty size` sees 40 120.
        ws.send(bytes([pod_exec.RESIZE]) + b'{"Width":120,"Height":40}\n')
        ws.send(bytes([pod_exec.STDIN]) + b"go\n")
        streams, statuses, code = collect(ws)
    assert streams[1] == b"go\r\n40 120\r\n"  # the pty echoes input
    assert 2 not in streams
    assert statuses[0]["details"]["causes"] == [{"reason": "ExitCode", "message": "3"}]
    assert code == 1000


@pytest.mark.netns
def test_a_tty_merges_stderr_into_stdout(server: Server) -> None:
    streams, _, _ = run(server, ["sh", "-c", "echo err >&2; tty"], tty=True, stderr=False)
    assert streams[1].startswith(b"err\r\n/dev/pts/")
    assert 2 not in streams


@pytest.mark.netns
def test_v4_is_accepted_too(server: Server) -> None:
    with open_exec(server, ["true"], protocols=(V4,), stdout=True) as ws:
        assert ws.subprotocol == V4
        _, statuses, _ = collect(ws)
    assert statuses == [{"metadata": {}, "status": "Success"}]


@pytest.mark.netns
def test_a_missing_command_is_an_internal_error_status_after_the_upgrade(server: Server) -> None:
    _, statuses, code = run(server, ["no-such-command-here"])
    assert statuses[0]["reason"] == "InternalError"
    assert statuses[0]["code"] == 500
    assert "no-such-command-here" in statuses[0]["message"]
    assert code == 1000


@pytest.mark.netns
def test_a_client_that_goes_away_kills_the_command(server: Server) -> None:
    marker = f"{secrets.randbelow(10**6) + 10**6}"
    ws = open_exec(server, ["sleep", marker], stdout=True)
    deadline = time.monotonic() + 60
    while not _pids_running("sleep", marker):
        assert time.monotonic() < deadline, "the command did not start"
        time.sleep(0.05)
    ws.close_socket()
    deadline = time.monotonic() + 60
    while _pids_running("sleep", marker):
        assert time.monotonic() < deadline, "the command outlived its client"
        time.sleep(0.05)


def _pids_running(*argv: str) -> list[int]:
    wanted = ("\0".join(argv) + "\0").encode()
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "cmdline").read_bytes() == wanted:
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


@pytest.mark.netns
def test_errors_before_the_upgrade_are_status_replies(server: Server) -> None:
    with pytest.raises(InvalidStatus) as missing:
        open_exec(server, ["true"], pod="nosuch", stdout=True)
    code, body = denial(missing)
    assert (code, body["reason"], body["message"]) == (404, "NotFound", 'pods "nosuch" not found')
    with pytest.raises(InvalidStatus) as container:
        open_exec(server, ["true"], container="nope", stdout=True)
    code, body = denial(container)
    assert (code, body["message"]) == (400, "container nope is not valid for pod web")
    with pytest.raises(InvalidStatus) as no_command:
        open_exec(server, [], stdout=True)
    assert denial(no_command)[0] == 400
    with pytest.raises(InvalidStatus) as protocol:
        open_exec(server, ["true"], protocols=("channel.k8s.io",), stdout=True)
    assert "not supported" in denial(protocol)[1]["message"]


@pytest.mark.netns
def test_without_the_token_there_is_no_upgrade(server: Server) -> None:
    with pytest.raises(InvalidStatus):
        open_exec(server, ["true"], token="wrong", stdout=True)


@pytest.mark.netns
def test_the_spdy_request_gets_the_same_errors_before_the_upgrade(server: Server) -> None:
    spdy = {"Connection": "Upgrade", "Upgrade": "SPDY/3.1"}
    path = "/api/v1/namespaces/default/pods/{}/exec?command=true&stdout=true&container=c"
    with _http(server) as client:
        missing = client.post(path.format("nosuch"), headers=spdy)
        assert (missing.status_code, missing.json()["reason"]) == (404, "NotFound")
        old = client.post(
            path.format("web"), headers={**spdy, "X-Stream-Protocol-Version": "channel.k8s.io"}
        )
        unauthorized = client.post(
            path.format("web"), headers={**spdy, "Authorization": "Bearer wrong"}
        )
    assert (old.status_code, old.json()["reason"]) == (403, "Forbidden")
    assert old.json()["message"].startswith("unable to upgrade: unable to negotiate protocol")
    assert unauthorized.status_code == 401


def test_without_a_runtime_exec_says_so(tmp_path: Path) -> None:
    server = _start(tmp_path / "state", None)
    try:
        with pytest.raises(InvalidStatus) as refused:
            open_exec(server, ["true"], stdout=True)
        code, body = denial(refused)
        assert code == 503
        assert body["message"].startswith("pod runtime not attached")
    finally:
        server.stop()


@pytest.mark.netns
def test_a_tty_is_the_controlling_terminal_so_ctrl_c_interrupts(server: Server) -> None:
    command = ["sh", "-c", "echo x > /dev/tty && echo ready; exec sleep 30"]
    with open_exec(server, command, stdin=True, stdout=True, tty=True) as ws:
        ws.send(bytes([pod_exec.RESIZE]) + b'{"Width":80,"Height":24}')
        seen = b""
        while not seen.endswith(b"ready\r\n"):
            seen += recv_bytes(ws)[1:]
        assert seen == b"x\r\nready\r\n"  # /dev/tty opens: the pty is the controlling tty
        time.sleep(0.2)  # sleep runs
        ws.send(bytes([pod_exec.STDIN]) + b"\x03")
        streams, statuses, _ = collect(ws)
    assert streams.get(1, b"") == b"^C"  # the pty echoes it
    assert statuses[0]["details"]["causes"] == [{"reason": "ExitCode", "message": "130"}]
