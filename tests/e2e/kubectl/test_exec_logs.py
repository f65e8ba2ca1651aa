"""The real kubectl's `exec` and `logs` against the API server with a pod runtime attached.

The pod `web` is created with kubectl; a fake PodRuntime maps it to a throwaway network
namespace made here, where the json-mock stand-in listens on 127.0.0.1:8080 as the tutorial's
backend does, and runs exec there as the kubelet does. Each kubectl version gets a fresh
`--cache-dir`, as a new user would.

kubectl 1.30 and later speak WebSocket (v5.channel.k8s.io) to exec; 1.27-1.29 speak SPDY/3.1
(v4.channel.k8s.io): every exec test runs with both.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from podwall.apiserver import kubeletexec
from podwall.apiserver.kubeletexec import ExecTarget, LocalProcess
from podwall.apiserver.podruntime import ExecRequest, PodLookupError
from podwall.apiserver.server import Server
from podwall.runtime import images, process
from tests.e2e.kubectl.test_apiserver import Result, kubectl_binary

pytestmark = [pytest.mark.kubectl, pytest.mark.netns]

POD = """\
apiVersion: v1
kind: Pod
metadata: {name: web, labels: {app: web}}
spec:
  containers:
  - name: c
    image: cilium/json-mock
    env: [{name: PORT, value: "8080"}]
