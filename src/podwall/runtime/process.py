"""Pod processes: a container's command inside its pod's namespaces, as the pod's own user.

The pod's namespaces are held by its PID 1 (`podsandbox`: started with the first container,
or the first `kubectl exec`; the pod's uid is chosen there). Every container and every exec'd
command joins them:

    nsenter --target=INIT --net --mount --uts --ipc --pid -- \
        setpriv --reuid=UID --regid=UID --clear-groups --inh-caps=-all --bounding-set=-all \
                --no-new-privs -- env -i NAME=VALUE... -- ARGV...

so it sees only the pod's processes, its read-only view of the host with a private /tmp, the
pod's resolv.conf, hosts and hostname; it runs with no capability and no_new_privs (setuid
binaries cannot regain root) and cannot see, signal or trace another pod or the host. The
root-side tools get PATH alone as their environment; `env -i` sets the container's after
privileges are gone, so nothing in it (LD_PRELOAD and the like) reaches a root process. With a
terminal on stdin (`kubectl exec -t`), `setsid --ctty` first makes it the command's controlling
terminal, as runc does.

podwall's Python stand-ins (json-mock, agnhost, DNS) skip `setpriv`: the interpreter may live
under /root (mode 700), which the pod's user cannot traverse, so they start as root and drop to
the pod's uid themselves (`standins.privileges`, told it by PODWALL_POD_UID) before reading any
input. They run with `-I` (no PYTHON* variable is read) and without the loader's variables
(LD_*, GCONV_PATH, ...), which would otherwise run a pod's code as root.

`nsenter` forks the command into the pod's PID namespace and waits for it, passing its exit
status on. `PodProcess.pid` is the container's own process (its host pid): `stop()` sends it
SIGTERM, as a container runtime stops a container, then SIGKILLs the process group (nsenter's)
after the grace period. `remove_pod_files()` kills the pod's PID 1, and with it every process
left in the pod. Container output (stdout and stderr together) goes to
`log_dir/<container>.log`, owned by the pod's uid so that the container may reopen it as
/dev/stdout (nginx does).
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import shutil
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from podwall.runtime import containerlogs, podrecords, podsandbox, podvolumes, serviceaccount
from podwall.runtime.console import Console
from podwall.runtime.errors import SandboxError
from podwall.runtime.images import Launch, Waiting, resolve_exec
from podwall.runtime.podsandbox import SBIN_PATH, SandboxStartError
from podwall.runtime.standins.privileges import POD_UID_ENV

log = logging.getLogger(__name__)

NETNS_RUN = podsandbox.NETNS_RUN
NETNS_ETC = Path("/etc/netns")
CLUSTER_DNS_IP = "198.19.0.10"
POD_NAMESPACES = ("--net", "--mount", "--uts", "--ipc", "--pid")
# Variables the dynamic loader or libc act on (glibc drops them for setuid programs): a stand-in
# starts as root, so it never gets them.
_LOADER_VARIABLES = frozenset(
    {"GCONV_PATH", "GETCONF_DIR", "GLIBC_TUNABLES", "HOSTALIASES", "LOCALDOMAIN", "LOCPATH",
     "MALLOC_TRACE", "NIS_PATH", "NLSPATH", "RESOLV_HOST_CONF", "RES_OPTIONS", "TMPDIR", "TZDIR"}
)  # fmt: skip
_ROOT_ENV = {"PATH": SBIN_PATH}
_NETNS_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,254}")
_DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")
_HOSTNAME = re.compile(r"[a-z0-9]([-a-z0-9.]{0,61}[a-z0-9])?")
_HOSTS_HEADER = """# Kubernetes-managed hosts file.
127.0.0.1\tlocalhost
::1\tlocalhost ip6-localhost ip6-loopback
fe00::0\tip6-localnet
fe00::0\tip6-mcastprefix
fe00::1\tip6-allnodes
fe00::2\tip6-allrouters
"""


class ProcessError(SandboxError, RuntimeError):
    """A pod process could not be started; the message says what to fix."""


class CommandNotFound(ProcessError):
    """`exec_in_pod` was asked to run something the pod's image cannot run on this host."""


