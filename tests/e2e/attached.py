"""The lab on a running local cluster, and `podwall editor --cluster` attached to it.

`lab_cluster()` starts a `LocalCluster` in this process (tmp state directory, a free port),
applies the lab's simple-app.yaml with the real kubectl and waits for its three pods; it always
stops the cluster and clears what is left of it. `AttachedEditor` runs `podwall editor --cluster
--kubeconfig ...` as a subprocess and talks to its HTTP API with the token it printed.
"""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from podwall.cluster.local import LocalCluster
from podwall.runtime import names, netns
from tests.e2e.kubectl.test_apiserver import SIMPLE_APP
from tests.e2e.kubectl.test_cluster import (
    Kubectl,
    clear_cluster,
    make_kubectl,
    pod_ready_count,
    reaches,
    wait_for,
)
from tests.e2e.kubectl.watching import PODS_READY_SECONDS, SETTLED_SECONDS

URL_LINE = re.compile(r"(http://127\.0\.0\.1:(\d+)/\?token=(\S+))")


@contextlib.contextmanager
def lab_cluster(tmp_path: Path) -> Iterator[tuple[LocalCluster, Kubectl]]:
    """A running cluster with the lab's app Ready; stopped and cleared whatever happens."""
    local = LocalCluster(tmp_path / "state", port=0)
    try:
        local.start()
        kubectl = make_kubectl(local.server.kubeconfig_path, tmp_path / "cache")
        kubectl("apply", "-f", str(SIMPLE_APP))
        wait_for(lambda: pod_ready_count(kubectl) == 3, timeout=PODS_READY_SECONDS)
        yield local, kubectl
    finally:
        local.stop()
        clear_cluster(local.cluster_id, local.state_dir)
    assert netns.leftovers(names.cluster_prefix(local.cluster_id)) == []


def pod_named(kubectl: Kubectl, app: str) -> str:
    return kubectl(
        "get", "pods", "-l", f"app={app}", "-o", "jsonpath={.items[0].metadata.name}"
    ).stdout


def backend_ip(kubectl: Kubectl) -> str:
    return kubectl("get", "svc", "backend", "-o", "jsonpath={.spec.clusterIP}").stdout


def wait_until_enforced(local: LocalCluster, kubectl: Kubectl, frontend_reaches: bool) -> None:
    """Until frontend -> backend:8080 is (or is not) possible: the applied policy is in force."""
    pod, address = pod_named(kubectl, "frontend"), backend_ip(kubectl)
    wait_for(
        lambda: reaches(local.cluster_id, pod, address, 8080) == frontend_reaches, SETTLED_SECONDS
    )


class AttachedEditor:
    """`podwall editor --cluster --kubeconfig PATH` as a subprocess; always `stop()` it."""

    def __init__(self, kubeconfig: Path) -> None:
        args = [sys.executable, "-m", "podwall.cli.editor", "--port", "0", "--cluster"]
        args += ["--kubeconfig", str(kubeconfig)]
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.proc = subprocess.Popen(
            args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env
        )
        self.lines: list[str] = []
        match = self._read_url()
        self.url, self.base, self.token = match.group(1), f"http://127.0.0.1:{match[2]}", match[3]

    def _read_url(self) -> re.Match[str]:
        found: list[re.Match[str]] = []

        def read() -> None:
            assert self.proc.stdout is not None
            for line in self.proc.stdout:
                self.lines.append(line)
                match = URL_LINE.search(line)
                if match:
                    found.append(match)
                    return

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        reader.join(timeout=60)
        if not found:
            self.stop()
            pytest.fail("podwall editor printed no URL:\n" + "".join(self.lines), pytrace=False)
        return found[0]

    def call(self, path: str, body: Any = None, *, status: int = 200) -> Any:
        headers = {"x-podwall-token": self.token}
        with httpx.Client(base_url=self.base, headers=headers, timeout=60) as client:
            reply = client.get(path) if body is None else client.post(path, json=body)
        assert reply.status_code == status, reply.text
        return reply.json()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        if self.proc.stdout is not None:
            self.proc.stdout.close()


@contextlib.contextmanager
def attached_editor(kubeconfig: Path) -> Iterator[AttachedEditor]:
    editor = AttachedEditor(kubeconfig)
    try:
        yield editor
    finally:
        editor.stop()
