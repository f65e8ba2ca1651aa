"""Authentication, impersonation and RBAC at the API server's front door, over HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from podwall.apiserver import access
from podwall.apiserver.access import attributes_of
from podwall.apiserver.app import create_app
from podwall.apiserver.authentication import static_user
from podwall.apiserver.bootstrap import bootstrap
from podwall.apiserver.serviceaccounttokens import TokenSigner
from podwall.apiserver.store import Store
from tests.unit.apiserver.asgi import Client

TOKEN = "admin-token"
NODE_TOKEN = "node-token"
RBAC = "/apis/rbac.authorization.k8s.io/v1"
SA_PATH = "/api/v1/namespaces/default/serviceaccounts"
SSAR = "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store(tmp_path / "state.db")
    bootstrap(s)
    yield s
    s.close()


@pytest.fixture
def signer(tmp_path: Path) -> TokenSigner:
    return TokenSigner(tmp_path)


@pytest.fixture
def admin(store: Store, signer: TokenSigner) -> Client:
    app = create_app(store, TOKEN, other_tokens={NODE_TOKEN: static_user("system:node:n1")},
                     signer=signer)  # fmt: skip
    return Client(app, {"Authorization": f"Bearer {TOKEN}"})


def as_token(admin: Client, token: str) -> Client:
    return Client(admin.app, {"Authorization": f"Bearer {token}"})


def service_account(admin: Client, name: str = "x") -> Client:
    """A client with a fresh token of ServiceAccount default/`name` (created)."""
    body = {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": name}}
    assert admin.post(SA_PATH, json=body).status_code == 201
    answer = admin.post(f"{SA_PATH}/{name}/token", json={"spec": {}})
    assert answer.status_code == 201, answer.text
    return as_token(admin, answer.json()["status"]["token"])


def bind_pod_reader(admin: Client, namespace: str = "default") -> None:
    role = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
            "metadata": {"name": "pod-reader"},
            "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["list"]}]}  # fmt: skip
    binding = {
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
        "metadata": {"name": "read-pods"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "pod-reader"},
        "subjects": [{"kind": "ServiceAccount", "name": "x", "namespace": "default"}],
    }  # fmt: skip
    for path, body in ((f"{RBAC}/namespaces/{namespace}/roles", role),
                       (f"{RBAC}/namespaces/{namespace}/rolebindings", binding)):  # fmt: skip
        answer = admin.post(path, json=body)
        assert answer.status_code == 201, answer.text


def test_a_service_account_may_do_nothing_until_bound(admin: Client) -> None:
    sa = service_account(admin)
    answer = sa.get("/api/v1/namespaces/default/pods")
    assert answer.status_code == 403
    assert answer.json()["message"] == (
        'pods is forbidden: User "system:serviceaccount:default:x" cannot list resource "pods" '
        'in API group "" in the namespace "default"'
    )
    assert answer.json()["details"] == {"kind": "pods"}
    assert answer.json()["reason"] == "Forbidden"


def test_a_role_binding_grants_its_namespace_only(admin: Client) -> None:
    sa = service_account(admin)
    bind_pod_reader(admin)
    assert sa.get("/api/v1/namespaces/default/pods").status_code == 200
    elsewhere = sa.get("/api/v1/namespaces/kube-system/pods")
    assert elsewhere.status_code == 403
    assert 'in the namespace "kube-system"' in elsewhere.json()["message"]
    named = sa.get("/api/v1/namespaces/default/pods/web")
    assert named.json()["message"].startswith('pods "web" is forbidden: User')


def test_every_authenticated_user_reads_discovery_and_version(admin: Client) -> None:
    sa = service_account(admin)
    for path in ("/api", "/api/v1", "/apis", "/apis/apps/v1", "/version", "/openapi/v3"):
        assert sa.get(path).status_code == 200, path
    metrics = sa.get("/metrics")
    assert metrics.status_code == 403
    assert metrics.json()["message"] == (
        'forbidden: User "system:serviceaccount:default:x" cannot get path "/metrics"'
    )


def test_a_token_stops_working_when_its_service_account_goes(admin: Client) -> None:
    sa = service_account(admin)
    assert sa.get("/api").status_code == 200
    assert admin.delete(f"{SA_PATH}/x").status_code == 200
    assert sa.get("/api").status_code == 401


def test_unknown_tokens_are_401(admin: Client) -> None:
    for token in ("nope", "a.b.c"):
        assert as_token(admin, token).get("/api").status_code == 401


def test_whoami(admin: Client) -> None:
    path = "/apis/authentication.k8s.io/v1/selfsubjectreviews"
    body = {"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"}
    me = admin.post(path, json=body).json()["status"]["userInfo"]
    assert me == {"username": "podwall-admin", "groups": ["system:masters", "system:authenticated"]}
    sa = service_account(admin).post(path, json=body).json()["status"]["userInfo"]
    assert sa["username"] == "system:serviceaccount:default:x"
    assert sa["groups"] == [
        "system:serviceaccounts", "system:serviceaccounts:default", "system:authenticated",
    ]  # fmt: skip
    assert sa["extra"]["authentication.kubernetes.io/credential-id"][0].startswith("JTI=")


def ssar(client: Client, **attrs: Any) -> dict[str, Any]:
    body = {"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
            "spec": {"resourceAttributes": attrs}}  # fmt: skip
    answer = client.post(SSAR, json=body)
    assert answer.status_code == 201, answer.text
    status: dict[str, Any] = answer.json()["status"]
    return status


def test_can_i(admin: Client) -> None:
    sa = service_account(admin)
    assert ssar(admin, verb="delete", resource="nodes")["allowed"] is True
    assert ssar(sa, verb="list", resource="pods", namespace="default") == {"allowed": False}
    bind_pod_reader(admin)
    assert ssar(sa, verb="list", resource="pods", namespace="default")["allowed"] is True


def test_a_subject_access_review_with_a_null_extra_value_is_answered(admin: Client) -> None:
    """Go decodes a null ExtraValue as an empty one (found by the typecheck fuzz test)."""
    body = {"apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview",
            "spec": {"user": "x", "extra": {"k": None},
                     "nonResourceAttributes": {"verb": "get", "path": "/x"}}}  # fmt: skip
    answer = admin.post("/apis/authorization.k8s.io/v1/subjectaccessreviews", json=body)
    assert answer.status_code == 201, answer.text


def test_impersonation_is_for_those_allowed_to(admin: Client) -> None:
    user = "system:serviceaccount:default:x"
    service_account(admin)
    bind_pod_reader(admin)
    headers = {"Impersonate-User": user}
    assert admin.get("/api/v1/namespaces/default/pods", headers=headers).status_code == 200
    denied = admin.get("/api/v1/namespaces/kube-system/pods", headers=headers)
    assert denied.json()["message"].startswith(f'pods is forbidden: User "{user}" cannot list')
    sa = service_account(admin, "y")
    refused = sa.get("/api", headers={"Impersonate-User": "alice"})
    assert refused.status_code == 403
    assert refused.json()["message"] == (
        'users "alice" is forbidden: User "system:serviceaccount:default:y" cannot impersonate '
        'resource "users" in API group "" at the cluster scope'
    )
    as_group = admin.get(
        "/api/v1/nodes", headers={"Impersonate-User": "bob", "Impersonate-Group": "system:masters"}
    )
    assert as_group.status_code == 200


def test_rules_review_lists_what_a_user_may_do(admin: Client) -> None:
    sa = service_account(admin)
    bind_pod_reader(admin)
    path = "/apis/authorization.k8s.io/v1/selfsubjectrulesreviews"
    body = {"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectRulesReview",
            "spec": {"namespace": "default"}}  # fmt: skip
    status = sa.post(path, json=body).json()["status"]
    assert {"verbs": ["list"], "apiGroups": [""], "resources": ["pods"]} in status["resourceRules"]
    assert any("/version" in r["nonResourceURLs"] for r in status["nonResourceRules"])
    assert status["incomplete"] is False


def test_nodes_are_nodes(admin: Client) -> None:
    node = as_token(admin, NODE_TOKEN)
    assert node.get("/apis/networking.k8s.io/v1/networkpolicies").status_code == 200
    assert node.get("/api/v1/pods?fieldSelector=spec.nodeName%3Dn1").status_code == 200
    denied = node.delete("/api/v1/namespaces/default")
    assert denied.status_code == 403
    assert 'User "system:node:n1" cannot delete resource "namespaces"' in denied.json()["message"]


def test_a_node_reads_endpointslices_and_asks_its_pods_tokens(admin: Client) -> None:
    """What `podwall up`'s nodes do as kubelet and kube-proxy, and no more."""
    node = as_token(admin, NODE_TOKEN)
    assert node.get("/apis/discovery.k8s.io/v1/endpointslices").status_code == 200
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web"},
           "spec": {"containers": [{"name": "c", "image": "alpine"}]}}  # fmt: skip
    created = admin.post("/api/v1/namespaces/default/pods", json=pod).json()
    service_account(admin, "default")
    ref = {"kind": "Pod", "apiVersion": "v1", "name": "web", "uid": created["metadata"]["uid"]}
    answer = node.post(f"{SA_PATH}/default/token", json={"spec": {"boundObjectRef": ref}})
    assert answer.status_code == 201, answer.text