@dataclass(eq=False)
class PodProcess:
    """A running (or finished) container process. `pid` is the container's own process, in
    the host's numbering; its group is that of the `nsenter` that waits for it."""

    pid: int
    container: str
    log_path: Path
    _popen: subprocess.Popen[bytes] = field(repr=False)
    _pidfd: int | None = field(default=None, repr=False)
    console: Console | None = None  # with `stdin` or `tty`: what `kubectl attach` reaches

    def wait(self, timeout: float | None = None) -> int | None:
        """The exit code (128 + signal when killed, as container runtimes report it), or None
        if the process is still running after `timeout` seconds."""
        try:
            code = self._popen.wait(timeout)
        except subprocess.TimeoutExpired:
            return None
        self._forget_pidfd()
        return 128 - code if code < 0 else code

    def running(self) -> bool:
        return self._popen.poll() is None

    def stop(self, grace: float = 2.0) -> None:
        """SIGTERM the container's process, then SIGKILL its group if it outlives `grace`."""
        if self._pidfd is not None and self.running():
            with contextlib.suppress(ProcessLookupError):
                signal.pidfd_send_signal(self._pidfd, signal.SIGTERM)
        if self.wait(grace) is None:
            log.info("container=%s pid=%d outlived SIGTERM; killing", self.container, self.pid)
            _signal_group(self._popen.pid, signal.SIGKILL)
            self._popen.wait()
        _signal_group(self._popen.pid, signal.SIGKILL)  # children left behind in the group
        self._forget_pidfd()
        if self.console is not None:
            self.console.close()

    def _forget_pidfd(self) -> None:
        if self._pidfd is not None:
            os.close(self._pidfd)
            self._pidfd = None


def resolv_conf(namespace: str, dns_ip: str = CLUSTER_DNS_IP) -> str:
    """A pod's /etc/resolv.conf, as kubelet writes it for dnsPolicy ClusterFirst."""
    return (
        f"search {namespace}.svc.cluster.local svc.cluster.local cluster.local\n"
        f"nameserver {dns_ip}\n"
        "options ndots:5\n"
    )


def hosts_file(hostname: str, pod_ip: str | None = None) -> str:
    """A pod's /etc/hosts, as kubelet writes it: localhost entries and the pod's own name."""
    own = f"{pod_ip}\t{hostname}\n" if pod_ip else ""
    return _HOSTS_HEADER + own


def start_container(
    *,
    netns: str,
    hostname: str,
    launch: Launch,
    resolv_conf: str,
    hosts: str,
    log_dir: Path,
    container: str,
    stdin: bool = False,
    tty: bool = False,
    stdin_once: bool = False,
    run_as_user: int | None = None,
    service_account: serviceaccount.ServiceAccountFiles | None = None,
    volumes: podvolumes.PodVolumes | None = None,
    pod_images: Sequence[str] = (),
) -> PodProcess:
    """Start `launch` as container `container` of the pod in `netns`; returns at once.

    `pod_images` are the images of all the pod's containers: when this starts the pod's PID 1,
    their files (`/agnhost`) are put at their paths in the pod's own root.

    `service_account`'s files are mounted where in-cluster clients read them, when this
    starts the pod's PID 1 (`serviceaccount`); `volumes` too (`podvolumes`: written and
    mounted when this starts the pod's PID 1; `Node.update_volumes` rewrites them later).

    With `stdin` its stdin stays open, held by the PodProcess's `console`, until an attach
    ends it; with `tty` it runs under a pty (see `console`). `run_as_user` is the pod's
    securityContext.runAsUser (it counts when the pod's first process starts). Raises
    ProcessError when the namespace does not exist, a needed tool is missing or the pod cannot
    run as asked; a command that fails later shows in `wait()` and in the log.
    """
    _check_label("container name", container)
    write_pod_files(netns, hostname=hostname, resolv_conf=resolv_conf, hosts=hosts)
    if service_account is not None:
        serviceaccount.write(netns, service_account)
    if volumes is not None and pod_uid(netns) is None:
        podvolumes.write(netns, volumes)
    elif volumes is not None and volumes.mounts and not podvolumes.manifest_path(netns).exists():
        # Its PID 1 was started without them (a `kubectl exec` before any container ran):
        # the container would run without its volumes.
        raise ProcessError(
            f"pod {netns}: its PID 1 was started without its volumes; delete the pod to "
            "start it again with them"
        )
    pod = _ensure_pod(netns, hostname, run_as_user, pod_images)
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = containerlogs.log_path(log_dir, container)
    console, slave = (None, None)
    if tty:
        console, slave = Console.open_pty(stdin_once=stdin_once)
    try:
        with log_path.open("ab") as out:
            # The pod's user owns its log, so `/dev/stdout` reopens it (nginx's access_log does).
            os.fchown(out.fileno(), pod.uid, pod.uid)
            argv = pod_argv(
                init_pid=pod.init_pid, uid=pod.uid, launch=launch, hostname=hostname, tty=tty
            )
            popen = _popen(
                argv,
                _process_env(launch, hostname, pod.uid),
                stdin=slave if slave is not None else _stdin(stdin),
                stdout=slave if slave is not None else out,
                stderr=slave if slave is not None else subprocess.STDOUT,
            )
    except BaseException:
        if console is not None:
            console.close()
        raise
    finally:
        if slave is not None:
            os.close(slave)
    if console is not None:
        console.copy_output_to(log_path)
    elif popen.stdin is not None:
        console = Console.for_pipe(os.dup(popen.stdin.fileno()), stdin_once=stdin_once)
        popen.stdin.close()
    main = _first_child(popen)
    log.info(
        "started container=%s netns=%s pid=%d uid=%d kind=%s",
        container, netns, main or popen.pid, pod.uid, launch.kind,
    )  # fmt: skip
    return PodProcess(main or popen.pid, container, log_path, popen, _pidfd_of(main), console)


