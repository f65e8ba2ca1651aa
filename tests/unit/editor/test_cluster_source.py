"""The editor attached to a cluster, with the official client against podwall's own API server.

The API server runs in this process on a free loopback port (no pods run: it has no node), so
these tests need no root: reading objects, applying policies (created, unchanged, configured,
the API server's 422 with its causes), the attached endpoints, and an exec the server refuses.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client

from podwall.apiserver.server import Server
from podwall.editor import live
from podwall.editor.app import create_app
from podwall.editor.attached import Attached
from podwall.editor.cluster import ClusterError, ClusterSource
from podwall.editor.drafts import parse_yaml
from podwall.editor.flows import RecentFlows
from podwall.editor.workspace import Workspace
from podwall.flows import files
from podwall.flows.ring import RingFile
from podwall.manifests.reader import LoadError
from tests.unit.editor.apiclient import TOKEN, TUTORIAL, Client
from tests.unit.flows.samples import flow

DENY = (TUTORIAL / "backend-ingress-deny.yaml").read_text()
POD = {
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {"name": "web-1", "namespace": "default", "labels": {"app": "web"}},
    "spec": {
        "containers": [
            {"name": "web", "image": "nginx", "ports": [{"name": "http", "containerPort": 80}]}
        ]
    },
}
DEPLOYMENT = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {"name": "web", "namespace": "default"},
    "spec": {
        "selector": {"matchLabels": {"app": "web"}},
        "template": {"metadata": {"labels": {"app": "web"}}, "spec": POD["spec"]},
    },
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    running = Server(tmp_path_factory.mktemp("apiserver") / "state", 0)
    running.start()
    try:
        source = ClusterSource(running.kubeconfig_path)
        with source.api_client() as api:
            core: Any = client.CoreV1Api(api)
            core.create_namespaced_pod("default", POD)
            status = {**POD, "status": {"phase": "Running", "podIP": "198.18.0.7"}}
            core.replace_namespaced_pod_status("web-1", "default", status)
            apps: Any = client.AppsV1Api(api)
            apps.create_namespaced_deployment("default", DEPLOYMENT)
        yield running
    finally:
        running.stop()


@pytest.fixture
def source(server: Server) -> ClusterSource:
    return ClusterSource(server.kubeconfig_path)


def body_of(text: str, **meta: str) -> dict[str, Any]:
    draft = parse_yaml(text)
    assert draft.body is not None
    body = dict(draft.body)
    body["metadata"] = {**body["metadata"], **meta}
    return body


def test_the_cluster_reads_as_manifests_do(source: ClusterSource, server: Server) -> None:
    assert source.server == server.url
    loaded = source.load()
    kinds = {o.describe() for o in loaded.objects}
    assert {"Namespace kube-system", "Pod default/web-1", "Deployment default/web"} <= kinds
    assert "Service default/kubernetes" in kinds
    snapshot = Workspace([source]).snapshot()
    assert snapshot.errors == []
    pod = snapshot.cluster.pods_by_key["default/web-1"]
    assert [str(ip) for ip in pod.ips] == ["198.18.0.7"]
    assert pod.named_port("http", pod.ports[0].protocol) == 80
    assert [p.key for p in snapshot.cluster.pods] == ["default/web-1"]  # no stand-in for web


def test_apply_creates_then_leaves_unchanged_then_configures(source: ClusterSource) -> None:
    body = body_of(DENY, name="deny-a")
    created = live.apply_policy(source, body)
    assert (created.action, created.key) == ("created", "default/deny-a")
    assert live.apply_policy(source, body).action == "unchanged"
    body["metadata"]["labels"] = {"team": "a"}
    configured = live.apply_policy(source, body)
    assert configured.action == "configured"
    assert int(configured.resource_version) > int(created.resource_version)
    policies = Workspace([source]).snapshot().cluster.policies
    assert "default/deny-a" in [p.key for p in policies]


def test_the_api_servers_refusal_names_the_field(source: ClusterSource) -> None:
    text = DENY.replace("policyTypes:\n  - Ingress", "policyTypes:\n  - Sideways")
    with pytest.raises(live.Refused) as refused:
        live.apply_policy(source, body_of(text, name="deny-b"))
    assert refused.value.status["code"] == 422
    assert refused.value.status["reason"] == "Invalid"
    (error,) = refused.value.errors()
    assert error["path"] == "spec.policyTypes[0]"
    assert "Sideways" in error["message"]


def test_exec_refused_by_the_server_says_why(source: ClusterSource) -> None:
    ran = live.run(source, "default", "nope", ["true"])
    assert ran.exit_code is None
    assert ran.error == '404 Not Found: pods "nope" not found'
    ran = live.run(source, "default", "web-1", ["true"])
    assert ran.error is not None
    assert ran.error.startswith("503 Service Unavailable: pod runtime not attached")


def test_a_missing_kubeconfig_or_a_stopped_cluster(tmp_path: Path, server: Server) -> None:
    with pytest.raises(ClusterError, match="no kubeconfig there"):
        ClusterSource(tmp_path / "kubeconfig")
    stale = tmp_path / "stale"
    text = server.kubeconfig_path.read_text().replace(server.url, "https://127.0.0.1:1")
    stale.write_text(text)
    with pytest.raises(LoadError, match=r"cannot reach the cluster"):
        ClusterSource(stale).load()


def attached_client(source: ClusterSource) -> Client:
    workspace = Workspace([source], max_age=0.0)
    return Client(create_app(workspace, TOKEN, attached=Attached(source, workspace)))


def test_the_attached_endpoints(source: ClusterSource) -> None:
    api = attached_client(source)
    state = api.ok("/api/state")
    assert state["attached"]["server"] == source.server
    form = api.ok("/api/parse", {"yaml": DENY.replace("backend-ingress-deny", "deny-c")})["form"]
    answer = api.ok("/api/cluster/apply", {"form": form})
    assert answer["applied"]["action"] == "created"
    assert "default/deny-c" in [p["key"] for p in api.ok("/api/state")["cluster"]["policies"]]
    assert api.ok("/api/cluster/apply", {"form": form})["applied"]["action"] == "unchanged"

    results = api.ok("/api/cluster/checks", {"from": "web-1", "to": "web-1", "port": "http"})
    (result,) = results["results"]
    assert result["command"] == "kubectl exec web-1 -- curl -I --connect-timeout 5 198.18.0.7:80"
    assert result["exitCode"] is None
    assert "pod runtime not attached" in result["error"]
    assert result["predicted"] is True  # a pod can always reach itself
    assert result["agrees"] is None

    missing = api.post("/api/cluster/checks", {"tutorial": True})
    assert missing.status_code == 400
    assert "simple-app.yaml" in missing.json()["error"]


def test_without_a_cluster_there_are_no_cluster_endpoints(client: Client) -> None:
    assert client.ok("/api/state")["attached"] is None
    assert client.post("/api/cluster/apply", {"form": {}}).status_code in (404, 405)


def test_the_flows_endpoint(source: ClusterSource, tmp_path: Path) -> None:
    assert attached_client(source).ok("/api/cluster/flows", {"pods": []})["flows"] is None
    ring = RingFile(files.ring_path(tmp_path, "node-1"), 100)
    ring.append([flow(1.0)])
    ring.close()
    workspace = Workspace([source], max_age=0.0)
    recent = RecentFlows(tmp_path)
    api = Client(create_app(workspace, TOKEN, attached=Attached(source, workspace, recent)))
    try:
        found = api.ok("/api/cluster/flows", {"pods": ["default/backend"], "last": 5})["flows"]
    finally:
        recent.close()
    assert [f["verdict"] for f in found] == ["ALLOWED"]
    for bad in ({"pods": "default/backend"}, {"pods": [], "last": -1}, {"pods": [], "last": True}):
        assert api.post("/api/cluster/flows", bad).status_code == 400
