"""Request bodies against the upstream types: kube-apiserver's 400s, and never a 500."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from podwall.apiserver import crds, errors, schemas, typecheck
from podwall.apiserver.app import create_app
from podwall.apiserver.bootstrap import bootstrap
from podwall.apiserver.resources import RESOURCES, Resource, by_key
from podwall.apiserver.store import Store
from tests.unit.apiserver.asgi import Client

TOKEN = "test-token"
SERVICES = by_key("services")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        pytest.param(
            {"spec": {"ports": True}},
            "cannot unmarshal bool into Go struct field ServiceSpec.spec.ports of type "
            "[]v1.ServicePort",
            id="bool for a list (the issue's example)",
        ),
        pytest.param(
            {"spec": {"ports": [{"port": "80"}]}},
            "cannot unmarshal string into Go struct field ServicePort.spec.ports.port of type "
            "int32",
            id="string for an int32, inside a list item",
        ),
        pytest.param(
            {"spec": {"ports": [{"port": 80.5}]}},
            "cannot unmarshal number 80.5 into Go struct field ServicePort.spec.ports.port of "
            "type int32",
            id="fraction for an int32",
        ),
        pytest.param(
            {"spec": {"ports": [{"port": 2**31}]}},
            "cannot unmarshal number 2147483648 into Go struct field ServicePort.spec.ports.port "
            "of type int32",
            id="int32 overflow",
        ),
        pytest.param(
            {"spec": {"ports": [{"targetPort": False}]}},
            "cannot unmarshal bool into Go struct field ServicePort.spec.ports.targetPort of "
            "type intstr.IntOrString",
            id="bool for an IntOrString",
        ),
        pytest.param(
            {"metadata": {"labels": {"app": 1}}},
            "cannot unmarshal number into Go struct field ObjectMeta.metadata.labels of type "
            "string",
            id="number as a label value",
        ),
        pytest.param(
            {"spec": "x"},
            "cannot unmarshal string into Go struct field Service.spec of type v1.ServiceSpec",
            id="string for a struct",
        ),
    ],
)
def test_type_errors_are_worded_as_kube_apiserver_words_them(
    body: dict[str, Any], message: str
) -> None:
    with pytest.raises(errors.ApiError) as caught:
        typecheck.check(SERVICES, body)
    assert caught.value.code == 400
    assert caught.value.message == (
        f'Service in version "v1" cannot be handled as a Service: json: {message}'
    )


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"spec": {"ports": [{"port": 80, "targetPort": "http"}]}}, id="named port"),
        pytest.param({"spec": {"ports": None, "selector": None}}, id="nulls are zero values"),
        pytest.param({"spec": {"unknown": True}}, id="unknown fields are fieldValidation's"),
        pytest.param({"metadata": {"creationTimestamp": "2024-01-01T00:00:00Z"}}, id="time"),
    ],
)
def test_well_typed_bodies_pass(body: dict[str, Any]) -> None:
    typecheck.check(SERVICES, body)


# Fuzz: every served kind, a valid object with one field replaced by any JSON value.

_LABELS = {"app": "web"}
_TEMPLATE = {
    "metadata": {"labels": _LABELS},
    "spec": {"containers": [{"name": "web", "image": "nginx", "ports": [{"containerPort": 80}]}]},
}
_JOB_TEMPLATE = {**_TEMPLATE, "spec": {**_TEMPLATE["spec"], "restartPolicy": "Never"}}
SEEDS: dict[str, dict[str, Any]] = {
    "pods": {"spec": _TEMPLATE["spec"]},
    "services": {"spec": {"selector": _LABELS, "ports": [{"port": 80, "targetPort": 8080}]}},
    "endpoints": {"subsets": [{"addresses": [{"ip": "198.18.0.5"}], "ports": [{"port": 80}]}]},
    "events": {"involvedObject": {"kind": "Pod", "name": "web"}, "reason": "Test"},
    "configmaps": {"data": {"key": "value"}},
    "secrets": {"data": {"key": "dmFsdWU="}, "stringData": {"other": "value"}},
    "namespaces": {},
    "deployments.apps": {
        "spec": {"replicas": 1, "selector": {"matchLabels": _LABELS}, "template": _TEMPLATE}
    },
    "replicasets.apps": {
        "spec": {"replicas": 1, "selector": {"matchLabels": _LABELS}, "template": _TEMPLATE}
    },
    "replicationcontrollers": {"spec": {"replicas": 1, "selector": _LABELS, "template": _TEMPLATE}},
    "networkpolicies.networking.k8s.io": {
        "spec": {"podSelector": {"matchLabels": _LABELS}, "ingress": [{"ports": [{"port": 80}]}]}
    },
    "endpointslices.discovery.k8s.io": {
        "addressType": "IPv4",
        "endpoints": [{"addresses": ["198.18.0.5"]}],
        "ports": [{"port": 80}],
    },
    "nodes": {"spec": {"podCIDR": "198.18.1.0/24"}},
    "leases.coordination.k8s.io": {"spec": {"holderIdentity": "node-1"}},
    "clusternetworkpolicies.policy.networking.k8s.io": {
        "spec": {
            "tier": "Admin",
            "priority": 10,
            "subject": {"namespaces": {}},
            "ingress": [{"action": "Deny", "from": [{"namespaces": {}}]}],
        }
    },
    "adminnetworkpolicies.policy.networking.k8s.io": {
        "spec": {
            "priority": 10,
            "subject": {"namespaces": {}},
            "ingress": [
                {
                    "action": "Allow",
                    "from": [{"namespaces": {}}],
                    "ports": [{"portRange": {"start": 80, "end": 90}}],
                }
            ],
        }
    },
    "baselineadminnetworkpolicies.policy.networking.k8s.io": {
        "spec": {
            "subject": {"namespaces": {}},
            "egress": [{"action": "Deny", "to": [{"networks": ["0.0.0.0/0"]}]}],
        }
    },
    "daemonsets.apps": {"spec": {"selector": {"matchLabels": _LABELS}, "template": _TEMPLATE}},
    "statefulsets.apps": {
        "spec": {"serviceName": "web", "selector": {"matchLabels": _LABELS}, "template": _TEMPLATE}
    },
    "controllerrevisions.apps": {"data": {"spec": {"template": _TEMPLATE}}, "revision": 1},
    "jobs.batch": {"spec": {"template": _JOB_TEMPLATE}},
    "cronjobs.batch": {
        "spec": {"schedule": "*/5 * * * *", "jobTemplate": {"spec": {"template": _JOB_TEMPLATE}}}
    },
    "serviceaccounts": {"automountServiceAccountToken": False},
    "roles.rbac.authorization.k8s.io": {
        "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}]
    },
    "clusterroles.rbac.authorization.k8s.io": {
        "rules": [{"nonResourceURLs": ["/healthz"], "verbs": ["get"]}]
    },
    "rolebindings.rbac.authorization.k8s.io": {
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "r"},
        "subjects": [{"kind": "ServiceAccount", "name": "default"}],
    },
    "clusterrolebindings.rbac.authorization.k8s.io": {
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "v"},
        "subjects": [{"kind": "Group", "name": "g", "apiGroup": "rbac.authorization.k8s.io"}],
    },
    "selfsubjectreviews.authentication.k8s.io": {},
    "tokenreviews.authentication.k8s.io": {"spec": {"token": "x"}},
    "localsubjectaccessreviews.authorization.k8s.io": {
        "spec": {"user": "u", "resourceAttributes": {"verb": "get", "resource": "pods"}}
    },
    "selfsubjectaccessreviews.authorization.k8s.io": {
        "spec": {"resourceAttributes": {"verb": "get", "resource": "pods"}}
    },
    "selfsubjectrulesreviews.authorization.k8s.io": {"spec": {"namespace": "default"}},
    "subjectaccessreviews.authorization.k8s.io": {
        "spec": {"user": "u", "nonResourceAttributes": {"verb": "get", "path": "/x"}}
    },
}
WRITABLE = [r for r in RESOURCES if "create" in r.verbs]


def _schema_of(resource: Resource) -> dict[str, Any]:
    """The kind's schema: upstream's, or its CRD's for a custom resource."""
    if resource.custom:
        name = crds.schema_name(resource.group, resource.version, resource.kind)
        return crds.openapi_schemas(resource.key, resource.version)[name]
    name = schemas.name_for(resource.group, resource.version, resource.kind)
    assert name is not None
    return schemas.definitions()[name]


