"""A fresh `podwall up` per lab, and kubectl as the lab's reader types it.

`lab` starts the cluster in a throwaway state directory on a random loopback port and always
takes it down (`podwall down`), also when the test fails; one node, or as many as the test's
indirect parameter says (`@pytest.mark.parametrize("lab", [3], indirect=True)`).
`Lab.kubectl(...)` runs the real kubectl (the dispatcher's, 1.32); `Lab.session(...)` runs an
interactive `kubectl run -i/-t` with the commands the reader would type fed to its stdin, under
`script` when the lab asks for a terminal (-t), and returns what the reader sees;
`Lab.sh(...)` and `Lab.on_node(...)` run a command line in the reader's shell, or in a shell
on a node.
"""

from __future__ import annotations

import os
import random
import select
import shlex
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

import podwall
from podwall.runtime import names

SRC = Path(podwall.__file__).resolve().parents[1]
TIMEOUT = 180  # a bound on one command; above `wait_ready`'s 120 s, which runs inside one


@dataclass
class Lab:
    work: Path
    env: dict[str, str]
    state: Path

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

    def typed_nothing(self, command: str) -> str:
        """`command` under a terminal the reader types nothing at (`kubectl exec -ti POD --
        curl ...`, whose terminal echoes whatever is typed into the output); what it showed."""
        with self.shell(command, exit_typed=False) as shell:
            shell.drain()
        return shell.seen

    def terminal(self, command: str, steps: list[tuple[str, str]]) -> str:
        """`command` under a terminal, typed at as a reader does: for each (keys, shown) step,
        wait until the screen shows `shown` since the last keys, then type `keys` (a line
        with its newline, or a control key such as Ctrl-C, "\\x03"); then `exit`. What the
        terminal showed. For what must wait on the screen (a command that runs until Ctrl-C)."""
        with self.shell(command) as shell:
            for keys, shown in steps:
                shell.wait_for(shown)
                shell.type(keys)
        return shell.seen

    @contextmanager
    def shell(self, command: str, *, exit_typed: bool = True) -> Iterator[Terminal]:
        """`command` under a terminal left open while the reader does other things (a second
        shell session, in the labs' words); `exit` is typed at its prompt when the block ends
        (unless not `exit_typed`), and what it shows after is read until it ends."""
        with subprocess.Popen(
            ["script", "-qec", command, "/dev/null"], env=self.env, cwd=self.work,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        ) as process:  # fmt: skip
            terminal = Terminal(process, command)
            try:
                yield terminal
                if exit_typed:
                    terminal.wait_for("$ ")
                    terminal.type("exit\n")
                terminal.drain()
            finally:
                if process.poll() is None:
                    process.kill()

    def sh(self, command: str, *, interrupt_after: float = TIMEOUT) -> str:
        """`command` typed in the reader's shell (where kubectl reaches the cluster); Ctrl-C'd
        (SIGINT) if still running after `interrupt_after` seconds, as the reader does when a
        page says it hangs. What it printed, `^C` at the end when stopped."""
        return self._interruptible(["bash", "-c", command], interrupt_after)

    def on_node(self, node: str, command: str, *, interrupt_after: float = TIMEOUT) -> str:
        """`command` typed in a shell on `node` (node-1, ...), in its network namespace; as
        `sh`, Ctrl-C'd after `interrupt_after` seconds."""
        cluster_id = (self.state / "cluster-id").read_text().strip()
        netns = names.node_netns(cluster_id, node)
        return self._interruptible(["ip", "netns", "exec", netns, "bash", "-c", command],
                                   interrupt_after)  # fmt: skip

    def _interruptible(self, argv: list[str], interrupt_after: float) -> str:
        with subprocess.Popen(
            argv, env=self.env, cwd=self.work, stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        ) as process:  # fmt: skip
            try:
                return process.communicate(timeout=interrupt_after)[0]
            except subprocess.TimeoutExpired:
                process.send_signal(signal.SIGINT)
                return process.communicate(timeout=TIMEOUT)[0] + "^C"

    def wait_ready(self, namespace: str = "default") -> None:
        self.kubectl("wait", "--for=condition=Ready", "pods", "--all", "-n", namespace,
                     "--timeout=120s")  # fmt: skip


