"""What a pod can reach of other pods and of the host, tried from inside the pod.

Two pods (`pod_netns`, `other_netns`), each running a client container that sleeps with a
marker in its command line, as the tutorial's clients do. Each check runs in a pod as `kubectl
exec` runs it and must fail (or see only the pod's own) for the isolation to hold.
"""

from __future__ import annotations

import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from podwall.runtime.images import ContainerSpec, Launch, resolve
from podwall.runtime.podrecords import POD_UIDS
from podwall.runtime.podsandbox import SOURCE_ROOT
from podwall.runtime.process import (
    PodProcess,
    hosts_file,
    pod_uid,
    remove_pod_files,
    resolv_conf,
    start_container,
)
from tests.integration.process.helpers import run_in_pod

pytestmark = pytest.mark.netns

ALPINE = "docker.io/library/alpine:3.20"


@dataclass(frozen=True)
class Pod:
    netns: str
    client: PodProcess
    marker: str  # the client's `sleep` argument: unique, so a process list shows whose it is

    def run(self, script: str) -> tuple[int, str, str]:
        return run_in_pod(self.netns, ["sh", "-c", script], ALPINE, hostname="client")


def _client(netns: str, workdir: Path, pods: list[PodProcess], **kwargs: int) -> Pod:
    marker = str(10**9 + secrets.randbelow(10**8))
    launch = resolve(ContainerSpec(image=ALPINE, command=("sleep", marker)))
    assert isinstance(launch, Launch)
    client = start_container(
        netns=netns, hostname="client", launch=launch, resolv_conf=resolv_conf("default"),
        hosts=hosts_file("client"), log_dir=workdir / netns, container="client", **kwargs,
    )  # fmt: skip
    pods.append(client)
    assert client.wait(0.2) is None, client.log_path.read_text()
    return Pod(netns, client, marker)


@pytest.fixture
def pod(pod_netns: str, workdir: Path, pods: list[PodProcess]) -> Pod:
    return _client(pod_netns, workdir, pods)


@pytest.fixture
def other(other_netns: str, workdir: Path, pods: list[PodProcess]) -> Pod:
    return _client(other_netns, workdir, pods)


def _pod_processes(pod: Pod) -> list[str]:
    code, out, err = pod.run("for p in /proc/[0-9]*; do tr '\\0' ' ' < $p/cmdline; echo; done")
    assert code == 0, err
    return [line.strip() for line in out.splitlines() if line.strip()]


def test_proc_shows_the_pods_own_processes_only(pod: Pod, other: Pod) -> None:
    seen = _pod_processes(pod)
    uid = pod_uid(pod.netns)
    init = f"{SOURCE_ROOT} --uid {uid} --gid {uid} --hostname client"
    assert any("podwall.runtime.podinit" in line and line.endswith(init) for line in seen), seen
    assert f"sleep {pod.marker}" in seen  # exec joins the container's PID namespace
    assert f"sleep {other.marker}" not in seen
    assert len(seen) <= 5, seen  # PID 1, the client, the shell listing, tr, and nothing else


def test_ps_numbers_the_pods_processes_from_1(pod: Pod) -> None:
    code, out, _ = pod.run("ps -o pid= -o args= | sort -n | head -1")
    assert code == 0
    assert out.split()[0] == "1"
    assert "podwall.runtime.podinit" in out


@pytest.mark.parametrize(
    "target",
    ["the other pod's client", "the pod's own client as the host numbers it", "the test runner"],
)
def test_kill_0_fails_on_any_process_outside_the_pod(pod: Pod, other: Pod, target: str) -> None:
    pid = {
        "the other pod's client": other.client.pid,
        "the pod's own client as the host numbers it": pod.client.pid,
        "the test runner": os.getpid(),
    }[target]
    code, _, err = pod.run(f"kill -0 {pid}")
    assert code != 0
    assert "No such process" in err


def test_nothing_in_the_pod_can_stop_its_pid_1(pod: Pod) -> None:
    code, out, _ = pod.run(
        "kill -KILL 1; kill -TERM 1; kill -INT 1; sleep 0.2; kill -0 1 && echo ok"
    )
    assert (code, out) == (0, "ok\n")
    assert pod.client.running()


