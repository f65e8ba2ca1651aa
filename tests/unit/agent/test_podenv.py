"""A container's environment: Service variables, its own in order, `$(VAR)`, the downward API."""

from __future__ import annotations

from typing import Any

import pytest

from podwall.agent.podenv import EnvError, environment, expand, field_value

POD: dict[str, Any] = {
    "metadata": {
        "name": "web-1",
        "namespace": "shop",
        "uid": "u-1",
        "labels": {"app": "web"},
        "annotations": {"team": "a"},
    },
    "spec": {"nodeName": "node-2", "serviceAccountName": "default"},
    "status": {
        "podIP": "198.18.1.5",
        "podIPs": [{"ip": "198.18.1.5"}],
        "hostIP": "198.18.255.2",
        "hostIPs": [{"ip": "198.18.255.2"}],
    },
}


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        pytest.param("metadata.name", "web-1", id="name"),
        pytest.param("metadata.namespace", "shop", id="namespace"),
        pytest.param("metadata.uid", "u-1", id="uid"),
        pytest.param("metadata.labels['app']", "web", id="a label"),
        pytest.param("metadata.annotations['team']", "a", id="an annotation"),
        pytest.param("metadata.labels['none']", "", id="a missing label"),
        pytest.param("spec.nodeName", "node-2", id="node"),
        pytest.param("spec.serviceAccountName", "default", id="service account"),
        pytest.param("status.podIP", "198.18.1.5", id="pod ip"),
        pytest.param("status.podIPs", "198.18.1.5", id="pod ips"),
        pytest.param("status.hostIP", "198.18.255.2", id="host ip"),
        pytest.param("metadata.generation", None, id="not served"),
    ],
)
def test_field_refs_read_the_pod(path: str, expected: str | None) -> None:
    assert field_value(POD, path) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param("$(A)-x", "1-x", id="defined"),
        pytest.param("$(B)", "$(B)", id="undefined stays"),
        pytest.param("$$(A)", "$(A)", id="escaped"),
        pytest.param("$A", "$A", id="no parentheses"),
    ],
)
def test_expand(value: str, expected: str) -> None:
    assert expand(value, {"A": "1"}) == expected


OBJECTS = {
    ("ConfigMap", "settings"): {"MODE": "fast", "LEVEL": "3"},
    ("Secret", "creds"): {"password": "s3cret"},
}


def lookup(kind: str, name: str) -> dict[str, str] | None:
    return OBJECTS.get((kind, name))


def test_variables_see_the_ones_before_them_and_the_downward_api() -> None:
    container = {
        "env": [
            {"name": "POD_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}},
            {"name": "URL", "value": "http://$(POD_IP):$(PORT)/$(HOST)"},
            {"name": "PORT", "value": "80"},
            {"name": "RES", "valueFrom": {"resourceFieldRef": {"resource": "limits.cpu"}}},
        ]
    }
    env = environment(POD, container, {"HOST": "198.19.0.1"}, lookup)
    assert env == {
        "HOST": "198.19.0.1",
        "POD_IP": "198.18.1.5",
        "URL": "http://198.18.1.5:$(PORT)/198.19.0.1",
        "PORT": "80",
    }


def test_env_from_then_key_refs_then_values_over_them() -> None:
    container = {
        "envFrom": [
            {"configMapRef": {"name": "settings"}},
            {"secretRef": {"name": "creds"}, "prefix": "DB_"},
        ],
        "env": [
            {"name": "LEVEL", "value": "9"},
            {"name": "PW", "valueFrom": {"secretKeyRef": {"name": "creds", "key": "password"}}},
            {"name": "M", "valueFrom": {"configMapKeyRef": {"name": "settings", "key": "MODE"}}},
        ],
    }
    assert environment(POD, container, {}, lookup) == {
        "MODE": "fast",
        "LEVEL": "9",
        "DB_password": "s3cret",
        "PW": "s3cret",
        "M": "fast",
    }


def _ref(field: str, name: str, key: str, optional: bool | None = None) -> dict[str, Any]:
    ref: dict[str, Any] = {"name": name, "key": key}
    if optional is not None:
        ref["optional"] = optional
    return {"env": [{"name": "X", "valueFrom": {field: ref}}]}


@pytest.mark.parametrize(
    ("container", "message"),
    [
        pytest.param(
            _ref("configMapKeyRef", "nope", "k"), 'configmap "nope" not found', id="no configmap"
        ),
        pytest.param(_ref("secretKeyRef", "nope", "k"), 'secret "nope" not found', id="no secret"),
        pytest.param(
            _ref("secretKeyRef", "creds", "user"),
            "couldn't find key user in Secret shop/creds",
            id="no key",
        ),
        pytest.param(
            {"envFrom": [{"configMapRef": {"name": "nope"}}]},
            'configmap "nope" not found',
            id="no configmap for envFrom",
        ),
    ],
)
def test_a_missing_source_is_a_config_error(container: dict[str, Any], message: str) -> None:
    with pytest.raises(EnvError) as caught:
        environment(POD, container, {}, lookup)
    assert str(caught.value) == message


def test_an_optional_source_may_be_missing() -> None:
    container = {
        **_ref("configMapKeyRef", "nope", "k", optional=True),
        "envFrom": [{"secretRef": {"name": "nope", "optional": True}}],
    }
    assert environment(POD, container, {}, lookup) == {}
    assert environment(POD, _ref("secretKeyRef", "creds", "user", True), {}, lookup) == {}