class Terminal:
    """An interactive kubectl under `script`: keys typed, the screen read (as text without the
    terminal's escapes; positions below are in that text)."""

    def __init__(self, process: subprocess.Popen[bytes], command: str):
        assert process.stdin is not None
        assert process.stdout is not None
        self._stdin, self._out = process.stdin, process.stdout.fileno()
        self._command = command
        self._raw, self._mark = b"", 0

    @property
    def seen(self) -> str:
        """All the terminal has shown, without its escapes."""
        return _plain(self._raw.decode(errors="replace"))

    def type(self, keys: str) -> None:
        """Type `keys`; what `wait_for` looks at starts here."""
        self._mark = len(self.seen)
        self._stdin.write(keys.encode())
        self._stdin.flush()

    def mark(self) -> None:
        """What `wait_for` looks at starts here, as after typed keys: for a program that prints
        on its own (`kubectl logs -f`), what it shows from now on."""
        self._mark = len(self.seen)

    def wait_for(self, shown: str) -> str:
        """Read until the screen shows `shown` since the last keys (for at most TIMEOUT
        seconds); what it showed since."""
        self._read_until(shown, self._mark)
        return self.seen[self._mark :]

    def press_enter(self, prompt: str = "$ ") -> None:
        """Press enter, as kubectl's "If you don't see a command prompt" says, and wait for the
        shell's prompt (a shell already started printed its first one before kubectl attached)."""
        self.wait_for("pressing enter.")
        self.type("\n")
        self.wait_for(prompt)

    def run(self, line: str, prompt: str = "$ ") -> str:
        """Type `line` at the shell's prompt (after `press_enter`), wait for its next prompt;
        what the command printed. The shell has read the line where a prompt is followed by the
        line's echo: a shell still starting shows the terminal's own echo first, then its
        prompt and the line again."""
        last = self.seen.rfind(prompt)
        self.type(f"{line}\n")
        start = self._read_until(f"{prompt}{line}", max(last, 0))
        self._read_until(prompt, start + len(prompt) + len(line))
        return self.seen[start:]

    def _read_until(self, wanted: str, start: int) -> int:
        """Read until `wanted` shows at or after `start`; where it shows."""
        deadline = time.monotonic() + TIMEOUT
        while (found := self.seen.find(wanted, start)) < 0:
            left = max(deadline - time.monotonic(), 0)
            ready = select.select([self._out], [], [], left)[0]
            assert ready, f"no {wanted!r}: {self.seen}"
            chunk = os.read(self._out, 65536)
            assert chunk, f"{self._command}: ended before {wanted!r}: {self.seen}"
            self._raw += chunk
        return found

    def drain(self) -> None:
        """Read what is left until the program ends (for at most TIMEOUT seconds)."""
        deadline = time.monotonic() + TIMEOUT
        while select.select([self._out], [], [], max(deadline - time.monotonic(), 0))[0]:
            chunk = os.read(self._out, 65536)
            if not chunk:
                break
            self._raw += chunk


def _plain(text: str) -> str:
    import re

    return re.sub(r"\x1b\[[0-9;?]*[a-zA-Z]", "", text).replace("\r", "")


@pytest.fixture
def lab(request: pytest.FixtureRequest) -> Iterator[Lab]:
    nodes: int = getattr(request, "param", 1)
    work = Path(tempfile.mkdtemp(prefix="podwall-lab-"))
    state = work / "state"
    # Below Linux's ephemeral range (32768+), so no client connection holds the port.
    port = str(random.randint(20000, 32767))
    env = {**os.environ, "PYTHONPATH": str(SRC), "KUBECONFIG": str(state / "kubeconfig")}
    env.pop("KUBECTL_REMOTE_COMMAND_WEBSOCKETS", None)
    podwall_cli = [sys.executable, "-m", "podwall"]
    up = subprocess.run(
        [*podwall_cli, "up", "--state-dir", str(state), "--port", port, "--nodes", str(nodes)],
        env=env, capture_output=True, text=True, timeout=TIMEOUT, check=False,
    )  # fmt: skip
    try:
        assert up.returncode == 0, up.stdout + up.stderr
        yield Lab(work, env, state)
    finally:
        subprocess.run(
            [*podwall_cli, "down", "--state-dir", str(state)],
            env=env, capture_output=True, timeout=TIMEOUT, check=False,
        )  # fmt: skip
        subprocess.run(["rm", "-rf", str(work)], check=False)