def test_token_request_refuses_short_lives_and_missing_accounts(admin: Client) -> None:
    short = admin.post(f"{SA_PATH}/default/token", json={"spec": {"expirationSeconds": 60}})
    missing = admin.post(f"{SA_PATH}/ghost/token", json={"spec": {}})
    assert missing.status_code == 404
    assert missing.json()["message"] == 'serviceaccounts "ghost" not found'
    service_account(admin, "default")
    short = admin.post(f"{SA_PATH}/default/token", json={"spec": {"expirationSeconds": 60}})
    assert short.status_code == 422
    assert (
        "spec.expirationSeconds: Invalid value: 60: may not specify a duration less than 10 "
        "minutes" in short.json()["message"]
    )


def test_a_binding_keeps_its_role_ref(admin: Client) -> None:
    bind_pod_reader(admin)
    path = f"{RBAC}/namespaces/default/rolebindings/read-pods"
    patch = [{"op": "replace", "path": "/roleRef/name", "value": "admin"}]
    answer = admin.patch(path, json=patch,
                         headers={"Content-Type": "application/json-patch+json"})  # fmt: skip
    assert answer.status_code == 422
    assert answer.json()["message"].endswith(
        'roleRef: Invalid value: rbac.RoleRef{APIGroup:"rbac.authorization.k8s.io", '
        'Kind:"Role", Name:"admin"}: cannot change roleRef'
    )


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"kind": "Role", "rules": [{"apiGroups": [""], "resources": ["pods"]}]},
         "rules[0].verbs: Required value: verbs must contain at least one value"),
        ({"kind": "Role", "rules": [{"verbs": ["get"], "nonResourceURLs": ["/x"]}]},
         'rules[0].nonResourceURLs: Invalid value: []string{"/x"}: namespaced rules cannot '
         "apply to non-resource URLs"),
        ({"kind": "RoleBinding", "roleRef": {"apiGroup": "rbac.authorization.k8s.io",
                                             "kind": "Secret", "name": "r"}},
         'roleRef.kind: Unsupported value: "Secret": supported values: "Role", "ClusterRole"'),
        ({"kind": "RoleBinding", "roleRef": {"apiGroup": "rbac.authorization.k8s.io",
                                             "kind": "Role", "name": "r"},
          "subjects": [{"kind": "Robot", "name": "r2"}]},
         'subjects[0].kind: Unsupported value: "Robot": supported values: "ServiceAccount", '
         '"User", "Group"'),
    ],
)  # fmt: skip
def test_rbac_objects_are_validated(admin: Client, body: dict[str, Any], message: str) -> None:
    plural = "roles" if body["kind"] == "Role" else "rolebindings"
    body = {"apiVersion": "rbac.authorization.k8s.io/v1", "metadata": {"name": "a:b"}, **body}
    answer = admin.post(f"{RBAC}/namespaces/default/{plural}", json=body)
    assert answer.status_code == 422
    assert message in answer.json()["message"]


