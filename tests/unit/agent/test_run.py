"""The agent against podwall's own API server in this process, its nft recorded (no root):
what it reads becomes batches, what it reports becomes a Lease, and each missing need is one
clear StartupError before anything is applied."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml

from podwall.agent.client import Target
from podwall.agent.lease import AgentStatus
from podwall.agent.run import Agent, Options, StartupError, check_nft, cleanup
from podwall.apiserver.server import Server
from podwall.nft.errors import NftError
from tests.unit.agent.apiserver import LEASE_NAMESPACE, Api, api_server, wait_for
from tests.unit.agent.objects import DENY_ALL, cluster_policy, namespace, node, pod, policy


class Nft:
    def __init__(self) -> None:
        self.batches: list[str] = []
        self.lock = threading.Lock()

    def __call__(self, script: str, netns: str | None) -> None:
        with self.lock:
            self.batches.append(script)

    def applied(self) -> list[str]:
        with self.lock:
            return [b for b in self.batches if b != "list tables\n"]


def options(kubeconfig: Path, **changes: object) -> Options:
    base: dict[str, object] = {
        "target": Target(kubeconfig=kubeconfig),
        "node": "node-1",
        "holder": "agent-test",
        "netns": "pw-test-none",
        "metrics_port": 0,
        "startup_seconds": 10.0,
        "backoff_cap": 0.5,
    }
    return Options(**{**base, **changes})  # type: ignore[arg-type]


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    with api_server(tmp_path / "state") as running:
        yield running


@pytest.fixture
def api(server: Server) -> Iterator[Api]:
    client = Api(server.kubeconfig_path)
    client.create(namespace(LEASE_NAMESPACE))
    try:
        yield client
    finally:
        client.close()


def started(server: Server, nft: Nft, **changes: object) -> Agent:
    agent = Agent(options(server.kubeconfig_path, **changes), apply=nft)
    agent.start()
    return agent


def test_what_the_api_holds_becomes_the_node_s_batches(server: Server, api: Api) -> None:
    api.pod(pod("web", "198.18.0.5", app="web"))
    api.pod(pod("far", "198.18.1.5", node="node-2", app="far"))
    nft = Nft()
    agent = started(server, nft)
    try:
        wait_for(lambda: agent.ready() is None, "the first sync")
        first = nft.applied()[0]
        assert first.startswith("add table inet podwall\ndelete table inet podwall\n")
        api.create(policy("deny", DENY_ALL))
        wait_for(lambda: any("default/deny" in b for b in nft.applied()), "the policy's batch")
        batch = next(b for b in nft.applied() if "default/deny" in b)
        assert "198.18.0.5 : jump" in batch  # this node's pod is isolated
        assert "198.18.1.5 : jump" not in batch  # the other node's is not, here
        assert agent.healthy() is None
    finally:
        agent.close()


def test_cluster_policies_and_node_addresses_reach_the_synced_snapshot(
    server: Server, api: Api
) -> None:
    created = api.create(node("node-1"))
    status = node("node-1", "", "198.18.255.1")["status"]  # what its kubelet reports
    api.connection.request("PUT", "/api/v1/nodes/node-1/status", body={**created, "status": status})
    agent = started(server, Nft())
    try:
        wait_for(lambda: agent.ready() is None, "the first sync")
        api.create(cluster_policy("deny-a"))
        wait_for(
            lambda: (
                [p.key for p in agent.cache.snapshot().cluster.cluster_policies] == ["admin/deny-a"]
            ),
            "the ClusterNetworkPolicy in the snapshot",
        )
        cluster = agent.cache.snapshot().cluster
        assert [str(a) for n in cluster.nodes for a in n.addresses] == ["198.18.255.1"]
        changed = cluster_policy("deny-a")
        changed["spec"]["priority"] = 20
        api.replace(changed)
        wait_for(
            lambda: [p.priority for p in agent.cache.snapshot().cluster.cluster_policies] == [20],
            "the changed priority",
        )
        api.delete(changed)
        wait_for(lambda: not agent.cache.snapshot().cluster.cluster_policies, "the delete")
    finally:
        agent.close()


def test_the_lease_says_what_the_node_enforces(server: Server, api: Api) -> None:
    api.pod(pod("web", "198.18.0.5", app="web"))
    api.create(policy("deny", DENY_ALL))
    agent = started(server, Nft())
    path = f"/apis/coordination.k8s.io/v1/namespaces/{LEASE_NAMESPACE}/leases/node-1"
    try:
        wait_for(lambda: AgentStatus.parse(api.get(path)).enforcement.ready, "a ready Lease")
        status = AgentStatus.parse(api.get(path))
        assert status.holder == "agent-test"
        assert (status.enforcement.policies, status.enforcement.pods) == (1, 1)
        assert status.enforcement.synced_resource_version.isdigit()
    finally:
        agent.close()


def test_a_missing_lease_namespace_is_named(server: Server) -> None:
    nft = Nft()
    with pytest.raises(StartupError, match="namespace podwall-system does not exist"):
        started(server, nft)
    assert nft.applied() == []


def test_refused_credentials_are_named(server: Server, tmp_path: Path) -> None:
    config = yaml.safe_load(server.kubeconfig_path.read_text())
    config["users"][0]["user"]["token"] = "not-the-token"
    wrong = tmp_path / "wrong.kubeconfig"
    wrong.write_text(yaml.safe_dump(config))
    nft = Nft()
    agent = Agent(options(wrong), apply=nft)
    with pytest.raises(StartupError, match=r"^unauthorized: cannot list \w+: .*were refused"):
        agent.start()
    assert nft.applied() == []


FORBIDDEN = (
    'pods is forbidden: User "system:serviceaccount:podwall-system:podwall-agent" cannot list '
    'resource "pods" in API group "" at the cluster scope'
)


class Forbidding(BaseHTTPRequestHandler):
    """An API server whose RBAC lets the agent list everything but pods."""

    def do_GET(self) -> None:
        body: dict[str, object] | None
        if self.path.startswith("/api/v1/pods"):
            status = 403
            body = {"kind": "Status", "reason": "Forbidden", "code": 403, "message": FORBIDDEN}
        elif "watch=true" in self.path:
            status, body = 200, None
        else:
            status, body = 200, {"items": [], "metadata": {"resourceVersion": "1"}}
        data = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:
        pass


def kubeconfig_for(url: str, path: Path) -> Path:
    path.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": "c", "cluster": {"server": url}}],
                "users": [{"name": "u", "user": {"token": "t"}}],
                "contexts": [{"name": "c", "context": {"cluster": "c", "user": "u"}}],
                "current-context": "c",
            }
        )
    )
    return path


def test_a_forbidden_list_names_the_missing_rbac(tmp_path: Path) -> None:
    fake = ThreadingHTTPServer(("127.0.0.1", 0), Forbidding)
    thread = threading.Thread(target=fake.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{fake.server_address[1]}"
        nft = Nft()
        agent = Agent(options(kubeconfig_for(url, tmp_path / "k")), apply=nft)
        with pytest.raises(StartupError) as caught:
            agent.start()
    finally:
        fake.shutdown()
        fake.server_close()
    assert str(caught.value) == (
        f"forbidden: cannot list pods: {FORBIDDEN} "
        "(missing RBAC: grant list and watch in the agent's ClusterRole)"
    )
    assert nft.applied() == []


def test_an_unreachable_api_server_is_named_after_the_startup_timeout(tmp_path: Path) -> None:
    with ThreadingHTTPServer(("127.0.0.1", 0), Forbidding) as closed:
        url = f"http://127.0.0.1:{closed.server_address[1]}"  # closed when the test runs
    nft = Nft()
    agent = Agent(options(kubeconfig_for(url, tmp_path / "k"), startup_seconds=0.5), apply=nft)
    with pytest.raises(StartupError, match=r"within 0\.5s: .*Connection refused"):
        agent.start()
    assert nft.applied() == []


NFT_FAILURES = [
    (
        "no capability",
        "netlink: Error: cache initialization failed: Operation not permitted",
        "needs CAP_NET_ADMIN",
    ),
    (
        "no namespace",
        "cannot enter network namespace pw-x: No such file or directory",
        "needs network namespace pw-x",
    ),
    ("no nftables", "cannot run nft: [Errno 2] No such file or directory", "needs nftables"),
]


@pytest.mark.parametrize(
    ("error", "expected"), [f[1:] for f in NFT_FAILURES], ids=[f[0] for f in NFT_FAILURES]
)
def test_nft_problems_name_what_is_missing(error: str, expected: str) -> None:
    def refuse(script: str, netns: str | None) -> None:
        raise NftError(error)

    with pytest.raises(StartupError, match=expected):
        check_nft(refuse, "pw-x")


def test_cleanup_removes_only_the_agent_s_table_in_one_batch() -> None:
    nft = Nft()
    cleanup("pw-x", nft)
    assert nft.applied() == ["add table inet podwall\ndelete table inet podwall\n"]
