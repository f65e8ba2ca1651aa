"""Pod spec rules: the analyzer's lenient reading and the API server's (`served=True`)."""

from __future__ import annotations

from typing import Any

import pytest

from podwall.model.podvalidation import validate_pod_spec

CASES = [
    ("no containers", {}, [], ["spec.containers: Required value"]),
    ("a container with only a name", {"containers": [{"name": "c"}]},
     [], ["spec.containers[0].image: Required value"]),
    ("a nameless container", {"containers": [{"image": "x"}]},
     [], ["spec.containers[0].name: Required value"]),
    ("one port name in two containers",
     {"containers": [
         {"name": "a", "image": "x", "ports": [{"name": "http", "containerPort": 80}]},
         {"name": "b", "image": "x", "ports": [{"name": "http", "containerPort": 81}]}]},
     [], []),
    ("a restartPolicy left empty",
     {"containers": [{"name": "c", "image": "x"}], "restartPolicy": ""},
     [], ["spec.restartPolicy: Required value"]),
    ("an image of the wrong type is a type error, not a missing image",
     {"containers": [{"name": "c", "image": 5}]},
     [], ["spec.containers[0].image: Invalid value: 5: must be a string"]),
]  # fmt: skip


@pytest.mark.parametrize(
    ("spec", "analyzer", "served"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_the_api_server_asks_more_than_the_analyzer(
    spec: dict[str, Any], analyzer: list[str], served: list[str]
) -> None:
    """`served` adds the API server's requirements; restartPolicy is checked once defaulted."""
    full = {"restartPolicy": "Always", **spec}
    assert [e.render() for e in validate_pod_spec(spec, "spec")] == analyzer
    assert [e.render() for e in validate_pod_spec(full, "spec", served=True)] == served
