"""A pod's sandbox on the host: its PID 1, which holds the pod's namespaces, and its user.

A pod is a named network namespace (/var/run/netns/NAME, made by `netns`) plus, once anything
runs in it, a PID 1 (`podinit`) holding the pod's own PID, mount, UTS and IPC namespaces:

    setsid --fork ip netns exec NAME \\
        unshare --pid --fork --mount --uts --ipc --propagation private -- \\
        PYTHON -I -c 'run podwall.runtime.podinit from ROOT' ROOT --uid UID --gid UID \
            --hostname HOSTNAME [--service-account DIR] [--volumes FILE] \
            [--file POD_PATH=HOST_PATH]...

- `ip netns exec` enters the network namespace and a private mount namespace in which it
  bind-mounts every file of /etc/netns/NAME over its namesake in /etc: the pod's resolv.conf,
  hosts and hostname (`process.write_pod_files()` writes them first).
- `podinit` makes the pod's own root (the host's root entries bound into a tmpfs, with the
  files of the pod's images, `--file`, beside them) and the pod's view (everything read-only,
  its own /proc, private tmpfs on /tmp, /var/tmp and /dev/shm), sets the hostname, drops to
  the pod's uid and reaps orphans. It says `ready <host pid>` on stdout when the pod may be
  entered.
- when the pod has service account files (`serviceaccount.write`, by the kubelet before its
  first container), `podinit` mounts them where in-cluster clients look; when it has volumes
  (`podvolumes.write`, likewise), it mounts each at its mount path.
- `setsid --fork` detaches it: it is nobody's child here, so no caller has to reap it.

The pod's uid is `podrecords`': the pod's securityContext.runAsUser, else one of its own from
200000 up; never root. `ensure()` starts PID 1 when the pod has none (the first container, or a
`kubectl exec` into a pod whose containers have not started), `stop()` kills it, and the kernel
then kills every process left in the pod's PID namespace.
"""

from __future__ import annotations

import os
import selectors
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from podwall.runtime import imagefiles, podrecords, podvolumes, serviceaccount
from podwall.runtime.errors import SandboxError
from podwall.runtime.podrecords import PodRecord
from podwall.runtime.procstat import start_time

NETNS_RUN = Path("/var/run/netns")
SBIN_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
READY_SECONDS = 10.0
_MAX_UID = 2**31 - 1
# PID 1 and the stand-ins run this very podwall (`-I` ignores PYTHONPATH, and the interpreter's
# own site-packages may hold another copy): its source root is their first argument.
SOURCE_ROOT = str(Path(__file__).resolve().parents[2])
_RUN_INIT = (
    "import sys; sys.path.insert(0, sys.argv.pop(1)); "
    "from podwall.runtime.podinit import main; main(sys.argv[1:])"
)
_RUN_MODULE = (
    "import runpy, sys; sys.path.insert(0, sys.argv.pop(1)); "
    "runpy.run_module(sys.argv.pop(1), run_name='__main__', alter_sys=True)"
)


def from_source(python_args: list[str]) -> list[str]:
    """`-m MODULE ARGS...` as a program that runs MODULE from `SOURCE_ROOT` (for `python -I`)."""
    if len(python_args) >= 2 and python_args[0] == "-m":
        return ["-c", _RUN_MODULE, SOURCE_ROOT, *python_args[1:]]
    return python_args


class SandboxStartError(SandboxError, RuntimeError):
    """The pod's PID 1 could not be started; the message says why."""


def ensure(
    netns: str, hostname: str, run_as_user: int | None = None, images: Sequence[str] = ()
) -> PodRecord:
    """The pod's record with a running PID 1, started now if the pod has none.

    The pod keeps the uid it was given first: `run_as_user` counts only for a new pod, and
    `images` (whose files its root holds) too.
    """
    with podrecords.locked():
        record = podrecords.read(netns)
        if record is not None and record.init_running():
            return record
        if record is not None:
            uid = record.uid
        elif run_as_user is not None:
            uid = check_uid(run_as_user)
        else:
            uid = podrecords.allocate_uid(lambda name: (NETNS_RUN / name).exists())
        try:
            files = imagefiles.pod_files(images)
        except OSError as exc:
            raise SandboxStartError(f"pod {netns}: its image files: {exc}") from exc
        record = _start(netns, uid, init_argv(netns, hostname, uid, files))
        podrecords.write(record)
        return record


