"""ClusterNetworkPolicy served as a cluster with its CRD installed serves it: discovery, OpenAPI,
printer columns, validation on create and update, patch types, the status subresource."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from podwall.apiserver import crds
from podwall.apiserver.app import create_app
from podwall.apiserver.bootstrap import bootstrap
from podwall.apiserver.resources import by_key
from podwall.apiserver.store import Store
from tests.unit.apiserver.asgi import Client

TOKEN = "test-token"
GROUP = "policy.networking.k8s.io"
CNPS = f"/apis/{GROUP}/v1alpha2/clusternetworkpolicies"
TABLE = "application/json;as=Table;v=v1;g=meta.k8s.io"
AGGREGATED = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
FIXTURE = (
    Path(__file__).parents[2]
    / "fixtures"
    / "cnp"
    / "policy.networking.k8s.io_clusternetworkpolicies.yaml"
)
PACKAGED = (
    Path(crds.__file__).parent / "crds" / "policy.networking.k8s.io_clusternetworkpolicies.yaml"
)


@pytest.fixture
def client(tmp_path: Path) -> Iterator[Client]:
    s = Store(tmp_path / "state.db")
    bootstrap(s)
    yield Client(create_app(s, TOKEN), {"Authorization": f"Bearer {TOKEN}"})
    s.close()


def cnp(name: str, **spec: Any) -> dict[str, Any]:
    body = {
        "tier": "Admin",
        "priority": 10,
        "subject": {"namespaces": {}},
        "ingress": [{"name": "deny-all", "action": "Deny", "from": [{"namespaces": {}}]}],
    }
    return {
        "apiVersion": f"{GROUP}/v1alpha2",
        "kind": "ClusterNetworkPolicy",
        "metadata": {"name": name},
        "spec": {**body, **spec},
    }


# The CRD itself.


def test_the_packaged_crd_is_upstreams_file() -> None:
    assert PACKAGED.read_bytes() == FIXTURE.read_bytes()


def test_the_resource_table_entry_is_what_the_crd_names() -> None:
    crd = crds.definition(crds.CLUSTER_NETWORK_POLICIES)
    names, resource = crd["spec"]["names"], by_key(crds.CLUSTER_NETWORK_POLICIES)
    assert (resource.group, resource.version) == (crd["spec"]["group"], "v1alpha2")
    assert (resource.name, resource.singular, resource.kind) == (
        names["plural"], names["singular"], names["kind"]
    )  # fmt: skip
    assert resource.short_names == tuple(names.get("shortNames", ()))
    assert resource.namespaced is (crd["spec"]["scope"] == "Namespaced")
    (version,) = crd["spec"]["versions"]
    assert (resource.subresource("status") is not None) is ("status" in version["subresources"])


# Discovery and OpenAPI.


def test_legacy_discovery_lists_the_group_and_its_resources(client: Client) -> None:
    group = client.get(f"/apis/{GROUP}").json()
    assert group["preferredVersion"] == {"groupVersion": f"{GROUP}/v1alpha2", "version": "v1alpha2"}
    listed = {r["name"]: r for r in client.get(f"/apis/{GROUP}/v1alpha2").json()["resources"]}
    assert listed["clusternetworkpolicies"]["namespaced"] is False
    assert listed["clusternetworkpolicies"]["shortNames"] == ["cnp"]
    assert listed["clusternetworkpolicies/status"]["verbs"] == ["get", "patch", "update"]


def test_aggregated_discovery_has_a_cluster_scoped_resource(client: Client) -> None:
    items = client.get("/apis", headers={"Accept": AGGREGATED}).json()["items"]
    (group,) = [g for g in items if g["metadata"]["name"] == GROUP]
    (entry,) = group["versions"][0]["resources"]
    assert entry["scope"] == "Cluster"
    assert entry["responseKind"] == {
        "group": GROUP,
        "version": "v1alpha2",
        "kind": "ClusterNetworkPolicy",
    }
    assert [s["subresource"] for s in entry["subresources"]] == ["status"]


def test_openapi_v3_carries_the_crd_schema_for_explain(client: Client) -> None:
    url = client.get("/openapi/v3").json()["paths"][f"apis/{GROUP}/v1alpha2"]["serverRelativeURL"]
    components = client.get(url).json()["components"]["schemas"]
    schema = components["io.k8s.networking.policy.v1alpha2.ClusterNetworkPolicy"]
    assert schema["x-kubernetes-group-version-kind"] == [
        {"group": GROUP, "kind": "ClusterNetworkPolicy", "version": "v1alpha2"}
    ]
    assert schema["properties"]["spec"]["description"].startswith("Spec defines")
    assert schema["properties"]["spec"]["properties"]["tier"]["enum"] == ["Admin", "Baseline"]
    meta_ref = schema["properties"]["metadata"]["allOf"][0]["$ref"]
    assert meta_ref.rpartition("/")[2] in components  # ObjectMeta comes along for explain
    listed = components["io.k8s.networking.policy.v1alpha2.ClusterNetworkPolicyList"]
    assert listed["properties"]["items"]["items"]["$ref"].endswith(".ClusterNetworkPolicy")


# Tables.


def test_get_as_a_table_has_upstreams_printer_columns(client: Client) -> None:
    client.post(CNPS, json=cnp("a"))
    client.post(CNPS, json=cnp("b", tier="Baseline", priority=0))
    table = client.get(CNPS, headers={"Accept": TABLE}).json()
    columns = [(c["name"], c["type"]) for c in table["columnDefinitions"]]
    assert columns == [
        ("Name", "string"),
        ("Tier", "string"),
        ("Priority", "string"),
        ("Age", "date"),
    ]
    rows = [r["cells"][:3] for r in table["rows"]]
    assert rows == [["a", "Admin", "10"], ["b", "Baseline", "0"]]


# Writes.


def test_create_drops_the_namespace_and_the_status(client: Client) -> None:
    body = cnp("a")
    body["metadata"]["namespace"] = "default"
    body["status"] = {"conditions": []}
    created = client.post(CNPS, json=body)
    assert created.status_code == 201, created.text
    assert "namespace" not in created.json()["metadata"]
    assert "status" not in created.json()
    assert client.get(f"{CNPS}/a").json()["spec"] == cnp("a")["spec"]


@pytest.mark.parametrize(
    ("spec", "causes"),
    [
        ({"priority": 1001}, [("spec.priority", "should be less than or equal to 1000")]),
        ({"tier": "Middle"}, [("spec.tier", 'supported values: "Admin", "Baseline"')]),
        ({"subject": {}}, [("spec.subject", "should have at least 1 properties")]),
        (
            {"egress": [{"action": "Accept", "to": [{"networks": ["10.0.0.0/33"]}]}]},
            [("spec.egress[0].to[0].networks[0]", "Invalid CIDR format provided")],
        ),
        (
            {"ingress": [{"action": "Allow", "from": [{"namespaces": {}}]}]},
            [("spec.ingress[0].action", 'supported values: "Accept", "Deny", "Pass"')],
        ),
    ],
    ids=["priority above 1000", "unknown tier", "empty subject", "bad CIDR (CEL)", "bad action"],
)
def test_an_invalid_policy_is_422_with_the_field_path(
    client: Client, spec: dict[str, Any], causes: list[tuple[str, str]]
) -> None:
    answer = client.post(CNPS, json=cnp("bad", **spec))
    assert answer.status_code == 422
    body = answer.json()
    assert body["reason"] == "Invalid"
    assert body["message"].startswith(f'ClusterNetworkPolicy.{GROUP} "bad" is invalid: ')
    found = [(c["field"], c["message"]) for c in body["details"]["causes"]]
    for field, words in causes:
        assert any(f == field and words in m for f, m in found), (field, found)
    assert client.get(f"{CNPS}/bad").status_code == 404


def test_strict_field_validation_refuses_an_unknown_field(client: Client) -> None:
    body = cnp("a", priorty=3)
    answer = client.post(f"{CNPS}?fieldValidation=Strict", json=body)
    assert answer.status_code == 400
    assert answer.json()["message"] == (
        'ClusterNetworkPolicy in version "v1alpha2" cannot be handled as a ClusterNetworkPolicy: '
        'strict decoding error: unknown field "spec.priorty"'
    )


def test_warn_field_validation_prunes_the_field_with_a_warning(client: Client) -> None:
    body = cnp("a")
    body["spec"]["ingress"][0]["form"] = [{"pods": {}}]
    answer = client.post(CNPS, json=body)
    assert answer.status_code == 201
    assert answer.headers["warning"] == '299 - "unknown field \\"spec.ingress[0].form\\""'
    assert "form" not in answer.json()["spec"]["ingress"][0]


@pytest.mark.parametrize(
    ("content_type", "patch", "code", "priority"),
    [
        ("application/merge-patch+json", {"spec": {"priority": 5}}, 200, 5),
        (
            "application/json-patch+json",
            [{"op": "replace", "path": "/spec/priority", "value": 7}],
            200,
            7,
        ),
        ("application/merge-patch+json", {"spec": {"priority": -1}}, 422, 10),
        ("application/strategic-merge-patch+json", {"spec": {"priority": 5}}, 415, 10),
    ],
    ids=["merge", "json", "invalid update", "strategic merge is not for CRDs"],
)
def test_patch(client: Client, content_type: str, patch: Any, code: int, priority: int) -> None:
    client.post(CNPS, json=cnp("a"))
    answer = client.patch(
        f"{CNPS}/a", content=json.dumps(patch), headers={"Content-Type": content_type}
    )
    assert answer.status_code == code, answer.text
    assert client.get(f"{CNPS}/a").json()["spec"]["priority"] == priority


def test_strategic_merge_patch_is_415_before_the_object_is_looked_up(client: Client) -> None:
    answer = client.patch(
        f"{CNPS}/missing", content="{}",
        headers={"Content-Type": "application/strategic-merge-patch+json"},
    )  # fmt: skip
    assert answer.status_code == 415
    assert answer.json()["message"] == (
        "the body of the request was in an unknown format - accepted media types include: "
        "application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml"
    )


def test_server_side_apply_creates_then_updates(client: Client) -> None:
    url = f"{CNPS}/a?fieldManager=kubectl"
    headers = {"Content-Type": "application/apply-patch+yaml"}
    assert client.patch(url, content=json.dumps(cnp("a")), headers=headers).status_code == 201
    changed = client.patch(url, content=json.dumps(cnp("a", priority=3)), headers=headers)
    assert changed.status_code == 200
    assert changed.json()["spec"]["priority"] == 3
    assert changed.json()["metadata"]["generation"] == 2


def test_the_status_subresource_writes_status_only(client: Client) -> None:
    client.post(CNPS, json=cnp("a"))
    condition = {
        "type": "Ready", "status": "True", "reason": "Enforced", "message": "",
        "lastTransitionTime": "2026-01-01T00:00:00Z",
    }  # fmt: skip
    current = client.get(f"{CNPS}/a").json()
    sent = {**current, "spec": {**current["spec"], "priority": 99}}
    sent["status"] = {"conditions": [condition]}
    written = client.put(f"{CNPS}/a/status", json=sent).json()
    assert (written["spec"]["priority"], written["status"]["conditions"]) == (10, [condition])
    again = client.put(f"{CNPS}/a", json={**written, "status": {}}).json()
    assert again["status"]["conditions"] == [condition]


def test_watch_and_delete(client: Client) -> None:
    rv = client.get(CNPS).json()["metadata"]["resourceVersion"]
    client.post(CNPS, json=cnp("a"))
    assert client.delete(f"{CNPS}/a").status_code == 200
    events = client.watch(f"{CNPS}?watch=true&resourceVersion={rv}&timeoutSeconds=1")
    assert [(e["type"], e["object"]["metadata"]["name"]) for e in events] == [
        ("ADDED", "a"),
        ("DELETED", "a"),
    ]
    assert client.get(f"{CNPS}/a").status_code == 404


# The CustomResourceDefinition itself, read-only.

CRDS_URL = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"


def test_the_crd_is_listed_established_and_read_only(client: Client) -> None:
    listed = client.get(CRDS_URL).json()["items"]
    assert sorted(c["metadata"]["name"] for c in listed) == sorted(crds.resource_keys())
    (crd,) = [c for c in listed if c["metadata"]["name"] == crds.CLUSTER_NETWORK_POLICIES]
    assert crd["spec"] == crds.definition(crds.CLUSTER_NETWORK_POLICIES)["spec"]
    conditions = {c["type"]: c["status"] for c in crd["status"]["conditions"]}
    assert conditions == {"NamesAccepted": "True", "Established": "True"}
    assert crd["status"]["acceptedNames"]["shortNames"] == ["cnp"]
    table = client.get(CRDS_URL, headers={"Accept": TABLE}).json()
    assert [c["name"] for c in table["columnDefinitions"]] == ["Name", "Created At"]
    assert [
        crds.CLUSTER_NETWORK_POLICIES,
        crd["metadata"]["creationTimestamp"],
    ] in [r["cells"] for r in table["rows"]]


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("POST", CRDS_URL),
        ("PUT", f"{CRDS_URL}/{crds.CLUSTER_NETWORK_POLICIES}"),
        ("PATCH", f"{CRDS_URL}/{crds.CLUSTER_NETWORK_POLICIES}"),
        ("DELETE", f"{CRDS_URL}/{crds.CLUSTER_NETWORK_POLICIES}"),
        ("DELETE", CRDS_URL),
        ("DELETE", "/api/v1/namespaces"),
    ],
    ids=["create", "update", "patch", "delete", "deletecollection", "namespaces deletecollection"],
)
def test_a_verb_the_resource_does_not_list_is_405(client: Client, method: str, url: str) -> None:
    headers = {"Content-Type": "application/merge-patch+json"}
    answer = client.request(method, url, content="{}", headers=headers)
    assert answer.status_code == 405
    assert answer.json()["reason"] == "MethodNotAllowed"
    assert client.get(CRDS_URL).json()["items"]
    assert client.get("/api/v1/namespaces/default").status_code == 200


# The v1alpha1 kinds: AdminNetworkPolicy and BaselineAdminNetworkPolicy (network-policy-api
# v0.1.7's CRDs), served beside ClusterNetworkPolicy in the same group.
ANPS = f"/apis/{GROUP}/v1alpha1/adminnetworkpolicies"
BANPS = f"/apis/{GROUP}/v1alpha1/baselineadminnetworkpolicies"
V1ALPHA1 = (crds.ADMIN_NETWORK_POLICIES, crds.BASELINE_ADMIN_NETWORK_POLICIES)


def anp(name: str, **spec: Any) -> dict[str, Any]:
    body = {
        "priority": 10,
        "subject": {"namespaces": {}},
        "ingress": [{"name": "allow-web", "action": "Allow", "from": [{"namespaces": {}}],
                     "ports": [{"portNumber": {"port": 80}}]}],
    }  # fmt: skip
    return {
        "apiVersion": f"{GROUP}/v1alpha1",
        "kind": "AdminNetworkPolicy",
        "metadata": {"name": name},
        "spec": {**body, **spec},
    }


def banp(name: str = "default") -> dict[str, Any]:
    return {
        "apiVersion": f"{GROUP}/v1alpha1",
        "kind": "BaselineAdminNetworkPolicy",
        "metadata": {"name": name},
        "spec": {
            "subject": {"namespaces": {}},
            "egress": [{"action": "Deny", "to": [{"networks": ["0.0.0.0/0"]}]}],
        },
    }


@pytest.mark.parametrize("key", V1ALPHA1)
def test_the_packaged_v1alpha1_crds_are_upstreams_files(key: str) -> None:
    file = f"policy.networking.k8s.io_{key.partition('.')[0]}.yaml"
    packaged = Path(crds.__file__).parent / "crds" / file
    assert packaged.read_bytes() == (FIXTURE.parents[1] / "anp" / file).read_bytes()


@pytest.mark.parametrize("key", V1ALPHA1)
def test_the_v1alpha1_resource_table_entries_are_what_the_crds_name(key: str) -> None:
    crd = crds.definition(key)
    names, resource = crd["spec"]["names"], by_key(key)
    assert (resource.group, resource.version) == (crd["spec"]["group"], "v1alpha1")
    assert (resource.name, resource.singular, resource.kind) == (
        names["plural"], names["singular"], names["kind"]
    )  # fmt: skip
    assert resource.short_names == tuple(names["shortNames"])
    assert resource.namespaced is False
    assert resource.subresource("status") is not None


def test_discovery_prefers_v1alpha2_and_lists_v1alpha1(client: Client) -> None:
    group = client.get(f"/apis/{GROUP}").json()
    assert [v["version"] for v in group["versions"]] == ["v1alpha2", "v1alpha1"]
    assert group["preferredVersion"]["version"] == "v1alpha2"
    listed = {r["name"]: r for r in client.get(f"/apis/{GROUP}/v1alpha1").json()["resources"]}
    assert listed["adminnetworkpolicies"]["shortNames"] == ["anp"]
    assert listed["baselineadminnetworkpolicies"]["shortNames"] == ["banp"]


def test_an_admin_network_policy_is_stored_defaulted_and_printed_with_its_priority(
    client: Client,
) -> None:
    created = client.post(ANPS, json=anp("web"))
    assert created.status_code == 201, created.json()
    port = created.json()["spec"]["ingress"][0]["ports"][0]
    assert port == {"portNumber": {"port": 80, "protocol": "TCP"}}
    table = client.get(ANPS, headers={"Accept": TABLE}).json()
    assert [c["name"] for c in table["columnDefinitions"]] == ["Name", "Priority", "Age"]
    assert [r["cells"][:2] for r in table["rows"]] == [["web", "10"]]


@pytest.mark.parametrize(
    ("url", "body", "field", "words"),
    [
        (ANPS, anp("bad", priority=1001), "spec.priority", "less than or equal to 1000"),
        (ANPS, anp("bad", ingress=[{"action": "Accept", "from": [{"namespaces": {}}]}]),
         "spec.ingress[0].action", 'supported values: "Allow", "Deny", "Pass"'),
        (BANPS, banp("bad"), "<nil>",
         'Only one baseline admin network policy with metadata.name="default"'),
    ],
    ids=["priority above 1000", "Accept is v1alpha2's word", "a baseline not named default"],
)  # fmt: skip
def test_an_invalid_v1alpha1_policy_is_422_with_the_field_path(
    client: Client, url: str, body: dict[str, Any], field: str, words: str
) -> None:
    answer = client.post(url, json=body)
    assert answer.status_code == 422
    kind = body["kind"]
    assert answer.json()["message"].startswith(f'{kind}.{GROUP} "bad" is invalid: ')
    found = [(c["field"], c["message"]) for c in answer.json()["details"]["causes"]]
    assert any(f == field and words in m for f, m in found), found


def test_the_baseline_admin_network_policy_named_default_is_created(client: Client) -> None:
    assert client.post(BANPS, json=banp()).status_code == 201
    assert client.get(f"{BANPS}/default").json()["spec"]["egress"][0]["action"] == "Deny"
