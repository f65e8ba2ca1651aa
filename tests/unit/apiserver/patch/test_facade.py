"""apply_patch(): dispatch on the Content-Type and answer unknown ones as the API server does."""

from __future__ import annotations

import pytest

from podwall.apiserver.patch import (
    APPLY_PATCH,
    JSON_PATCH,
    MERGE_PATCH,
    STRATEGIC_MERGE_PATCH,
    PatchError,
    apply_patch,
    media_type,
    supported_patch_types,
)
from podwall.apiserver.patch.schema import KINDS, child, struct_for

POD = {
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {"name": "a"},
    "spec": {"containers": [{"name": "c"}]},
}


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        pytest.param(
            JSON_PATCH,
            '[{"op":"add","path":"/metadata/labels","value":{"x":"1"}}]',
            id="json patch",
        ),
        pytest.param(MERGE_PATCH, '{"metadata":{"labels":{"x":"1"}}}', id="merge patch"),
        pytest.param(
            STRATEGIC_MERGE_PATCH, '{"metadata":{"labels":{"x":"1"}}}', id="strategic merge patch"
        ),
        pytest.param(APPLY_PATCH, '{"metadata":{"name":"a","labels":{"x":"1"}}}', id="apply patch"),
        pytest.param(
            "application/merge-patch+json; charset=utf-8",
            '{"metadata":{"labels":{"x":"1"}}}',
            id="a charset parameter is ignored",
        ),
    ],
)
def test_every_patch_type_reaches_its_algorithm(content_type: str, body: str) -> None:
    got = apply_patch(POD, body.encode(), content_type, "Pod")
    assert got["metadata"]["labels"] == {"x": "1"}
    assert got["spec"] == POD["spec"]


def test_an_unknown_content_type_is_415_listing_the_accepted_types() -> None:
    with pytest.raises(PatchError) as info:
        apply_patch(POD, "{}", "application/json", "Pod")
    assert info.value.status() == {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": "the body of the request was in an unknown format - "
        "accepted media types include: application/json-patch+json, application/merge-patch+json, "
        "application/strategic-merge-patch+json, application/apply-patch+yaml",
        "reason": "UnsupportedMediaType",
        "code": 415,
    }


def test_a_kind_without_a_field_table_refuses_strategic_merge_patch_like_a_crd() -> None:
    assert supported_patch_types("Widget") == (JSON_PATCH, MERGE_PATCH, APPLY_PATCH)
    with pytest.raises(PatchError) as info:
        apply_patch({"kind": "Widget"}, "{}", STRATEGIC_MERGE_PATCH, "Widget")
    assert info.value.code == 415
    assert "strategic" not in info.value.message


def test_a_missing_object_is_patched_as_an_empty_one_and_the_404_is_the_callers() -> None:
    assert apply_patch(None, '{"metadata":{"name":"x"}}', MERGE_PATCH, "ConfigMap") == {
        "metadata": {"name": "x"}
    }


def test_media_type_cuts_parameters_and_case() -> None:
    assert (
        media_type("Application/Strategic-Merge-Patch+JSON ; charset=UTF-8")
        == STRATEGIC_MERGE_PATCH
    )


def test_a_bad_request_status_has_its_reason() -> None:
    with pytest.raises(PatchError) as info:
        apply_patch(POD, "nope", STRATEGIC_MERGE_PATCH, "Pod")
    status = info.value.status()
    assert (status["code"], status["reason"]) == (400, "BadRequest")


# ---- the merge-key table (schema.py) --------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "path", "strategy", "merge_key"),
    [
        pytest.param("Pod", "spec.containers", "merge", "name", id="pod containers merge by name"),
        pytest.param(
            "Pod",
            "spec.containers.ports",
            "merge",
            "containerPort",
            id="container ports merge by containerPort",
        ),
        pytest.param("Service", "spec.ports", "merge", "port", id="service ports merge by port"),
        pytest.param(
            "Deployment",
            "spec.template.spec.containers.env",
            "merge",
            "name",
            id="template env merges by name",
        ),
        pytest.param(
            "Deployment",
            "spec.template.spec.volumes",
            "merge",
            "name",
            id="template volumes merge by name",
        ),
        pytest.param(
            "ReplicaSet",
            "spec.template.spec.initContainers.volumeMounts",
            "merge",
            "mountPath",
            id="init container mounts merge by mountPath",
        ),
        pytest.param(
            "DaemonSet",
            "spec.template.spec.containers",
            "merge",
            "name",
            id="daemon set containers merge by name (kubectl set image)",
        ),
        pytest.param(
            "ReplicationController",
            "spec.template.spec.containers",
            "merge",
            "name",
            id="replication controller containers merge by name",
        ),
        pytest.param(
            "ReplicationController",
            "status.conditions",
            "merge",
            "type",
            id="replication controller conditions merge by type",
        ),
        pytest.param("Pod", "spec.tolerations", "", "", id="tolerations are replaced"),
        pytest.param("Node", "spec.taints", "", "", id="node taints are replaced (kubectl taint)"),
        pytest.param("Node", "status.addresses", "merge", "type", id="node addresses by type"),
        pytest.param("Pod", "spec.containers.command", "", "", id="command is replaced"),
        pytest.param(
            "NetworkPolicy", "spec.ingress", "", "", id="network policy ingress is replaced"
        ),
        pytest.param("Endpoints", "subsets", "", "", id="endpoints subsets are replaced"),
        pytest.param(
            "Namespace", "metadata.finalizers", "merge", "", id="object finalizers merge as a set"
        ),
        pytest.param(
            "Namespace", "spec.finalizers", "", "", id="namespace spec finalizers are replaced"
        ),
        pytest.param(
            "Event", "metadata.ownerReferences", "merge", "uid", id="owner references merge by uid"
        ),
    ],
)
def test_merge_key_table(kind: str, path: str, strategy: str, merge_key: str) -> None:
    struct = struct_for(kind)
    assert struct is not None
    field = child(struct, "")
    for name in path.split("."):
        field = child(struct, name)
        struct = field.struct
    assert (field.patch_strategy, field.merge_key) == (strategy, merge_key)


def test_the_table_covers_every_kind_podwall_serves() -> None:
    assert set(KINDS) == {
        "Namespace",
        "Pod",
        "Service",
        "Endpoints",
        "Node",
        "Deployment",
        "ReplicaSet",
        "ReplicationController",
        "DaemonSet",
        "StatefulSet",
        "ControllerRevision",
        "Job",
        "CronJob",
        "NetworkPolicy",
        "Event",
        "ConfigMap",
        "Secret",
    }