def test_dry_run_stores_nothing(admin: Client) -> None:
    body = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
            "metadata": {"name": "dry"}, "rules": []}  # fmt: skip
    assert admin.post(f"{RBAC}/clusterroles?dryRun=All", json=body).status_code == 201
    assert admin.get(f"{RBAC}/clusterroles/dry").status_code == 404


def namespace_admin(admin: Client) -> Client:
    """ServiceAccount default/x, bound to the `admin` ClusterRole in namespace `team`."""
    sa = service_account(admin)
    team = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team"}}
    assert admin.post("/api/v1/namespaces", json=team).status_code == 201
    binding = {
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
        "metadata": {"name": "x-admin"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                    "name": "admin"},
        "subjects": [{"kind": "ServiceAccount", "name": "x", "namespace": "default"}],
    }  # fmt: skip
    assert admin.post(f"{RBAC}/namespaces/team/rolebindings", json=binding).status_code == 201
    return sa


def role(name: str, resources: list[str], verbs: list[str]) -> dict[str, Any]:
    return {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
            "metadata": {"name": name},
            "rules": [{"apiGroups": [""], "resources": resources, "verbs": verbs}]}  # fmt: skip


def role_binding(name: str, kind: str, role: str) -> dict[str, Any]:
    return {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
            "metadata": {"name": name},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": kind, "name": role},
            "subjects": [{"kind": "User", "name": "bob"}]}  # fmt: skip