def stop(netns: str, timeout: float = 5.0) -> None:
    """Kill the pod's PID 1 (so every process in the pod) and forget the pod's record."""
    with podrecords.locked():
        record = podrecords.read(netns)
        if record is None:
            return
        _kill(record)
        deadline = time.monotonic() + timeout
        while record.init_running() and time.monotonic() < deadline:
            time.sleep(0.01)
        podrecords.remove(netns)


def check_uid(uid: int) -> int:
    if uid == 0:
        raise SandboxStartError(
            "securityContext.runAsUser 0 is not supported: podwall never runs a pod as root"
        )
    if not 0 < uid <= _MAX_UID:
        raise SandboxStartError(f"securityContext.runAsUser {uid} is not a valid uid")
    return uid


def init_argv(
    netns: str, hostname: str, uid: int, files: Mapping[str, Path] | None = None
) -> list[str]:
    """The host command that starts the pod's PID 1 (see the module docstring); `files` are
    the pod's image files, by path in the pod, and the host files they are copied from."""
    secrets = serviceaccount.directory(netns)
    mount = ["--service-account", str(secrets)] if secrets.is_dir() else []
    volumes = podvolumes.manifest_path(netns)
    mount += ["--volumes", str(volumes)] if volumes.is_file() else []
    mount += [f"--file={path}={source}" for path, source in sorted((files or {}).items())]
    return [
        _tool("setsid"), "--fork",
        _tool("ip"), "netns", "exec", netns,
        _tool("unshare"), "--pid", "--fork", "--mount", "--uts", "--ipc",
        "--propagation", "private", "--",
        sys.executable, "-I", "-c", _RUN_INIT, SOURCE_ROOT,
        "--uid", str(uid), "--gid", str(uid), "--hostname", hostname, *mount,
    ]  # fmt: skip


def _start(netns: str, uid: int, argv: list[str]) -> PodRecord:
    launcher = subprocess.Popen(
        argv,
        env={"PATH": SBIN_PATH},
        cwd="/",
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        close_fds=True,
    )
    assert launcher.stdout is not None
    try:
        said = _read_until_ready(launcher.stdout.fileno(), READY_SECONDS)
    finally:
        launcher.stdout.close()
        launcher.wait()  # `setsid --fork` returns at once
    pid = ready_pid(said)
    if pid is None:
        raise SandboxStartError(f"pod {netns}: its init did not start: {said.strip()!r}")
    started = start_time(pid)
    if started is None:
        raise SandboxStartError(f"pod {netns}: its init (pid {pid}) ended at once")
    return PodRecord(netns=netns, uid=uid, init_pid=pid, init_start=started)


def ready_pid(said: str) -> int | None:
    """The host pid in the init's `ready <pid>` line, if it said one."""
    for line in said.splitlines():
        word, _, pid = line.partition(" ")
        if word == "ready" and pid.isdigit():
            return int(pid)
    return None


def _read_until_ready(fd: int, timeout: float) -> str:
    """What the init printed, up to its `ready` line (or all of it, if it failed)."""
    out = b""
    deadline = time.monotonic() + timeout
    with selectors.DefaultSelector() as selector:
        selector.register(fd, selectors.EVENT_READ)
        while b"\n" not in out.partition(b"ready ")[2]:
            left = deadline - time.monotonic()
            if left <= 0 or not selector.select(left):
                return out.decode(errors="replace") + " (no answer in time)"
            chunk = os.read(fd, 4096)
            if not chunk:
                break
            out += chunk
    return out.decode(errors="replace")


def _kill(record: PodRecord) -> None:
    try:
        pidfd = os.pidfd_open(record.init_pid)
    except (ProcessLookupError, ValueError):
        return
    try:
        # The pidfd pins the process checked just now: a reused pid is never signalled.
        if record.init_running():
            signal.pidfd_send_signal(pidfd, signal.SIGKILL)
    finally:
        os.close(pidfd)


def _tool(name: str) -> str:
    found = shutil.which(name, path=SBIN_PATH)
    if found is None:
        raise SandboxStartError(f"{name} not found: install iproute2 and util-linux")
    return found
