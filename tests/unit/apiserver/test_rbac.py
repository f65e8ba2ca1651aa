"""The RBAC authorizer: which bindings and rules allow which requests, and the 403 words."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import pytest

from podwall.apiserver.rbac import authorize, forbidden_message, rule_allows
from podwall.apiserver.requestinfo import Attributes, request_info
from podwall.apiserver.userinfo import UserInfo, service_account_groups

RBAC = "rbac.authorization.k8s.io"
SA_X = UserInfo("system:serviceaccount:default:x", "u1",
                (*service_account_groups("default"), "system:authenticated"))  # fmt: skip
ALICE = UserInfo("alice", groups=("dev", "system:authenticated"))


def rule(verbs: list[str], groups: list[str], resources: list[str], **more: Any) -> dict[str, Any]:
    return {"verbs": verbs, "apiGroups": groups, "resources": resources, **more}


@dataclass
class Table:
    """rbac.Policy over literal objects."""

    cluster_roles: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    roles: dict[tuple[str, str], list[dict[str, Any]]] = field(default_factory=dict)
    crbs: list[dict[str, Any]] = field(default_factory=list)
    rbs: list[dict[str, Any]] = field(default_factory=list)

    def cluster_role_bindings(self) -> Iterable[dict[str, Any]]:
        return self.crbs

    def role_bindings(self, namespace: str) -> Iterable[dict[str, Any]]:
        return [b for b in self.rbs if b["metadata"]["namespace"] == namespace]

    def cluster_role(self, name: str) -> dict[str, Any] | None:
        rules = self.cluster_roles.get(name)
        return None if rules is None else {"rules": rules}

    def role(self, namespace: str, name: str) -> dict[str, Any] | None:
        rules = self.roles.get((namespace, name))
        return None if rules is None else {"rules": rules}


def binding(name: str, kind: str, role: str, subjects: list[dict[str, Any]],
            namespace: str = "") -> dict[str, Any]:  # fmt: skip
    meta = {"name": name, **({"namespace": namespace} if namespace else {})}
    return {"metadata": meta, "roleRef": {"apiGroup": RBAC, "kind": kind, "name": role},
            "subjects": subjects}  # fmt: skip


SA_SUBJECT = {"kind": "ServiceAccount", "name": "x", "namespace": "default"}
POLICY = Table(
    cluster_roles={
        "reader": [rule(["get", "list", "watch"], [""], ["pods", "pods/log"])],
        "scaler": [rule(["patch"], ["apps"], ["*/scale"])],
        "one-cm": [rule(["get", "update"], [""], ["configmaps"], resourceNames=["settings"])],
        "health": [{"verbs": ["get"], "nonResourceURLs": ["/healthz", "/apis/*"]}],
        "everything": [rule(["*"], ["*"], ["*"])],
    },
    roles={("team", "exec"): [rule(["create"], [""], ["pods/exec"])]},
    crbs=[
        binding("health", "ClusterRole", "health", [{"kind": "Group", "name": "dev"}]),
        binding("dangling", "ClusterRole", "gone", [{"kind": "User", "name": "carol"}]),
    ],
    rbs=[
        binding("read", "ClusterRole", "reader", [SA_SUBJECT], "default"),
        # A ServiceAccount subject without a namespace is the binding's own namespace's.
        binding("exec", "Role", "exec", [{"kind": "ServiceAccount", "name": "x"}], "team"),
        binding("alice-exec", "Role", "exec", [{"kind": "User", "name": "alice"}], "team"),
        binding("scale", "ClusterRole", "scaler", [{"kind": "Group", "name": "dev"}], "team"),
        binding("cm", "ClusterRole", "one-cm", [{"kind": "User", "name": "alice"}], "team"),
        binding("everything", "ClusterRole", "everything",
                [{"kind": "ServiceAccount", "name": "x", "namespace": "team"}], "team"),
    ],
)  # fmt: skip


def req(method: str, path: str, query: str = "") -> Attributes:
    return request_info(method, path, query)


CASES = [
    ("list pods where bound", SA_X, req("GET", "/api/v1/namespaces/default/pods"), True),
    ("watch pods where bound", SA_X, req("GET", "/api/v1/namespaces/default/pods", "watch=1"), True),
    ("pods/log is listed too", SA_X, req("GET", "/api/v1/namespaces/default/pods/w/log"), True),
    ("not delete", SA_X, req("DELETE", "/api/v1/namespaces/default/pods/w"), False),
    ("not in another namespace", SA_X, req("GET", "/api/v1/namespaces/other/pods"), False),
    ("not cluster-wide", SA_X, req("GET", "/api/v1/pods"), False),
    ("not pods/exec from a pods rule", SA_X, req("POST", "/api/v1/namespaces/default/pods/w/exec"), False),
    ("a binding names another ns's SA", SA_X, req("POST", "/api/v1/namespaces/team/pods/w/exec"), False),
    ("user by name, Role in its namespace", ALICE, req("POST", "/api/v1/namespaces/team/pods/w/exec"), True),
    ("group, */scale", ALICE, req("PATCH", "/apis/apps/v1/namespaces/team/deployments/d/scale"), True),
    ("*/scale is not the resource itself", ALICE, req("PATCH", "/apis/apps/v1/namespaces/team/deployments/d"), False),
    ("resourceNames: that name", ALICE, req("PUT", "/api/v1/namespaces/team/configmaps/settings"), True),
    ("resourceNames: another name", ALICE, req("PUT", "/api/v1/namespaces/team/configmaps/other"), False),
    ("resourceNames: never a list", ALICE, req("GET", "/api/v1/namespaces/team/configmaps"), False),
    ("non-resource URL, exact", ALICE, req("GET", "/healthz"), True),
    ("non-resource URL, prefix *", ALICE, req("GET", "/apis/apps/v1"), True),
    ("non-resource URL, other verb", ALICE, req("POST", "/healthz"), False),
    ("non-resource URL, not granted", SA_X, req("GET", "/healthz"), False),
]  # fmt: skip


@pytest.mark.parametrize(
    ("user", "attrs", "allowed"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_authorize(user: UserInfo, attrs: Attributes, allowed: bool) -> None:
    assert authorize(POLICY, user, attrs).allowed is allowed


def test_an_allowed_request_names_the_binding_that_allows_it() -> None:
    decision = authorize(POLICY, SA_X, req("GET", "/api/v1/namespaces/default/pods"))
    assert decision.reason == (
        'RBAC: allowed by RoleBinding "read/default" of ClusterRole "reader" to '
        'ServiceAccount "x/default"'
    )


def test_a_binding_to_a_missing_role_is_the_reason_of_a_denial() -> None:
    carol = UserInfo("carol", groups=("system:authenticated",))
    decision = authorize(POLICY, carol, req("GET", "/api/v1/pods"))
    assert decision == type(decision)(
        False, 'RBAC: clusterrole.rbac.authorization.k8s.io "gone" not found'
    )


@pytest.mark.parametrize(
    ("attrs", "message"),
    [
        (req("GET", "/api/v1/namespaces/default/pods"),
         'User "system:serviceaccount:default:x" cannot list resource "pods" in API group "" in '
         'the namespace "default"'),
        (req("GET", "/apis/networking.k8s.io/v1/networkpolicies", "watch=true"),
         'User "system:serviceaccount:default:x" cannot watch resource "networkpolicies" in API '
         'group "networking.k8s.io" at the cluster scope'),
        (req("POST", "/api/v1/namespaces/d/pods/web/exec"),
         'User "system:serviceaccount:default:x" cannot create resource "pods/exec" in API group '
         '"" in the namespace "d"'),
        (req("GET", "/metrics"),
         'User "system:serviceaccount:default:x" cannot get path "/metrics"'),
    ],
)  # fmt: skip
def test_forbidden_message_in_kube_apiserver_words(attrs: Attributes, message: str) -> None:
    assert forbidden_message(SA_X, attrs) == message


@pytest.mark.parametrize(
    ("verbs", "allowed"), [(["*"], True), (["get"], False), (["create", "list"], True)]
)
def test_verbs_and_wildcards(verbs: list[str], allowed: bool) -> None:
    attrs = req("GET", "/apis/apps/v1/daemonsets")
    assert rule_allows(attrs, rule(verbs, ["apps"], ["daemonsets"])) is allowed
