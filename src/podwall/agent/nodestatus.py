"""A sandbox node's Node object: registered by its agent, kept Ready while the agent runs.

What a kubelet registers: labels (`kubernetes.io/hostname`, `/os`, `/arch`), the pod range in
`spec.podCIDR`, and in the status the node's addresses (InternalIP: its underlay address;
Hostname), its Ready condition, capacity and `nodeInfo` (what `kubectl get nodes -o wide`
prints). `register` creates the Node or takes over the stored one (Ready=False until the
kubelet runs the node's pods); `set_ready` flips the condition; a thread posts a heartbeat
(`lastHeartbeatTime`) every `HEARTBEAT_SECONDS`, as the kubelet's node status updates do, and
registers the Node again if it was deleted. A failed write is logged and retried at the next
beat; it never touches pods or the ruleset.
"""

from __future__ import annotations

import copy
import ipaddress
import logging
import platform
import threading
from dataclasses import KW_ONLY, dataclass
from datetime import datetime
from typing import Any

from podwall import __version__
from podwall.agent.client import ApiError, Connection, Unreachable
from podwall.agent.worker import PeriodicThread
from podwall.clock import Clock, utc_now

log = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 10.0
KUBELET_VERSION = "v1.32.0-podwall"
MAX_PODS = 253  # the addresses of a node's /24 (.2 to .254)
Object = dict[str, Any]


def _stamp(now: datetime) -> str:
    return now.strftime("%Y-%m-%dT%H:%M:%SZ")


def _arch() -> str:
    machine = platform.machine()
    return {"x86_64": "amd64", "aarch64": "arm64"}.get(machine, machine)


def ready_condition(ready: bool, now: datetime, since: str | None = None) -> Object:
    return {
        "type": "Ready",
        "status": "True" if ready else "False",
        "reason": "KubeletReady" if ready else "KubeletNotReady",
        "message": "podwall agent is posting ready status"
        if ready
        else "podwall agent is starting the node's pods",
        "lastHeartbeatTime": _stamp(now),
        "lastTransitionTime": since or _stamp(now),
    }


def node_object(
    name: str,
    subnet: ipaddress.IPv4Network,
    address: ipaddress.IPv4Address | None,
    ready: bool,
    now: datetime,
) -> Object:
    """The Node as its agent registers it."""
    arch = _arch()
    addresses = [{"type": "Hostname", "address": name}]
    if address is not None:
        addresses.insert(0, {"type": "InternalIP", "address": str(address)})
    capacity = {"pods": str(MAX_PODS)}
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": name,
            "labels": {
                "kubernetes.io/hostname": name,
                "kubernetes.io/os": "linux",
                "kubernetes.io/arch": arch,
                "beta.kubernetes.io/os": "linux",
                "beta.kubernetes.io/arch": arch,
            },
        },
        "spec": {"podCIDR": str(subnet), "podCIDRs": [str(subnet)]},
        "status": {
            "addresses": addresses,
            "conditions": [ready_condition(ready, now)],
            "capacity": capacity,
            "allocatable": dict(capacity),
            "daemonEndpoints": {"kubeletEndpoint": {"Port": 0}},
            "nodeInfo": {
                "architecture": arch,
                "operatingSystem": "linux",
                "osImage": "podwall sandbox",
                "kernelVersion": platform.release(),
                "kubeletVersion": KUBELET_VERSION,
                "kubeProxyVersion": "",
                "containerRuntimeVersion": f"podwall://{__version__}",
                "machineID": "",
                "systemUUID": "",
                "bootID": "",
            },
        },
    }


def with_ready(node: Object, ready: bool, now: datetime) -> Object:
    """`node` with its Ready condition set (its transition time kept when unchanged)."""
    out = copy.deepcopy(node)
    status = out.setdefault("status", {})
    conditions = [c for c in status.get("conditions") or () if c.get("type") != "Ready"]
    old = next((c for c in status.get("conditions") or () if c.get("type") == "Ready"), None)
    wanted = "True" if ready else "False"
    since = old.get("lastTransitionTime") if old and old.get("status") == wanted else None
    status["conditions"] = [*conditions, ready_condition(ready, now, since)]
    return out


@dataclass(eq=False)
class NodeKeeper(PeriodicThread):
    """Registers node `name` and keeps its status posted until `stop` is set."""

    connection: Connection
    name: str
    subnet: ipaddress.IPv4Network
    address: ipaddress.IPv4Address | None
    stop: threading.Event
    _: KW_ONLY
    heartbeat_seconds: float = HEARTBEAT_SECONDS
    clock: Clock = utc_now

    def __post_init__(self) -> None:
        self.ready = False
        self._lock = threading.Lock()
        self._poked = threading.Event()
        self._thread = threading.Thread(target=self._run, name="node-status", daemon=True)

    @property
    def path(self) -> str:
        return f"/api/v1/nodes/{self.name}"

    def register(self) -> None:
        """Create the Node, or make the stored one this node's (not Ready yet)."""
        wanted = node_object(self.name, self.subnet, self.address, self.ready, self.clock())
        try:
            stored: Object = self.connection.request("GET", self.path)
        except ApiError as exc:
            if exc.status != 404:
                raise
            try:
                self.connection.request("POST", "/api/v1/nodes", body=wanted)
                return
            except ApiError as again:
                if again.status != 409:
                    raise
                stored = self.connection.request("GET", self.path)
        body = {
            **stored,
            "metadata": {
                **stored.get("metadata", {}),
                "labels": {
                    **(stored.get("metadata", {}).get("labels") or {}),
                    **wanted["metadata"]["labels"],
                },
            },
            "spec": {**(stored.get("spec") or {}), **wanted["spec"]},
        }
        updated: Object = self.connection.request("PUT", self.path, body=body)
        self._post_status(updated)

    def set_ready(self, ready: bool) -> None:
        self.ready = ready
        self.poke()

    def beat(self) -> None:
        """Post the node's status once; ApiError or Unreachable when that fails."""
        stored: Object = self.connection.request("GET", self.path)
        self._post_status(stored)

    def _register_again(self) -> None:
        try:
            with self._lock:
                self.register()
        except (ApiError, Unreachable) as exc:
            log.warning("node not registered again: %s", exc)

    def _post_status(self, stored: Object) -> None:
        fresh = node_object(self.name, self.subnet, self.address, self.ready, self.clock())
        status = {**(stored.get("status") or {}), **fresh["status"]}
        status["conditions"] = stored.get("status", {}).get("conditions") or []
        body = with_ready({**stored, "status": status}, self.ready, self.clock())
        self.connection.request("PUT", self.path + "/status", body=body)

    def _run(self) -> None:
        while not self.stop.is_set():
            try:
                with self._lock:
                    self.beat()
            except ApiError as exc:
                log.warning("node status not posted: %s", exc)
                if exc.status == 404:  # the Node was deleted: register it again
                    self._register_again()
            except Unreachable as exc:
                log.warning("node status not posted: %s", exc)
            self._sleep(self.heartbeat_seconds)