def _stdin(keep_open: bool) -> int:
    return subprocess.PIPE if keep_open else subprocess.DEVNULL


def exec_in_pod(
    *,
    netns: str,
    hostname: str,
    argv: Sequence[str],
    env: Mapping[str, str] | None = None,
    image: str = "",
    stdin: int | IO[bytes] | None = subprocess.PIPE,
    stdout: int | IO[bytes] | None = subprocess.PIPE,
    stderr: int | IO[bytes] | None = subprocess.PIPE,
) -> subprocess.Popen[bytes]:
    """Run `argv` as `kubectl exec` does: the pod's namespaces, files, hostname and user.

    `image` maps the command as the image table does (`/agnhost connect ...` in an agnhost
    pod, `/bin/ash` in alpine). The pod's files must exist (`start_container` wrote them).
    Raises CommandNotFound when the command cannot run here.
    """
    _check_hostname(hostname)  # bad input is refused before anything touches the pod
    launch = _exec_launch(image, argv, env)
    pod = _ensure_pod(netns, hostname, None, (image,))
    tty = isinstance(stdin, int) and stdin >= 0 and os.isatty(stdin)
    return _popen(
        pod_argv(init_pid=pod.init_pid, uid=pod.uid, launch=launch, hostname=hostname, tty=tty),
        _process_env(launch, hostname, pod.uid),
        stdin=stdin,
        stdout=stdout,
        stderr=stderr,
    )


def _check_hostname(hostname: str) -> None:
    if _HOSTNAME.fullmatch(hostname) is None:
        raise ValueError(f"hostname {hostname!r} must be [a-z0-9.-], at most 63, no edge dash")


def pod_argv(
    *, init_pid: int, uid: int, launch: Launch, hostname: str, tty: bool = False
) -> list[str]:
    """The full host command line that runs `launch` in the pod whose PID 1 is `init_pid`
    (see the module docstring)."""
    _check_hostname(hostname)
    argv = [_tool("nsenter"), f"--target={init_pid}", *POD_NAMESPACES, "--"]
    if tty:
        argv += [_tool("setsid"), "--ctty"]
    if launch.drops_own_privileges:
        python, *rest = launch.argv
        return [*argv, python, "-I", *podsandbox.from_source(rest)]
    env = [f"{name}={value}" for name, value in container_env(launch, hostname).items()]
    return [
        *argv,
        _tool("setpriv"), *setpriv_flags(uid), "--",
        _tool("env"), "-i", "--", *env,
        *launch.argv,
    ]  # fmt: skip


def setpriv_flags(uid: int) -> tuple[str, ...]:
    """`setpriv`'s end state: uid and gid `uid`, no groups, no capabilities, no_new_privs."""
    return (
        f"--reuid={uid}",
        f"--regid={uid}",
        "--clear-groups",
        "--inh-caps=-all",
        "--bounding-set=-all",
        "--no-new-privs",
    )


def container_env(launch: Launch, hostname: str) -> dict[str, str]:
    """The environment the container's command sees."""
    return {**launch.env, "HOSTNAME": hostname}


def write_pod_files(netns: str, *, hostname: str, resolv_conf: str, hosts: str) -> Path:
    """Write /etc/netns/NETNS/{resolv.conf,hosts,hostname}, readable by the pod's user.

    The pod's PID 1 binds them over /etc when it starts: they are the pod's for its whole
    life, as kubelet's are, and a rewrite reaches only a pod started afterwards."""
    _check_netns_name(netns)
    if not (NETNS_RUN / netns).exists():
        raise ProcessError(f"network namespace {netns!r} does not exist (ip netns add {netns})")
    directory = NETNS_ETC / netns
    directory.mkdir(mode=0o755, parents=True, exist_ok=True)
    for name, text in (("resolv.conf", resolv_conf), ("hosts", hosts), ("hostname", hostname)):
        _write_atomically(directory / name, text if text.endswith("\n") else text + "\n")
    return directory


