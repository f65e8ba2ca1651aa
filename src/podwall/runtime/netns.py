"""The sandbox network of one node: its network namespaces, veth pairs, addresses, routes, sysctls.

Layout (Calico-style routed veth, no bridge), all inside namespaces this module creates:

- node namespace `pw-<cluster>-<node>`: loopback up, IPv4 forwarding on, no address. One
  node-side veth `pw<hex>` per pod (up, no address, proxy ARP on) and a /32 route per pod address
  through it. Pod-to-pod traffic is routed here, so it passes the `forward` hook of this namespace:
  that is where nftables policy belongs.
- pod namespace `pw-<cluster>-p<hex>`: loopback up, `eth0` with the pod address as a /32 and
  `default via 169.254.1.1 dev eth0 onlink`. No interface holds 169.254.1.1: the node-side veth
  answers ARP for it by proxy ARP, which needs the node to route 169.254.1.1 somewhere else; a
  veth pair `pwgw`/`pwgw-peer` inside the node namespace (peer down) takes that route.
- pod addresses: given, or the lowest free one of the node's 198.18.<index>.0/24 (from .2 to .254).

The host's own namespace is never changed. Work inside a namespace runs in a fresh thread that
enters it (setns moves only the calling thread, and /proc/sys/net shows the namespace of the thread
that reads it); the caller's thread never moves, and the worker thread ends with the work.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import ipaddress
import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

import pyroute2  # type: ignore[import-untyped]
import pyroute2.netns  # type: ignore[import-untyped]
from pyroute2.netlink.exceptions import NetlinkError  # type: ignore[import-untyped]

from podwall.runtime import names
from podwall.runtime.errors import SandboxError

NETNS_DIR = Path("/var/run/netns")
GATEWAY = ipaddress.IPv4Address("169.254.1.1")
POD_SUPERNET = ipaddress.IPv4Network("198.18.0.0/16")
SERVICE_SUPERNET = ipaddress.IPv4Network("198.19.0.0/16")
# A veth pair inside the node namespace that only carries the route to the gateway address.
GATEWAY_IFNAME = "pwgw"
GATEWAY_PEER_IFNAME = "pwgw-peer"

_CLONE_NEWNET = 0x40000000
_RTNH_F_ONLINK = 4
# Pod sysctls: unprivileged processes may bind port 80 and ping, as under containerd.
_POD_SYSCTLS = (
    ("net.ipv4.ip_unprivileged_port_start", "0"),
    ("net.ipv4.ping_group_range", "0 2147483647"),
)
_NODE_SYSCTLS = (
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


@dataclass(frozen=True, slots=True, kw_only=True)
class PodNetwork:
    key: str  # "ns/name"
    netns: str  # namespace name under /var/run/netns
    ip: ipaddress.IPv4Address
    host_ifname: str  # node-side veth name


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


def _create_netns(name: str, configure: Callable[[], None]) -> None:
    """Create namespace `name` (mounted at /var/run/netns/name) and run `configure` inside it.

    A fresh thread unshares its network namespace, so the new namespace is born with the thread
    and never touches the host's; pyroute2 bind-mounts it the way `ip netns add` does.
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
        _remove_netns_quietly(name)
        raise


def _check_absent(name: str) -> None:
    if netns_path(name).exists():
        raise SandboxError(
            f"network namespace {name} already exists: a sandbox with this cluster id is running "
            "or was left behind (`podwall down --force` removes leftovers)"
        )


def _remove_netns(name: str) -> None:
    """Unmount and unlink namespace `name`; the kernel frees it once no process is inside."""
    pyroute2.netns.remove(name)


def _remove_netns_quietly(name: str) -> None:
    with contextlib.suppress(OSError):
        _remove_netns(name)


# --- inside a namespace --------------------------------------------------------------------------


def _write_sysctl(key: str, value: str) -> None:
    """Write sysctl `key` for the namespace of the calling thread (only worker threads call it)."""
    if threading.current_thread() is threading.main_thread():
        raise SandboxError(f"refusing to write sysctl {key} from the main thread")
    Path("/proc/sys", *key.split(".")).write_text(value)


def read_sysctl(key: str) -> str:
    """Read sysctl `key` in the calling thread's namespace (use `run_in_netns` for another)."""
    return Path("/proc/sys", *key.split(".")).read_text().strip()


def _ifindex(ipr: IPRoute, ifname: str) -> int:
    found = ipr.link_lookup(ifname=ifname)
    if not found:
        raise SandboxError(f"interface {ifname} not found")
    return int(found[0])


def _set_up(ipr: IPRoute, ifname: str) -> int:
    index = _ifindex(ipr, ifname)
    ipr.link("set", index=index, state="up")
    return index