def test_no_one_grants_what_they_do_not_hold(admin: Client) -> None:
    sa = namespace_admin(admin)
    roles, bindings = f"{RBAC}/namespaces/team/roles", f"{RBAC}/namespaces/team/rolebindings"
    assert sa.post(roles, json=role("readers", ["pods"], ["get", "list"])).status_code == 201
    # The namespace's admin role holds no Nodes (cluster-scoped): a Role naming them escalates.
    refused = sa.post(roles, json=role("nodes", ["nodes"], ["get"]))
    assert refused.status_code == 403
    assert refused.json()["message"] == (
        'roles.rbac.authorization.k8s.io "nodes" is forbidden: user '
        '"system:serviceaccount:default:x" (groups=["system:serviceaccounts" '
        '"system:serviceaccounts:default" "system:authenticated"]) is attempting to grant RBAC '
        'permissions not currently held:\n{APIGroups:[""], Resources:["nodes"], Verbs:["get"]}'
    )
    assert sa.post(bindings, json=role_binding("v", "ClusterRole", "view")).status_code == 201
    assert sa.post(bindings, json=role_binding("r", "Role", "readers")).status_code == 201
    cluster_admin = sa.post(bindings, json=role_binding("ca", "ClusterRole", "cluster-admin"))
    assert cluster_admin.status_code == 403
    assert "is attempting to grant RBAC permissions not currently held" in cluster_admin.text
    assert admin.get(f"{bindings}/ca").status_code == 404
    # The admin holds everything: anything goes.
    assert (
        admin.post(bindings, json=role_binding("ca", "ClusterRole", "cluster-admin")).status_code
        == 201
    )


@pytest.mark.parametrize(
    ("kind", "path", "verbs"),
    [
        ("websocket", "/api/v1/namespaces/d/pods/w/exec", ["get", "create"]),
        ("websocket", "/api/v1/namespaces/d/pods/w/portforward", ["get", "create"]),
        ("http", "/api/v1/namespaces/d/pods/w/log", ["get"]),
    ],
)
def test_a_websocket_to_a_pod_stream_needs_create_as_well(
    kind: str, path: str, verbs: list[str]
) -> None:
    scope = {"type": kind, "method": "GET", "path": path, "query_string": b"command=sh"}
    assert [a.verb for a in attributes_of(scope)] == verbs


@pytest.mark.parametrize(
    ("authorization", "path", "status"),
    [
        (None, "/version", 200),
        (None, "/healthz", 200),
        (None, "/api", 403),
        (None, "/api/v1/pods", 403),
        ("Basic dXNlcjpwYXNz", "/version", 200),
        ("Bearer ", "/version", 200),
        ("Bearer nope", "/version", 401),
        ("Bearer nope", "/healthz", 401),
        ("Bearer a.b.c", "/api/v1/pods", 401),
    ],
    ids=[
        "no header reads the version",
        "no header reads health",
        "no header no discovery",
        "no header no pods",
        "another scheme is anonymous",
        "an empty bearer token is anonymous",
        "a wrong token is 401 even for the version",
        "a wrong token is 401 even for health",
        "a bad jwt is 401",
    ],
)
def test_anonymous_requests_are_judged_by_rbac_and_bad_tokens_are_401(
    admin: Client, authorization: str | None, path: str, status: int
) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    assert Client(admin.app, headers).get(path).status_code == status


