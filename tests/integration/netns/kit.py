"""What the netns integration tests share: names, reading the kernel's view, processes in
namespaces, echo servers and their clients. Only sandbox namespaces are entered; the host's is
only ever read."""

from __future__ import annotations

import ipaddress
import json
import os
import re
import secrets
import select
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import TypeVar

import pytest
import yaml

from podwall.model.cluster import Cluster
from podwall.model.convert import cluster as convert_cluster
from podwall.model.rawobject import RawObject
from podwall.runtime import names
from podwall.runtime.names import random_cluster_id
from podwall.runtime.netns import PodNetwork, leftovers, read_sysctl, remove_leftovers
from podwall.runtime.placement import node_names
from podwall.runtime.probe import sandboxed
from podwall.runtime.sandbox import Sandbox

PYTHON = sys.executable
TIMEOUT = 60.0  # a bound: a python child in a namespace starts in seconds on a loaded machine
SRC = str(Path(__file__).resolve().parents[3] / "src")

HOST_SYSCTLS = (
    "net.ipv4.ip_forward",
    "net.ipv4.conf.all.forwarding",
    "net.ipv4.conf.all.rp_filter",
    "net.ipv4.conf.default.rp_filter",
    "net.ipv4.conf.default.proxy_arp",
    "net.ipv4.ip_unprivileged_port_start",
    "net.ipv4.ping_group_range",
)


# --- helpers -------------------------------------------------------------------------------------


def new_cluster_id() -> str:
    # "t" marks a test sandbox in `ip netns list`; 6 hex digits keep parallel runs apart.
    return "t" + secrets.token_hex(3)


# Every link podwall names: node-side pod veths, the gateway veth pair of a router namespace,
# and the two ends of a node's uplink to the fabric.
OUR_LINK = re.compile(r"pw[0-9a-f]{8}|pwgw|pwgw-peer|pwup|pwn[0-9]+")


def host_links() -> set[str]:
    """Link names in the host's namespace (read only)."""
    out = subprocess.run(
        ["ip", "-j", "link", "show"], capture_output=True, text=True, check=True, timeout=TIMEOUT
    ).stdout
    return {link["ifname"] for link in json.loads(out)}


def assert_nothing_left(cluster_id: str) -> None:
    """No namespace of this cluster remains, and no podwall link ever reached the host."""
    prefix = names.cluster_prefix(cluster_id)
    assert leftovers(prefix) == []
    assert not any(name.startswith(prefix) for name in os.listdir("/var/run/netns"))
    assert not [name for name in host_links() if OUR_LINK.fullmatch(name)]


def ip_json(netns: str, *args: str) -> list[dict[str, object]]:
    out = subprocess.run(
        ["ip", "-n", netns, "-j", *args],
        capture_output=True,
        text=True,
        check=True,
        timeout=TIMEOUT,
    ).stdout
    result: list[dict[str, object]] = json.loads(out)
    return result


def sysctl_in(netns: str, key: str) -> str:
    """Read a sysctl in `netns` through `ip netns exec`, independently of the code under test."""
    path = "/proc/sys/" + key.replace(".", "/")
    return subprocess.run(
        ["ip", "netns", "exec", netns, "cat", path],
        capture_output=True,
        text=True,
        check=True,
        timeout=TIMEOUT,
    ).stdout.strip()


def host_sysctls() -> dict[str, str]:
    return {key: read_sysctl(key) for key in HOST_SYSCTLS}