"""
NO_TTY = "Unable to use a TTY - input is not a terminal or the right kind of file\n"
WEBSOCKET_VERSIONS = [None, "1.30", "1.33"]  # None: the dispatcher, which runs 1.32
SPDY_VERSIONS = ["1.27", "1.28", "1.29"]
EXEC_VERSIONS = [*WEBSOCKET_VERSIONS, *SPDY_VERSIONS]


class FakeRuntime:
    """The pod `web` (container `c`) runs in `netns` and logs to `log_dir/c.log`."""

    def __init__(self, netns: str, log_dir: Path) -> None:
        self.netns = netns
        self.log_dir = log_dir

    def _check(self, namespace: str, pod: str, container: str | None) -> None:
        if (namespace, pod, container) != ("default", "web", "c"):
            raise PodLookupError(f'container not found ("{container}")')

    def check_container(self, namespace: str, pod: str, container: str) -> None:
        self._check(namespace, pod, container)

    def exec(self, namespace: str, pod: str, container: str, request: ExecRequest) -> LocalProcess:
        self._check(namespace, pod, container)
        target = ExecTarget(netns=self.netns, hostname="web", image="cilium/json-mock")
        return kubeletexec.start_in_pod(target, request)

    def log_path(self, namespace: str, pod: str, container: str | None) -> Path:
        self._check(namespace, pod, container)
        return self.log_dir / "c.log"


@dataclass
class Env:
    server: Server
    tmp: Path

    def command(self, *args: str, version: str | None = None) -> list[str]:
        cache = self.tmp / f"cache-{version or 'dispatcher'}"
        return [
            kubectl_binary(version),
            "--kubeconfig", str(self.server.kubeconfig_path), "--cache-dir", str(cache), *args,
        ]  # fmt: skip

    def kubectl(self, *args: str, version: str | None = None, stdin: str | None = None) -> Result:
        done = subprocess.run(
            self.command(*args, version=version),
            input=stdin,
            stdin=None if stdin is not None else subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=60,
            env=_env(),
            check=False,
        )
        return Result(done.returncode, done.stdout, done.stderr)


def _env() -> dict[str, str]:
    return {
        k: v for k, v in os.environ.items() if not k.startswith("KUBECTL_") and k != "KUBECONFIG"
    }


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    tmp = tmp_path_factory.mktemp("exec-logs")
    netns = "pw-t" + secrets.token_hex(4)
    subprocess.run(["ip", "netns", "add", netns], check=True, timeout=30)
    container: process.PodProcess | None = None
    server: Server | None = None
    try:
        subprocess.run(["ip", "-n", netns, "link", "set", "lo", "up"], check=True, timeout=30)
        launch = images.resolve(
            images.ContainerSpec(image="cilium/json-mock", env={"PORT": "8080"})
        )
        assert isinstance(launch, images.Launch)
        container = process.start_container(
            netns=netns, hostname="web", launch=launch,
            resolv_conf=process.resolv_conf("default"), hosts=process.hosts_file("web"),
            log_dir=tmp / "logs", container="c",
        )  # fmt: skip
        server = Server(tmp / "state", port=0, runtime=FakeRuntime(netns, tmp / "logs"))
        server.start()
        ready = Env(server, tmp)
        pod = tmp / "pod.yaml"
        pod.write_text(POD)
        assert ready.kubectl("apply", "-f", str(pod)).out == "pod/web created\n"
        _wait_for_log(tmp / "logs" / "c.log", b"JSON Server is running")
        yield ready
    finally:
        if server is not None:
            server.stop()
        if container is not None:
            container.stop()
        process.remove_pod_files(netns)
        subprocess.run(["ip", "netns", "del", netns], check=False, timeout=30)


def _wait_for_log(path: Path, text: bytes) -> None:
    deadline = time.monotonic() + 60
    while not (path.exists() and text in path.read_bytes()):
        assert time.monotonic() < deadline, f"{path} never said {text!r}"
        time.sleep(0.05)


@pytest.mark.parametrize("version", EXEC_VERSIONS)
def test_the_exit_code_reaches_kubectl(env: Env, version: str | None) -> None:
    result = env.kubectl("exec", "web", "--", "sh", "-c", "echo out; exit 28", version=version)
    assert (result.code, result.out, result.err) == (
        28,
        "out\n",
        "command terminated with exit code 28\n",
    )


@pytest.mark.parametrize("version", EXEC_VERSIONS)
def test_curl_reaches_the_pod_s_own_server(env: Env, version: str | None) -> None:
    result = env.kubectl(
        "exec", "web", "--", "curl", "-sI", "http://127.0.0.1:8080", version=version
    )
    assert result.code == 0, result.err
    assert result.out.splitlines()[0] == "HTTP/1.1 200 OK"
    assert "X-Powered-By: Express" in result.out


@pytest.mark.parametrize("version", EXEC_VERSIONS)
def test_ti_without_a_terminal_carries_on_without_a_tty(env: Env, version: str | None) -> None:
    result = env.kubectl(
        "exec", "-ti", "web", "--", "sh", "-c", "echo hi; tty; exit 0", version=version
    )
    assert (result.code, result.out, result.err) == (0, "hi\nnot a tty\n", NO_TTY)


@pytest.mark.parametrize("version", EXEC_VERSIONS)
def test_i_passes_stdin_through_and_ends_it(env: Env, version: str | None) -> None:
    result = env.kubectl("exec", "-i", "web", "--", "sh", "-c", "cat; echo done", stdin="abc\n",
                         version=version)  # fmt: skip
    assert (result.code, result.out, result.err) == (0, "abc\ndone\n", "")


@pytest.mark.parametrize("version", EXEC_VERSIONS)
def test_ti_in_a_terminal_gets_a_pty_of_the_terminal_s_size(env: Env, version: str | None) -> None:
    inner = " ".join(
        [
            "stty cols 100 rows 30;",
            *env.command("exec", "-ti", "web", "--", "sh", "-c", "'tty; stty size; exit 3'",
                         version=version),
        ]
    )  # fmt: skip
    terminal = subprocess.Popen(
        ["script", "-qec", inner, "/dev/null"],
        stdin=subprocess.PIPE,  # open and idle, as a terminal the user does not type into
        stdout=subprocess.PIPE,
        env=_env(),
    )
    assert terminal.stdin is not None
    assert terminal.stdout is not None
    try:
        output = terminal.stdout.read()  # until kubectl, and with it script, exits
        code = terminal.wait(timeout=60)
    finally:
        terminal.kill()
        terminal.wait()
        terminal.stdin.close()
        terminal.stdout.close()
    assert b"\r\n" in output  # a pty's line endings
    lines = output.decode().replace("\r\n", "\n").splitlines()
    assert code == 3, output
    assert lines[0].startswith("/dev/pts/")
    assert lines[1:] == ["30 100", "command terminated with exit code 3"]


def test_exec_errors_are_printed_as_upstream(env: Env) -> None:
    missing = env.kubectl("exec", "nosuch", "--", "true")
    assert (missing.code, missing.err) == (
        1,
        'Error from server (NotFound): pods "nosuch" not found\n',
    )
    container = env.kubectl("exec", "web", "-c", "nope", "--", "true")
    assert (container.code, container.err) == (
        1,
        "Error from server (BadRequest): container nope is not valid for pod web\n",
    )
    command = env.kubectl("exec", "web", "--", "no-such-command")
    assert command.code == 1
    assert command.err.startswith("error: Internal error occurred: error executing command")


@pytest.mark.parametrize("version", SPDY_VERSIONS)
def test_spdy_kubectl_gets_errors_as_upstream(env: Env, version: str) -> None:
    missing = env.kubectl("exec", "nosuch", "--", "true", version=version)
    assert (missing.code, missing.err) == (
        1,
        'Error from server (NotFound): pods "nosuch" not found\n',
    )
    command = env.kubectl("exec", "web", "--", "no-such-command", version=version)
    assert command.code == 1
    assert command.err.startswith("error: Internal error occurred: error executing command")


@pytest.mark.parametrize("version", [None, "1.27", "1.33"])
def test_logs(env: Env, version: str | None) -> None:
    result = env.kubectl("logs", "web", version=version)
    assert result.code == 0, result.err
    assert "json-mock JSON Server is running on port 8080" in result.out.splitlines()[0]
    tail = env.kubectl("logs", "web", "--tail=1", version=version)
    assert tail.out == result.out.splitlines(keepends=True)[-1]


@pytest.mark.parametrize("version", [None, "1.27", "1.33"])
def test_logs_follow_streams_until_stopped(env: Env, version: str | None) -> None:
    follower = subprocess.Popen(
        env.command("logs", "-f", "web", version=version),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=_env(),
    )
    try:
        assert follower.stdout is not None
        first = follower.stdout.readline()
        assert b"JSON Server is running on port 8080" in first
        marker = f"/follow-{secrets.token_hex(4)}"
        curl = env.kubectl("exec", "web", "--", "curl", "-s", "-o", "/dev/null",
                           f"http://127.0.0.1:8080{marker}")  # fmt: skip
        assert curl.code == 0, curl.err
        deadline = time.monotonic() + 60
        while marker.encode() not in follower.stdout.readline():
            assert time.monotonic() < deadline, "the request never showed in logs -f"
        assert follower.poll() is None, "logs -f ended by itself"
    finally:
        follower.terminate()
        follower.wait(timeout=10)
        for pipe in (follower.stdout, follower.stderr):
            if pipe is not None:
                pipe.close()


@pytest.mark.parametrize("version", [None, "1.27"])
def test_ctrl_c_in_a_terminal_interrupts_the_remote_command(env: Env, version: str | None) -> None:
    inner = " ".join(
        env.command(
            "exec", "-ti", "web", "--", "sh", "-c", "'echo ready; exec sleep 30'", version=version
        )
    )
    terminal = subprocess.Popen(
        ["script", "-qec", inner, "/dev/null"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env=_env(),
    )
    assert terminal.stdin is not None
    assert terminal.stdout is not None
    try:
        assert terminal.stdout.readline() == b"ready\r\n"
        terminal.stdin.write(b"\x03")  # what the user's ^C is in kubectl's raw terminal
        terminal.stdin.flush()
        rest = terminal.stdout.read()
        code = terminal.wait(timeout=30)
    finally:
        terminal.kill()
        terminal.wait()
        terminal.stdin.close()
        terminal.stdout.close()
    # 130 is SIGINT's: uninterrupted, `sleep 30` would have ended with 0 (no timing needed).
    assert (code, rest) == (130, b"^Ccommand terminated with exit code 130\r\n")
