# Table tests keep one case per row: a patch reads better unwrapped (as in engine/test_decide).
# ruff: noqa: E501
"""Strategic merge patch: every patch kubectl-api.md §6.2 captured, then the rules one by one.

Each case goes through the facade with the body kubectl sends, so decoding and dispatch are
exercised too. Expected objects were worked out from apimachinery `strategicpatch` (the order
of merged lists included) and, for the docs example, from the output kubernetes.io shows.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from podwall.apiserver.patch import STRATEGIC_MERGE_PATCH, PatchError, apply_patch
from podwall.apiserver.patch.schema import KINDS

LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"


def smp(kind: str, live: dict[str, Any], patch: dict[str, Any] | str) -> dict[str, Any]:
    body = patch if isinstance(patch, str) else json.dumps(patch)
    return apply_patch(live, body, STRATEGIC_MERGE_PATCH, kind)


def deployment(spec: dict[str, Any], **metadata: Any) -> dict[str, Any]:
    meta = {"name": "web", "namespace": "default", **metadata}
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta, "spec": spec}


def pod_template(*containers: dict[str, Any], **spec: Any) -> dict[str, Any]:
    return {
        "selector": {"matchLabels": {"app": "web"}},
        "template": {
            "metadata": {"labels": {"app": "web"}},
            "spec": {"containers": list(containers), **spec},
        },
    }


# ---- the captured kubectl patches (kubectl-api.md §6.2) --------------------------------------

CONTAINER_A = {
    "name": "a",
    "image": "img-a",
    "command": ["sh", "-c", "serve"],
    "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}],
    "ports": [{"containerPort": 80, "protocol": "TCP"}, {"containerPort": 81, "protocol": "TCP"}],
}
CONTAINER_B = {"name": "b", "image": "img-b"}

APPLY_UPDATE_PATCH = {
    "metadata": {"annotations": {LAST_APPLIED: '{"new":"config"}\n'}, "labels": {"extra": None}},
    "spec": {
        "template": {
            "spec": {
                "$setElementOrder/containers": [{"name": "b"}, {"name": "a"}],
                "containers": [
                    {"image": "img-b2", "name": "b"},
                    {
                        "$setElementOrder/env": [{"name": "B"}],
                        "$setElementOrder/ports": [{"containerPort": 81}],
                        "command": None,
                        "env": [{"$patch": "delete", "name": "A"}],
                        "name": "a",
                        "ports": [{"$patch": "delete", "containerPort": 80}],
                    },
                ],
            }
        }
    },
}


def test_the_captured_apply_update_reorders_drops_and_deletes_as_the_server_does() -> None:
    live = deployment(
        pod_template(CONTAINER_A, CONTAINER_B),
        labels={"app": "web", "extra": "yes"},
        annotations={LAST_APPLIED: '{"old":"config"}\n', "other": "kept"},
    )
    got = smp("Deployment", live, APPLY_UPDATE_PATCH)
    assert got["metadata"]["labels"] == {"app": "web"}
    assert got["metadata"]["annotations"] == {LAST_APPLIED: '{"new":"config"}\n', "other": "kept"}
    assert got["spec"]["template"]["spec"]["containers"] == [
        {"name": "b", "image": "img-b2"},
        {
            "name": "a",
            "image": "img-a",
            "env": [{"name": "B", "value": "2"}],
            "ports": [{"containerPort": 81, "protocol": "TCP"}],
        },
    ]
    assert got["spec"]["selector"] == live["spec"]["selector"]


def test_the_captured_service_patch_deletes_a_port_by_port_number() -> None:
    live = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "dns"},
        "spec": {
            "selector": {"app": "dns"},
            "ports": [
                {"name": "dns", "port": 53, "protocol": "UDP", "targetPort": 53},
                {"name": "http", "port": 80, "protocol": "TCP", "targetPort": 8080},
            ],
        },
    }
    patch = {
        "spec": {
            "$setElementOrder/ports": [{"port": 53}],
            "ports": [{"$patch": "delete", "port": 80}],
        }
    }
    got = smp("Service", live, patch)
    assert got["spec"]["ports"] == [
        {"name": "dns", "port": 53, "protocol": "UDP", "targetPort": 53}
    ]
    assert got["spec"]["selector"] == {"app": "dns"}


def test_the_captured_network_policy_patch_replaces_every_rule_list_whole() -> None:
    live = {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": "p", "namespace": "x"},
        "spec": {
            "podSelector": {"matchLabels": {"app": "b"}},
            "ingress": [
                {"from": [{"podSelector": {"matchLabels": {"app": "c"}}}], "ports": [{"port": 81}]},
                {"from": [{"namespaceSelector": {}}]},
            ],
            "egress": [{"to": [{"ipBlock": {"cidr": "10.0.0.0/8"}}]}],
            "policyTypes": ["Ingress", "Egress"],
        },
    }
    patch = {
        "spec": {
            "egress": None,
            "ingress": [
                {"from": [{"podSelector": {"matchLabels": {"app": "a"}}}], "ports": [{"port": 80}]}
            ],
            "policyTypes": ["Ingress"],
        }
    }
    got = smp("NetworkPolicy", live, patch)
    assert got["spec"] == {
        "podSelector": {"matchLabels": {"app": "b"}},
        "ingress": [
            {"from": [{"podSelector": {"matchLabels": {"app": "a"}}}], "ports": [{"port": 80}]}
        ],
        "policyTypes": ["Ingress"],
    }


def test_the_captured_edit_patch_sets_replicas_in_spec_and_status() -> None:
    live = deployment({"replicas": 1, **pod_template(CONTAINER_B)})
    live["status"] = {"replicas": 1, "readyReplicas": 1}
    got = smp("Deployment", live, {"spec": {"replicas": 3}, "status": {"replicas": 3}})
    assert got["spec"]["replicas"] == 3
    assert got["status"] == {"replicas": 3, "readyReplicas": 1}  # the caller keeps live status


def test_the_captured_rollout_restart_patch_adds_a_template_annotation() -> None:
    live = deployment(pod_template(CONTAINER_B))
    stamp = "2026-11-26T08:00:00Z"
    patch = {
        "spec": {
            "template": {"metadata": {"annotations": {"kubectl.kubernetes.io/restartedAt": stamp}}}
        }
    }
    got = smp("Deployment", live, patch)
    assert got["spec"]["template"]["metadata"] == {
        "labels": {"app": "web"},
        "annotations": {"kubectl.kubernetes.io/restartedAt": stamp},
    }


def test_a_set_image_patch_changes_one_container_and_keeps_the_order() -> None:
    # kubectl set image deploy/web b=img-b:2 (CreateTwoWayMergePatch with SetElementOrder)
    live = deployment(pod_template(CONTAINER_A, CONTAINER_B))
    patch = {
        "spec": {
            "template": {
                "spec": {
                    "$setElementOrder/containers": [{"name": "a"}, {"name": "b"}],
                    "containers": [{"image": "img-b:2", "name": "b"}],
                }
            }
        }
    }
    got = smp("Deployment", live, patch)
    assert got["spec"]["template"]["spec"]["containers"] == [
        CONTAINER_A,
        {"name": "b", "image": "img-b:2"},
    ]


def test_apply_adding_a_container_between_two_places_it_by_set_element_order() -> None:
    c = {"name": "c", "image": "c"}
    live = deployment(pod_template(CONTAINER_B, c))
    patch = {
        "spec": {
            "template": {
                "spec": {
                    "$setElementOrder/containers": [{"name": "b"}, {"name": "a"}, {"name": "c"}],
                    "containers": [CONTAINER_A],
                }
            }
        }
    }
    got = smp("Deployment", live, patch)
    assert got["spec"]["template"]["spec"]["containers"] == [CONTAINER_B, CONTAINER_A, c]


def test_apply_removing_a_container_deletes_it_by_name() -> None:
    live = deployment(pod_template(CONTAINER_A, CONTAINER_B))
    patch = {
        "spec": {
            "template": {
                "spec": {
                    "$setElementOrder/containers": [{"name": "b"}],
                    "containers": [{"$patch": "delete", "name": "a"}],
                }
            }
        }
    }
    got = smp("Deployment", live, patch)
    assert got["spec"]["template"]["spec"]["containers"] == [CONTAINER_B]


# ---- the rules, one case each --------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    id: str
    kind: str
    live: dict[str, Any]
    patch: dict[str, Any]
    want: dict[str, Any]


def pod(spec: dict[str, Any], **metadata: Any) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", **metadata}, "spec": spec}


C_NGINX = {"name": "nginx", "image": "nginx"}
C_REDIS = {"name": "redis", "image": "redis"}
OWNER_1 = {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "rs1", "uid": "u1"}
OWNER_2 = {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "rs2", "uid": "u2"}

CASES = [
    Case("a null value deletes its key", "ConfigMap",
         {"metadata": {"name": "c"}, "data": {"a": "1", "b": "2"}},
         {"data": {"a": None}},
         {"metadata": {"name": "c"}, "data": {"b": "2"}}),
    Case("a null for a key the object lacks changes nothing", "ConfigMap",
         {"metadata": {"name": "c"}, "data": {"a": "1"}},
         {"data": {"zzz": None}},
         {"metadata": {"name": "c"}, "data": {"a": "1"}}),
    Case("maps merge key by key", "ConfigMap",
         {"metadata": {"name": "c", "labels": {"a": "1"}}, "data": {"x": "1"}},
         {"metadata": {"labels": {"b": "2"}}, "data": {"y": "2"}},
         {"metadata": {"name": "c", "labels": {"a": "1", "b": "2"}}, "data": {"x": "1", "y": "2"}}),
    Case("a new container without an order directive goes before the live ones (kubernetes.io docs)",
         "Pod", pod({"containers": [C_NGINX]}), {"spec": {"containers": [C_REDIS]}},
         pod({"containers": [C_REDIS, C_NGINX]})),
    Case("tolerations have no merge strategy so the patch replaces them (kubernetes.io docs)", "Pod",
         pod({"containers": [C_NGINX], "tolerations": [{"effect": "NoSchedule", "key": "dedicated", "value": "test-team"}]}),
         {"spec": {"tolerations": [{"effect": "NoSchedule", "key": "disktype", "value": "ssd"}]}},
         pod({"containers": [C_NGINX], "tolerations": [{"effect": "NoSchedule", "key": "disktype", "value": "ssd"}]})),
    Case("container args are atomic and replaced whole", "Pod",
         pod({"containers": [{"name": "c", "args": ["a", "b"]}]}),
         {"spec": {"containers": [{"name": "c", "args": ["z"]}]}},
         pod({"containers": [{"name": "c", "args": ["z"]}]})),
    Case("env merges by name", "Pod",
         pod({"containers": [{"name": "c", "env": [{"name": "A", "value": "1"}]}]}),
         {"spec": {"containers": [{"name": "c", "env": [{"name": "A", "value": "2"}, {"name": "B", "value": "3"}]}]}},
         pod({"containers": [{"name": "c", "env": [{"name": "A", "value": "2"}, {"name": "B", "value": "3"}]}]})),
    Case("container ports merge by containerPort", "Pod",
         pod({"containers": [{"name": "c", "ports": [{"containerPort": 80, "name": "http"}]}]}),
         {"spec": {"containers": [{"name": "c", "ports": [{"containerPort": 80, "name": "web"}]}]}},
         pod({"containers": [{"name": "c", "ports": [{"containerPort": 80, "name": "web"}]}]})),
    Case("service ports merge by port, not by containerPort", "Service",
         {"metadata": {"name": "s"}, "spec": {"ports": [{"port": 80, "targetPort": 8080}]}},
         {"spec": {"ports": [{"port": 80, "targetPort": 9090}]}},
         {"metadata": {"name": "s"}, "spec": {"ports": [{"port": 80, "targetPort": 9090}]}}),
    Case("volumeMounts merge by mountPath", "Pod",
         pod({"containers": [{"name": "c", "volumeMounts": [{"mountPath": "/d", "name": "v1"}]}]}),
         {"spec": {"containers": [{"name": "c", "volumeMounts": [{"mountPath": "/d", "name": "v2"}]}]}},
         pod({"containers": [{"name": "c", "volumeMounts": [{"mountPath": "/d", "name": "v2"}]}]})),
    Case("ownerReferences merge by uid", "ReplicaSet",
         {"metadata": {"name": "rs", "ownerReferences": [OWNER_1]}},
         {"metadata": {"ownerReferences": [{**OWNER_1, "controller": True}, OWNER_2]}},
         {"metadata": {"name": "rs", "ownerReferences": [{**OWNER_1, "controller": True}, OWNER_2]}}),
    Case("finalizers merge as a set and a new value goes before the live ones", "Namespace",
         {"metadata": {"name": "n", "finalizers": ["a", "b"]}},
         {"metadata": {"finalizers": ["c"]}},
         {"metadata": {"name": "n", "finalizers": ["c", "a", "b"]}}),
    Case("finalizers merge as a set and a new value follows a live one the patch names", "Namespace",
         {"metadata": {"name": "n", "finalizers": ["a", "b"]}},
         {"metadata": {"finalizers": ["b", "c"]}},
         {"metadata": {"name": "n", "finalizers": ["a", "b", "c"]}}),
    Case("$deleteFromPrimitiveList removes values from a merged primitive list", "Pod",
         pod({"containers": [C_NGINX]}, finalizers=["a", "b", "c"]),
         {"metadata": {"$deleteFromPrimitiveList/finalizers": ["b"]}},
         pod({"containers": [C_NGINX]}, finalizers=["a", "c"])),
    Case("$deleteFromPrimitiveList on a missing list adds nothing", "Pod",
         pod({"containers": [C_NGINX]}),
         {"metadata": {"$deleteFromPrimitiveList/finalizers": ["b"]}},
         pod({"containers": [C_NGINX]})),
    Case("$setElementOrder on a primitive list reorders it", "Pod",
         pod({"containers": [C_NGINX]}, finalizers=["a", "b"]),
         {"metadata": {"$setElementOrder/finalizers": ["b", "a"]}},
         pod({"containers": [C_NGINX]}, finalizers=["b", "a"])),
    Case("namespace spec.finalizers is atomic and replaced", "Namespace",
         {"metadata": {"name": "n"}, "spec": {"finalizers": ["kubernetes"]}},
         {"spec": {"finalizers": ["other"]}},
         {"metadata": {"name": "n"}, "spec": {"finalizers": ["other"]}}),
    Case("a $patch replace element makes the patch the whole list", "Pod",
         pod({"containers": [C_NGINX, C_REDIS]}),
         {"spec": {"containers": [{"name": "busybox", "image": "busybox"}, {"$patch": "replace"}]}},
         pod({"containers": [{"name": "busybox", "image": "busybox"}]})),
    Case("$patch replace in a map replaces the map", "Deployment",
         deployment({"selector": {"matchLabels": {"a": "1", "b": "2"}}}),
         {"spec": {"selector": {"$patch": "replace", "matchLabels": {"c": "3"}}}},
         deployment({"selector": {"matchLabels": {"c": "3"}}})),
    Case("$patch delete in a map empties the map", "ConfigMap",
         {"metadata": {"name": "c"}, "data": {"a": "1"}},
         {"data": {"$patch": "delete"}},
         {"metadata": {"name": "c"}, "data": {}}),
    Case("$retainKeys drops the strategy keys it does not list (apply to Recreate)", "Deployment",
         deployment({"strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1}}}),
         {"spec": {"strategy": {"$retainKeys": ["type"], "rollingUpdate": None, "type": "Recreate"}}},
         deployment({"strategy": {"type": "Recreate"}})),
    Case("$retainKeys on a volume swaps its source", "Pod",
         pod({"containers": [C_NGINX], "volumes": [{"name": "v", "emptyDir": {}}]}),
         {"spec": {"volumes": [{"$retainKeys": ["configMap", "name"], "configMap": {"name": "cm"}, "name": "v"}]}},
         pod({"containers": [C_NGINX], "volumes": [{"name": "v", "configMap": {"name": "cm"}}]})),
    Case("a value of another type replaces the live one", "ConfigMap",
         {"metadata": {"name": "c"}, "data": {"a": "1"}},
         {"data": ["not", "a", "map"]},
         {"metadata": {"name": "c"}, "data": ["not", "a", "map"]}),
    Case("nulls inside a value the live object lacks are not stored", "Deployment",
         deployment({}),
         {"spec": {"strategy": {"type": "Recreate", "rollingUpdate": None}}},
         deployment({"strategy": {"type": "Recreate"}})),
    Case("status conditions merge by type", "Deployment",
         {**deployment({}), "status": {"conditions": [{"type": "Available", "status": "False"}]}},
         {"status": {"conditions": [{"type": "Progressing", "status": "True"}, {"type": "Available", "status": "True"}]}},
         {**deployment({}), "status": {"conditions": [{"type": "Progressing", "status": "True"}, {"type": "Available", "status": "True"}]}}),
    Case("a kind's unknown field merges with the defaults", "Event",
         {"metadata": {"name": "e"}, "involvedObject": {"kind": "Pod", "name": "a"}, "count": 1},
         {"involvedObject": {"name": "b"}, "count": 2, "newList": [1]},
         {"metadata": {"name": "e"}, "involvedObject": {"kind": "Pod", "name": "b"}, "count": 2, "newList": [1]}),
    Case("a $patch replace at the top replaces the object", "ConfigMap",
         {"metadata": {"name": "c"}, "data": {"a": "1"}},
         {"$patch": "replace", "metadata": {"name": "c"}},
         {"metadata": {"name": "c"}}),
]  # fmt: skip


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_strategic_merge_patch_rules(case: Case) -> None:
    live = copy.deepcopy(case.live)
    assert smp(case.kind, live, case.patch) == case.want
    assert live == case.live  # the live object is not modified


# ---- errors: the HTTP answer interpretStrategicMergePatchError gives -----------------------


@dataclass(frozen=True)
class ErrorCase:
    id: str
    patch: dict[str, Any] | str
    code: int
    message: str


ERROR_CASES = [
    ErrorCase("a body that is not JSON is a 400", "{nope", 400, "Expecting property name"),
    ErrorCase("a body that is a JSON array is a 400", "[]", 400,
              "json: cannot unmarshal array into Go value of type map[string]interface {}"),
    ErrorCase("an element without its merge key is a 500 naming the key",
              {"spec": {"containers": [{"image": "x"}]}}, 500,
              "map: map[image:x] does not contain declared merge key: name"),
    ErrorCase("$patch merge in a list is refused with a 500",
              {"spec": {"containers": [{"name": "a", "$patch": "merge"}]}}, 500,
              "merging lists cannot yet be specified in the patch"),
    ErrorCase("an unknown $patch value in a map is a 500",
              {"spec": {"$patch": "frobnicate"}}, 500, "unknown patch type: frobnicate in map:"),
    ErrorCase("$retainKeys that is not a list is a 400",
              {"spec": {"$retainKeys": "containers"}}, 400, "invalid patch format of retainKeys"),
    ErrorCase("a patch key missing from $retainKeys is a 400",
              {"spec": {"$retainKeys": ["volumes"], "hostname": "h"}}, 400,
              "invalid patch format of retainKeys"),
    ErrorCase("a patch list out of $setElementOrder order is a 500",
              {"spec": {"$setElementOrder/containers": [{"name": "a"}], "containers": [{"name": "b"}]}}, 500,
              "doesn't match $setElementOrder list"),
    ErrorCase("a $setElementOrder that is not a list is a 500",
              {"spec": {"$setElementOrder/containers": {"name": "a"}}}, 500,
              "expected a []interface {}, but received a map[string]interface {}"),
    ErrorCase("a malformed $deleteFromPrimitiveList key is a 400",
              {"metadata": {"$deleteFromPrimitiveList": ["a"]}}, 400,
              "invalid patch format of primitive list"),
    ErrorCase("a list of lists is a 422", {"metadata": {"finalizers": [["a"]]}}, 422,
              "the server rejected our request due to an error in our request"),
    ErrorCase("elements of different types are a 500", {"metadata": {"finalizers": [1]}}, 500,
              "list element types are not identical"),
]  # fmt: skip


@pytest.mark.parametrize("case", ERROR_CASES, ids=[c.id for c in ERROR_CASES])
def test_strategic_merge_patch_errors(case: ErrorCase) -> None:
    live = pod({"containers": [{"name": "a", "image": "a"}]}, finalizers=["x"])
    with pytest.raises(PatchError) as info:
        smp("Pod", live, case.patch)
    assert info.value.code == case.code
    assert case.message in info.value.message


def test_a_list_of_lists_carries_its_error_as_the_cause() -> None:
    with pytest.raises(PatchError) as info:
        smp("Pod", pod({}, finalizers=["x"]), {"metadata": {"finalizers": [["a"]]}})
    assert info.value.reason == "Invalid"
    assert info.value.details == {
        "causes": [
            {"reason": "UnexpectedServerResponse", "message": "lists of lists are not supported"}
        ]
    }


def test_a_500_has_no_reason_as_the_api_server_answers_go_errors() -> None:
    with pytest.raises(PatchError) as info:
        smp("Pod", pod({"containers": [C_NGINX]}), {"spec": {"containers": [{"image": "x"}]}})
    status = info.value.status()
    assert "reason" not in status
    assert status["code"] == 500
    assert status["status"] == "Failure"


# ---- properties ----------------------------------------------------------------------------

names = st.sampled_from(["a", "b", "c", "d"])
env = st.lists(
    st.fixed_dictionaries({"name": names, "value": st.sampled_from(["1", "2"])}),
    max_size=3,
    unique_by=lambda e: e["name"],
)
containers = st.lists(
    st.fixed_dictionaries(
        {"name": names},
        optional={
            "image": st.sampled_from(["x", "y"]),
            "env": env,
            "args": st.lists(names, max_size=2),
        },
    ),
    min_size=1,
    max_size=3,
    unique_by=lambda c: c["name"],
)
finalizers = st.lists(names, max_size=3, unique=True)


@st.composite
def pods(draw: st.DrawFn) -> dict[str, Any]:
    return pod({"containers": draw(containers)}, finalizers=draw(finalizers))


@st.composite
def pod_patches(draw: st.DrawFn) -> dict[str, Any]:
    patch: dict[str, Any] = {"spec": {"containers": draw(containers)}}
    if draw(st.booleans()):
        patch["metadata"] = {"finalizers": draw(finalizers)}
    if draw(st.booleans()):
        patch["spec"]["containers"].append({"name": draw(names), "$patch": "delete"})
    return patch


@given(pods(), pod_patches())
def test_applying_the_same_patch_twice_gives_the_same_result(
    live: dict[str, Any], patch: dict[str, Any]
) -> None:
    once = smp("Pod", live, patch)
    assert smp("Pod", once, patch) == once


@given(pods(), pod_patches())
def test_a_patch_never_leaves_a_directive_in_the_object(
    live: dict[str, Any], patch: dict[str, Any]
) -> None:
    assert "$patch" not in json.dumps(smp("Pod", live, patch))


@given(pods())
def test_an_empty_patch_changes_nothing(live: dict[str, Any]) -> None:
    assert smp("Pod", live, {}) == live


def test_every_served_kind_has_metadata_with_owner_references_merged_by_uid() -> None:
    for kind, struct in KINDS.items():
        owner_refs = struct["metadata"].struct["ownerReferences"]
        assert (owner_refs.patch_strategy, owner_refs.merge_key) == ("merge", "uid"), kind
