"""The HTTP API as kubectl sees it: auth, version, discovery, OpenAPI, CRUD, errors, watch."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.requests import ClientDisconnect

from podwall.apiserver import listoptions
from podwall.apiserver.app import _Request, create_app
from podwall.apiserver.bootstrap import bootstrap
from podwall.apiserver.reconciler import Reconciler
from podwall.apiserver.store import Store
from tests.unit.apiserver.asgi import Client

TOKEN = "test-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
TABLE = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"
AGGREGATED = (
    "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,"
    "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json"
)
NETPOLS = "/apis/networking.k8s.io/v1/namespaces/default/networkpolicies"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store(tmp_path / "state.db")
    bootstrap(s)
    yield s
    s.close()


@pytest.fixture
def client(store: Store) -> Client:
    return Client(create_app(store, TOKEN), AUTH)


def netpol(name: str, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": name},
        "spec": {"podSelector": {"matchLabels": {"app": "backend"}}, **spec},
    }


def deployment(name: str, replicas: int = 1) -> dict[str, Any]:
    labels = {"app": name}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "labels": labels},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [{"name": "c", "image": "busybox:1.36"}]},
            },
        },
    }


# Auth and the fixed endpoints.


def test_a_request_without_a_token_is_anonymous_and_judged_by_rbac(store: Store) -> None:
    anonymous = Client(create_app(store, TOKEN))
    response = anonymous.get("/api/v1/namespaces")
    assert response.status_code == 403
    assert response.json()["message"] == (
        'namespaces is forbidden: User "system:anonymous" cannot list resource "namespaces" '
        'in API group "" at the cluster scope'
    )
    assert anonymous.get("/version").status_code == 200
    assert anonymous.get("/api").status_code == 403  # system:discovery is for the authenticated


def test_a_token_that_is_not_accepted_is_401_with_a_status(store: Store) -> None:
    anonymous = Client(create_app(store, TOKEN))
    for path in ("/version", "/healthz", "/api/v1/namespaces"):
        wrong = anonymous.get(path, headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401, path
        assert wrong.json()["reason"] == "Unauthorized"


@pytest.mark.parametrize("path", ["/healthz", "/livez", "/readyz"])
def test_health_endpoints_answer_ok_without_a_token(store: Store, path: str) -> None:
    response = Client(create_app(store, TOKEN)).get(path)
    assert (response.status_code, response.text) == (200, "ok")


def test_version_reports_minor_32_so_the_dispatcher_runs_kubectl_1_32(client: Client) -> None:
    body = client.get("/version?timeout=5s").json()
    assert (body["major"], body["minor"]) == ("1", "32")


def test_an_unknown_path_is_a_404_status(client: Client) -> None:
    response = client.get("/apis/nosuch.group/v1/things")
    assert response.status_code == 404
    assert response.json()["kind"] == "Status"


# Discovery.


def test_legacy_discovery_documents(client: Client) -> None:
    assert client.get("/api").json()["versions"] == ["v1"]
    groups = client.get("/apis").json()
    assert [g["name"] for g in groups["groups"]] == [
        "apps",
        "batch",
        "networking.k8s.io",
        "discovery.k8s.io",
        "coordination.k8s.io",
        "rbac.authorization.k8s.io",
        "authentication.k8s.io",
        "authorization.k8s.io",
        "apiextensions.k8s.io",
        "policy.networking.k8s.io",
    ]
    resources = client.get("/apis/networking.k8s.io/v1").json()
    assert resources["kind"] == "APIResourceList"
    netpols = next(r for r in resources["resources"] if r["name"] == "networkpolicies")
    assert netpols["shortNames"] == ["netpol"]
    assert netpols["namespaced"] is True
    core = {r["name"]: r for r in client.get("/api/v1").json()["resources"]}
    assert core["pods"]["categories"] == ["all"]
    assert core["pods/exec"]["kind"] == "PodExecOptions"
    assert core["namespaces"]["namespaced"] is False
    scale = next(
        r
        for r in client.get("/apis/apps/v1").json()["resources"]
        if r["name"] == "deployments/scale"
    )
    assert (scale["group"], scale["version"], scale["kind"]) == ("autoscaling", "v1", "Scale")


def test_aggregated_discovery_is_served_when_asked_for(client: Client) -> None:
    response = client.get("/apis", headers={"Accept": AGGREGATED})
    assert response.headers["content-type"] == (
        "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
    )
    body = response.json()
    assert body["apiVersion"] == "apidiscovery.k8s.io/v2"
    apps = body["items"][0]
    assert apps["metadata"]["name"] == "apps"
    deploy = next(r for r in apps["versions"][0]["resources"] if r["resource"] == "deployments")
    assert deploy["categories"] == ["all"]
    assert {s["subresource"] for s in deploy["subresources"]} == {"scale", "status"}
    core = client.get("/api", headers={"Accept": AGGREGATED}).json()
    assert "name" not in core["items"][0]["metadata"]
    order = [r["resource"] for r in core["items"][0]["versions"][0]["resources"]]
    assert order.index("pods") < order.index("services")  # get all prints pods first


def test_kubectl_1_27_gets_the_v2beta1_discovery_it_asks_for(client: Client) -> None:
    accept = "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList"
    response = client.get("/api", headers={"Accept": accept + ",application/json"})
    assert "v=v2beta1" in response.headers["content-type"]
    assert response.json()["apiVersion"] == "apidiscovery.k8s.io/v2beta1"


# OpenAPI.


def test_openapi_v3_names_every_group_version_with_a_content_hash(client: Client) -> None:
    paths = client.get("/openapi/v3").json()["paths"]
    assert set(paths) == {
        "api/v1",
        "apis/apps/v1",
        "apis/batch/v1",
        "apis/networking.k8s.io/v1",
        "apis/discovery.k8s.io/v1",
        "apis/coordination.k8s.io/v1",
        "apis/rbac.authorization.k8s.io/v1",
        "apis/authentication.k8s.io/v1",
        "apis/authentication.k8s.io/v1beta1",
        "apis/authorization.k8s.io/v1",
        "apis/apiextensions.k8s.io/v1",
        "apis/policy.networking.k8s.io/v1alpha2",
        "apis/policy.networking.k8s.io/v1alpha1",
    }
    url = paths["apis/networking.k8s.io/v1"]["serverRelativeURL"]
    doc = client.get(url)
    assert url.endswith("hash=" + hashlib.sha256(doc.content).hexdigest().upper())
    patch = doc.json()["paths"][
        "/apis/networking.k8s.io/v1/namespaces/{namespace}/networkpolicies/{name}"
    ]["patch"]
    assert patch["x-kubernetes-group-version-kind"]["kind"] == "NetworkPolicy"
    assert "fieldValidation" in [p["name"] for p in patch["parameters"]]


def test_openapi_v3_covers_every_served_kind(client: Client) -> None:
    doc = client.get("/openapi/v3/api/v1").json()
    kinds = {
        op["x-kubernetes-group-version-kind"]["kind"]
        for item in doc["paths"].values()
        for op in item.values()
    }
    assert {"Pod", "Service", "Namespace", "Event", "Endpoints", "ConfigMap"} <= kinds


def test_openapi_v2_is_protobuf_for_kubectl_with_the_patch_operations(client: Client) -> None:
    accept = "application/com.github.proto-openapi.spec.v2@v1.0+protobuf"
    response = client.get("/openapi/v2", headers={"Accept": accept})
    assert response.status_code == 200
    assert response.headers["content-type"] == (
        "application/com.github.proto-openapi.spec.v2.v1.0+protobuf"
    )
    assert response.content.startswith(b"\x0a\x032.0")
    assert b"x-kubernetes-group-version-kind" in response.content
    assert b"fieldValidation" in response.content


def test_openapi_v2_json_has_the_definitions_and_answers_304_to_its_etag(client: Client) -> None:
    response = client.get("/openapi/v2", headers={"Accept": "application/json"})
    assert response.status_code == 200
    assert "io.k8s.api.networking.v1.NetworkPolicy" in response.json()["definitions"]
    etag = response.headers["etag"]
    again = client.get("/openapi/v2", headers={"Accept": "application/json", "If-None-Match": etag})
    assert (again.status_code, again.content) == (304, b"")
    assert client.get("/openapi/v2", headers={"Accept": "text/html"}).status_code == 406


# CRUD.


def test_create_get_list_update_delete_round_trip(client: Client) -> None:
    created = client.post(NETPOLS, json=netpol("deny"))
    assert created.status_code == 201
    body = created.json()
    assert (body["kind"], body["apiVersion"]) == ("NetworkPolicy", "networking.k8s.io/v1")
    assert body["metadata"]["namespace"] == "default"
    assert body["spec"]["policyTypes"] == ["Ingress"]  # defaulted as upstream does
    assert client.get(f"{NETPOLS}/deny").json() == body
    listed = client.get(NETPOLS).json()
    assert listed["kind"] == "NetworkPolicyList"
    assert [i["metadata"]["name"] for i in listed["items"]] == ["deny"]
    body["spec"]["policyTypes"] = ["Ingress", "Egress"]
    updated = client.put(f"{NETPOLS}/deny", json=body)
    assert updated.status_code == 200
    assert updated.json()["metadata"]["generation"] == 2
    deleted = client.request("DELETE", f"{NETPOLS}/deny", json={"propagationPolicy": "Background"})
    assert deleted.status_code == 200
    missing = client.get(f"{NETPOLS}/deny")
    assert missing.status_code == 404
    assert missing.json()["message"] == 'networkpolicies.networking.k8s.io "deny" not found'


def test_create_of_an_existing_object_is_409_already_exists(client: Client) -> None:
    client.post(NETPOLS, json=netpol("deny"))
    response = client.post(NETPOLS, json=netpol("deny"))
    assert response.status_code == 409
    assert response.json()["reason"] == "AlreadyExists"
    assert response.json()["details"] == {
        "name": "deny",
        "group": "networking.k8s.io",
        "kind": "networkpolicies",
    }


def test_update_with_a_stale_resource_version_is_409_conflict(client: Client) -> None:
    first = client.post(NETPOLS, json=netpol("deny")).json()
    second = dict(first, spec={**first["spec"], "policyTypes": ["Ingress", "Egress"]})
    assert client.put(f"{NETPOLS}/deny", json=second).status_code == 200
    response = client.put(f"{NETPOLS}/deny", json=first)
    assert response.status_code == 409
    assert response.json()["reason"] == "Conflict"
    assert "the object has been modified" in response.json()["message"]


def test_a_create_in_a_missing_namespace_is_not_found(client: Client) -> None:
    path = "/apis/networking.k8s.io/v1/namespaces/nope/networkpolicies"
    response = client.post(path, json=netpol("deny"))
    assert response.status_code == 404
    assert response.json()["message"] == 'namespaces "nope" not found'


def test_a_body_namespace_that_differs_from_the_url_is_bad_request(client: Client) -> None:
    body = netpol("deny")
    body["metadata"]["namespace"] = "kube-system"
    assert client.post(NETPOLS, json=body).status_code == 400


def test_dry_run_stores_nothing(client: Client) -> None:
    response = client.post(f"{NETPOLS}?dryRun=All", json=netpol("deny"))
    assert response.status_code == 201
    assert client.get(f"{NETPOLS}/deny").status_code == 404


def test_status_is_kept_on_a_put_of_the_main_resource(client: Client) -> None:
    path = "/apis/apps/v1/namespaces/default/deployments"
    created = client.post(path, json=deployment("web")).json()
    client.put(f"{path}/web/status", json={**created, "status": {"replicas": 3}})
    again = client.get(f"{path}/web").json()
    again["status"] = {"replicas": 99}
    assert client.put(f"{path}/web", json=again).json()["status"] == {"replicas": 3}


def test_deleting_an_owner_deletes_its_dependents_once_the_collector_runs(
    store: Store, client: Client
) -> None:
    collector = Reconciler(store, controllers=["garbagecollector"])
    collector.install()
    try:
        deploy = client.post(
            "/apis/apps/v1/namespaces/default/deployments", json=deployment("web")
        ).json()
        rs = deployment("web-abc")
        rs["kind"] = "ReplicaSet"
        rs["metadata"]["ownerReferences"] = [
            {
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "name": "web",
                "uid": deploy["metadata"]["uid"],
            }
        ]
        client.post("/apis/apps/v1/namespaces/default/replicasets", json=rs)
        client.delete("/apis/apps/v1/namespaces/default/deployments/web")
        assert collector.wait_idle()
        replicaset = client.get("/apis/apps/v1/namespaces/default/replicasets/web-abc")
        assert replicaset.status_code == 404
    finally:
        collector.remove()


def test_namespaces_get_their_name_label_and_phase(client: Client) -> None:
    created = client.post("/api/v1/namespaces", json={"metadata": {"name": "team-a"}}).json()
    assert created["metadata"]["labels"] == {"kubernetes.io/metadata.name": "team-a"}
    assert created["status"] == {"phase": "Active"}
    names = [n["metadata"]["name"] for n in client.get("/api/v1/namespaces").json()["items"]]
    assert names == ["default", "kube-node-lease", "kube-public", "kube-system", "team-a"]


def test_the_kubernetes_service_exists_from_the_start(client: Client) -> None:
    svc = client.get("/api/v1/namespaces/default/services/kubernetes").json()
    assert svc["spec"]["ports"][0]["port"] == 443


def test_a_deployment_whose_selector_misses_its_template_is_invalid(client: Client) -> None:
    body = deployment("web")
    body["spec"]["selector"] = {"matchLabels": {"app": "other"}}
    response = client.post("/apis/apps/v1/namespaces/default/deployments", json=body)
    assert response.status_code == 422
    assert response.json()["details"]["causes"][0]["field"] == "spec.template.metadata.labels"


def test_a_deployment_selector_with_an_unknown_operator_is_invalid_not_exists(
    client: Client,
) -> None:
    body = deployment("web")
    body["spec"]["selector"] = {"matchExpressions": [{"key": "app", "operator": "Exist"}]}
    response = client.post("/apis/apps/v1/namespaces/default/deployments", json=body)
    assert response.status_code == 422
    (cause,) = response.json()["details"]["causes"]
    assert (cause["field"], cause["message"].rsplit(": ", 1)[-1]) == (
        "spec.selector",
        "invalid label selector",
    )


# NetworkPolicy validation: the model's, one source of truth.


def test_an_invalid_network_policy_is_422_with_causes_and_nothing_is_stored(
    client: Client,
) -> None:
    bad = netpol(
        "bad",
        ingress=[{"from": [{"ipBlock": {"cidr": "10.0.0.0/24", "except": ["10.1.0.0/24"]}}]}],
    )
    response = client.post(NETPOLS, json=bad)
    assert response.status_code == 422
    status = response.json()
    assert status["reason"] == "Invalid"
    assert status["message"] == (
        'NetworkPolicy.networking.k8s.io "bad" is invalid: '
        'spec.ingress[0].from[0].ipBlock.except[0]: Invalid value: "10.1.0.0/24": '
        "must be a strict subset of `cidr`"
    )
    assert status["details"]["kind"] == "NetworkPolicy"
    assert status["details"]["causes"] == [
        {
            "reason": "FieldValueInvalid",
            "message": 'Invalid value: "10.1.0.0/24": must be a strict subset of `cidr`',
            "field": "spec.ingress[0].from[0].ipBlock.except[0]",
        }
    ]
    assert client.get(NETPOLS).json()["items"] == []


def test_several_errors_are_aggregated_in_brackets(client: Client) -> None:
    bad = netpol("Bad_Name", policyTypes=["Sideways"])
    status = client.post(NETPOLS, json=bad).json()
    assert status["message"].startswith('NetworkPolicy.networking.k8s.io "Bad_Name" is invalid: [')
    assert [c["field"] for c in status["details"]["causes"]] == [
        "metadata.name",
        "spec.policyTypes[0]",
    ]


def test_strict_field_validation_rejects_unknown_fields(client: Client) -> None:
    body = netpol("typo")
    body["spec"]["ingress"] = [{"form": []}]
    response = client.post(f"{NETPOLS}?fieldValidation=Strict", json=body)
    assert response.status_code == 400
    assert response.json()["message"] == (
        'NetworkPolicy in version "v1" cannot be handled as a NetworkPolicy: '
        'strict decoding error: unknown field "spec.ingress[0].form"'
    )
    assert client.get(NETPOLS).json()["items"] == []


def test_warn_field_validation_drops_the_field_with_a_warning(client: Client) -> None:
    body = netpol("typo")
    body["spec"]["podSelecter"] = {}
    response = client.post(f"{NETPOLS}?fieldValidation=Warn", json=body)
    assert response.status_code == 201
    assert response.headers["warning"] == '299 - "unknown field \\"spec.podSelecter\\""'
    assert "podSelecter" not in response.json()["spec"]


# Selectors and sorting.


def test_label_and_field_selectors_filter_lists(client: Client) -> None:
    for name, tier in [("b", "web"), ("a", "db"), ("c", "web")]:
        body = netpol(name)
        body["metadata"]["labels"] = {"tier": tier}
        client.post(NETPOLS, json=body)

    def names(query: str) -> list[str]:
        return [i["metadata"]["name"] for i in client.get(f"{NETPOLS}?{query}").json()["items"]]

    assert names("limit=500") == ["a", "b", "c"]
    assert names("labelSelector=tier%3Dweb") == ["b", "c"]
    assert names("labelSelector=tier+notin+%28web%29") == ["a"]
    assert names("fieldSelector=metadata.name%3Dc") == ["c"]
    assert names("labelSelector=tier%3Dweb&fieldSelector=metadata.name!%3Db") == ["c"]


def test_an_unsupported_field_selector_is_bad_request(client: Client) -> None:
    response = client.get(f"{NETPOLS}?fieldSelector=spec.podSelector%3Dx")
    assert response.status_code == 400
    assert response.json()["message"] == "field label not supported: spec.podSelector"


BAD_SELECTORS = [
    ("an operator labels.Parse does not know", "labelSelector=tier+is+web",
     "unable to parse requirement: found 'is', expected: in, notin, =, ==, !=, gt, lt"),
    ("a set without its parenthesis", "labelSelector=tier+in+web",
     "unable to parse requirement: found 'web' expected: '('"),
    ("a term missing after a comma", "labelSelector=tier%3Dweb%2C",
     "found '', expected: identifier after ','"),
    ("a label key that is not a qualified name", "labelSelector=-tier",
     'unable to parse requirement: <nil>: Invalid value: "-tier": name part must consist of '
     "alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric "
     "character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is "
     "'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"),
    ("a field selector term without an operator", "fieldSelector=metadata.name",
     "invalid selector: 'metadata.name'; can't understand 'metadata.name'"),
    ("an unescaped comma in a field value is not possible, an unescaped = is refused",
     "fieldSelector=metadata.name%3Da%3Db",
     "invalid field selector: unescapedRune character in value: 61"),
    ("the label selector is read before the field selector",
     "labelSelector=!!a&fieldSelector=metadata.name",
     "unable to parse requirement: found '!', expected: identifier"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("query", "message"), [c[1:] for c in BAD_SELECTORS], ids=[c[0] for c in BAD_SELECTORS]
)
def test_a_bad_selector_is_bad_request_in_the_api_server_s_words(
    client: Client, query: str, message: str
) -> None:
    for url in (f"{NETPOLS}?{query}", f"{NETPOLS}?watch=true&timeoutSeconds=1&{query}"):
        response = client.get(url)
        assert response.status_code == 400
        body = response.json()
        assert (body["kind"], body["reason"], body["code"]) == ("Status", "BadRequest", 400)
        assert body["message"] == message


def test_cluster_wide_lists_cover_every_namespace(client: Client) -> None:
    client.post(NETPOLS, json=netpol("a"))
    client.post(
        "/apis/networking.k8s.io/v1/namespaces/kube-system/networkpolicies", json=netpol("b")
    )
    items = client.get("/apis/networking.k8s.io/v1/networkpolicies").json()["items"]
    assert [(i["metadata"]["namespace"], i["metadata"]["name"]) for i in items] == [
        ("default", "a"),
        ("kube-system", "b"),
    ]


# Chunked lists (kubectl sends limit=500) and resourceVersion semantics.


def _names(body: dict[str, Any]) -> list[str]:
    return [i["metadata"]["name"] for i in body["items"]]


def _create_netpols(client: Client, names: str) -> None:
    for name in names:
        assert client.post(NETPOLS, json=netpol(name)).status_code == 201


def test_a_list_comes_in_chunks_of_limit_at_one_resource_version(client: Client) -> None:
    _create_netpols(client, "edcba")
    first = client.get(f"{NETPOLS}?limit=2").json()
    assert _names(first) == ["a", "b"]
    rv, token = first["metadata"]["resourceVersion"], first["metadata"]["continue"]
    _create_netpols(client, "f")  # after the first chunk: not in this list
    client.delete(f"{NETPOLS}/e")
    names = _names(first)
    while token:
        page = client.get(f"{NETPOLS}?limit=2&continue={token}").json()
        assert page["metadata"]["resourceVersion"] == rv
        names += _names(page)
        token = page["metadata"].get("continue")
    assert names == ["a", "b", "c", "d", "e"]


def test_list_items_are_the_objects_as_stored(client: Client) -> None:
    _create_netpols(client, "a")
    (item,) = client.get(NETPOLS).json()["items"]
    assert item == client.get(f"{NETPOLS}/a").json()


def test_a_table_comes_in_chunks_too(client: Client) -> None:
    _create_netpols(client, "abc")
    first = client.get(f"{NETPOLS}?limit=2", headers={"Accept": TABLE}).json()
    assert [r["cells"][0] for r in first["rows"]] == ["a", "b"]
    token = first["metadata"]["continue"]
    rest = client.get(f"{NETPOLS}?limit=2&continue={token}", headers={"Accept": TABLE}).json()
    assert [r["cells"][0] for r in rest["rows"]] == ["c"]
    assert "continue" not in rest["metadata"]


def test_an_expired_continue_is_410_with_a_token_for_the_rest(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.db", history=2)
    bootstrap(store)
    try:
        client = Client(create_app(store, TOKEN), AUTH)
        _create_netpols(client, "abc")
        token = client.get(f"{NETPOLS}?limit=1").json()["metadata"]["continue"]
        _create_netpols(client, "xyz")  # the history of netpols no longer reaches back
        response = client.get(f"{NETPOLS}?limit=1&continue={token}")
        assert response.status_code == 410
        status = response.json()
        assert status["reason"] == "Expired"
        assert status["message"].startswith(
            "The provided continue parameter is too old to display a consistent list result."
        )
        rest = client.get(f"{NETPOLS}?continue={status['metadata']['continue']}").json()
        assert _names(rest) == ["b", "c", "x", "y", "z"]  # inconsistent, as announced
    finally:
        store.close()


def test_continue_with_a_resource_version_is_bad_request(client: Client) -> None:
    _create_netpols(client, "ab")
    token = client.get(f"{NETPOLS}?limit=1").json()["metadata"]["continue"]
    response = client.get(f"{NETPOLS}?limit=1&continue={token}&resourceVersion=5")
    assert response.status_code == 400
    assert response.json()["message"] == (
        "specifying resource version is not allowed when using continue"
    )


def test_an_exact_list_shows_the_past(client: Client) -> None:
    _create_netpols(client, "a")
    rv = client.get(NETPOLS).json()["metadata"]["resourceVersion"]
    _create_netpols(client, "b")
    past = client.get(f"{NETPOLS}?resourceVersion={rv}&resourceVersionMatch=Exact").json()
    assert _names(past) == ["a"]
    assert past["metadata"]["resourceVersion"] == rv
    latest = client.get(f"{NETPOLS}?resourceVersion={rv}&resourceVersionMatch=NotOlderThan")
    assert _names(latest.json()) == ["a", "b"]


def test_invalid_list_options_are_422(client: Client) -> None:
    response = client.get(f"{NETPOLS}?resourceVersionMatch=Exact")
    assert response.status_code == 422
    assert response.json()["message"] == (
        'ListOptions.meta.k8s.io "" is invalid: resourceVersionMatch: Forbidden: '
        "resourceVersionMatch is forbidden unless resourceVersion is provided"
    )


def test_a_resource_version_from_the_future_times_out(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(listoptions, "BLOCK_SECONDS", 0.05)
    response = client.get(f"{NETPOLS}?resourceVersion=999999")
    assert response.status_code == 504
    assert response.json()["message"].startswith("Timeout: Too large resource version: 999999")


# Tables.


def test_get_netpol_as_a_table_shows_the_pod_selector(client: Client) -> None:
    client.post(NETPOLS, json=netpol("backend-ingress-deny"))
    table = client.get(NETPOLS, headers={"Accept": TABLE}).json()
    assert table["kind"] == "Table"
    assert [c["name"] for c in table["columnDefinitions"]] == ["Name", "Pod-Selector", "Age"]
    (row,) = table["rows"]
    assert row["cells"][:2] == ["backend-ingress-deny", "app=backend"]
    assert row["object"]["kind"] == "PartialObjectMetadata"
    assert row["object"]["metadata"]["namespace"] == "default"
    assert table["metadata"]["resourceVersion"]


def test_a_single_get_as_a_table_is_one_row(client: Client) -> None:
    client.post(NETPOLS, json=netpol("deny"))
    table = client.get(f"{NETPOLS}/deny", headers={"Accept": TABLE}).json()
    assert len(table["rows"]) == 1


def test_include_object_puts_the_whole_object_in_the_row(client: Client) -> None:
    client.post(NETPOLS, json=netpol("deny"))
    table = client.get(f"{NETPOLS}?includeObject=Object", headers={"Accept": TABLE}).json()
    assert table["rows"][0]["object"]["kind"] == "NetworkPolicy"


def test_services_table(client: Client) -> None:
    table = client.get("/api/v1/namespaces/default/services", headers={"Accept": TABLE}).json()
    assert [c["name"] for c in table["columnDefinitions"] if c["priority"] == 0] == [
        "Name",
        "Type",
        "Cluster-IP",
        "External-IP",
        "Port(s)",
        "Age",
    ]
    assert table["rows"][0]["cells"][:5] == [
        "kubernetes",
        "ClusterIP",
        "198.19.0.1",
        "<none>",
        "443/TCP",
    ]


def test_deployments_table(client: Client) -> None:
    path = "/apis/apps/v1/namespaces/default/deployments"
    client.post(path, json=deployment("web", replicas=2))
    table = client.get(path, headers={"Accept": TABLE}).json()
    cells = table["rows"][0]["cells"]
    assert cells[:4] == ["web", "0/2", 0, 0]
    assert cells[5:] == ["c", "busybox:1.36", "app=web"]


# Watch.


def watch_lines(client: Client, url: str, accept: str = "application/json") -> list[Any]:
    return client.watch(url, accept)


def test_watch_with_a_resource_version_sends_only_later_changes(client: Client) -> None:
    first = client.post(NETPOLS, json=netpol("a")).json()
    client.post(NETPOLS, json=netpol("b"))
    rv = first["metadata"]["resourceVersion"]
    events = watch_lines(client, f"{NETPOLS}?watch=true&resourceVersion={rv}&timeoutSeconds=1")
    assert [(e["type"], e["object"]["metadata"]["name"]) for e in events] == [("ADDED", "b")]


def test_watch_without_a_resource_version_starts_with_what_exists(client: Client) -> None:
    client.post(NETPOLS, json=netpol("a"))
    events = watch_lines(client, f"{NETPOLS}?watch=1&timeoutSeconds=1")
    assert [(e["type"], e["object"]["metadata"]["name"]) for e in events] == [("ADDED", "a")]


def test_watch_filters_by_field_selector(client: Client) -> None:
    client.post(NETPOLS, json=netpol("a"))
    client.post(NETPOLS, json=netpol("b"))
    url = f"{NETPOLS}?watch=true&fieldSelector=metadata.name%3Db&timeoutSeconds=1"
    assert [e["object"]["metadata"]["name"] for e in watch_lines(client, url)] == ["b"]


def test_watch_as_table_sends_columns_once(client: Client) -> None:
    client.post(NETPOLS, json=netpol("a"))
    client.post(NETPOLS, json=netpol("b"))
    events = watch_lines(client, f"{NETPOLS}?watch=true&timeoutSeconds=1", TABLE)
    assert [e["object"]["kind"] for e in events] == ["Table", "Table"]
    assert events[0]["object"]["columnDefinitions"]
    assert events[1]["object"]["columnDefinitions"] == []
    assert events[1]["object"]["rows"][0]["cells"][0] == "b"


def test_a_watch_that_allows_bookmarks_gets_them(store: Store) -> None:
    client = Client(create_app(store, TOKEN, bookmark_seconds=0.05), AUTH)
    _create_netpols(client, "a")
    rv = store.resource_version
    url = f"{NETPOLS}?watch=true&allowWatchBookmarks=true&resourceVersion={rv}&timeoutSeconds=1"
    events = watch_lines(client, url)
    assert events, "no bookmark within a second"
    assert all(e["type"] == "BOOKMARK" for e in events)
    assert events[0]["object"] == {
        "kind": "NetworkPolicy",
        "apiVersion": "networking.k8s.io/v1",
        "metadata": {"resourceVersion": str(rv)},
    }
    assert len(events) == 1  # the next ones would carry the same RV: not sent


def test_a_watch_without_bookmarks_gets_none(store: Store) -> None:
    client = Client(create_app(store, TOKEN, bookmark_seconds=0.05), AUTH)
    url = f"{NETPOLS}?watch=true&resourceVersion={store.resource_version}&timeoutSeconds=0.3"
    assert watch_lines(client, url) == []


def test_send_initial_events_ends_with_an_annotated_bookmark(client: Client, store: Store) -> None:
    _create_netpols(client, "ab")
    rv = store.resource_version
    url = (
        f"{NETPOLS}?watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan"
        "&allowWatchBookmarks=true&timeoutSeconds=0.3"
    )
    events = watch_lines(client, url)
    assert [(e["type"], e["object"]["metadata"].get("name")) for e in events] == [
        ("ADDED", "a"),
        ("ADDED", "b"),
        ("BOOKMARK", None),
    ]
    assert events[2]["object"]["metadata"] == {
        "resourceVersion": str(rv),
        "annotations": {"k8s.io/initial-events-end": "true"},
    }


def test_a_watch_too_far_back_gets_an_expired_error_event(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.db", history=1)  # one change per resource is kept
    bootstrap(store)
    try:
        client = Client(create_app(store, TOKEN), AUTH)
        first = client.post(NETPOLS, json=netpol("a")).json()["metadata"]["resourceVersion"]
        client.post(NETPOLS, json=netpol("b"))
        events = watch_lines(client, f"{NETPOLS}?watch=true&resourceVersion={int(first) - 1}")
    finally:
        store.close()
    assert events[0]["type"] == "ERROR"
    assert events[0]["object"]["code"] == 410


def test_patch_with_an_unknown_content_type_is_415(client: Client) -> None:
    client.post(NETPOLS, json=netpol("a"))
    response = client.patch(f"{NETPOLS}/a", content=b"{}", headers={"Content-Type": "text/plain"})
    assert response.status_code == 415
    assert response.json()["reason"] == "UnsupportedMediaType"


def test_a_service_name_must_be_a_dns_1035_label(client: Client) -> None:
    body = {"metadata": {"name": "1st"}, "spec": {"ports": [{"port": 80}]}}
    status = client.post("/api/v1/namespaces/default/services", json=body).json()
    assert status["message"] == (
        'Service "1st" is invalid: metadata.name: Invalid value: "1st": a DNS-1035 label must '
        "consist of lower case alphanumeric characters or '-', start with an alphabetic "
        "character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', "
        "regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"
    )


def test_a_namespace_name_may_not_contain_dots(client: Client) -> None:
    status = client.post("/api/v1/namespaces", json={"metadata": {"name": "a.b"}}).json()
    assert status["details"]["causes"] == [
        {
            "reason": "FieldValueInvalid",
            "message": 'Invalid value: "a.b": must not contain dots',
            "field": "metadata.name",
        }
    ]


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        pytest.param("GET", "/api/v1/namespaces/default", 200, id="core-object"),
        pytest.param("GET", "/apis/apps/v1/namespaces/default/deployments", 200, id="group-list"),
        pytest.param("GET", "/api/v1/nosuchthings", 404, id="core-unknown-resource"),
        pytest.param("HEAD", "/api/v1/namespaces/default", 405, id="head-via-starlette"),
        pytest.param("OPTIONS", "/api/v1/namespaces", 405, id="other-method-via-starlette"),
        pytest.param("GET", "/api/v1", 200, id="resource-list-via-starlette"),
        pytest.param("GET", "/apis/apps/v1", 200, id="group-resource-list-via-starlette"),
    ],
)
def test_object_routes_answer_as_starlettes_would(
    client: Client, method: str, path: str, status: int
) -> None:
    # Object paths skip Starlette's router (app.ResourceRoutes); everything else takes it.
    assert client.request(method, path).status_code == status


RCS = "/api/v1/namespaces/default/replicationcontrollers"
FRONTEND_RC = {
    "apiVersion": "v1",
    "kind": "ReplicationController",
    "metadata": {"name": "frontend"},
    "spec": {
        "template": {
            "metadata": {"labels": {"role": "frontend", "app": "stars"}},
            "spec": {"containers": [{"name": "frontend", "image": "nginx:1.25"}]},
        }
    },
}


def test_a_replication_controller_is_served_with_its_scale(client: Client) -> None:
    core = {r["name"]: r for r in client.get("/api/v1").json()["resources"]}
    assert core["replicationcontrollers"]["shortNames"] == ["rc"]
    assert core["replicationcontrollers"]["categories"] == ["all"]
    assert core["replicationcontrollers/scale"]["kind"] == "Scale"
    names = list(core)
    assert names.index("pods") < names.index("replicationcontrollers") < names.index("services")
    created = client.post(RCS, json=FRONTEND_RC)
    assert created.status_code == 201, created.text
    assert created.json()["spec"]["selector"] == {"app": "stars", "role": "frontend"}
    scale = client.get(f"{RCS}/frontend/scale").json()
    assert scale["spec"] == {"replicas": 1}
    assert scale["status"] == {"replicas": 0, "selector": "app=stars,role=frontend"}
    patched = client.patch(
        f"{RCS}/frontend/scale",
        json={"spec": {"replicas": 3}},
        headers={"Content-Type": "application/merge-patch+json"},
    )
    assert patched.json()["spec"] == {"replicas": 3}
    assert client.get(f"{RCS}/frontend").json()["spec"]["replicas"] == 3


@pytest.mark.parametrize(
    ("chunks", "body"),
    [
        pytest.param([(b"{}", False)], b"{}", id="one-message"),
        pytest.param([(b'{"a":', True), (b"", True), (b"1}", False)], b'{"a":1}', id="three"),
        pytest.param([(b"", False)], b"", id="empty"),
    ],
)
def test_a_request_body_is_its_messages_joined_and_read_once(
    chunks: list[tuple[bytes, bool]], body: bytes
) -> None:
    messages = iter({"type": "http.request", "body": b, "more_body": m} for b, m in chunks)

    async def receive() -> dict[str, Any]:
        return next(messages)

    async def read() -> tuple[bytes, bytes]:
        request = _Request({"type": "http", "method": "POST", "headers": []}, receive)
        return await request.body(), await request.body()

    assert asyncio.run(read()) == (body, body)


def test_a_client_gone_before_its_body_is_a_client_disconnect() -> None:
    async def receive() -> dict[str, Any]:
        return {"type": "http.disconnect"}

    async def read() -> bytes:
        return await _Request({"type": "http", "method": "POST", "headers": []}, receive).body()

    with pytest.raises(ClientDisconnect):
        asyncio.run(read())
