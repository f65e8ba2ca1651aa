"""pods/ephemeralcontainers: what may change, and upstream's words when it may not."""

from __future__ import annotations

from typing import Any

import pytest

from podwall.apiserver import ephemeral


def pod(*ephemeral_containers: dict[str, Any]) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "containers": [{"name": "app", "image": "busybox"}],
        "initContainers": [{"name": "setup", "image": "busybox"}],
    }
    if ephemeral_containers:
        spec["ephemeralContainers"] = list(ephemeral_containers)
    return {"metadata": {"name": "p"}, "spec": spec}


def debugger(**extra: Any) -> dict[str, Any]:
    return {"name": "debugger", "image": "busybox", **extra}


CASES = [
    ("valid", pod(debugger()), []),
    ("target-container", pod(debugger(targetContainerName="app")), []),
    ("target-init-container", pod(debugger(targetContainerName="setup")), []),
    ("empty-resources-as-kubectl-sends", pod(debugger(resources={})), []),
    (
        "target-missing",
        pod(debugger(targetContainerName="nope")),
        ['spec.ephemeralContainers[0].targetContainerName: Not found: "nope"'],
    ),
    ("no-name", pod({"image": "busybox"}), ["spec.ephemeralContainers[0].name: Required value"]),
    (
        "no-image",
        pod({"name": "debugger"}),
        ["spec.ephemeralContainers[0].image: Required value"],
    ),
    (
        "name-of-a-container",
        pod(debugger(name="app")),
        ['spec.ephemeralContainers[0].name: Duplicate value: "app"'],
    ),
    (
        "name-twice",
        pod(debugger(), debugger()),
        ['spec.ephemeralContainers[1].name: Duplicate value: "debugger"'],
    ),
    (
        "ports",
        pod(debugger(ports=[{"containerPort": 80}])),
        ["spec.ephemeralContainers[0].ports: Forbidden: cannot be set for an Ephemeral Container"],
    ),
    *[
        (
            field,
            pod(debugger(**{field: {"exec": {"command": ["true"]}}})),
            [
                f"spec.ephemeralContainers[0].{field}: Forbidden: cannot be set for an "
                "Ephemeral Container"
            ],
        )
        for field in ("livenessProbe", "readinessProbe", "startupProbe", "lifecycle")
    ],
    (
        "resources",
        pod(debugger(resources={"limits": {"cpu": "1"}})),
        [
            "spec.ephemeralContainers[0].resources: Forbidden: cannot be set for an Ephemeral "
            "Container"
        ],
    ),
    (
        "subpath",
        pod(debugger(volumeMounts=[{"name": "v", "mountPath": "/v", "subPath": "x"}])),
        [
            "spec.ephemeralContainers[0].volumeMounts[0].subPath: Forbidden: cannot be set for "
            "an Ephemeral Container"
        ],
    ),
]


@pytest.mark.parametrize(("new", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_validation_of_new_ephemeral_containers(new: dict[str, Any], expected: list[str]) -> None:
    assert [e.render() for e in ephemeral.validate_update(new, pod())] == expected


def test_an_existing_one_cannot_be_removed() -> None:
    errs = ephemeral.validate_update(pod(), pod(debugger()))
    assert [e.render() for e in errs] == [
        'spec.ephemeralContainers: Forbidden: existing ephemeral containers "debugger" may '
        "not be removed\n"
    ]


def test_an_existing_one_cannot_be_changed() -> None:
    errs = ephemeral.validate_update(pod(debugger(image="alpine")), pod(debugger()))
    assert [e.render() for e in errs] == [
        'spec.ephemeralContainers: Forbidden: existing ephemeral containers "debugger" may '
        "not be changed\n"
    ]


def test_only_ephemeral_containers_are_taken_and_new_ones_are_defaulted() -> None:
    current = pod(debugger(terminationMessagePath="/x"))
    given = pod(debugger(terminationMessagePath="/x"), debugger(name="second"))
    given["spec"]["containers"] = [{"name": "other", "image": "nginx"}]
    given["metadata"]["labels"] = {"a": "b"}
    out = ephemeral.with_ephemeral(current, given)
    assert out["spec"]["containers"] == current["spec"]["containers"]
    assert out["metadata"] == current["metadata"]
    first, second = out["spec"]["ephemeralContainers"]
    assert first == debugger(terminationMessagePath="/x")  # existing: left as stored
    assert second == debugger(
        name="second",
        imagePullPolicy="Always",
        terminationMessagePath="/dev/termination-log",
        terminationMessagePolicy="File",
    )
    assert ephemeral.validate_update(out, current) == []


@pytest.mark.parametrize(
    ("image", "policy"),
    [
        ("busybox", "Always"),
        ("busybox:latest", "Always"),
        ("busybox:1.36", "IfNotPresent"),
        ("localhost:5000/busybox", "Always"),
        ("nicolaka/netshoot@sha256:abc", "IfNotPresent"),
    ],
)
def test_default_image_pull_policy(image: str, policy: str) -> None:
    assert ephemeral.default_image_pull_policy(image) == policy