def _configure_node() -> None:
    with pyroute2.IPRoute() as ipr:
        _set_up(ipr, "lo")
        # Proxy ARP answers only for an address the node routes out of another interface, and
        # the node has no default route. So a route to the gateway address (never an address)
        # points at a veth whose peer stays down: it drops whatever is sent to the gateway
        # itself. (A dummy link would do, but not every kernel has the dummy module.)
        ipr.link("add", ifname=GATEWAY_IFNAME, kind="veth", peer=GATEWAY_PEER_IFNAME)
        gateway = _set_up(ipr, GATEWAY_IFNAME)
        ipr.route("add", dst=f"{GATEWAY}/32", oif=gateway, scope="link")
    for key, value in _NODE_SYSCTLS:
        _write_sysctl(key, value)


def _configure_pod(pod: PodNetwork, node_netns: str) -> None:
    """In the new pod namespace: loopback, sysctls, the veth pair (node end sent to the node)."""
    with pyroute2.IPRoute() as ipr:
        _set_up(ipr, "lo")
        node_fd = os.open(netns_path(node_netns), os.O_RDONLY | os.O_CLOEXEC)
        try:
            ipr.link(
                "add",
                ifname=names.POD_IFNAME,
                kind="veth",
                peer={"ifname": pod.host_ifname, "net_ns_fd": node_fd},
            )
        finally:
            os.close(node_fd)
        eth0 = _set_up(ipr, names.POD_IFNAME)
        ipr.addr("add", index=eth0, address=str(pod.ip), prefixlen=32)
        ipr.route("add", dst="0.0.0.0/0", gateway=str(GATEWAY), oif=eth0, flags=_RTNH_F_ONLINK)
    for key, value in _POD_SYSCTLS:
        _write_sysctl(key, value)


def _attach_host_side(pod: PodNetwork) -> None:
    """In the node namespace: bring the pod's veth up, answer ARP for the gateway, route to it."""
    with pyroute2.IPRoute() as ipr:
        index = _set_up(ipr, pod.host_ifname)
        ipr.route("add", dst=f"{pod.ip}/32", oif=index, scope="link")
    conf = f"net.ipv4.conf.{pod.host_ifname}"
    _write_sysctl(f"{conf}.forwarding", "1")
    _write_sysctl(f"{conf}.rp_filter", "0")
    _write_sysctl(f"{conf}.proxy_arp", "1")
    # Answer ARP at once rather than after the default random delay of up to 0.8 s.
    _write_sysctl(f"net.ipv4.neigh.{pod.host_ifname}.proxy_delay", "0")


def _delete_link(ifname: str) -> None:
    """Delete link `ifname` in the calling thread's namespace; a missing link is fine."""
    with pyroute2.IPRoute() as ipr:
        found = ipr.link_lookup(ifname=ifname)
        if found:
            ipr.link("del", index=found[0])


# --- addresses -----------------------------------------------------------------------------------


def node_subnet(index: int) -> ipaddress.IPv4Network:
    """Node `index` allocates pod addresses from 198.18.<index>.0/24."""
    if not 0 <= index <= 255:
        raise ValueError(f"node index {index} must be 0 to 255")
    return ipaddress.IPv4Network(f"{POD_SUPERNET.network_address + index * 256}/24")


def _allocatable(subnet: ipaddress.IPv4Network) -> Iterator[ipaddress.IPv4Address]:
    # .0 and .255 are the network and broadcast addresses; .1 stays free for a node address.
    base = subnet.network_address
    return (base + offset for offset in range(2, 255))


# --- the sandbox ---------------------------------------------------------------------------------


