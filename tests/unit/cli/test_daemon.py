"""The `podwall up` daemon's files: the pid lock, the ready file, the default state directory."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from podwall.cli import daemon


def test_the_lock_tells_whether_a_cluster_runs_and_which_pid(tmp_path: Path) -> None:
    assert daemon.locked_pid(tmp_path) is None
    lock = daemon.PidLock(tmp_path)
    assert lock.acquire()
    assert daemon.locked_pid(tmp_path) == os.getpid()
    assert not daemon.PidLock(tmp_path).acquire()  # a second cluster on the same state
    lock.release()
    assert daemon.locked_pid(tmp_path) is None
    assert not (tmp_path / daemon.PID_FILE).exists()


def test_a_stale_pid_file_without_its_lock_means_nothing_runs(tmp_path: Path) -> None:
    (tmp_path / daemon.PID_FILE).write_text("12345\n")  # after kill -9
    assert daemon.locked_pid(tmp_path) is None


def test_the_ready_file_round_trips_and_goes(tmp_path: Path) -> None:
    running = daemon.Running(
        pid=7, url="https://127.0.0.1:6443", kubeconfig="/k", cluster_id="ab12"
    )
    daemon.write_ready(tmp_path, running)
    assert daemon.read_ready(tmp_path) == running
    daemon.remove_ready(tmp_path)
    assert daemon.read_ready(tmp_path) is None


def test_the_state_directory_follows_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PODWALL_STATE_DIR", str(tmp_path / "x"))
    assert daemon.default_state_dir() == tmp_path / "x"
    monkeypatch.delenv("PODWALL_STATE_DIR")
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    expected = Path("/var/lib/podwall") if os.geteuid() == 0 else tmp_path / "podwall"
    assert daemon.default_state_dir() == expected
