"""The sandbox network of one node: its namespace, its pods' namespaces, veths, routes, sysctls.

Layout (Calico-style routed veth, no bridge), all inside namespaces this module creates:

- node namespace `pw-<cluster>-<node>`: a router (`namespaces.configure_router`). One node-side
  veth `pw<hex>` per pod (up, no address, proxy ARP on) and a /32 route per pod address through
  it. Pod-to-pod traffic is routed here, so it passes the `forward` hook of this namespace: that
  is where nftables policy belongs.
- pod namespace `pw-<cluster>-p<hex>`: loopback up, `eth0` with the pod address as a /32 and
  `default via 169.254.1.1 dev eth0 onlink`. No interface holds 169.254.1.1: the node-side veth
  answers ARP for it by proxy ARP.
- pod addresses: given, or the lowest free one of the node's 198.18.<index>.0/24 (`addressplan`).
- with an underlay (the fabric's namespace name), the node is attached to it on `create`: it
  gets its node address and a route to every other node's pods (`underlay`), and a pod address
  outside the node's range is announced to the fabric.

The host's own namespace is never changed.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

import pyroute2  # type: ignore[import-untyped]
from pyroute2.netlink.exceptions import NetlinkError  # type: ignore[import-untyped]

from podwall.runtime import names, underlay
from podwall.runtime.addressplan import (
    NODE_RANGE,
    POD_SUPERNET,
    SERVICE_SUPERNET,
    allocatable,
    node_address,
    node_subnet,
)
from podwall.runtime.errors import SandboxError
from podwall.runtime.lifecycle import Lifecycle
from podwall.runtime.namespaces import (
    GATEWAY,
    NETNS_DIR,
    RTNH_F_ONLINK,
    add_veth_into,
    answer_for_gateway,
    check_absent,
    check_privileges,
    configure_router,
    create_netns,
    delete_link,
    leftovers,
    make_netns,
    netns_path,
    read_sysctl,
    remove_leftovers,
    remove_netns,
    run_in_netns,
    set_up,
    write_sysctl,
)

__all__ = [
    "GATEWAY",
    "NETNS_DIR",
    "POD_SUPERNET",
    "SERVICE_SUPERNET",
    "NodeSandbox",
    "PodNetwork",
    "leftovers",
    "netns_path",
    "node_subnet",
    "read_sysctl",
    "remove_leftovers",
    "run_in_netns",
]

# Pod sysctls: unprivileged processes may bind port 80 and ping, as under containerd.
_POD_SYSCTLS = (
    ("net.ipv4.ip_unprivileged_port_start", "0"),
    ("net.ipv4.ping_group_range", "0 2147483647"),
)


@dataclass(frozen=True, slots=True, kw_only=True)
class PodNetwork:
    key: str  # "ns/name"
    netns: str  # namespace name under /var/run/netns
    ip: ipaddress.IPv4Address
    host_ifname: str  # node-side veth name


# --- inside a namespace --------------------------------------------------------------------------


def _configure_pod(pod: PodNetwork, node_netns: str) -> None:
    """In the new pod namespace: loopback, sysctls, the veth pair (node end sent to the node)."""
    with pyroute2.IPRoute() as ipr:
        set_up(ipr, "lo")
        add_veth_into(ipr, names.POD_IFNAME, pod.host_ifname, node_netns)
        eth0 = set_up(ipr, names.POD_IFNAME)
        ipr.addr("add", index=eth0, address=str(pod.ip), prefixlen=32)
        ipr.route("add", dst="0.0.0.0/0", gateway=str(GATEWAY), oif=eth0, flags=RTNH_F_ONLINK)
    for key, value in _POD_SYSCTLS:
        write_sysctl(key, value)


def _attach_host_side(pod: PodNetwork) -> None:
    """In the node namespace: bring the pod's veth up, answer ARP for the gateway, route to it."""
    with pyroute2.IPRoute() as ipr:
        index = set_up(ipr, pod.host_ifname)
        ipr.route("add", dst=f"{pod.ip}/32", oif=index, scope="link")
    answer_for_gateway(pod.host_ifname)


# --- the sandbox ---------------------------------------------------------------------------------