def remove_pod_files(netns: str) -> None:
    """Remove what the pod left on this host: its PID 1 (so every process still in the pod),
    its record and uid, /etc/netns/NETNS, its service account files and its volumes. Call
    when the pod's namespace is deleted."""
    _check_netns_name(netns)
    podsandbox.stop(netns)
    shutil.rmtree(NETNS_ETC / netns, ignore_errors=True)
    serviceaccount.remove(netns)
    podvolumes.remove(netns)


def pod_uid(netns: str) -> int | None:
    """The uid the pod in `netns` runs as, while it has a PID 1."""
    record = podrecords.read(netns)
    return record.uid if record is not None and record.init_running() else None


def _exec_launch(image: str, argv: Sequence[str], env: Mapping[str, str] | None) -> Launch:
    resolved = resolve_exec(image, argv, env)
    if isinstance(resolved, Waiting):
        raise CommandNotFound(resolved.message)
    return resolved


def _ensure_pod(
    netns: str, hostname: str, run_as_user: int | None, images: Sequence[str]
) -> podrecords.PodRecord:
    _check_netns_name(netns)
    if not (NETNS_RUN / netns).exists():
        raise ProcessError(f"network namespace {netns!r} does not exist (ip netns add {netns})")
    if _HOSTNAME.fullmatch(hostname) is None:
        raise ValueError(f"hostname {hostname!r} must be [a-z0-9.-], at most 63, no edge dash")
    try:
        return podsandbox.ensure(netns, hostname, run_as_user, images)
    except (SandboxStartError, podrecords.UidsExhausted) as exc:
        raise ProcessError(str(exc)) from exc


def _process_env(launch: Launch, hostname: str, uid: int) -> dict[str, str]:
    """The environment of the root-side process: PATH only, unless it is a stand-in, which
    reads the container's (less the loader's variables) and the pod's uid."""
    if not launch.drops_own_privileges:
        return dict(_ROOT_ENV)
    env = {k: v for k, v in container_env(launch, hostname).items() if _harmless_for_root(k)}
    return {**env, POD_UID_ENV: str(uid)}


def _harmless_for_root(name: str) -> bool:
    return not name.startswith(("LD_", "PYTHON", "MALLOC_")) and name not in _LOADER_VARIABLES


def _first_child(popen: subprocess.Popen[bytes], timeout: float = 5.0) -> int | None:
    """The pid of the process `nsenter` forks into the pod (None if nsenter ended first)."""
    children = Path(f"/proc/{popen.pid}/task/{popen.pid}/children")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError):
            found = children.read_text().split()
            if found:
                return int(found[0])
        if popen.poll() is not None:
            return None
        time.sleep(0.001)
    return None


def _pidfd_of(pid: int | None) -> int | None:
    if pid is None:
        return None
    try:
        return os.pidfd_open(pid)
    except ProcessLookupError:
        return None


def _popen(
    argv: list[str],
    env: dict[str, str],
    *,
    stdin: int | IO[bytes] | None,
    stdout: int | IO[bytes] | None,
    stderr: int | IO[bytes] | None,
) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        argv,
        env=env,
        cwd="/",
        stdin=stdin,
        stdout=stdout,
        stderr=stderr,
        start_new_session=True,
        close_fds=True,
    )


def _write_atomically(path: Path, text: str) -> None:
    staging = path.with_name(f".{path.name}.new")
    staging.write_text(text)
    staging.chmod(0o644)
    staging.replace(path)


def _signal_group(pgid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signum)


def _tool(name: str) -> str:
    found = shutil.which(name, path=SBIN_PATH)
    if found is None:
        raise ProcessError(f"{name} not found: install iproute2 and util-linux")
    return found


def _check_netns_name(netns: str) -> None:
    if _NETNS_NAME.fullmatch(netns) is None:
        raise ValueError(f"invalid network namespace name {netns!r}")


def _check_label(what: str, value: str) -> None:
    if _DNS_LABEL.fullmatch(value) is None:
        raise ValueError(f"{what} {value!r} must be a DNS label ([a-z0-9-], at most 63)")


__all__ = [
    "CommandNotFound",
    "PodProcess",
    "ProcessError",
    "exec_in_pod",
    "hosts_file",
    "pod_uid",
    "remove_pod_files",
    "resolv_conf",
    "start_container",
    "write_pod_files",
]
