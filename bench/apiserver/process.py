"""The server process of the API benchmark: start, talk to, measure, stop (by its pid)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from types import TracebackType

from bench.apiserver.client import Endpoint, Seen

ROOT = Path(__file__).resolve().parent.parent.parent


class ServerProcess:
    """`python -m bench.apiserver.serve STATE [--bare]`, stopped by closing its stdin."""

    def __init__(self, state_dir: Path, *, bare: bool = False) -> None:
        argv = [sys.executable, "-m", "bench.apiserver.serve", str(state_dir)]
        if bare:
            argv.append("--bare")
        self.proc = subprocess.Popen(
            argv, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            self.stop()
            raise RuntimeError(f"the server process did not start (exit {self.proc.returncode})")
        info = json.loads(line)
        self.endpoint = Endpoint(int(info["port"]), str(info["token"]), str(info["ca"]))
        self.kubeconfig = state_dir / "kubeconfig"

    def memory(self) -> tuple[int, int]:
        """Resident and peak resident memory in bytes (VmRSS, VmHWM)."""
        fields = {}
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                fields[key] = int(value.split()[0]) * 1024
        return fields["VmRSS"], fields["VmHWM"]

    def cpu_seconds(self) -> float:
        """User + system CPU time the server process used so far."""
        parts = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        ticks = os.sysconf("SC_CLK_TCK")
        return (int(parts[11]) + int(parts[12])) / ticks

    def stop(self) -> None:
        if self.proc.stdin is not None and not self.proc.stdin.closed:
            self.proc.stdin.close()
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()  # by pid: the process this object started
            self.proc.wait(5)
        if self.proc.stdout is not None:
            self.proc.stdout.close()

    def __enter__(self) -> ServerProcess:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


class WatcherProcess:
    """bench/apiserver/watchers.py: watch streams read in a process of their own."""

    def __init__(self, endpoint: Endpoint, wanted: list[tuple[str, int]], seconds: float) -> None:
        argv = [sys.executable, "-m", "bench.apiserver.watchers", str(endpoint.port)]
        argv += [endpoint.token, endpoint.ca, str(seconds)]
        argv += [f"{path}={count}" for path, count in wanted]
        self.seconds = seconds
        self.proc = subprocess.Popen(
            argv, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        assert self.proc.stdout is not None
        if self.proc.stdout.readline().strip() != "ready":
            self.stop()
            raise RuntimeError("the watchers did not start")

    def report(self) -> list[tuple[str, str | None, list[Seen]]]:
        """Per stream: its path, its error, its events (waits for the streams to finish)."""
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError("the watchers ended without a report")
        return [
            (
                s["path"],
                s["error"],
                [Seen(at, kind, name, rv) for at, kind, name, rv in s["events"]],
            )
            for s in json.loads(line)
        ]

    def stop(self) -> None:
        if self.proc.stdin is not None and not self.proc.stdin.closed:
            self.proc.stdin.close()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()  # by pid: the process this object started
            self.proc.wait(5)
        if self.proc.stdout is not None:
            self.proc.stdout.close()