def test_a_file_in_one_pods_tmp_is_seen_by_that_pod_alone(pod: Pod, other: Pod) -> None:
    name = f"/tmp/podwall-isolation-{secrets.token_hex(4)}"
    assert pod.run(f"echo secret > {name} && cat {name}")[:2] == (0, "secret\n")
    assert not Path(name).exists()  # the host's /tmp
    code, _, err = other.run(f"cat {name}")
    assert code != 0
    assert "No such file" in err


def test_the_hosts_tmp_is_not_the_pods(pod: Pod) -> None:
    with open(f"/tmp/podwall-isolation-{pod.marker}", "w") as host_file:
        host_file.write("host")
        host_file.flush()
        assert pod.run(f"cat {host_file.name}")[0] != 0
    os.unlink(host_file.name)


@pytest.mark.parametrize("path", ["/usr/podwall-x", "/etc/podwall-x", "/run/podwall-x"])
def test_the_hosts_system_is_read_only(pod: Pod, path: str) -> None:
    # Read-only, not merely not the pod's: creating a file there says EROFS, not EACCES.
    code, _, err = pod.run(f"echo x > {path}")
    assert code != 0
    assert "Read-only file system" in err
    assert not Path(path).exists()


def test_each_pod_has_a_uid_of_its_own(pod: Pod, other: Pod) -> None:
    uids = {pod_uid(pod.netns), pod_uid(other.netns)}
    assert len(uids) == 2
    assert uids <= set(POD_UIDS)
    assert pod.run("id -u")[1] == f"{pod_uid(pod.netns)}\n"


def test_run_as_user_sets_the_pods_uid(
    pod_netns: str, workdir: Path, pods: list[PodProcess]
) -> None:
    pod = _client(pod_netns, workdir, pods, run_as_user=4321)
    assert pod.run("id -u; id -g")[1] == "4321\n4321\n"


def test_removing_the_pod_kills_what_left_the_containers_process_group(
    pod_netns: str, workdir: Path, pods: list[PodProcess]
) -> None:
    pod = _client(pod_netns, workdir, pods)
    marker = str(10**9 + secrets.randbelow(10**8))
    assert pod.run(f"setsid sleep {marker} > /dev/null 2>&1 &")[0] == 0
    deadline = time.monotonic() + 60
    while not _host_pids(f"sleep {marker}"):
        assert time.monotonic() < deadline, "the escaped sleep never started"
        time.sleep(0.02)
    remove_pod_files(pod_netns)
    assert not _host_pids(f"sleep {marker}")
    assert pod.client.wait(60) == 128 + 9  # a bound: it returns once the client is reaped


def _host_pids(cmdline: str) -> list[int]:
    wanted = cmdline.replace(" ", "\0").encode() + b"\0"
    found = []
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            if (entry / "cmdline").read_bytes() == wanted:
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def _ppids(pod: Pod) -> dict[str, str]:
    code, out, err = pod.run(
        "for p in /proc/[0-9]*; do "
        "echo \"$(tr '\\0' ' ' < $p/cmdline)|$(grep PPid $p/status | tr -dc 0-9)\"; done"
    )
    assert code == 0, err
    return dict(line.rsplit("|", 1) for line in out.splitlines() if "|" in line)


def test_a_container_enters_the_pod_as_in_a_shared_pid_namespace(pod: Pod) -> None:
    """As runc joins a pod's PID namespace (shareProcessNamespace): the container's process is
    forked into it from outside, so its parent is none of the pod's (PPid 0), like PID 1's."""
    ppids = _ppids(pod)
    client = next(ppid for cmd, ppid in ppids.items() if cmd.strip() == f"sleep {pod.marker}")
    init = next(ppid for cmd, ppid in ppids.items() if "podwall.runtime.podinit" in cmd)
    assert (client, init) == ("0", "0")


def test_an_orphan_in_the_pod_is_reparented_to_its_pid_1(pod: Pod) -> None:
    marker = str(10**9 + secrets.randbelow(10**8))
    code, _, err = pod.run(f"(sleep {marker} >/dev/null 2>&1 &) ; sleep 0.2")
    assert code == 0, err
    ppids = _ppids(pod)
    assert ppids[f"sleep {marker} "] == "1", ppids
