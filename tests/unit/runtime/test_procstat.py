"""A process's start time from /proc: present while it runs, None (or "") once it is reaped."""

from __future__ import annotations

import subprocess
import sys
import time

from podwall.runtime.procstat import start_stamp, start_time


def test_a_running_process_has_a_start_time_that_stays_the_same() -> None:
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        first = start_time(child.pid)
        assert first is not None
        assert first > 0
        assert start_time(child.pid) == first
        assert start_stamp(child.pid) == str(first)
    finally:
        child.kill()
        child.wait()


def test_a_reaped_process_has_none() -> None:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    assert start_time(child.pid) is None
    assert start_stamp(child.pid) == ""


def test_a_zombie_has_none() -> None:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    try:
        for _ in range(6000):  # bounded: until it has exited but is not yet reaped
            if start_time(child.pid) is None:
                break
            time.sleep(0.01)
        assert start_time(child.pid) is None
    finally:
        child.wait()
