"""The underlay between sandbox nodes: one fabric namespace that routes node to node.

Layout, inside namespaces this module creates (the fabric) or is handed (a node):

- fabric namespace `pw-<cluster>-fabric`: a router like a node (`namespaces.configure_router`),
  with 198.18.255.254/32 on loopback: the source of the ICMP errors it sends.
- node `i` attached (`attach`): a veth pair, `pwn<i>` in the fabric and `pwup` in the node. The
  node's `pwup` holds the node address 198.18.255.<i + 1>/32 and routes 198.18.0.0/16 via the
  link-local gateway (its own pods' /32 routes are more specific, so only other nodes' pods
  leave by it), and everything else by the same gateway: the fabric refuses what is outside the
  sandbox (net unreachable), after the node's forward hook has applied egress policies to it.
  The fabric answers ARP for the gateway on `pwn<i>` and routes the node address and the
  node's pod range 198.18.<i>.0/24 to it. Pod addresses stay real end to end (no NAT, no
  encapsulation), so each node's forward hook sees the pods' own addresses. The
  node's own connections to a ClusterIP take the same default route until the NAT output hook
  DNATs them to an endpoint, as kube-proxy does on a node.
- a pod address outside its node's range (say, a manifest's fixed `status.podIP`): the node
  `announce`s a /32 in the fabric and `withdraw`s it with the pod, as Calico does for an address
  borrowed from another node's block.
- no loops: a packet for a node's range that the node itself has no pod for goes back to the
  fabric. A rule (`iif pwn<i> to 198.18.<i>.0/24 unreachable`) refuses to send it back, after a
  first lookup that takes only the /32 routes, so a borrowed address still gets through.

A node is attached knowing only the fabric's name, and only the fabric and the node's own uplink
are touched, so whoever owns one node (a node agent) can attach it alone, at any time.
"""

from __future__ import annotations

import errno
import ipaddress

import pyroute2  # type: ignore[import-untyped]
from pyroute2.netlink.exceptions import NetlinkError  # type: ignore[import-untyped]

from podwall.runtime import names
from podwall.runtime.addressplan import (
    FABRIC_ADDRESS,
    POD_SUPERNET,
    node_address,
    node_subnet,
)
from podwall.runtime.errors import SandboxError
from podwall.runtime.lifecycle import Lifecycle
from podwall.runtime.namespaces import (
    GATEWAY,
    RTNH_F_ONLINK,
    add_veth_into,
    answer_for_gateway,
    check_privileges,
    configure_router,
    delete_link,
    ifindex,
    make_netns,
    netns_path,
    remove_netns,
    run_in_netns,
    set_up,
    write_sysctl,
)

UPLINK_IFNAME = "pwup"  # a node's end of its link to the fabric
_MAIN_TABLE = 254
_HOST_ROUTES_PRIORITY = 100  # the /32 routes (borrowed addresses, node addresses) first
_NO_LOOP_PRIORITY = 1000  # plus the node's index
_HOST_ROUTES_PREFIXLEN = 24  # routes of prefix length up to this one are skipped at first


def fabric_ifname(index: int) -> str:
    """The fabric's end of node `index`'s link: `pwn<index>`."""
    return f"pwn{index}"


class Underlay(Lifecycle):
    """The fabric namespace of one sandbox cluster; `destroy` removes it (and every node's
    uplink with it), by name. Nodes attach by its name (`NodeSandbox(underlay=...)`)."""

    def __init__(self, cluster_id: str) -> None:
        self.cluster_id = names.check_cluster_id(cluster_id)
        self.netns = names.fabric_netns(cluster_id)
        self._created = False

    def __repr__(self) -> str:
        return f"Underlay({self.netns!r})"

    def create(self) -> None:
        """Create the fabric namespace; a second call on the same object does nothing."""
        if self._created:
            return
        check_privileges()
        make_netns(self.netns, _configure_fabric, "the fabric namespace")
        self._created = True

    def destroy(self) -> None:
        """Remove the fabric namespace. Nodes stay, cut off from each other."""
        if not self._created:
            return
        self._created = False
        try:
            remove_netns(self.netns)
        except OSError as exc:
            raise SandboxError(f"destroying {self.netns}: {exc}") from exc


def _configure_fabric() -> None:
    configure_router()
    with pyroute2.IPRoute() as ipr:
        ipr.addr("add", index=ifindex(ipr, "lo"), address=str(FABRIC_ADDRESS), prefixlen=32)
        ipr.rule(
            "add",
            table=_MAIN_TABLE,
            priority=_HOST_ROUTES_PRIORITY,
            suppress_prefixlen=_HOST_ROUTES_PREFIXLEN,
        )


# --- nodes ---------------------------------------------------------------------------------------


