"""Server-side apply, simplified (kubectl-api.md §6.3): merge, never conflict, optionally forget."""

from __future__ import annotations

import json
from typing import Any

import pytest

from podwall.apiserver.patch import APPLY_PATCH, PatchError, apply_patch
from podwall.apiserver.patch.apply import server_side_apply


def deployment(containers: list[dict[str, Any]], **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": containers},
            },
            **spec,
        },
    }


def containers_of(obj: dict[str, Any]) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = obj["spec"]["template"]["spec"]["containers"]
    return result


def test_applying_to_nothing_creates_the_applied_object_without_its_nulls() -> None:
    config = deployment([{"name": "a", "image": "a:1", "args": None}], replicas=2)
    got = apply_patch(None, json.dumps(config), APPLY_PATCH, "Deployment")
    assert containers_of(got) == [{"name": "a", "image": "a:1"}]
    assert got["spec"]["replicas"] == 2


def test_applying_again_merges_into_the_live_object_and_keeps_what_it_leaves_out() -> None:
    live = deployment(
        [{"name": "a", "image": "a:1", "terminationMessagePath": "/dev/termination-log"}],
        replicas=3,
    )
    live["metadata"]["uid"] = "u1"
    live["status"] = {"replicas": 3}
    got = server_side_apply(live, deployment([{"name": "a", "image": "a:2"}]), "Deployment")
    assert containers_of(got) == [
        {"name": "a", "image": "a:2", "terminationMessagePath": "/dev/termination-log"}
    ]
    assert got["spec"]["replicas"] == 3  # another manager's field stays: no conflict, no removal
    assert got["metadata"]["uid"] == "u1"
    assert got["status"] == {"replicas": 3}


def test_container_ports_are_keyed_by_port_and_protocol() -> None:
    live = deployment([{"name": "a", "ports": [{"containerPort": 53, "protocol": "TCP"}]}])
    config = deployment(
        [
            {
                "name": "a",
                "ports": [
                    {"containerPort": 53, "protocol": "UDP"},
                    {"containerPort": 53, "name": "dns-tcp"},
                ],
            }
        ]
    )
    got = server_side_apply(live, config, "Deployment")
    assert containers_of(got)[0]["ports"] == [
        {"containerPort": 53, "protocol": "UDP"},
        {"containerPort": 53, "protocol": "TCP", "name": "dns-tcp"},
    ]


def test_a_new_container_is_added_in_the_applied_order() -> None:
    live = deployment([{"name": "a", "image": "a"}])
    got = server_side_apply(
        live, deployment([{"name": "b", "image": "b"}, {"name": "a", "image": "a"}]), "Deployment"
    )
    assert [c["name"] for c in containers_of(got)] == ["b", "a"]


def test_an_atomic_selector_is_replaced_whole() -> None:
    live = {
        "kind": "Service",
        "metadata": {"name": "s"},
        "spec": {"selector": {"app": "a", "tier": "db"}},
    }
    got = server_side_apply(
        live,
        {"kind": "Service", "metadata": {"name": "s"}, "spec": {"selector": {"app": "b"}}},
        "Service",
    )
    assert got["spec"]["selector"] == {"app": "b"}


def test_owner_references_are_keyed_by_uid_and_replaced_whole() -> None:
    owner = {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "name": "rs",
        "uid": "u1",
        "controller": True,
    }
    live = {"kind": "Pod", "metadata": {"name": "p", "ownerReferences": [owner]}}
    applied_ref = {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "rs", "uid": "u1"}
    config = {"kind": "Pod", "metadata": {"name": "p", "ownerReferences": [applied_ref]}}
    got = server_side_apply(live, config, "Pod")
    assert got["metadata"]["ownerReferences"] == [applied_ref]


def test_finalizers_are_a_set() -> None:
    live = {"kind": "ConfigMap", "metadata": {"name": "c", "finalizers": ["a", "b"]}}
    got = server_side_apply(
        live,
        {"kind": "ConfigMap", "metadata": {"name": "c", "finalizers": ["b", "c"]}},
        "ConfigMap",
    )
    assert got["metadata"]["finalizers"] == ["a", "b", "c"]


def test_network_policy_rules_are_atomic_lists() -> None:
    live = {
        "kind": "NetworkPolicy",
        "metadata": {"name": "p"},
        "spec": {"podSelector": {}, "ingress": [{"from": [{"podSelector": {}}]}, {}]},
    }
    config = {
        "kind": "NetworkPolicy",
        "metadata": {"name": "p"},
        "spec": {"podSelector": {}, "ingress": [{"ports": [{"port": 80}]}]},
    }
    got = server_side_apply(live, config, "NetworkPolicy")
    assert got["spec"]["ingress"] == [{"ports": [{"port": 80}]}]


def test_fields_this_manager_stopped_applying_are_removed_when_its_last_apply_is_known() -> None:
    previous = deployment(
        [
            {"name": "a", "image": "a", "env": [{"name": "X", "value": "1"}]},
            {"name": "b", "image": "b"},
        ],
        replicas=2,
    )
    live = deployment(
        [
            {
                "name": "a",
                "image": "a",
                "env": [{"name": "X", "value": "1"}],
                "imagePullPolicy": "Always",
            },
            {"name": "b", "image": "b"},
        ],
        replicas=2,
        paused=False,
    )
    now = deployment([{"name": "a", "image": "a"}])
    got = server_side_apply(live, now, "Deployment", last_applied=previous)
    assert containers_of(got) == [{"name": "a", "image": "a", "imagePullPolicy": "Always"}]
    assert "replicas" not in got["spec"]
    assert got["spec"]["paused"] is False  # never applied by this manager: kept


def test_managed_fields_in_an_apply_configuration_are_refused() -> None:
    config = {"kind": "ConfigMap", "metadata": {"name": "c", "managedFields": [{"manager": "x"}]}}
    with pytest.raises(PatchError) as info:
        server_side_apply(None, config, "ConfigMap")
    assert (info.value.code, info.value.message) == (
        400,
        "metadata.managedFields must be nil",
    )


def test_the_body_may_be_yaml() -> None:
    body = "kind: ConfigMap\nmetadata:\n  name: c\ndata:\n  a: '1'\n"
    got = apply_patch(
        {"kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"b": "2"}},
        body,
        APPLY_PATCH,
        "ConfigMap",
    )
    assert got["data"] == {"a": "1", "b": "2"}


def test_yaml_timestamps_stay_strings() -> None:
    body = "kind: ConfigMap\nmetadata: {name: c}\ndata: {day: 2026-11-26}\n"
    assert apply_patch(None, body, APPLY_PATCH, "ConfigMap")["data"] == {"day": "2026-11-26"}


@pytest.mark.parametrize(
    "body",
    [
        pytest.param("- a\n- b\n", id="a YAML list is a 400"),
        pytest.param("a: [", id="broken YAML is a 400"),
    ],
)
def test_an_apply_body_that_is_not_a_map_is_a_bad_request(body: str) -> None:
    with pytest.raises(PatchError) as info:
        apply_patch(None, body, APPLY_PATCH, "ConfigMap")
    assert info.value.code == 400
    assert info.value.message.startswith("error decoding YAML: ")


def test_apply_does_not_modify_its_arguments() -> None:
    live = deployment([{"name": "a", "image": "a"}])
    config = deployment([{"name": "a", "image": "b"}])
    before = json.dumps([live, config], sort_keys=True)
    server_side_apply(live, config, "Deployment", last_applied=config)
    assert json.dumps([live, config], sort_keys=True) == before
