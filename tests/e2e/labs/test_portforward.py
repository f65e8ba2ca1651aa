"""`kubectl port-forward pod/x :80`, then curl on the local port kubectl chose gets nginx's page.

kubectl 1.32 tunnels SPDY in a WebSocket (`SPDY/3.1+portforward.k8s.io`); 1.27 speaks SPDY/3.1
itself. Both reach 127.0.0.1:80 inside the pod's network namespace, as the kubelet does. A port
nothing listens on gives kubectl the kubelet's error, and kubectl gives up ("lost connection").
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.e2e.labs.conftest import TIMEOUT, Lab

pytestmark = [pytest.mark.kubectl, pytest.mark.netns, pytest.mark.slow]

WELCOME = "<title>Welcome to nginx!</title>"


def kubectl_binary(version: str | None) -> str:
    found = shutil.which("kubectl")
    assert found is not None
    return found if version is None else str(Path(os.path.realpath(found)).parent / version)


FORWARDING = re.compile(r"Forwarding from 127\.0\.0\.1:(\d+) -> (\d+)\n")


@contextmanager
def port_forward(
    lab: Lab, kubectl: str, remote: int
) -> Iterator[tuple[subprocess.Popen[str], int]]:
    """`kubectl port-forward pod/x :REMOTE` running, once it says it forwards, and the local
    port kubectl chose (a port picked here and freed for kubectl could be taken meanwhile);
    stopped after."""
    proc = subprocess.Popen(
        [kubectl, "port-forward", "pod/x", f":{remote}"], env=lab.env, cwd=lab.work,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        said = FORWARDING.fullmatch(first)
        assert said is not None, first
        assert said[2] == str(remote), first
        yield proc, int(said[1])
    finally:
        proc.terminate()
        proc.wait(TIMEOUT)
        if proc.stdout is not None:
            proc.stdout.close()


def curl(port: int) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["curl", "-s", "--max-time", "10", f"http://127.0.0.1:{port}/"],
        capture_output=True, text=True, timeout=TIMEOUT, check=False,
    )  # fmt: skip


@pytest.mark.parametrize(
    "version", [None, "kubectl.1.27"], ids=["1.32 SPDY in WebSocket", "1.27 SPDY"]
)
def test_port_forward_reaches_nginx(lab: Lab, version: str | None) -> None:
    assert lab.kubectl("run", "x", "--image=nginx").strip() == "pod/x created"
    lab.wait_ready()
    with port_forward(lab, kubectl_binary(version), 80) as (_, port):
        for _ in range(2):  # one stream pair per local connection, on one upgraded connection
            assert WELCOME in curl(port).stdout


def test_port_forward_to_a_closed_port_reports_the_kubelets_error(lab: Lab) -> None:
    lab.kubectl("run", "x", "--image=nginx")
    lab.wait_ready()
    with port_forward(lab, kubectl_binary(None), 81) as (proc, port):
        assert curl(port).stdout == ""
        out, _ = proc.communicate(timeout=TIMEOUT)
    assert "error forwarding port 81 to pod x" in out
    assert "dial tcp4 127.0.0.1:81: connect: connection refused" in out
    assert "error: lost connection to pod" in out
    assert proc.returncode == 1