class NodeSandbox(Lifecycle):
    """The namespaces and links of one sandbox node; `destroy` removes them all, by name.

    `index` picks the node's pod range (198.18.<index>.0/24) and, with an underlay, its node
    address. `underlay` is the fabric's namespace name (`underlay.Underlay.netns`): the node
    attaches itself on `create`, so a node can join a running cluster. Not thread-safe: one
    owner adds and removes pods.
    """

    def __init__(
        self, cluster_id: str, node: str = "n0", index: int = 0, underlay: str | None = None
    ) -> None:
        self.cluster_id = names.check_cluster_id(cluster_id)
        self.node = names.check_node(node)
        self.index = index
        self.subnet = node_subnet(index)
        self.netns = names.node_netns(cluster_id, node)
        self.underlay = underlay
        # The node's address on the underlay (None without one, or before `create`).
        self.address: ipaddress.IPv4Address | None = None
        self._created = False
        self._pods: dict[str, PodNetwork] = {}

    def __repr__(self) -> str:
        return f"NodeSandbox({self.netns!r}, pods={len(self._pods)})"

    def create(self) -> None:
        """Create the node namespace (and attach it to the underlay); a second call does nothing."""
        if self._created:
            return
        check_privileges()
        if self.underlay is not None:
            node_address(self.index)  # an index the underlay can address, or ValueError
        make_netns(self.netns, configure_router, "node namespace")
        self._created = True
        if self.underlay is not None:
            try:
                self.address = underlay.attach(self.underlay, self.netns, self.index)
            except SandboxError:
                self.destroy()
                raise

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
        check_absent(pod.netns)
        # Registered before it exists, so that destroy() also removes a half-made pod (say,
        # after Ctrl-C); a failure below unregisters and removes it at once.
        self._pods[key] = pod
        try:
            create_netns(pod.netns, lambda: _configure_pod(pod, self.netns))
            run_in_netns(self.netns, lambda: _attach_host_side(pod))
            if self._borrowed(pod) and self.underlay is not None:
                underlay.announce(self.underlay, self.index, pod.ip)
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
        """Remove every pod namespace and veth, the uplink, then the node namespace, by name.

        Keeps going past failures and reports them all at the end. Kills nothing: a namespace
        with a process still inside lives on, unnamed, until that process exits.
        """
        failures: list[str] = []
        for key in list(self._pods):
            failures += self._unplug(self._pods.pop(key))
        if self._created:
            if self.underlay is not None and self.address is not None:  # attached by us
                failures += underlay.detach(self.underlay, self.index)
                self.address = None
            try:
                remove_netns(self.netns)
            except OSError as exc:
                failures.append(f"namespace {self.netns}: {exc}")
            self._created = False
        if failures:
            raise SandboxError(f"destroying {self.netns}: " + "; ".join(failures))

    def _borrowed(self, pod: PodNetwork) -> bool:
        """Whether the pod's address lies outside this node's range: the fabric needs a route."""
        return pod.ip not in self.subnet

    def _unplug(self, pod: PodNetwork) -> list[str]:
        """Withdraw the pod's route, delete its node-side veth (and so its peer) and namespace;
        return failures."""
        failures = []
        if self._borrowed(pod) and self.underlay is not None:
            try:
                underlay.withdraw(self.underlay, self.index, pod.ip)
            except SandboxError as exc:
                failures.append(str(exc))
        # Deleting the veth by name also covers a pod namespace that a lingering process keeps.
        try:
            run_in_netns(self.netns, lambda: delete_link(pod.host_ifname))
        except (OSError, NetlinkError, SandboxError) as exc:
            failures.append(f"link {pod.host_ifname}: {exc}")
        if netns_path(pod.netns).exists():
            try:
                remove_netns(pod.netns)
            except OSError as exc:
                failures.append(f"namespace {pod.netns}: {exc}")
        return failures

    def _check_ip(self, key: str, ip: ipaddress.IPv4Address) -> ipaddress.IPv4Address:
        if ip not in POD_SUPERNET:
            raise SandboxError(f"pod {key}: address {ip} is outside the pod range {POD_SUPERNET}")
        if ip in NODE_RANGE:
            raise SandboxError(f"pod {key}: address {ip} is in {NODE_RANGE}, kept for nodes")
        owner = self._owner_of(ip)
        if owner is not None:
            raise SandboxError(f"pod {key}: address {ip} is already used by pod {owner}")
        return ip

    def _allocate(self, key: str) -> ipaddress.IPv4Address:
        taken = {pod.ip for pod in self._pods.values()}
        for ip in allocatable(self.subnet):
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
