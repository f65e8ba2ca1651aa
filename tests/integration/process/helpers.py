"""Helpers for pod process tests: run as root inside a test namespace, wait for a log line."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest


def in_netns(netns: str, *argv: str, timeout: float = 15) -> subprocess.CompletedProcess[str]:
    """Run `argv` as root in `netns` (a test's own view from inside the pod's network)."""
    return subprocess.run(
        ["ip", "netns", "exec", netns, *argv], capture_output=True, text=True, timeout=timeout
    )


def wait_for_log(path: Path, text: str, timeout: float = 15.0) -> str:
    """The log's content once it contains `text`; fails the test after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    content = ""
    while time.monotonic() < deadline:
        content = path.read_text() if path.exists() else ""
        if text in content:
            return content
        time.sleep(0.05)
    pytest.fail(f"{path} never said {text!r}; it says:\n{content}")