class NodeSandbox:
    """The namespaces and links of one sandbox node; `destroy` removes them all, by name.

    Not thread-safe: one owner adds and removes pods.
    """

    def __init__(self, cluster_id: str, node: str = "n0", index: int = 0) -> None:
        self.cluster_id = names.check_cluster_id(cluster_id)
        self.node = names.check_node(node)
        self.subnet = node_subnet(index)
        self.netns = names.node_netns(cluster_id, node)
        self._created = False
        self._pods: dict[str, PodNetwork] = {}

    def __repr__(self) -> str:
        return f"NodeSandbox({self.netns!r}, pods={len(self._pods)})"

    def __enter__(self) -> NodeSandbox:
        self.create()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.destroy()

    def create(self) -> None:
        """Create the node namespace; a second call on the same object does nothing."""
        if self._created:
            return
        _check_privileges()
        _check_absent(self.netns)
        try:
            _create_netns(self.netns, _configure_node)
        except (OSError, NetlinkError) as exc:
            raise SandboxError(f"cannot create node namespace {self.netns}: {exc}") from exc
        self._created = True

    def pods(self) -> dict[str, PodNetwork]:
        return dict(self._pods)

    def add_pod(self, key: str, ip: ipaddress.IPv4Address | None = None) -> PodNetwork:
        """Create pod `key`'s namespace and veth, with address `ip` or the next free one."""
        if not self._created:
            raise SandboxError(f"add_pod({key!r}) before create() of {self.netns}")
        if key in self._pods:
            raise SandboxError(f"pod {key} already has a network in {self.netns}")
        pod = PodNetwork(
            key=key,
            netns=names.pod_netns(self.cluster_id, key),
            ip=self._check_ip(key, ip) if ip is not None else self._allocate(key),
            host_ifname=names.pod_host_ifname(self.cluster_id, key),
        )
        self._check_names_free(pod)
        _check_absent(pod.netns)
        # Registered before it exists, so that destroy() also removes a half-made pod (say,
        # after Ctrl-C); a failure below unregisters and removes it at once.
        self._pods[key] = pod
        try:
            _create_netns(pod.netns, lambda: _configure_pod(pod, self.netns))
            run_in_netns(self.netns, lambda: _attach_host_side(pod))
        except FileExistsError as exc:  # appeared since the check: not ours to remove
            del self._pods[key]
            raise SandboxError(f"cannot add pod {key}: {pod.netns} already exists") from exc
        except (OSError, NetlinkError, SandboxError) as exc:
            del self._pods[key]
            self._unplug(pod)
            raise SandboxError(f"cannot add pod {key} ({pod.netns}, {pod.ip}): {exc}") from exc
        return pod

    def remove_pod(self, key: str) -> None:
        """Remove pod `key`'s veth pair and namespace (processes inside must be stopped first)."""
        pod = self._pods.pop(key, None)
        if pod is None:
            raise SandboxError(f"no pod {key} in {self.netns}")
        failures = self._unplug(pod)
        if failures:
            raise SandboxError(f"removing pod {key}: " + "; ".join(failures))

    def destroy(self) -> None:
        """Remove every pod namespace and veth, then the node namespace, each by its name.

        Keeps going past failures and reports them all at the end. Kills nothing: a namespace
        with a process still inside lives on, unnamed, until that process exits.
        """
        failures: list[str] = []
        for key in list(self._pods):
            failures += self._unplug(self._pods.pop(key))
        if self._created:
            try:
                _remove_netns(self.netns)
            except OSError as exc:
                failures.append(f"namespace {self.netns}: {exc}")
            self._created = False
        if failures:
            raise SandboxError(f"destroying {self.netns}: " + "; ".join(failures))

    def _unplug(self, pod: PodNetwork) -> list[str]:
        """Delete the pod's node-side veth (and so its peer) and namespace; return failures."""
        failures = []
        # Deleting the veth by name also covers a pod namespace that a lingering process keeps.
        try:
            run_in_netns(self.netns, lambda: _delete_link(pod.host_ifname))
        except (OSError, NetlinkError, SandboxError) as exc:
            failures.append(f"link {pod.host_ifname}: {exc}")
        if netns_path(pod.netns).exists():
            try:
                _remove_netns(pod.netns)
            except OSError as exc:
                failures.append(f"namespace {pod.netns}: {exc}")
        return failures

    def _check_ip(self, key: str, ip: ipaddress.IPv4Address) -> ipaddress.IPv4Address:
        if ip not in POD_SUPERNET:
            raise SandboxError(f"pod {key}: address {ip} is outside the pod range {POD_SUPERNET}")
        owner = self._owner_of(ip)
        if owner is not None:
            raise SandboxError(f"pod {key}: address {ip} is already used by pod {owner}")
        return ip

    def _allocate(self, key: str) -> ipaddress.IPv4Address:
        taken = {pod.ip for pod in self._pods.values()}
        for ip in _allocatable(self.subnet):
            if ip not in taken:
                return ip
        raise SandboxError(f"pod {key}: no free address left in {self.subnet}")

    def _owner_of(self, ip: ipaddress.IPv4Address) -> str | None:
        return next((pod.key for pod in self._pods.values() if pod.ip == ip), None)

    def _check_names_free(self, pod: PodNetwork) -> None:
        # Two keys whose short ids collide would share a namespace and a veth name.
        for other in self._pods.values():
            if other.netns == pod.netns:
                raise SandboxError(f"pods {other.key} and {pod.key} hash to the same name")


def _check_privileges() -> None:
    if os.geteuid() != 0:
        raise SandboxError(
            "creating sandbox network namespaces needs root (CAP_SYS_ADMIN and CAP_NET_ADMIN)"
        )


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

    Removing a node namespace also deletes its veths (and so their pod ends), unless a process
    still runs inside: then the namespace lives on, unnamed, until that process exits.
    """
    removed = []
    failures = []
    for name in leftovers(prefix):
        try:
            _remove_netns(name)
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
