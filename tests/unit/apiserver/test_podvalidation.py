"""The API server's Pod rules: ValidatePodCreate, template pod specs, ValidatePodUpdate."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from podwall.apiserver import podvalidation as pv
from podwall.apiserver.admission import default
from podwall.apiserver.resources import lookup
from tests.unit.apiserver.admitting import with_field

PODS = lookup("", "v1", "pods")
assert PODS is not None


def pod(**spec: Any) -> dict[str, Any]:
    """A defaulted Pod, as the store holds it."""
    body: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "web", "namespace": "default", "labels": {"app": "web"}},
        "spec": {
            "containers": [
                {"name": "web", "image": "nginx:1.26", "ports": [{"containerPort": 80}]}
            ],
            **spec,
        },
    }
    assert PODS is not None
    default(PODS, body)
    return body


def rendered(errs: list[Any]) -> list[str]:
    return [e.render() for e in errs]


def edited(path: str, value: Any, base: dict[str, Any] | None = None) -> dict[str, Any]:
    """`base` (a fresh pod) with the value at a dotted path (`spec.containers.0.image`)."""
    return with_field(base if base is not None else pod(), path, value)


C0 = "spec.containers.0"
CREATE = [
    ("no containers", edited("spec.containers", []), ["spec.containers: Required value"]),
    ("a container without a name", edited(f"{C0}.name", None),
     ["spec.containers[0].name: Required value"]),
    ("a container name that is not a DNS label", edited(f"{C0}.name", "Web"),
     ['spec.containers[0].name: Invalid value: "Web": a lowercase RFC 1123 label must consist '
      "of lower case alphanumeric characters or '-', and must start and end with an "
      "alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is "
      "'[a-z0-9]([-a-z0-9]*[a-z0-9])?')"]),
    ("two containers of one name",
     edited("spec.containers", [{"name": "a", "image": "x"}, {"name": "a", "image": "y"}]),
     ['spec.containers[1].name: Duplicate value: "a"']),
    ("an init container named as a container",
     edited("spec.initContainers", [{"name": "web", "image": "x"}]),
     ['spec.initContainers[0].name: Duplicate value: "web"']),
    ("a container without an image", edited(f"{C0}.image", None),
     ["spec.containers[0].image: Required value"]),
    ("an image with a trailing space", edited(f"{C0}.image", "nginx "),
     ['spec.containers[0].image: Invalid value: "nginx ": must not have leading or trailing '
      "whitespace"]),
    ("a containerPort out of range",
     edited(f"{C0}.ports", [{"containerPort": 0x10000, "protocol": "TCP"}]),
     ["spec.containers[0].ports[0].containerPort: Invalid value: 65536: must be between 1 and "
      "65535, inclusive"]),
    ("a hostPort out of range",
     edited(f"{C0}.ports", [{"containerPort": 80, "hostPort": 70000, "protocol": "TCP"}]),
     ["spec.containers[0].ports[0].hostPort: Invalid value: 70000: must be between 1 and 65535, "
      "inclusive"]),
    ("an unknown protocol", edited(f"{C0}.ports", [{"containerPort": 80, "protocol": "ICMP"}]),
     ['spec.containers[0].ports[0].protocol: Unsupported value: "ICMP": supported values: '
      '"SCTP", "TCP", "UDP"']),
    ("a port name that is not an IANA_SVC_NAME",
     edited(f"{C0}.ports", [{"containerPort": 80, "name": "no_way", "protocol": "TCP"}]),
     ['spec.containers[0].ports[0].name: Invalid value: "no_way": must contain only '
      "alpha-numeric characters (a-z, 0-9), and hyphens (-)"]),
    ("a port name used twice in one container",
     edited(f"{C0}.ports", [{"containerPort": 80, "name": "http", "protocol": "TCP"},
                            {"containerPort": 81, "name": "http", "protocol": "TCP"}]),
     ['spec.containers[0].ports[1].name: Duplicate value: "http"']),
    ("an unknown restartPolicy", edited("spec.restartPolicy", "Sometimes"),
     ['spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", '
      '"OnFailure", "Never"']),
    ("ephemeral containers on create",
     edited("spec.ephemeralContainers", [{"name": "debug", "image": "busybox"}]),
     ["spec.ephemeralContainers: Forbidden: cannot be set on create"]),
    ("a node while scheduling gates remain",
     pod(nodeName="n1", schedulingGates=[{"name": "wait"}]),
     ["spec.nodeName: Forbidden: cannot be set until all schedulingGates have been cleared"]),
    ("activeDeadlineSeconds of 0", pod(activeDeadlineSeconds=0),
     ["spec.activeDeadlineSeconds: Invalid value: 0: must be between 1 and 2147483647, "
      "inclusive"]),
    ("a toleration with an unknown operator", pod(tolerations=[{"key": "k", "operator": "Near"}]),
     ['spec.tolerations[0].operator: Unsupported value: "Near": supported values: "Equal", '
      '"Exists"']),
    ("tolerationSeconds without NoExecute",
     pod(tolerations=[{"key": "k", "operator": "Exists", "effect": "NoSchedule",
                       "tolerationSeconds": 5}]),
     ['spec.tolerations[0].effect: Invalid value: "NoSchedule": effect must be \'NoExecute\' '
      "when `tolerationSeconds` is set"]),
]  # fmt: skip


@pytest.mark.parametrize(("obj", "expected"), [c[1:] for c in CREATE], ids=[c[0] for c in CREATE])
def test_create_names_what_is_wrong_in_upstreams_words(
    obj: dict[str, Any], expected: list[str]
) -> None:
    assert rendered(pv.validate_pod(obj) + pv.validate_pod_create(obj)) == expected


def test_a_plain_pod_is_valid() -> None:
    assert pv.validate_pod(pod()) + pv.validate_pod_create(pod()) == []


def test_a_template_may_not_have_ephemeral_containers_and_is_named_by_its_path() -> None:
    spec = {"containers": [{"name": "a"}], "restartPolicy": "Always",
            "ephemeralContainers": [{"name": "d", "image": "busybox"}]}  # fmt: skip
    assert rendered(pv.validate_template_spec(spec, "spec.template.spec")) == [
        "spec.template.spec.containers[0].image: Required value",
        "spec.template.spec.ephemeralContainers: Forbidden: ephemeral containers not allowed "
        "in pod template",
    ]


# Updates.

OLD = pod(tolerations=[{"key": "k", "operator": "Exists", "effect": "NoExecute",
                        "tolerationSeconds": 30}])  # fmt: skip
FORBIDDEN = f"spec: Forbidden: {pv.UPDATE_FORBIDDEN}"
TOLERATION = {"key": "k", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 30}

ALLOWED = [
    ("the image of a container", edited(f"{C0}.image", "nginx:1.27", OLD)),
    ("labels", edited("metadata.labels", {"app": "web", "tier": "front"}, OLD)),
    ("annotations", edited("metadata.annotations", {"note": "x"}, OLD)),
    ("activeDeadlineSeconds set", edited("spec.activeDeadlineSeconds", 60, OLD)),
    ("a toleration added", edited("spec.tolerations", [TOLERATION, {"operator": "Exists"}], OLD)),
    ("a toleration's seconds",
     edited("spec.tolerations", [{**TOLERATION, "tolerationSeconds": 9}], OLD)),
    ("hostNetwork: false spelled out", edited("spec.hostNetwork", False, OLD)),
    ("an empty list spelled out", edited("spec.volumes", [], OLD)),
    ("nothing", OLD),
]  # fmt: skip


@pytest.mark.parametrize("new", [c[1] for c in ALLOWED], ids=[c[0] for c in ALLOWED])
def test_updates_upstream_allows_pass(new: dict[str, Any]) -> None:
    assert pv.validate_pod_update(new, OLD) == []


DEADLINE = edited("spec.activeDeadlineSeconds", 60, OLD)
REFUSED = [
    ("a new container port", OLD,
     edited(f"{C0}.ports", [{"containerPort": 80, "protocol": "TCP"},
                            {"containerPort": 443, "protocol": "TCP"}], OLD), [FORBIDDEN]),
    ("a command", OLD, edited(f"{C0}.command", ["sleep", "1"], OLD), [FORBIDDEN]),
    ("an env var", OLD, edited(f"{C0}.env", [{"name": "A", "value": "1"}], OLD), [FORBIDDEN]),
    ("the node", OLD, edited("spec.nodeName", "elsewhere", OLD), [FORBIDDEN]),
    ("ephemeral containers, outside their subresource", OLD,
     edited("spec.ephemeralContainers", [{"name": "d", "image": "busybox"}], OLD), [FORBIDDEN]),
    ("a container added", OLD,
     edited("spec.containers", [*OLD["spec"]["containers"], {"name": "b", "image": "x"}], OLD),
     ["spec.containers: Forbidden: pod updates may not add or remove containers"]),
    ("an image removed", OLD, edited(f"{C0}.image", "", OLD),
     ["spec.containers[0].image: Required value"]),
    ("activeDeadlineSeconds raised", DEADLINE, edited("spec.activeDeadlineSeconds", 90, DEADLINE),
     ["spec.activeDeadlineSeconds: Invalid value: 90: must be less than or equal to previous "
      "value"]),
    ("activeDeadlineSeconds unset", DEADLINE, edited("spec.activeDeadlineSeconds", None, DEADLINE),
     ["spec.activeDeadlineSeconds: Invalid value: null: must not update from a positive "
      "integer to nil value"]),
    ("a toleration changed", OLD, edited("spec.tolerations", [{**TOLERATION, "key": "j"}], OLD),
     ["spec.tolerations: Forbidden: existing toleration can not be modified except its "
      "tolerationSeconds"]),
    ("a scheduling gate added", OLD, edited("spec.schedulingGates", [{"name": "g"}], OLD),
     ["spec.schedulingGates[0].name: Forbidden: only deletion is allowed, but found new "
      "scheduling gate 'g'"]),
    ("terminationGracePeriodSeconds changed", OLD,
     edited("spec.terminationGracePeriodSeconds", 5, OLD), [FORBIDDEN]),
]  # fmt: skip


@pytest.mark.parametrize(
    ("old", "new", "expected"), [c[1:] for c in REFUSED], ids=[c[0] for c in REFUSED]
)
def test_updates_upstream_refuses_are_named(
    old: dict[str, Any], new: dict[str, Any], expected: list[str]
) -> None:
    assert rendered(pv.validate_pod_update(new, old)) == expected


def test_a_negative_grace_period_may_become_1_and_nothing_else() -> None:
    old = edited("spec.terminationGracePeriodSeconds", -1, OLD)
    assert pv.validate_pod_update(edited("spec.terminationGracePeriodSeconds", 1, old), old) == []
    assert rendered(
        pv.validate_pod_update(edited("spec.terminationGracePeriodSeconds", 2, old), old)
    ) == [FORBIDDEN]


LABEL = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=10)
IMAGE = st.from_regex(r"[a-z][a-z0-9]{0,8}(:[0-9]{1,2}\.[0-9]{1,2})?", fullmatch=True)


@given(
    labels=st.dictionaries(LABEL, LABEL, max_size=4), images=st.lists(IMAGE, min_size=2, max_size=2)
)
def test_an_update_of_labels_and_images_alone_is_always_accepted(
    labels: dict[str, str], images: list[str]
) -> None:
    old = pod(initContainers=[{"name": "init", "image": "busybox"}])
    new = edited("metadata.labels", labels, old)
    new["spec"]["containers"][0]["image"] = images[0]
    new["spec"]["initContainers"][0]["image"] = images[1]
    assert pv.validate_pod_update(new, old) == []


@given(port=st.integers(min_value=1, max_value=65535).filter(lambda p: p != 80))
def test_an_update_of_a_container_port_is_always_refused(port: int) -> None:
    new = edited(f"{C0}.ports", [{"containerPort": port, "protocol": "TCP"}], OLD)
    assert rendered(pv.validate_pod_update(new, OLD)) == [FORBIDDEN]
