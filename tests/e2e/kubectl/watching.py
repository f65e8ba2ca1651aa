"""Observing a cluster without racing it: `kubectl get --watch` in the background, and the
bounds the e2e waits use.

A state that something else soon undoes (a node NotReady until its agent is replaced, a pod
not Ready until it restarts) is missed by polls on a loaded machine: the window can close
between two of them. A watch opened before the action sees every transition, so the test
asserts on what it saw, once the action is over. Waits for states that last use generous
bounds: `wait_for` returns as soon as the condition holds, so the bound costs nothing when
the machine is idle and only keeps a loaded one from failing a test that would pass.
"""

from __future__ import annotations

import subprocess
import threading

from podwall.cluster.local import LocalCluster
from tests.e2e.kubectl.test_apiserver import kubectl_binary

# Pods created, started and Ready (images unpacked, agents' rules loaded): seconds each
# on a loaded 2-core machine.
PODS_READY_SECONDS = 120
# An applied change (policy, Service, deletion) in force on every node it concerns.
SETTLED_SECONDS = 60
# One kubectl command, which may itself wait (`wait`, `rollout status`) up to 120 s.
KUBECTL_SECONDS = 180

READY_COLUMNS = (
    'custom-columns=NAME:.metadata.name,READY:.status.conditions[?(@.type=="Ready")].status'
)


class Watch:
    """`kubectl get --watch` in the background: every change it saw, as (name, column) rows."""

    def __init__(self, local: LocalCluster, *args: str) -> None:
        command = [kubectl_binary(), "--kubeconfig", str(local.server.kubeconfig_path)]
        self.process = subprocess.Popen(
            [*command, "get", "--watch", "--no-headers", *args],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        )  # fmt: skip
        self.rows: list[tuple[str, str]] = []
        self._first = threading.Event()
        self._reader = threading.Thread(target=self._read, daemon=True)

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            name, _, rest = line.strip().partition(" ")
            self.rows.append((name, rest.strip()))
            self._first.set()

    def __enter__(self) -> Watch:
        self._reader.start()
        # The listing comes first: once it is read, the watch is open and misses nothing.
        assert self._first.wait(timeout=60), "kubectl get --watch printed nothing"
        return self

    def __exit__(self, *_: object) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._reader.join(timeout=5)
        if self.process.stdout is not None:
            self.process.stdout.close()
