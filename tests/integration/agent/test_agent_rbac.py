"""The agent with exactly the RBAC deploy/ gives it: enough to enforce, and each verb needed.

The agent runs as the `podwall-agent` ServiceAccount, with a token from a TokenRequest and the
ClusterRole, Role and bindings of deploy/10-rbac.yaml applied as they are; then with one verb
taken out at a time: one `error:` line naming what is forbidden, exit status 2, and nothing
loaded into the network namespace.
"""

from __future__ import annotations

import copy
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from podwall.apiserver import kubeconfig
from tests.integration.agent.conftest import AgentProcess, Cluster, isolated, nft
from tests.unit.agent.apiserver import LEASE_NAMESPACE, wait_for
from tests.unit.agent.objects import DENY_ALL, pod, policy

pytestmark = [pytest.mark.netns, pytest.mark.slow]

RBAC = Path(__file__).resolve().parents[3] / "deploy" / "10-rbac.yaml"
ACCOUNT = "podwall-agent"
DENY_WEB = policy("deny-web", {**DENY_ALL, "podSelector": {"matchLabels": {"app": "web"}}})


def deploy_rbac() -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(RBAC.read_text()) if doc]


def without(docs: list[dict[str, Any]], kind: str, resource: str, verb: str) -> list[Any]:
    """deploy/'s objects with `verb` on `resource` (only) taken out of the `kind`'s rules."""
    changed = copy.deepcopy(docs)
    role = next(d for d in changed if d["kind"] == kind)
    rule = next(r for r in role["rules"] if resource in r["resources"])
    assert verb in rule["verbs"], f"{kind} grants no {verb} on {resource}"
    rule["resources"].remove(resource)
    verbs = [v for v in rule["verbs"] if v != verb]
    role["rules"].append({"apiGroups": rule["apiGroups"], "resources": [resource], "verbs": verbs})
    if not rule["resources"]:
        role["rules"].remove(rule)
    return changed


def run_as_agent(cluster: Cluster, docs: list[dict[str, Any]], tmp: Path) -> None:
    """Apply `docs`, then point the agent at a kubeconfig holding the ServiceAccount's token."""
    for doc in docs:
        cluster.api.create(doc)
    path = f"/api/v1/namespaces/{LEASE_NAMESPACE}/serviceaccounts/{ACCOUNT}/token"
    request = {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": {}}
    token = cluster.api.connection.request("POST", path, body=request)["status"]["token"]
    assert cluster.server is not None
    ca = (cluster.state / "ca.crt").read_bytes()
    config = kubeconfig.write(tmp / "agent.kubeconfig", cluster.server.url, ca, token, ACCOUNT)
    cluster.kubeconfig = config


def test_deploy_s_rbac_is_enough_to_enforce(
    cluster: Cluster, agent: AgentProcess, netns: str, tmp_path: Path
) -> None:
    run_as_agent(cluster, deploy_rbac(), tmp_path)
    cluster.api.pod(pod("web", "198.18.0.5", app="web"))
    agent.start()
    cluster.api.create(DENY_WEB)
    wait_for(lambda: "198.18.0.5 : jump" in isolated(netns), "web isolated")
    lease = cluster.api.get(f"/apis/coordination.k8s.io/v1/namespaces/{LEASE_NAMESPACE}/leases")
    assert [item["metadata"]["name"] for item in lease["items"]] == ["node-1"]
    assert "forbidden" not in agent.output()


CUTS = [
    ("ClusterRole", "pods", "list", 'cannot list resource "pods" in API group "" at the cluster scope'),
    ("ClusterRole", "nodes", "watch", 'cannot watch resource "nodes" in API group "" at the cluster scope'),
    ("ClusterRole", "namespaces", "watch", 'cannot watch resource "namespaces" in API group "" at the cluster scope'),
    ("ClusterRole", "networkpolicies", "watch", 'cannot watch resource "networkpolicies" in API group "networking.k8s.io"'),
    ("Role", "leases", "get", f'cannot get resource "leases" in API group "coordination.k8s.io" in the namespace "{LEASE_NAMESPACE}"'),
    ("Role", "leases", "create", 'cannot create resource "leases"'),
    ("Role", "leases", "update", 'cannot update resource "leases"'),
]  # fmt: skip


@pytest.mark.parametrize(
    ("kind", "resource", "verb", "said"), CUTS, ids=[f"{c[0]} {c[1]} -{c[2]}" for c in CUTS]
)
def test_one_verb_less_is_one_clear_error_and_nothing_applied(
    cluster: Cluster, agent: AgentProcess, netns: str, tmp_path: Path,
    kind: str, resource: str, verb: str, said: str,
) -> None:  # fmt: skip
    run_as_agent(cluster, without(deploy_rbac(), kind, resource, verb), tmp_path)
    cluster.api.pod(pod("web", "198.18.0.5", app="web"))
    cluster.api.create(DENY_WEB)
    done = subprocess.run(agent.argv(), capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 2, done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, done.stderr
    assert "forbidden" in errors[0]
    assert f'User "system:serviceaccount:{LEASE_NAMESPACE}:{ACCOUNT}" {said}' in errors[0]
    assert nft(netns, "list", "tables").stdout == ""
