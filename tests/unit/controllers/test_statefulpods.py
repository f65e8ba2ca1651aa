"""StatefulSet pods: identity, revision, defaults."""

from __future__ import annotations

from typing import Any

import pytest

from podwall.controllers import statefulpods as sp
from podwall.controllers.revisions import new_revision

SET: dict[str, Any] = {
    "apiVersion": "apps/v1",
    "kind": "StatefulSet",
    "metadata": {"name": "web", "namespace": "ns", "uid": "u1"},
    "spec": {
        "serviceName": "nginx",
        "template": {
            "metadata": {"labels": {"app": "web"}, "annotations": {"a": "b"}},
            "spec": {"containers": [{"name": "nginx", "image": "nginx:1"}]},
        },
    },
}


@pytest.mark.parametrize(
    ("name", "ordinal", "member"),
    [
        ("web-0", 0, True),
        ("web-12", 12, True),
        ("web-x", None, False),
        ("web", None, False),
        ("webby-1", 1, False),
        ("web-web-1", 1, False),
    ],
)
def test_ordinal_and_membership_come_from_the_name(
    name: str, ordinal: int | None, member: bool
) -> None:
    pod = {"metadata": {"name": name}}
    assert sp.ordinal_of(pod) == ordinal
    assert sp.is_member(SET, pod) is member


def test_a_pod_carries_its_identity_and_revision() -> None:
    pod = sp.new_pod(SET, 2, "web-abc")
    assert pod["metadata"]["name"] == "web-2"
    assert pod["metadata"]["namespace"] == "ns"
    assert pod["metadata"]["labels"] == {
        "app": "web",
        "statefulset.kubernetes.io/pod-name": "web-2",
        "apps.kubernetes.io/pod-index": "2",
        "controller-revision-hash": "web-abc",
    }
    assert pod["metadata"]["annotations"] == {"a": "b"}
    assert (pod["spec"]["hostname"], pod["spec"]["subdomain"]) == ("web-2", "nginx")
    assert sp.pod_revision(pod) == "web-abc"


def test_without_a_service_name_a_pod_has_no_subdomain() -> None:
    lone = {**SET, "spec": {**SET["spec"], "serviceName": ""}}
    assert "subdomain" not in sp.new_pod(lone, 0, "r")["spec"]


def test_apply_revision_puts_the_revisions_template_back() -> None:
    old = new_revision(SET, "h", 1)
    changed = {**SET, "spec": {**SET["spec"], "template": {"spec": {"containers": []}}}}
    assert sp.apply_revision(changed, old)["spec"]["template"] == SET["spec"]["template"]


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        pytest.param({}, {"type": "RollingUpdate", "rollingUpdate": {"partition": 0}}, id="none"),
        pytest.param({"type": "OnDelete"}, {"type": "OnDelete"}, id="on-delete"),
        pytest.param(
            {"type": "RollingUpdate", "rollingUpdate": {"partition": 2}},
            {"type": "RollingUpdate", "rollingUpdate": {"partition": 2}},
            id="a-partition-kept",
        ),
        pytest.param(
            {"type": "RollingUpdate", "rollingUpdate": {}},
            {"type": "RollingUpdate", "rollingUpdate": {"partition": 0}},
            id="partition-filled-in",
        ),
    ],
)
def test_default_update_strategy(given: dict[str, Any], expected: dict[str, Any]) -> None:
    spec: dict[str, Any] = {"updateStrategy": given}
    sp.default_statefulset_spec(spec)
    assert spec["updateStrategy"] == expected
    assert spec["podManagementPolicy"] == "OrderedReady"
