"""Helpers for pod process tests: run as root inside a test namespace, run a command in a pod
as `kubectl exec` does, wait for a log line."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest

from podwall.runtime.process import exec_in_pod

HOSTNAME = "backend-65f7c794cc-b9j66"


def in_netns(netns: str, *argv: str, timeout: float = 15) -> subprocess.CompletedProcess[str]:
    """Run `argv` as root in `netns` (a test's own view from inside the pod's network)."""
    return subprocess.run(
        ["ip", "netns", "exec", netns, *argv], capture_output=True, text=True, timeout=timeout
    )


def run_in_pod(
    netns: str, argv: list[str], image: str = "", hostname: str = HOSTNAME
) -> tuple[int, str, str]:
    """Exit code, stdout and stderr of `argv` run in the pod as `kubectl exec` runs it."""
    process = exec_in_pod(netns=netns, hostname=hostname, argv=argv, image=image)
    out, err = process.communicate(timeout=20)
    return process.returncode, out.decode(), err.decode()


def wait_for_log(path: Path, text: str, timeout: float = 60.0) -> str:
    """The log's content once it contains `text`; fails the test after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    content = ""
    while time.monotonic() < deadline:
        content = path.read_text() if path.exists() else ""
        if text in content:
            return content
        time.sleep(0.05)
    pytest.fail(f"{path} never said {text!r}; it says:\n{content}")
