"""A container's environment: Service variables, its own in order, `$(VAR)`, the downward API."""

from __future__ import annotations

from typing import Any

import pytest

from podwall.agent.podenv import environment, expand, field_value

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


def test_variables_see_the_ones_before_them_and_the_downward_api() -> None:
    container = {
        "env": [
            {"name": "POD_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}},
            {"name": "URL", "value": "http://$(POD_IP):$(PORT)/$(HOST)"},
            {"name": "PORT", "value": "80"},
            {"name": "CM", "valueFrom": {"configMapKeyRef": {"name": "c", "key": "k"}}},
        ]
    }
    env = environment(POD, container, {"HOST": "198.19.0.1"})
    assert env == {
        "HOST": "198.19.0.1",
        "POD_IP": "198.18.1.5",
        "URL": "http://198.18.1.5:$(PORT)/198.19.0.1",
        "PORT": "80",
    }