_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**40), max_value=2**40)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=6,
)


def _paths(schema: dict[str, Any], depth: int) -> Iterator[tuple[str, ...]]:
    """Field paths of a schema down to `depth` (`[]` steps into list items)."""
    if depth == 0:
        return
    name = schemas.ref_name(schema)
    if name is not None:
        schema = schemas.definitions()[name]
    if schema.get("type") == "array":
        for rest in _paths(schema.get("items", {}), depth - 1):
            yield ("[]", *rest)
        return
    for key, prop in (schema.get("properties") or {}).items():
        yield (key,)
        for rest in _paths(prop, depth - 1):
            yield (key, *rest)


def _set(obj: Any, path: tuple[str, ...], value: Any) -> Any:
    """`obj` with the value at `path` replaced, creating what is missing."""
    if not path:
        return value
    head, rest = path[0], path[1:]
    if head == "[]":
        items = obj if isinstance(obj, list) and obj else [{}]
        return [_set(items[0], rest, value), *items[1:]]
    out = dict(obj) if isinstance(obj, dict) else {}
    out[head] = _set(out.get(head), rest, value)
    return out


def _collection(resource: Resource) -> str:
    prefix = f"/apis/{resource.group}/{resource.version}" if resource.group else "/api/v1"
    return (
        f"{prefix}/namespaces/default/{resource.name}"
        if resource.namespaced
        else (f"{prefix}/{resource.name}")
    )


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Client]:
    store = Store(Path(tmp_path_factory.mktemp("fuzz")) / "state.db")
    bootstrap(store)
    yield Client(create_app(store, TOKEN), {"Authorization": f"Bearer {TOKEN}"})
    store.close()


