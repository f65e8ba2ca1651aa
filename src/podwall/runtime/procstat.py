"""What /proc says of a process: its start time, which tells a pid from a later reuse of it.

Owns the reading of `/proc/<pid>/stat`; callers keep the start time beside a pid (pod records,
published pods, agent pid files) and signal or trust the pid only while both still match.
"""

from __future__ import annotations

from pathlib import Path


def start_time(pid: int) -> int | None:
    """Process `pid`'s start time in clock ticks after boot; None when it is gone or a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rpartition(")")[2].split()
    if fields[0] in ("Z", "X"):
        return None
    return int(fields[19])  # field 22 of stat(5); the split starts at field 3


def start_stamp(pid: int) -> str:
    """`start_time` as the text pid files and published pods keep; "" when it is gone."""
    started = start_time(pid)
    return "" if started is None else str(started)
