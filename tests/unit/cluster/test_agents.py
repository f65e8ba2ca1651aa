"""Agents left by an earlier run are stopped by pid, and only when the pid is still theirs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from podwall.cluster.agents import PID_FILE, node_dir, stop_leftovers
from podwall.runtime.procstat import start_time


def _pid_file(state: Path, node: str, text: str) -> Path:
    path = node_dir(state, node) / PID_FILE
    path.parent.mkdir(parents=True)
    path.write_text(text)
    return path


def test_a_leftover_agent_is_stopped_by_its_pid(tmp_path: Path) -> None:
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        _pid_file(tmp_path, "node-1", f"{child.pid} {start_time(child.pid)}\n")
        assert stop_leftovers(tmp_path) == [child.pid]
        assert child.wait(timeout=10) != 0
        assert not (node_dir(tmp_path, "node-1") / PID_FILE).exists()
    finally:
        child.kill()
        child.wait()


def test_a_pid_that_is_someone_elses_now_is_left_alone(tmp_path: Path) -> None:
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        _pid_file(tmp_path, "node-1", f"{child.pid} 1\n")  # another start time: reused
        _pid_file(tmp_path, "node-2", "not a pid\n")
        assert stop_leftovers(tmp_path) == []
        assert child.poll() is None
    finally:
        child.kill()
        child.wait()
