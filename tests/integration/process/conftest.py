"""Fixtures for pod processes in throwaway network namespaces.

`pod_netns` (function scope): a fresh `pw-t<hex>` namespace with loopback up and
`net.ipv4.ip_unprivileged_port_start=0` (as podwall's pod namespaces have); deleted, with its
/etc/netns files, in a finally. `workdir`: a temporary directory readable by uid 65534,
removed afterwards. `pods`: a list to append every started `PodProcess` to; each is stopped by
its pid in a finally. Nothing here touches the host namespace's network configuration.
"""

from __future__ import annotations

import secrets
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from podwall.runtime.process import PodProcess, remove_pod_files
from tests.integration.process.helpers import in_netns


@pytest.fixture
def pod_netns() -> Iterator[str]:
    name = f"pw-t{secrets.token_hex(4)}"
    subprocess.run(["ip", "netns", "add", name], check=True)
    try:
        for argv in (
            ("ip", "link", "set", "lo", "up"),
            ("sysctl", "-qw", "net.ipv4.ip_unprivileged_port_start=0"),
        ):
            assert in_netns(name, *argv).returncode == 0
        yield name
    finally:
        subprocess.run(["ip", "netns", "del", name], check=False)
        remove_pod_files(name)


@pytest.fixture
def workdir() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="podwall-process-"))
    try:
        path.chmod(0o755)
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def pods() -> Iterator[list[PodProcess]]:
    started: list[PodProcess] = []
    try:
        yield started
    finally:
        for pod in started:
            pod.stop(grace=1.0)
