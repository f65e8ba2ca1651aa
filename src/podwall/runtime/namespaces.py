"""Named network namespaces: create, enter, remove; and the plumbing the sandbox's routers share.

A sandbox has two kinds of router namespace, a node (`netns`) and the fabric between nodes
(`underlay`). Both are set up here the same way: loopback up, IPv4 forwarding on, rp_filter off,
and the link-local gateway 169.254.1.1 that the namespaces below them (pods, nodes) route through;
the router answers ARP for it by proxy ARP on each downstream veth (Calico's layout).

Work inside a namespace runs in a fresh thread that enters it (setns moves only the calling
thread, and /proc/sys/net shows the namespace of the thread that reads it); the caller's thread
never moves, and the worker thread ends with the work. The host's own namespace is never changed.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import ipaddress
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import pyroute2  # type: ignore[import-untyped]
import pyroute2.netns  # type: ignore[import-untyped]
from pyroute2.netlink.exceptions import NetlinkError  # type: ignore[import-untyped]

from podwall.runtime import names
from podwall.runtime.errors import SandboxError

NETNS_DIR = Path("/var/run/netns")
GATEWAY = ipaddress.IPv4Address("169.254.1.1")
# A veth pair inside a router namespace that only carries the route to the gateway address.
GATEWAY_IFNAME = "pwgw"
GATEWAY_PEER_IFNAME = "pwgw-peer"
RTNH_F_ONLINK = 4

_CLONE_NEWNET = 0x40000000
_ROUTER_SYSCTLS = (
    ("net.ipv4.ip_forward", "1"),
    ("net.ipv4.conf.all.forwarding", "1"),
    # A new namespace inherits the host's all/default rp_filter, and the effective value is the
    # maximum of `all` and the interface's: zero both so the host's choice cannot change what
    # the sandbox forwards (Calico turns it off on its veths too).
    ("net.ipv4.conf.all.rp_filter", "0"),
    ("net.ipv4.conf.default.rp_filter", "0"),
)

T = TypeVar("T")
IPRoute = Any  # pyroute2 is untyped; this names what the functions below are handed.


# --- entering namespaces -------------------------------------------------------------------------


def netns_path(name: str) -> Path:
    return NETNS_DIR / name


def _in_fresh_thread(work: Callable[[], T], thread_name: str) -> T:
    """Run `work` in a new thread and return its result or raise its exception here.

    The thread is never reused, so whatever namespace it entered dies with it.
    """
    results: list[T] = []
    failures: list[BaseException] = []

    def target() -> None:
        try:
            results.append(work())
        except BaseException as exc:  # handed to the caller's thread below
            failures.append(exc)

    thread = threading.Thread(target=target, name=thread_name, daemon=True)
    thread.start()
    thread.join()
    if failures:
        raise failures[0]
    return results[0]


def _thread_netns_inode() -> int:
    return os.stat("/proc/thread-self/ns/net").st_ino


def _enter(name: str) -> None:
    """Move the calling (worker) thread into namespace `name`, and check that it moved."""
    path = netns_path(name)
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        pyroute2.netns.setns(fd, flags=0)
        if _thread_netns_inode() != os.fstat(fd).st_ino:
            raise SandboxError(f"entering network namespace {name} did not take effect")
    finally:
        os.close(fd)


def run_in_netns(name: str, work: Callable[[], T]) -> T:
    """Run `work` inside network namespace `name` (netlink, sockets, /proc/sys/net) and return.

    The work runs in a fresh thread; the caller's thread stays where it is.
    """

    def entered() -> T:
        _enter(name)
        return work()

    return _in_fresh_thread(entered, f"netns:{name}")


def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(None, use_errno=True)


def create_netns(name: str, configure: Callable[[], None]) -> None:
    """Create namespace `name` (mounted at /var/run/netns/name) and run `configure` inside it.

    A fresh thread unshares its network namespace, so the new namespace is born with the thread
    and never touches the host's; pyroute2 bind-mounts it the way `ip netns add` does. When
    `configure` fails the namespace is removed again; FileExistsError (someone else's) is not.
    """

    def born() -> None:
        if _libc().unshare(_CLONE_NEWNET) != 0:
            code = ctypes.get_errno()
            raise OSError(code, f"unshare(CLONE_NEWNET): {os.strerror(code)}")
        pyroute2.netns.attach(name, threading.get_native_id())
        configure()

    try:
        _in_fresh_thread(born, f"netns:{name}")
    except FileExistsError:
        raise  # someone else's: leave it alone
    except BaseException:
        remove_netns_quietly(name)
        raise


def check_absent(name: str) -> None:
    if netns_path(name).exists():
        raise SandboxError(
            f"network namespace {name} already exists: a sandbox with this cluster id is running "
            "or was left behind (`podwall down --force` removes leftovers)"
        )


def make_netns(name: str, configure: Callable[[], None], what: str) -> None:
    """Create namespace `name`, which must not exist yet, and `configure` it inside; a
    SandboxError `cannot create <what> <name>: <why>` when that fails."""
    check_absent(name)
    try:
        create_netns(name, configure)
    except (OSError, NetlinkError) as exc:
        raise SandboxError(f"cannot create {what} {name}: {exc}") from exc


_MS_BIND = 4096


def alias_netns(name: str, target: str) -> None:
    """Name namespace `target` also `name` (a bind mount of its file, as `ip netns attach`
    would of a process's): entering `name` enters `target`. `remove_netns(name)` removes only
    the name. A host-network pod gets its node's namespace under a name of its own."""
    check_absent(name)
    path = netns_path(name)
    path.touch(mode=0, exist_ok=False)
    source = str(netns_path(target)).encode()
    if _libc().mount(source, str(path).encode(), None, _MS_BIND, None) != 0:
        code = ctypes.get_errno()
        path.unlink(missing_ok=True)
        raise OSError(code, f"bind-mounting {target} as {name}: {os.strerror(code)}")


def remove_netns(name: str) -> None:
    """Unmount and unlink namespace `name`; the kernel frees it once no process is inside."""
    pyroute2.netns.remove(name)


def remove_netns_quietly(name: str) -> None:
    with contextlib.suppress(OSError):
        remove_netns(name)


def check_privileges() -> None:
    if os.geteuid() != 0:
        raise SandboxError(
            "creating sandbox network namespaces needs root (CAP_SYS_ADMIN and CAP_NET_ADMIN)"
        )


# --- inside a namespace --------------------------------------------------------------------------


def write_sysctl(key: str, value: str) -> None:
    """Write sysctl `key` for the namespace of the calling thread (only worker threads call it)."""
    if threading.current_thread() is threading.main_thread():
        raise SandboxError(f"refusing to write sysctl {key} from the main thread")
    Path("/proc/sys", *key.split(".")).write_text(value)


def read_sysctl(key: str) -> str:
    """Read sysctl `key` in the calling thread's namespace (use `run_in_netns` for another)."""
    return Path("/proc/sys", *key.split(".")).read_text().strip()


def ifindex(ipr: IPRoute, ifname: str) -> int:
    found = ipr.link_lookup(ifname=ifname)
    if not found:
        raise SandboxError(f"interface {ifname} not found")
    return int(found[0])


def set_up(ipr: IPRoute, ifname: str) -> int:
    index = ifindex(ipr, ifname)
    ipr.link("set", index=index, state="up")
    return index


def configure_router() -> None:
    """In a new router namespace: loopback, forwarding, and the route to the gateway."""
    with pyroute2.IPRoute() as ipr:
        set_up(ipr, "lo")
        # Proxy ARP answers only for an address the router routes out of another interface, and
        # a router here has no default route. So a route to the gateway address (never an
        # address) points at a veth whose peer stays down: it drops whatever is sent to the
        # gateway itself. (A dummy link would do, but not every kernel has the dummy module.)
        ipr.link("add", ifname=GATEWAY_IFNAME, kind="veth", peer=GATEWAY_PEER_IFNAME)
        gateway = set_up(ipr, GATEWAY_IFNAME)
        ipr.route("add", dst=f"{GATEWAY}/32", oif=gateway, scope="link")
    for key, value in _ROUTER_SYSCTLS:
        write_sysctl(key, value)


def answer_for_gateway(ifname: str) -> None:
    """In a router namespace: forward on `ifname` and answer ARP for the gateway there, at once
    rather than after the default random delay of up to 0.8 s."""
    conf = f"net.ipv4.conf.{ifname}"
    write_sysctl(f"{conf}.forwarding", "1")
    write_sysctl(f"{conf}.rp_filter", "0")
    write_sysctl(f"{conf}.proxy_arp", "1")
    write_sysctl(f"net.ipv4.neigh.{ifname}.proxy_delay", "0")


def add_veth_into(ipr: IPRoute, ifname: str, peer: str, peer_netns: str) -> None:
    """Create veth `ifname` here with its peer `peer` placed in namespace `peer_netns`."""
    fd = os.open(netns_path(peer_netns), os.O_RDONLY | os.O_CLOEXEC)
    try:
        ipr.link("add", ifname=ifname, kind="veth", peer={"ifname": peer, "net_ns_fd": fd})
    finally:
        os.close(fd)


def delete_link(ifname: str) -> None:
    """Delete link `ifname` in the calling thread's namespace; a missing link is fine."""
    with pyroute2.IPRoute() as ipr:
        found = ipr.link_lookup(ifname=ifname)
        if found:
            ipr.link("del", index=found[0])


# --- leftovers -----------------------------------------------------------------------------------


def leftovers(prefix: str = names.PREFIX) -> list[str]:
    """Namespace names under /var/run/netns that start with `prefix`, sorted."""
    _check_prefix(prefix)
    try:
        entries = os.listdir(NETNS_DIR)
    except FileNotFoundError:
        return []
    return sorted(name for name in entries if name.startswith(prefix))


def remove_leftovers(prefix: str = names.PREFIX) -> list[str]:
    """Remove the namespaces `leftovers(prefix)` finds; return the names removed. Kills nothing.

    Removing a node namespace also deletes its veths (and so their pod ends and its uplink to the
    fabric), unless a process still runs inside: then the namespace lives on, unnamed, until that
    process exits. Removing the fabric deletes every node's uplink with it.
    """
    removed = []
    failures = []
    for name in leftovers(prefix):
        try:
            remove_netns(name)
        except OSError as exc:
            if exc.errno != errno.ENOENT:
                failures.append(f"{name}: {exc}")
                continue
        removed.append(name)
    if failures:
        raise SandboxError("cannot remove leftover namespaces: " + "; ".join(failures))
    return removed


def _check_prefix(prefix: str) -> None:
    # Never let a short or empty prefix reach namespaces that are not podwall's.
    if not prefix.startswith(names.PREFIX):
        raise ValueError(f"prefix {prefix!r} must start with {names.PREFIX!r}")