def test_anonymous_is_forbidden_in_kube_apiservers_words(admin: Client) -> None:
    body = Client(admin.app, {}).get("/api/v1/pods").json()
    assert (body["reason"], body["code"]) == ("Forbidden", 403)
    assert body["message"] == (
        'pods is forbidden: User "system:anonymous" cannot list resource "pods" in API group "" '
        "at the cluster scope"
    )
    whoami = Client(admin.app, {}).post(
        "/apis/authentication.k8s.io/v1/selfsubjectreviews",
        json={"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"},
    )
    assert whoami.status_code == 403  # system:basic-user is for the authenticated only


@pytest.mark.parametrize("version", ["v1", "v1beta1"])
def test_self_subject_review_in_each_served_version(admin: Client, version: str) -> None:
    answer = admin.post(
        f"/apis/authentication.k8s.io/{version}/selfsubjectreviews",
        json={"apiVersion": f"authentication.k8s.io/{version}", "kind": "SelfSubjectReview"},
    )
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert body["apiVersion"] == f"authentication.k8s.io/{version}"
    assert body["status"]["userInfo"]["username"] == "podwall-admin"


def test_an_aggregation_rule_needs_cluster_admin_privileges(admin: Client) -> None:
    roles, bindings = f"{RBAC}/clusterroles", f"{RBAC}/clusterrolebindings"
    writer = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
              "metadata": {"name": "role-writer"},
              "rules": [{"apiGroups": ["rbac.authorization.k8s.io"], "resources": ["clusterroles"],
                         "verbs": ["create", "update", "get"]}]}  # fmt: skip
    binding = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
               "metadata": {"name": "role-writer"},
               "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                           "name": "role-writer"},
               "subjects": [{"kind": "ServiceAccount", "name": "x",
                             "namespace": "default"}]}  # fmt: skip
    assert admin.post(roles, json=writer).status_code == 201
    assert admin.post(bindings, json=binding).status_code == 201
    sa = service_account(admin)
    plain = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
             "metadata": {"name": "plain"}, "rules": []}  # fmt: skip
    assert sa.post(roles, json=plain).status_code == 201
    selectors = {"clusterRoleSelectors": [{"matchLabels": {"team": "a"}}]}
    refused = sa.post(roles, json={**plain, "metadata": {"name": "agg"},
                                   "aggregationRule": selectors})  # fmt: skip
    assert refused.status_code == 403
    assert refused.json()["message"] == (
        'clusterroles.rbac.authorization.k8s.io "agg" is forbidden: must have cluster-admin '
        "privileges to use the aggregationRule"
    )
    assert admin.post(roles, json={**plain, "metadata": {"name": "agg"},
                                   "aggregationRule": selectors}).status_code == 201  # fmt: skip


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ([], (b"", False)),
        ([(b"host", b"x")], (b"", False)),
        ([(b"authorization", b"Bearer a"), (b"Authorization", b"Bearer b")], (b"Bearer a", False)),
        ([(b"Authorization", b""), (b"authorization", b"Bearer b")], (b"", False)),
        ([(b"Impersonate-User", b"jane"), (b"authorization", b"Bearer a")], (b"Bearer a", True)),
        ([(b"impersonate-extra-scopes", b"view")], (b"", True)),
        ([(b"impersonate", b"jane")], (b"", False)),
    ],
)
def test_one_pass_over_the_headers_finds_the_first_authorization_and_any_impersonation(
    headers: list[tuple[bytes, bytes]], expected: tuple[bytes, bool]
) -> None:
    assert access._read_headers(headers) == expected
    given = next((v for k, v in headers if k.lower() == b"authorization"), b"")
    wants = any(k[:12].lower() == b"impersonate-" for k, _ in headers)
    assert (given, wants) == expected  # what the two scans it replaces found
