"""`podwall agent --sandbox`: one node of the local cluster, as its own process.

On a real cluster the agent only enforces: the kubelet runs the pods. In the sandbox there is
no other kubelet, so the agent is the whole node, and `podwall up` starts one per node, each
connecting over HTTPS with its own credentials. `SandboxNode.start`, in order:

1. what a killed predecessor of this node left is cleared (`Node.reclaim`: the processes of
   the pods bound to this node, their namespaces, the node namespace), while the other nodes
   run on;
2. the node namespace is made and attached to the cluster's fabric (its address on the
   underlay, its pod range 198.18.<index>.0/24);
3. the agent starts as on a real node (`run.Agent`), programming the node namespace, with the
   sandbox's own Service DNAT and the flows' verdict log (read by the agent as on a real node,
   and also written to the cluster's flows directory, where `podwall observe` finds every
   node's), and writing the cluster DNS
   records file from the Services it watches, so the DNS pod works on whichever node it runs;
4. the Node object is registered (not Ready), and once the first full sync is loaded the
   kubelet (`kubelet.Kubelet`) starts the node's pods, each one's address in the ruleset
   before its network exists; then the Node is Ready.

`close` stops the pods and removes the node namespace: in the sandbox a node leaves nothing
behind. The agent's facts for `podwall up` (pid, health port) are written to
`<run_dir>/agent.json`.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
import threading
import time
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from types import FrameType

from podwall.agent.client import ApiError, ConfigError, Connection, Unreachable
from podwall.agent.kubelet import Credentials, Kubelet
from podwall.agent.nodestatus import NodeKeeper
from podwall.agent.podapi import HttpPodApi
from podwall.agent.podwatch import NodePods
from podwall.agent.run import Agent, Options, StartupError
from podwall.agent.tokens import TokenRequester
from podwall.flows import files
from podwall.model.cluster import Cluster
from podwall.runtime import names
from podwall.runtime.dataplane import Apply, Dataplane, SyncResult
from podwall.runtime.errors import SandboxError
from podwall.runtime.node import Node

log = logging.getLogger(__name__)

AGENT_FILE = "agent.json"
POKE_SECONDS = 0.01


@dataclass(frozen=True, kw_only=True)
class SandboxOptions:
    cluster_id: str
    index: int  # the node's place in the address plan
    run_dir: Path  # this node's: DNS records, published pods, agent.json
    log_dir: Path  # the cluster's pod logs
    underlay: bool = True  # attach to the cluster's fabric


class NodeDataplane(Dataplane):
    """The agent's Dataplane for a sandbox node: it logs verdicts as the node's own would,
    and after each sync the node updates the cluster DNS records (`Node.synced`). It becomes
    the node's Dataplane."""

    def __init__(self, netns: str | None, name: str, apply: Apply, *, node: Node) -> None:
        super().__init__(netns, name, apply, flow_log=node.dataplane.flow_log)
        self.sandbox_node = node
        node.dataplane = self

    def sync(self, cluster: Cluster) -> SyncResult:
        result = super().sync(cluster)
        self.sandbox_node.synced(cluster)
        return result


