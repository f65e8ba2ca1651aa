"""Pod processes: a container's command inside its pod's namespaces, unprivileged.

A pod is a named network namespace (/var/run/netns/NAME, made by `netns`). Each container
process is started as

    ip netns exec NAME unshare --uts -- /bin/sh -c 'hostname "$0" && exec "$@"' HOSTNAME \
        setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
                --bounding-set=-all --no-new-privs -- ARGV...

- `ip netns exec` enters the network namespace and a private mount namespace in which it
  bind-mounts every file of /etc/netns/NAME over its namesake in /etc: the pod's resolv.conf,
  hosts and hostname, written here by `write_pod_files()`.
- `unshare --uts` gives the pod its own hostname; the shell sets it and execs, so the process
  podwall tracks (and signals) is the container's own, with the same pid.
- `setpriv` leaves uid/gid 65534, no supplementary groups, every capability set empty and
  no_new_privs (setuid binaries cannot regain root).

podwall's Python stand-ins (json-mock, agnhost, DNS) skip `setpriv`: the interpreter lives
under /root (mode 700), which uid 65534 cannot traverse, so they start as root and drop to the
same state themselves before reading any input (`standins.privileges`).

Every process leads its own process group; `PodProcess.stop()` signals that group by its id.
Container output (stdout and stderr together) goes to `log_dir/<container>.log`.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import shlex
import shutil
import signal
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from podwall.runtime.images import Launch, Waiting, resolve_exec

log = logging.getLogger(__name__)

POD_UID = 65534
POD_GID = 65534
NETNS_RUN = Path("/var/run/netns")
NETNS_ETC = Path("/etc/netns")
CLUSTER_DNS_IP = "198.19.0.10"
SETPRIV_FLAGS = (
    f"--reuid={POD_UID}",
    f"--regid={POD_GID}",
    "--clear-groups",
    "--inh-caps=-all",
    "--bounding-set=-all",
    "--no-new-privs",
)
_SBIN_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
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


class ProcessError(RuntimeError):
    """A pod process could not be started; the message says what to fix."""


class CommandNotFound(ProcessError):
    """`exec_in_pod` was asked to run something the pod's image cannot run on this host."""


@dataclass(eq=False)
class PodProcess:
    """A running (or finished) container process; `pid` is also its process group id."""

    pid: int
    container: str
    log_path: Path
    _popen: subprocess.Popen[bytes] = field(repr=False)

    @property
    def stdin(self) -> IO[bytes] | None:
        """The container's stdin when started with `stdin=True`."""
        return self._popen.stdin

    def wait(self, timeout: float | None = None) -> int | None:
        """The exit code (128 + signal when killed, as container runtimes report it), or None
        if the process is still running after `timeout` seconds."""
        try:
            code = self._popen.wait(timeout)
        except subprocess.TimeoutExpired:
            return None
        return 128 - code if code < 0 else code

    def running(self) -> bool:
        return self._popen.poll() is None

    def stop(self, grace: float = 2.0) -> None:
        """SIGTERM the process group, then SIGKILL it if the process outlives `grace` seconds."""
        _signal_group(self.pid, signal.SIGTERM)
        if self.wait(grace) is None:
            log.info("container=%s pid=%d outlived SIGTERM; killing", self.container, self.pid)
            _signal_group(self.pid, signal.SIGKILL)
            self._popen.wait()
        _signal_group(self.pid, signal.SIGKILL)  # children left behind in the group
        if self._popen.stdin is not None:
            self._popen.stdin.close()


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
) -> PodProcess:
    """Start `launch` as container `container` of the pod in `netns`; returns at once.

    Raises ProcessError when the namespace does not exist or a needed tool is missing; a
    command that fails later shows in `wait()` and in the log.
    """
    _check_label("container name", container)
    write_pod_files(netns, hostname=hostname, resolv_conf=resolv_conf, hosts=hosts)
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"{container}.log"
    with log_path.open("ab") as out:
        popen = _popen(
            pod_argv(netns=netns, hostname=hostname, launch=launch),
            _process_env(launch, hostname),
            stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    log.info(
        "started container=%s netns=%s pid=%d kind=%s", container, netns, popen.pid, launch.kind
    )
    return PodProcess(popen.pid, container, log_path, popen)


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
    launch = _exec_launch(image, argv, env)
    return _popen(
        pod_argv(netns=netns, hostname=hostname, launch=launch),
        _process_env(launch, hostname),
        stdin=stdin,
        stdout=stdout,
        stderr=stderr,
    )


def pod_argv(*, netns: str, hostname: str, launch: Launch) -> list[str]:
    """The full host command line that starts `launch` in the pod (see the module docstring)."""
    _check_netns_name(netns)
    if _HOSTNAME.fullmatch(hostname) is None:
        raise ValueError(f"hostname {hostname!r} must be [a-z0-9.-], at most 63, no edge dash")
    inner = list(launch.argv)
    if not launch.drops_own_privileges:
        inner = [_tool("setpriv"), *SETPRIV_FLAGS, "--", *inner]
    return [
        _tool("ip"), "netns", "exec", netns,
        _tool("unshare"), "--uts", "--",
        "/bin/sh", "-c", set_hostname_and_exec(), hostname,
        *inner,
    ]  # fmt: skip


def set_hostname_and_exec() -> str:
    """The shell step between `unshare --uts` and the container: `$0` is the pod's hostname.

    `hostname` is called by its host path, since the container's PATH may not lead to it.
    """
    return f'{shlex.quote(_tool("hostname"))} "$0" && exec "$@"'


def write_pod_files(netns: str, *, hostname: str, resolv_conf: str, hosts: str) -> Path:
    """Write /etc/netns/NETNS/{resolv.conf,hosts,hostname}, readable by the pod's user."""
    _check_netns_name(netns)
    if not (NETNS_RUN / netns).exists():
        raise ProcessError(f"network namespace {netns!r} does not exist (ip netns add {netns})")
    directory = NETNS_ETC / netns
    directory.mkdir(mode=0o755, parents=True, exist_ok=True)
    for name, text in (("resolv.conf", resolv_conf), ("hosts", hosts), ("hostname", hostname)):
        _write_atomically(directory / name, text if text.endswith("\n") else text + "\n")
    return directory


def remove_pod_files(netns: str) -> None:
    """Remove /etc/netns/NETNS (call when the pod's namespace is deleted)."""
    _check_netns_name(netns)
    shutil.rmtree(NETNS_ETC / netns, ignore_errors=True)


def _exec_launch(image: str, argv: Sequence[str], env: Mapping[str, str] | None) -> Launch:
    resolved = resolve_exec(image, argv, env)
    if isinstance(resolved, Waiting):
        raise CommandNotFound(resolved.message)
    return resolved


def _process_env(launch: Launch, hostname: str) -> dict[str, str]:
    return {**launch.env, "HOSTNAME": hostname}


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
    found = shutil.which(name, path=_SBIN_PATH)
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
    "resolv_conf",
    "start_container",
]