def attach(fabric: str, node_netns: str, index: int) -> ipaddress.IPv4Address:
    """Link node namespace `node_netns` (node `index`) to the fabric; return the node's address.

    On failure nothing of the link is left and SandboxError says why.
    """
    address = node_address(index)
    where = f"cannot attach {node_netns} to {fabric}"
    if not netns_path(fabric).exists():
        raise SandboxError(f"{where}: no fabric namespace {fabric}")
    if run_in_netns(fabric, lambda: _has_link(fabric_ifname(index))):
        raise SandboxError(f"{where}: node index {index} is already attached")
    try:
        run_in_netns(fabric, lambda: _attach_fabric_side(node_netns, index))
        run_in_netns(node_netns, lambda: _attach_node_side(index))
    except (OSError, NetlinkError, SandboxError) as exc:
        failures = detach(fabric, index)
        raise SandboxError(f"{where}: " + "; ".join([str(exc), *failures])) from exc
    return address


def detach(fabric: str, index: int) -> list[str]:
    """Remove node `index`'s link and rule from the fabric (the node's end goes with the link);
    return what failed. A fabric or link already gone is fine."""
    if not netns_path(fabric).exists():
        return []
    try:
        run_in_netns(fabric, lambda: _detach_fabric_side(index))
    except (OSError, NetlinkError, SandboxError) as exc:
        return [f"link {fabric_ifname(index)} in {fabric}: {exc}"]
    return []


def _has_link(ifname: str) -> bool:
    with pyroute2.IPRoute() as ipr:
        return bool(ipr.link_lookup(ifname=ifname))


def _no_loop_rule(index: int) -> dict[str, object]:
    subnet = node_subnet(index)
    return {
        "priority": _NO_LOOP_PRIORITY + index,
        "iifname": fabric_ifname(index),
        "dst": str(subnet.network_address),
        "dst_len": subnet.prefixlen,
        "action": "FR_ACT_UNREACHABLE",
    }


def _attach_fabric_side(node_netns: str, index: int) -> None:
    ifname = fabric_ifname(index)
    address = str(node_address(index))
    with pyroute2.IPRoute() as ipr:
        add_veth_into(ipr, ifname, UPLINK_IFNAME, node_netns)
        link = set_up(ipr, ifname)
        ipr.route("add", dst=f"{address}/32", oif=link, scope="link")
        subnet = str(node_subnet(index))
        ipr.route("add", dst=subnet, gateway=address, oif=link, flags=RTNH_F_ONLINK)
        ipr.rule("add", **_no_loop_rule(index))
    answer_for_gateway(ifname)


def _attach_node_side(index: int) -> None:
    with pyroute2.IPRoute() as ipr:
        link = set_up(ipr, UPLINK_IFNAME)
        ipr.addr("add", index=link, address=str(node_address(index)), prefixlen=32)
        ipr.route("add", dst=str(POD_SUPERNET), gateway=str(GATEWAY), oif=link, flags=RTNH_F_ONLINK)
        # Everything else too: a pod's packet for outside the cluster then goes through the
        # node's forward hook, where an egress policy drops it (a timeout, as on a cluster),
        # before the fabric, which routes nothing outside, refuses it (net unreachable).
        ipr.route("add", dst="0.0.0.0/0", gateway=str(GATEWAY), oif=link, flags=RTNH_F_ONLINK)
    write_sysctl(f"net.ipv4.conf.{UPLINK_IFNAME}.forwarding", "1")
    write_sysctl(f"net.ipv4.conf.{UPLINK_IFNAME}.rp_filter", "0")


def _detach_fabric_side(index: int) -> None:
    delete_link(fabric_ifname(index))  # its routes go with it; its rule does not
    with pyroute2.IPRoute() as ipr:
        try:
            ipr.rule("del", **_no_loop_rule(index))
        except NetlinkError as exc:
            if exc.code != errno.ENOENT:
                raise


# --- addresses outside a node's range ------------------------------------------------------------


def announce(fabric: str, index: int, ip: ipaddress.IPv4Address) -> None:
    """Route `ip`, held by a pod of node `index` outside its range, to that node."""

    def add() -> None:
        with pyroute2.IPRoute() as ipr:
            ipr.route(
                "add",
                dst=f"{ip}/32",
                gateway=str(node_address(index)),
                oif=ifindex(ipr, fabric_ifname(index)),
                flags=RTNH_F_ONLINK,
            )

    try:
        run_in_netns(fabric, add)
    except NetlinkError as exc:
        if exc.code == errno.EEXIST:
            raise SandboxError(f"address {ip} is already routed to another node") from exc
        raise SandboxError(f"cannot route {ip} to node {index} in {fabric}: {exc}") from exc
    except (OSError, SandboxError) as exc:
        raise SandboxError(f"cannot route {ip} to node {index} in {fabric}: {exc}") from exc


def withdraw(fabric: str, index: int, ip: ipaddress.IPv4Address) -> None:
    """Remove the route `announce` made; a missing route or fabric is fine."""
    if not netns_path(fabric).exists():
        return

    def delete() -> None:
        with pyroute2.IPRoute() as ipr:
            found = ipr.link_lookup(ifname=fabric_ifname(index))
            if not found:
                return  # the link, and so the route, is gone
            try:
                ipr.route("del", dst=f"{ip}/32", oif=found[0])
            except NetlinkError as exc:
                if exc.code != errno.ESRCH:
                    raise

    try:
        run_in_netns(fabric, delete)
    except (OSError, NetlinkError, SandboxError) as exc:
        raise SandboxError(f"cannot remove the route of {ip} from {fabric}: {exc}") from exc