class SandboxNode:
    """One sandbox node: its namespace, the agent enforcing in it, its kubelet."""

    def __init__(self, options: Options, sandbox: SandboxOptions) -> None:
        self.sandbox = sandbox
        self.node = Node(
            sandbox.cluster_id,
            run_dir=sandbox.run_dir,
            log_dir=sandbox.log_dir,
            node=options.node,
            index=sandbox.index,
            underlay=names.fabric_netns(sandbox.cluster_id) if sandbox.underlay else None,
            node_name=options.node,
            read_flows=False,  # the agent reads them: its /flows, its metrics, the ring file
        )
        ring = files.ring_path(sandbox.run_dir.parent / files.FLOWS, options.node)
        self.options = replace(
            options, netns=self.node.sandbox.netns, service_dnat=True, flows_ring=ring
        )
        self.stop_event = threading.Event()
        self.agent: Agent | None = None
        self.kubelet: Kubelet | None = None
        self.pods: NodePods | None = None
        self.keeper: NodeKeeper | None = None
        self._connection: Connection | None = None

    @property
    def name(self) -> str:
        return self.options.node

    def start(self) -> None:
        """Everything above, in order; StartupError names what is missing."""
        self._wait_for_kubeconfig()
        try:
            self._connection = Connection.open(self.options.target)
        except ConfigError as exc:
            raise StartupError(f"no cluster configuration: {exc}") from None
        connection = self._connection
        api = HttpPodApi(connection)
        self._reclaim(connection)
        self.agent = Agent(  # before the node starts: its Dataplane becomes the node's
            self.options,
            connection=connection,
            dataplane=partial(NodeDataplane, node=self.node),
        )
        try:
            self.node.start(adopt=False)
        except SandboxError as exc:
            raise StartupError(f"cannot make node {self.name}: {exc}") from None
        self.agent.start()
        self._write_agent_file()
        self.keeper = NodeKeeper(
            connection, self.name, self.node.subnet, self.node.address, self.stop_event
        )
        self._register()
        self.keeper.start()
        self.pods = NodePods(connection, self.name, self.stop_event)
        self.pods.start()
        if not self._wait(lambda: self._agent().sync.status.ready and self._listed()):
            raise StartupError(f"node {self.name}: the first sync did not happen")
        self.kubelet = Kubelet(
            api,
            self.pods,
            self.node,
            self.name,
            self.enforced,
            publish_dir=self.sandbox.run_dir,
            credentials=self._credentials(connection),
        )
        self.kubelet.start()
        self.keeper.set_ready(True)
        log.info("node %s ready at %s", self.name, self.node.address)

    def _credentials(self, connection: Connection) -> Credentials | None:
        """What the kubelet mounts in each pod: a token of its ServiceAccount from the API
        server (TokenRequest, bound to the pod: `agent.tokens`), the CA the agent itself
        trusts, its namespace. None when the agent trusts no CA file (nothing to give pods)."""
        ca_path = connection.configuration.ssl_ca_cert
        if not ca_path:
            return None
        return TokenRequester(connection, Path(ca_path).read_bytes())

    def _wait_for_kubeconfig(self) -> None:
        """`podwall up` starts its agents before it serves, and writes their kubeconfigs once
        it does (each appears whole)."""
        path = self.options.target.kubeconfig
        if path is None:
            return
        deadline = time.monotonic() + self.options.startup_seconds
        while not path.exists():
            if time.monotonic() > deadline:
                raise StartupError(
                    f"{path}: no kubeconfig there after {self.options.startup_seconds:g} s"
                )
            if self.stop_event.wait(0.01):
                raise StartupError("stopped before the kubeconfig appeared")

    def _agent(self) -> Agent:
        assert self.agent is not None
        return self.agent

    def _listed(self) -> bool:
        return self.pods is not None and self.pods.listed.is_set()

    def _wait(self, condition: object, timeout: float = 60.0) -> bool:
        assert callable(condition)
        deadline = time.monotonic() + timeout
        while not condition():
            if self.stop_event.is_set() or self._agent().stop_event.is_set():
                return False
            if time.monotonic() > deadline:
                return False
            time.sleep(0.01)
        return True

    def _reclaim(self, connection: Connection) -> None:
        """Clear what an earlier agent of this node left (its pods are named by the API)."""
        try:
            page = connection.request(
                "GET", "/api/v1/pods", [("fieldSelector", f"spec.nodeName={self.name}")]
            )
        except (ApiError, Unreachable) as exc:
            raise StartupError(f"cannot list the pods of node {self.name}: {exc}") from None
        keys = [
            f"{p['metadata'].get('namespace')}/{p['metadata']['name']}"
            for p in page.get("items") or ()
        ]
        for name in self.node.reclaim(keys):
            log.info("removed what an earlier agent left: %s", name)

    def _register(self) -> None:
        assert self.keeper is not None
        deadline = time.monotonic() + self.options.startup_seconds
        while True:
            try:
                self.keeper.register()
                return
            except (ApiError, Unreachable) as exc:
                if time.monotonic() > deadline:
                    raise StartupError(f"cannot register node {self.name}: {exc}") from None
                log.warning("node not registered yet: %s", exc)
                time.sleep(0.5)

    def _write_agent_file(self) -> None:
        agent = self._agent()
        port = agent.health.address[1] if agent.health is not None else 0
        facts = {"pid": os.getpid(), "node": self.name, "health": f"http://127.0.0.1:{port}"}
        path = self.sandbox.run_dir / AGENT_FILE
        staging = path.with_name(f".{AGENT_FILE}.new")
        staging.write_text(json.dumps(facts))
        staging.replace(path)

    def enforced(self, resource_version: int, timeout: float) -> bool:
        """Wait until the loaded ruleset reflects every pod write up to `resource_version`."""
        agent = self._agent()
        deadline = time.monotonic() + timeout
        while True:
            status = agent.sync.status
            seen = status.resource_versions.get("pods", "")
            if status.ready and seen.isdigit() and int(seen) >= resource_version:
                return True
            if time.monotonic() > deadline or agent.stop_event.is_set():
                return False
            # A write that changed no model object (an address the pod already had) starts
            # no sync by itself; ask for one, so the status says how far the cache has seen.
            agent.cache.changed.set()
            time.sleep(POKE_SECONDS)

    def wait(self) -> None:
        self._agent().wait()

    def stop(self) -> None:
        self.stop_event.set()
        if self.agent is not None:
            self.agent.stop()

    def close(self) -> None:
        """Stop the pods, the agent's threads, and remove the node namespace."""
        self.stop()
        if self.kubelet is not None:
            try:
                self.kubelet.stop()
            except Exception:
                log.exception("stopping the node's pods")
        else:
            try:
                self.node.stop()
            except Exception:
                log.exception("removing the node")
        if self.pods is not None:
            self.pods.close()
        if self.keeper is not None:
            self.keeper.join()
        if self.agent is not None:
            self.agent.close()
        elif self._connection is not None:
            self._connection.close()


EXIT_MISSING = 2


def serve(options: Options, sandbox: SandboxOptions) -> int:
    """A whole node until SIGTERM (or SIGINT, SIGHUP); then its pods and namespace go.
    2 when something it needs is missing (one line on stderr says what)."""
    node = SandboxNode(options, sandbox)

    def on_signal(signum: int, frame: FrameType | None) -> None:
        node.stop()

    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(signum, on_signal)
    log.info("podwall agent for sandbox node %s (index %d)", options.node, sandbox.index)
    try:
        node.start()
    except StartupError as exc:
        print(f"error: {exc}", file=sys.stderr, flush=True)
        node.close()
        return EXIT_MISSING
    except BaseException:
        node.close()
        raise
    try:
        node.wait()
    finally:
        node.close()
    log.info("node %s stopped and removed", options.node)
    return 0
