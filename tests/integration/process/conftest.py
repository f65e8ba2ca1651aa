"""Fixtures for pod processes in throwaway network namespaces.

`pod_netns` and `other_netns` (function scope): fresh `pw-t<hex>` namespaces with loopback up
and `net.ipv4.ip_unprivileged_port_start=0` (as podwall's pod namespaces have); deleted, with
the pod's PID 1 and /etc/netns files, in a finally. `workdir`: a temporary directory under /run
readable by every pod's uid, removed afterwards. `pods`: a list to append every started
`PodProcess` to; each is stopped by its pid in a finally. Nothing here touches the host
namespace's network configuration.
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
    yield from _netns()


@pytest.fixture
def other_netns() -> Iterator[str]:
    """A second pod's namespace, beside `pod_netns`."""
    yield from _netns()


def _netns() -> Iterator[str]:
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
    # Not under /tmp: a pod has a /tmp of its own, and the DNS stand-in reads its records here.
    path = Path(tempfile.mkdtemp(prefix="podwall-process-", dir="/run"))
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
