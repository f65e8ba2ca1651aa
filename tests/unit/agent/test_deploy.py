"""deploy/: the manifests are valid Kubernetes 1.32 objects (upstream's schemas, through
kubernetes-validate) and ask for what the agent does, no more."""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from podwall.agent import kinds, lease
from podwall.apiserver import defaultroles
from podwall.cli.agent import METRICS_PORT

DEPLOY = Path(__file__).resolve().parents[3] / "deploy"
KUBERNETES = "1.32"


def documents() -> list[tuple[str, dict[str, Any]]]:
    out = []
    for path in sorted(DEPLOY.glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            out.append((f"{path.name}: {doc['kind']} {doc['metadata']['name']}", doc))
    return out


DOCUMENTS = documents()


def find(kind: str, name: str | None = None) -> dict[str, Any]:
    (doc,) = [
        d for _, d in DOCUMENTS if d["kind"] == kind and name in (None, d["metadata"]["name"])
    ]
    return doc


@pytest.mark.parametrize("doc", [d for _, d in DOCUMENTS], ids=[i for i, _ in DOCUMENTS])
def test_each_manifest_is_valid_for_kubernetes_1_32(doc: dict[str, Any]) -> None:
    kubernetes_validate.validate(doc, KUBERNETES, strict=True)


def test_the_validation_catches_a_broken_manifest() -> None:
    broken = copy.deepcopy(find("DaemonSet"))
    broken["spec"]["template"]["spec"]["hostNetwork"] = "yes"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBERNETES, strict=True)


def test_files_apply_in_order_namespace_first() -> None:
    assert DOCUMENTS[0][1]["kind"] == "Namespace"
    assert DOCUMENTS[-1][1]["kind"] == "DaemonSet"


def test_the_cluster_role_lists_and_watches_exactly_what_the_agent_reads() -> None:
    granted = {
        (group, resource, verb)
        for rule in find("ClusterRole")["rules"]
        for group in rule["apiGroups"]
        for resource in rule["resources"]
        for verb in rule["verbs"]
    }
    read = {
        (kind.group, kind.name, verb)
        for kind in kinds.watched(service_dnat=False)
        for verb in ("list", "watch")
    }
    assert granted == read


def test_leases_are_written_only_in_the_agent_s_namespace() -> None:
    role = find("Role")
    assert role["metadata"]["namespace"] == lease.NAMESPACE
    assert role["rules"] == [
        {
            "apiGroups": ["coordination.k8s.io"],
            "resources": ["leases"],
            "verbs": ["get", "create", "update"],
        }
    ]
    assert {d["metadata"].get("namespace") for _, d in DOCUMENTS} - {None} == {lease.NAMESPACE}


def test_the_bindings_name_the_agent_s_service_account() -> None:
    account = find("ServiceAccount")["metadata"]["name"]
    for kind in ("ClusterRoleBinding", "RoleBinding"):
        assert [s["name"] for s in find(kind)["subjects"]] == [account]
    pod = find("DaemonSet")["spec"]["template"]["spec"]
    assert pod["serviceAccountName"] == account


def test_the_daemon_set_runs_everywhere_on_the_host_network_with_net_admin_only() -> None:
    pod = find("DaemonSet")["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert pod["hostNetwork"] is True
    assert {"operator": "Exists"} in pod["tolerations"]
    capabilities = container["securityContext"]["capabilities"]
    assert capabilities == {"drop": ["ALL"], "add": ["NET_ADMIN"]}
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    assert set(container["resources"]) == {"requests", "limits"}
    env = {e["name"]: e["valueFrom"]["fieldRef"]["fieldPath"] for e in container["env"]}
    assert env["NODE_NAME"] == "spec.nodeName"


def test_probes_ask_the_agent_s_port_on_loopback() -> None:
    (container,) = find("DaemonSet")["spec"]["template"]["spec"]["containers"]
    assert f"--metrics-port={METRICS_PORT}" in container["args"]
    probes = {
        name: container[name]["httpGet"]
        for name in ("startupProbe", "livenessProbe", "readinessProbe")
    }
    assert {n: (p["host"], p["port"], p["path"]) for n, p in probes.items()} == {
        "startupProbe": ("127.0.0.1", METRICS_PORT, "/healthz"),
        "livenessProbe": ("127.0.0.1", METRICS_PORT, "/healthz"),
        "readinessProbe": ("127.0.0.1", METRICS_PORT, "/readyz"),
    }


def test_the_containerfile_installs_nftables_and_podwall_from_the_repository() -> None:
    text = (DEPLOY / "Containerfile").read_text()
    assert re.search(r"^FROM \S+python:3\.1\d-slim-bookworm$", text, re.M)
    assert re.search(r"apt-get install .*--no-install-recommends nftables", text)
    for source in re.findall(r"^COPY (.+) /src/", text, re.M):
        for path in source.split():
            assert (DEPLOY.parent / path).exists(), path
    assert 'ENTRYPOINT ["podwall"]' in text


def test_the_local_cluster_s_nodes_get_exactly_the_daemonset_s_cluster_role() -> None:
    """`podwall up` binds its node agents to system:podwall-node: the same rules as deploy/."""
    (ours,) = [
        r for r in defaultroles.CLUSTER_ROLES if r["metadata"]["name"] == "system:podwall-node"
    ]
    expected = find("ClusterRole", "podwall-agent")["rules"]
    normal = lambda rules: sorted(  # noqa: E731
        (tuple(r["apiGroups"]), tuple(sorted(r["resources"])), tuple(sorted(r["verbs"])))
        for r in rules
    )
    assert normal(ours["rules"]) == normal(expected)