@pytest.mark.parametrize("resource", WRITABLE, ids=lambda r: r.key)
def test_a_mutated_object_of_every_kind_is_answered_2xx_or_4xx_never_5xx(
    client: Client, resource: Resource
) -> None:
    paths = sorted(p for p in _paths(_schema_of(resource), 3) if p[0] != "status")
    seed = {
        "apiVersion": resource.group_version,
        "kind": resource.kind,
        "metadata": {"name": "seed"},
        **copy.deepcopy(SEEDS[resource.key]),
    }
    counter = iter(range(10**6))

    @settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
    @given(path=st.sampled_from(paths), value=_JSON)
    def post(path: tuple[str, ...], value: Any) -> None:
        body = _set(seed, path, value)
        if isinstance(body.get("metadata"), dict):
            body["metadata"] = {**body["metadata"], "name": f"fuzz-{next(counter)}"}
        answer = client.post(_collection(resource), json=body)
        assert answer.status_code < 500, (path, value, answer.text)

    post()


# The law behind the fast path: `fits` agrees with the walk that words the error.

_RECURSIVE = "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaProps"


@pytest.mark.parametrize("resource", [r for r in WRITABLE if not r.custom], ids=lambda r: r.key)
def test_fits_is_true_exactly_when_no_type_error_is_found(resource: Resource) -> None:
    name = schemas.name_for(resource.group, resource.version, resource.kind)
    assert name is not None
    _agree_on_mutations(name, SEEDS[resource.key])


def test_fits_follows_a_schema_that_refers_to_itself() -> None:
    _agree_on_mutations(_RECURSIVE, {"properties": {"a": {"items": {"schema": {"type": "x"}}}}})


def _agree_on_mutations(name: str, seed: dict[str, Any]) -> None:
    schema = schemas.definitions()[name]
    paths = sorted(_paths(schema, 4)) or [("x",)]
    struct = name.rpartition(".")[2]

    @settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck))
    @given(path=st.sampled_from(paths), value=_JSON)
    def agree(path: tuple[str, ...], value: Any) -> None:
        body = _set(copy.deepcopy(seed), path, value)
        found = next(typecheck.errors_in(body, schema, struct, "", name), None)
        assert typecheck.fits(name, body) == (found is None), (path, value, found)

    agree()
