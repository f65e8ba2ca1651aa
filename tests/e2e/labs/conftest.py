"""A fresh `podwall up` per lab, and kubectl as the lab's reader types it.

`lab` starts the cluster in a throwaway state directory on a random loopback port and always
takes it down (`podwall down`), also when the test fails. `Lab.kubectl(...)` runs the real
kubectl (the dispatcher's, 1.32); `Lab.session(...)` runs an interactive `kubectl run -i/-t`
with the commands the reader would type fed to its stdin, under `script` when the lab asks for
a terminal (-t), and returns what the reader sees.
"""

from __future__ import annotations

import os
import random
import select
import shlex
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

import podwall

SRC = Path(podwall.__file__).resolve().parents[1]
TIMEOUT = 120


@dataclass
class Lab:
    work: Path
    env: dict[str, str]

    def kubectl(self, *args: str, check: bool = True, stdin: str | None = None) -> str:
        """kubectl ARGS; its stdout and stderr together, as the reader sees them."""
        result = subprocess.run(
            ["kubectl", *args], env=self.env, cwd=self.work, input=stdin,
            capture_output=True, text=True, timeout=TIMEOUT, check=False,
        )  # fmt: skip
        out = result.stdout + result.stderr
        if check:
            assert result.returncode == 0, f"kubectl {shlex.join(args)}: {out}"
        return out

    def session(self, command: str, typed: list[str], *, tty: bool) -> str:
        """`command` (a kubectl run/attach line), with `typed` as the reader's input lines, then
        `exit`; what the terminal shows (without the terminal's escapes)."""
        text = "".join(f"{line}\n" for line in [*typed, "exit"])
        argv = ["script", "-qec", command, "/dev/null"] if tty else ["bash", "-c", command]
        result = subprocess.run(
            argv, env=self.env, cwd=self.work, input=text, capture_output=True, text=True,
            timeout=TIMEOUT, check=False,
        )  # fmt: skip
        return _plain(result.stdout + result.stderr)

    def terminal(self, command: str, steps: list[tuple[str, str]]) -> str:
        """`command` under a terminal, typed at as a reader does: for each (keys, shown) step,
        wait until the screen shows `shown` since the last keys, then type `keys` (a line
        with its newline, or a control key such as Ctrl-C, "\\x03"); then `exit`. What the
        terminal showed. For what must wait on the screen (a command that runs until Ctrl-C)."""
        seen, deadline = b"", time.monotonic() + TIMEOUT
        with subprocess.Popen(
            ["script", "-qec", command, "/dev/null"], env=self.env, cwd=self.work,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        ) as process:  # fmt: skip
            assert process.stdin is not None
            assert process.stdout is not None
            out = process.stdout.fileno()
            try:
                for keys, shown in [*steps, ("exit\n", "$ ")]:
                    start = len(seen)
                    while shown.encode() not in seen[start:]:
                        left = max(deadline - time.monotonic(), 0)
                        text = _plain(seen.decode(errors="replace"))
                        assert select.select([out], [], [], left)[0], f"no {shown!r}: {text}"
                        chunk = os.read(out, 65536)
                        assert chunk, f"{command}: ended before {shown!r}: {text}"
                        seen += chunk
                    process.stdin.write(keys.encode())
                    process.stdin.flush()
                while select.select([out], [], [], max(deadline - time.monotonic(), 0))[0]:
                    chunk = os.read(out, 65536)
                    if not chunk:
                        break
                    seen += chunk
            finally:
                if process.poll() is None:
                    process.kill()
        return _plain(seen.decode(errors="replace"))

    def wait_ready(self, namespace: str = "default") -> None:
        self.kubectl("wait", "--for=condition=Ready", "pods", "--all", "-n", namespace,
                     "--timeout=60s")  # fmt: skip


def _plain(text: str) -> str:
    import re

    return re.sub(r"\x1b\[[0-9;?]*[a-zA-Z]", "", text).replace("\r", "")


@pytest.fixture
def lab() -> Iterator[Lab]:
    work = Path(tempfile.mkdtemp(prefix="podwall-lab-"))
    state = work / "state"
    # Below Linux's ephemeral range (32768+), so no client connection holds the port.
    port = str(random.randint(20000, 32767))
    env = {**os.environ, "PYTHONPATH": str(SRC), "KUBECONFIG": str(state / "kubeconfig")}
    env.pop("KUBECTL_REMOTE_COMMAND_WEBSOCKETS", None)
    podwall_cli = [sys.executable, "-m", "podwall"]
    up = subprocess.run(
        [*podwall_cli, "up", "--state-dir", str(state), "--port", port],
        env=env, capture_output=True, text=True, timeout=TIMEOUT, check=False,
    )  # fmt: skip
    try:
        assert up.returncode == 0, up.stdout + up.stderr
        yield Lab(work, env)
    finally:
        subprocess.run(
            [*podwall_cli, "down", "--state-dir", str(state)],
            env=env, capture_output=True, timeout=TIMEOUT, check=False,
        )  # fmt: skip
        subprocess.run(["rm", "-rf", str(work)], check=False)