def spawn_in(netns: str, code: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        ["ip", "netns", "exec", netns, PYTHON, "-c", textwrap.dedent(code)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def run_in(netns: str, code: str) -> str:
    done = subprocess.run(
        ["ip", "netns", "exec", netns, PYTHON, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def wait_ready(proc: subprocess.Popen[str]) -> None:
    """Wait until the server prints its first line, so the client never races its bind."""
    assert proc.stdout is not None
    readable, _, _ = select.select([proc.stdout], [], [], TIMEOUT)
    assert readable, "server did not become ready"
    line = proc.stdout.readline().strip()
    if line != "ready":
        proc.kill()
        _, err = proc.communicate(timeout=TIMEOUT)
        pytest.fail(f"server failed: {line!r} {err}")


def stop(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is None:
        proc.kill()
    proc.communicate(timeout=TIMEOUT)


def finish(proc: subprocess.Popen[str]) -> str:
    out, err = proc.communicate(timeout=TIMEOUT)
    assert proc.returncode == 0, err
    return out.strip()


# Servers drop root before binding, so binding port 80 proves ip_unprivileged_port_start=0.
TCP_ECHO = """
    import os, socket
    s = socket.socket()
    os.setgid(65534); os.setuid(65534)
    s.bind(("0.0.0.0", 80)); s.listen(); s.settimeout(10)
    print("ready", flush=True)
    conn, peer = s.accept()
    conn.sendall(peer[0].encode() + b" " + conn.recv(100))
"""
UDP_ECHO = """
    import os, socket
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    os.setgid(65534); os.setuid(65534)
    s.bind(("0.0.0.0", 53)); s.settimeout(10)
    print("ready", flush=True)
    data, peer = s.recvfrom(100)
    s.sendto(peer[0].encode() + b" " + data, peer)
"""


def tcp_client(server: PodNetwork) -> str:
    return f"""
        import socket
        s = socket.create_connection(("{server.ip}", 80), timeout=5)
        s.sendall(b"hello"); print(s.recv(100).decode())
    """


def udp_client(server: PodNetwork) -> str:
    return f"""
        import socket
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(5)
        s.sendto(b"hello", ("{server.ip}", 53)); print(s.recv(100).decode())
    """


# Answers every connection with the address it came from, until killed.
TCP_ECHO_MANY = """
    import os, socket
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    os.setgid(65534); os.setuid(65534)
    s.bind(("0.0.0.0", 80)); s.listen()
    print("ready", flush=True)
    while True:
        conn, peer = s.accept()
        conn.sendall(peer[0].encode()); conn.close()
"""


def dial(netns: str, address: object, port: int = 80, timeout: float = 2.0) -> str:
    """Connect from `netns` to address:port over TCP: the address the server saw the client
    come from, or `error:<errno name>` (`error:timeout` when nothing answered)."""
    code = f"""
        import errno, socket
        try:
            s = socket.create_connection(("{address}", {port}), timeout={timeout})
            print(s.recv(100).decode())
        except TimeoutError:
            print("error:timeout")
        except OSError as exc:
            print("error:" + errno.errorcode.get(exc.errno or 0, str(exc)))
    """
    return run_in(netns, code)


def rx_packets(netns: str, ifname: str) -> int:
    link = ip_json(netns, "-s", "link", "show", ifname)[0]
    return int(link["stats64"]["rx"]["packets"])  # type: ignore[index]


# Three nodes: the server and its friend on node-2, a client on each of the other two.
THREE_NODE_PODS = {
    "client-a": "node-1",
    "server": "node-2",
    "friend": "node-2",
    "client-c": "node-3",
}


def three_nodes(policy: str = "", service: dict[str, object] | None = None) -> Cluster:
    """THREE_NODE_PODS pinned with `spec.nodeName`, the `server` Service (8080 -> 80; its spec
    updated with `service`), and the documents of `policy`."""
    spec: dict[str, object] = {
        "selector": {"app": "server"},
        "ports": [{"port": 8080, "targetPort": 80}],
    }
    docs = [
        {"apiVersion": "v1", "kind": "Pod",
         "metadata": {"name": name, "namespace": "default", "labels": {"app": name}},
         "spec": {"nodeName": node, "containers": [{"name": "c"}]}}
        for name, node in THREE_NODE_PODS.items()
    ] + [
        {"apiVersion": "v1", "kind": "Service",
         "metadata": {"name": "server", "namespace": "default"},
         "spec": {**spec, **(service or {})}},
    ]  # fmt: skip
    docs += [d for d in yaml.safe_load_all(policy) if d]
    return convert_cluster(RawObject(body=d) for d in docs).cluster


class ThreeNodes:
    """A sandbox of three nodes running `cluster`: every pod's network made, the server pod
    serving TCP_ECHO_MANY on port 80. `start()`, then always `close()`."""

    def __init__(self, cluster: Cluster) -> None:
        self.sandbox = Sandbox(random_cluster_id(), node_names(3))
        self.cluster, _ = sandboxed(cluster, self.sandbox.slots)
        self.netns: dict[str, str] = {}
        self.ips = {p.name: p.ips[0] for p in self.cluster.pods}
        self.procs: list[subprocess.Popen[str]] = []

    def snapshot(self) -> Cluster:
        """What the nodes' tables are compiled from, once the sandbox exists."""
        return self.cluster

    def start(self) -> None:
        self.sandbox.create()
        self.cluster = self.snapshot()
        self.sandbox.sync(self.cluster)
        for pod in self.cluster.pods:
            ip = pod.ips[0]
            assert pod.node is not None
            assert isinstance(ip, ipaddress.IPv4Address)
            self.netns[pod.name] = self.sandbox.add_pod(pod.node, pod.key, ip).netns
        proc = spawn_in(self.netns["server"], TCP_ECHO_MANY)
        self.procs.append(proc)
        wait_ready(proc)

    def close(self) -> None:
        for proc in self.procs:
            stop(proc)
        try:
            self.sandbox.destroy()
        finally:
            remove_leftovers(names.cluster_prefix(self.sandbox.cluster_id))


Running = TypeVar("Running", bound=ThreeNodes)


def running_while_used(run: Running) -> Iterator[Running]:
    """A fixture's body: `run` started, yielded, closed whatever happens, nothing left."""
    try:
        run.start()
        yield run
    finally:
        run.close()
    assert_nothing_left(run.sandbox.cluster_id)
