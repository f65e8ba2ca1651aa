"""Authentication and RBAC with the real kubectl: auth can-i, auth whoami, create token, a
Role and RoleBinding that grant one namespace only, impersonation, and deploy/ applied with a
server-side dry run."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.kubectl.test_apiserver import Cluster, cluster, kubeconfig_with_user, table

pytestmark = pytest.mark.kubectl
DEPLOY = Path(__file__).resolve().parents[3] / "deploy"
SA_USER = "system:serviceaccount:default:x"

__all__ = ["cluster"]


def token_of(cluster: Cluster, account: str = "x") -> str:
    cluster.ok("create", "serviceaccount", account)
    return cluster.ok("create", "token", account).strip()


def as_account(cluster: Cluster, token: str) -> Path:
    return kubeconfig_with_user(cluster, "sa.kubeconfig", {"token": token})


def test_can_i_yes_for_the_admin_and_no_for_others(cluster: Cluster) -> None:
    assert cluster.ok("auth", "can-i", "create", "networkpolicies") == "yes\n"
    assert cluster.ok("auth", "can-i", "*", "*", "--all-namespaces") == "yes\n"
    no = cluster.kubectl("auth", "can-i", "list", "pods", "--as", SA_USER)
    assert (no.code, no.out) == (1, "no\n")


def test_whoami(cluster: Cluster) -> None:
    rows = table(cluster.ok("auth", "whoami"))
    assert rows == [
        ["ATTRIBUTE", "VALUE"],
        ["Username", "podwall-admin"],
        ["Groups", "[system:masters system:authenticated]"],
    ]
    token = token_of(cluster)
    rows = table(cluster.ok("auth", "whoami", kubeconfig=as_account(cluster, token)))
    attributes = {row[0]: row[1] for row in rows[1:]}
    assert attributes["Username"] == SA_USER
    assert attributes["Groups"] == (
        "[system:serviceaccounts system:serviceaccounts:default system:authenticated]"
    )
    assert attributes["Extra: authentication.kubernetes.io/credential-id"].startswith("[JTI=")


def test_a_created_token_authenticates_and_rbac_grants_one_namespace(cluster: Cluster) -> None:
    config = as_account(cluster, token_of(cluster))
    denied = cluster.kubectl("get", "pods", kubeconfig=config)
    assert denied.code == 1
    assert denied.err == (
        f'Error from server (Forbidden): pods is forbidden: User "{SA_USER}" cannot list '
        'resource "pods" in API group "" in the namespace "default"\n'
    )
    cluster.ok("create", "role", "pod-reader", "--verb=list", "--resource=pods")
    cluster.ok("create", "rolebinding", "read-pods", "--role=pod-reader",
               "--serviceaccount=default:x")  # fmt: skip
    assert cluster.kubectl("get", "pods", kubeconfig=config).code == 0
    elsewhere = cluster.kubectl("get", "pods", "-n", "kube-system", kubeconfig=config)
    assert elsewhere.code == 1
    assert elsewhere.err == (
        f'Error from server (Forbidden): pods is forbidden: User "{SA_USER}" cannot list '
        'resource "pods" in API group "" in the namespace "kube-system"\n'
    )
    assert cluster.ok("auth", "can-i", "list", "pods", kubeconfig=config) == "yes\n"
    no = cluster.kubectl("auth", "can-i", "list", "pods", "-n", "kube-system", kubeconfig=config)
    assert no.out == "no\n"
    assert cluster.ok("auth", "can-i", "list", "pods", "--as", SA_USER) == "yes\n"


def test_can_i_list(cluster: Cluster) -> None:
    cluster.ok("create", "serviceaccount", "x")
    cluster.ok("create", "role", "pod-reader", "--verb=get,list", "--resource=pods")
    cluster.ok("create", "rolebinding", "read-pods", "--role=pod-reader",
               "--serviceaccount=default:x")  # fmt: skip
    rows = table(cluster.ok("auth", "can-i", "--list", "--as", SA_USER))
    assert rows[0] == ["Resources", "Non-Resource URLs", "Resource Names", "Verbs"]
    assert ["pods", "[]", "[]", "[get list]"] in rows
    assert ["[/version]", "[]", "[get]"] in rows  # an empty first column: two cells merge


def test_rbac_kinds_print_as_kubectl_prints_them(cluster: Cluster) -> None:
    cluster.ok("create", "serviceaccount", "x")
    cluster.ok("create", "clusterrole", "reader", "--verb=get", "--resource=pods")
    cluster.ok("create", "clusterrolebinding", "reader", "--clusterrole=reader",
               "--serviceaccount=default:x", "--group=devs")  # fmt: skip
    rows = table(cluster.ok("get", "clusterrolebinding", "reader", "-o", "wide"))
    assert rows[0] == ["NAME", "ROLE", "AGE", "USERS", "GROUPS", "SERVICEACCOUNTS"]
    assert rows[1][:2] == ["reader", "ClusterRole/reader"]
    assert rows[1][3:] == ["devs", "default/x"]
    assert table(cluster.ok("get", "serviceaccount", "x"))[0] == ["NAME", "SECRETS", "AGE"]
    assert table(cluster.ok("get", "clusterrole", "reader"))[0] == ["NAME", "CREATED AT"]
    explained = cluster.ok("explain", "clusterrolebinding.roleRef")
    assert "RoleRef contains information that points to the role being used" in explained


def test_deploy_applies_with_a_server_side_dry_run_and_stores_nothing(cluster: Cluster) -> None:
    # As on a real cluster, a dry run creates no namespace for the objects that follow.
    cluster.ok("apply", "-f", str(DEPLOY / "00-namespace.yaml"))
    out = cluster.ok("apply", "--dry-run=server", "-f", str(DEPLOY))
    assert out.splitlines() == [
        "namespace/podwall-system unchanged (server dry run)",
        "serviceaccount/podwall-agent created (server dry run)",
        "clusterrole.rbac.authorization.k8s.io/podwall-agent created (server dry run)",
        "clusterrolebinding.rbac.authorization.k8s.io/podwall-agent created (server dry run)",
        "role.rbac.authorization.k8s.io/podwall-agent-leases created (server dry run)",
        "rolebinding.rbac.authorization.k8s.io/podwall-agent-leases created (server dry run)",
        "daemonset.apps/podwall-agent created (server dry run)",
    ]
    missing = cluster.kubectl("get", "clusterrole", "podwall-agent")
    assert "NotFound" in missing.err


def test_deploy_applies_for_real(cluster: Cluster) -> None:
    cluster.ok("apply", "-f", str(DEPLOY))
    rows = table(cluster.ok("get", "daemonset", "-n", "podwall-system"))
    assert rows[0] == ["NAME", "DESIRED", "CURRENT", "READY", "UP-TO-DATE", "AVAILABLE",
                       "NODE SELECTOR", "AGE"]  # fmt: skip
    assert rows[1][:7] == ["podwall-agent", "0", "0", "0", "0", "0", "<none>"]
    who = "system:serviceaccount:podwall-system:podwall-agent"
    can = cluster.ok("auth", "can-i", "watch", "networkpolicies", "--all-namespaces", "--as", who)
    assert can == "yes\n"
    lease = ["auth", "can-i", "update", "leases", "--as", who]
    assert cluster.ok(*lease, "-n", "podwall-system") == "yes\n"
    assert cluster.kubectl(*lease, "-n", "kube-node-lease").out == "no\n"
