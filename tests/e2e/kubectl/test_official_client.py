"""The official `kubernetes` Python client lists and watches every kind podwall stores.

The node agent will use this client, so every stored resource of `podwall.apiserver.resources`
is listed (across namespaces and in one), then watched from the list's resourceVersion while an
object of that kind is created: the ADDED event must arrive, deserialized to the client's model.
Only the API server runs (in this process, on a free loopback port): no root needed.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from kubernetes import client, config, watch

from podwall.apiserver.resources import RESOURCES, REVIEWS, Resource
from podwall.apiserver.server import Server

pytestmark = pytest.mark.kubectl

APIS = {
    "": client.CoreV1Api,
    "apps": client.AppsV1Api,
    "batch": client.BatchV1Api,
    "networking.k8s.io": client.NetworkingV1Api,
    "discovery.k8s.io": client.DiscoveryV1Api,
    "coordination.k8s.io": client.CoordinationV1Api,
    "rbac.authorization.k8s.io": client.RbacAuthorizationV1Api,
}
STORED = [r for r in RESOURCES if r.key not in REVIEWS]  # reviews are answered, never listed
RBAC = "rbac.authorization.k8s.io"
ROLE_REF = {"apiGroup": RBAC, "kind": "ClusterRole", "name": "view"}
LABELS = {"app": "web"}
POD_SPEC = {"containers": [{"name": "web", "image": "nginx"}]}
TEMPLATE = {"metadata": {"labels": LABELS}, "spec": POD_SPEC}
JOB_TEMPLATE = {"spec": {**POD_SPEC, "restartPolicy": "Never"}}  # a Job's pods must not restart
SAMPLES: dict[str, dict[str, Any]] = {
    "pods": {"spec": POD_SPEC},
    "services": {"spec": {"selector": LABELS, "ports": [{"port": 80}]}},
    "endpoints": {"subsets": []},
    "events": {
        "involvedObject": {"kind": "Pod", "name": "web", "namespace": "default"},
        "reason": "Tested",
        "message": "by the official client",
        "type": "Normal",
    },
    "configmaps": {"data": {"key": "value"}},
    "secrets": {"data": {"key": "dmFsdWU="}},
    "namespaces": {},
    "deployments.apps": {
        "spec": {"replicas": 0, "selector": {"matchLabels": LABELS}, "template": TEMPLATE}
    },
    "replicasets.apps": {
        "spec": {"replicas": 0, "selector": {"matchLabels": LABELS}, "template": TEMPLATE}
    },
    "replicationcontrollers": {"spec": {"replicas": 0, "selector": LABELS, "template": TEMPLATE}},
    "networkpolicies.networking.k8s.io": {"spec": {"podSelector": {"matchLabels": LABELS}}},
    "endpointslices.discovery.k8s.io": {"addressType": "IPv4", "endpoints": []},
    "nodes": {"status": {"addresses": [{"type": "InternalIP", "address": "198.18.255.1"}]}},
    "leases.coordination.k8s.io": {"spec": {"holderIdentity": "agent", "leaseDurationSeconds": 40}},
    "daemonsets.apps": {"spec": {"selector": {"matchLabels": LABELS}, "template": TEMPLATE}},
    "statefulsets.apps": {
        "spec": {
            "replicas": 0,
            "serviceName": "web",
            "selector": {"matchLabels": LABELS},
            "template": TEMPLATE,
        }
    },
    "controllerrevisions.apps": {"data": {"spec": {"template": TEMPLATE}}, "revision": 1},
    "jobs.batch": {"spec": {"template": JOB_TEMPLATE}},
    "cronjobs.batch": {
        "spec": {"schedule": "0 0 1 1 *", "jobTemplate": {"spec": {"template": JOB_TEMPLATE}}}
    },
    "serviceaccounts": {},
    f"roles.{RBAC}": {"rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}]},
    f"clusterroles.{RBAC}": {"rules": [{"nonResourceURLs": ["/x"], "verbs": ["get"]}]},
    f"rolebindings.{RBAC}": {"roleRef": ROLE_REF, "subjects": [{"kind": "Group", "name": "g"}]},
    f"clusterrolebindings.{RBAC}": {
        "roleRef": ROLE_REF,
        "subjects": [{"kind": "User", "name": "u"}],
    },
}


def snake(kind: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", kind).lower()


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    server = Server(tmp_path_factory.mktemp("official") / "state", 0)
    server.start()
    try:
        api_client = config.new_client_from_config(config_file=str(server.kubeconfig_path))
        try:
            yield api_client
        finally:
            api_client.close()
    finally:
        server.stop()


BUILT_IN = [r for r in STORED if not r.custom and "create" in r.verbs]
CUSTOM = [r for r in STORED if r.custom]
# A valid object of each custom resource, by store key.
CUSTOM_SAMPLES: dict[str, dict[str, Any]] = {
    "clusternetworkpolicies.policy.networking.k8s.io": {
        "metadata": {"name": "official-cnp"},
        "spec": {"tier": "Baseline", "priority": 5, "subject": {"namespaces": {}}},
    },
    "adminnetworkpolicies.policy.networking.k8s.io": {
        "metadata": {"name": "official-anp"},
        "spec": {"priority": 5, "subject": {"namespaces": {}}},
    },
    "baselineadminnetworkpolicies.policy.networking.k8s.io": {
        "metadata": {"name": "default"},  # the only name its CRD allows
        "spec": {"subject": {"namespaces": {}}},
    },
}


def test_every_served_kind_has_a_sample() -> None:
    assert sorted(SAMPLES) == sorted(r.key for r in BUILT_IN)
    assert sorted(CUSTOM_SAMPLES) == sorted(r.key for r in CUSTOM)


def methods(api: Any, resource: Resource) -> tuple[Any, Any, Any]:
    """(list across namespaces, list in `default`, create) for the resource."""
    group = APIS[resource.group](api)
    name = snake(resource.kind)
    if not resource.namespaced:
        listing = getattr(group, f"list_{name}")
        return listing, listing, getattr(group, f"create_{name}")
    return (
        getattr(group, f"list_{name}_for_all_namespaces"),
        lambda **kw: getattr(group, f"list_namespaced_{name}")("default", **kw),
        lambda body: getattr(group, f"create_namespaced_{name}")("default", body),
    )


@pytest.mark.parametrize("resource", BUILT_IN, ids=lambda r: r.key)
def test_list_and_watch(api: Any, resource: Resource) -> None:
    list_all, list_default, create = methods(api, resource)
    listed = list_all()
    assert listed.metadata.resource_version
    assert isinstance(list_default().items, list)
    name = f"official-{resource.singular}"
    body = {
        "apiVersion": resource.group_version,
        "kind": resource.kind,
        "metadata": {"name": name, "labels": LABELS},
        **SAMPLES[resource.key],
    }
    create(body)
    seen = []
    stream = watch.Watch()
    for event in stream.stream(
        list_all, resource_version=listed.metadata.resource_version, timeout_seconds=10
    ):
        seen.append((event["type"], event["object"].metadata.name))
        if event["object"].metadata.name == name:
            stream.stop()
            model = type(event["object"]).__name__  # core/v1 Event is the client's CoreV1Event
            assert model in (f"V1{resource.kind}", f"CoreV1{resource.kind}")
    assert ("ADDED", name) in seen
    assert name in [item.metadata.name for item in list_all().items]


@pytest.mark.parametrize("resource", CUSTOM, ids=lambda r: r.key)
def test_custom_resources_as_custom_objects(api: Any, resource: Resource) -> None:
    custom = client.CustomObjectsApi(api)
    where = (resource.group, resource.version, resource.name)
    sample = {"apiVersion": resource.group_version, "kind": resource.kind,
              **CUSTOM_SAMPLES[resource.key]}  # fmt: skip
    name = sample["metadata"]["name"]
    listed = custom.list_cluster_custom_object(*where)
    custom.create_cluster_custom_object(*where, sample)
    stream = watch.Watch()
    seen = []
    for event in stream.stream(
        custom.list_cluster_custom_object, *where,
        resource_version=listed["metadata"]["resourceVersion"], timeout_seconds=10,
    ):  # fmt: skip
        seen.append((event["type"], event["object"]["metadata"]["name"]))
        stream.stop()
    assert seen == [("ADDED", name)]
    got = custom.get_cluster_custom_object(*where, name)
    assert got["spec"] == sample["spec"]


def test_the_crd_deserializes_to_the_client_s_model(api: Any) -> None:
    extensions = client.ApiextensionsV1Api(api)
    listed = extensions.list_custom_resource_definition().items
    by_name = {crd.metadata.name: crd for crd in listed}
    assert sorted(by_name) == sorted(r.key for r in CUSTOM)
    for resource in CUSTOM:
        crd = by_name[resource.key]
        assert isinstance(crd, client.V1CustomResourceDefinition)
        assert crd.spec.names.short_names == list(resource.short_names)
        assert [c.type for c in crd.status.conditions] == ["NamesAccepted", "Established"]
