"""ReplicationControllers through admission, as the API server admits one: born with
`replicas: 0` in its status, defaulted (SetDefaults_ReplicationController), then validated in
ValidateReplicationControllerSpec's words."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from podwall.apiserver import admission
from podwall.apiserver.errors import ApiError
from podwall.apiserver.rcvalidation import validate_replication_controller
from podwall.apiserver.resources import by_kind
from tests.unit.apiserver.admitting import admitted as admit
from tests.unit.apiserver.admitting import with_field

RCS = by_kind("v1", "ReplicationController")
assert RCS is not None

VALID: dict[str, Any] = {
    "apiVersion": "v1",
    "kind": "ReplicationController",
    "metadata": {"name": "frontend", "namespace": "stars"},
    "spec": {
        "replicas": 1,
        "template": {
            "metadata": {"labels": {"role": "frontend"}},
            "spec": {"containers": [{"name": "frontend", "image": "calico/star-probe:v0.1.0"}]},
        },
    },
}


def edited(path: str, value: Any) -> dict[str, Any]:
    """VALID with the field at the dotted `path` set to `value` (None: removed)."""
    return with_field(VALID, path, value)


def admitted(obj: dict[str, Any]) -> dict[str, Any]:
    return admit(RCS, obj)


def test_the_stars_frontend_is_defaulted_from_its_template_and_born_with_zero_replicas() -> None:
    out = admitted(edited("status", {"replicas": 7}))
    assert out["spec"]["selector"] == {"role": "frontend"}
    assert out["metadata"]["labels"] == {"role": "frontend"}
    assert out["status"] == {"replicas": 0}
    container = out["spec"]["template"]["spec"]["containers"][0]
    assert container["imagePullPolicy"] == "IfNotPresent"  # the template's own defaults


def test_replicas_default_to_one() -> None:
    assert admitted(edited("spec.replicas", None))["spec"]["replicas"] == 1


MISMATCH = (
    'spec.template.metadata.labels: Invalid value: map[string]string{"role":"frontend"}: '
    "`selector` does not match template `labels`"
)
INVALID: list[tuple[str, dict[str, Any], list[str]]] = [
    ("a selector that misses the template", edited("spec.selector", {"role": "backend"}),
     [MISMATCH]),
    ("a selector asking for more than the template has",
     edited("spec.selector", {"role": "frontend", "tier": "web"}), [MISMATCH]),
    ("no template", edited("spec.template", None),
     ["spec.selector: Required value", "spec.template: Required value"]),
    ("a template without labels and no selector", edited("spec.template.metadata", None),
     ["spec.selector: Required value"]),
    ("negative replicas", edited("spec.replicas", -1),
     ["spec.replicas: Invalid value: -1: must be greater than or equal to 0"]),
    ("negative minReadySeconds", edited("spec.minReadySeconds", -5),
     ["spec.minReadySeconds: Invalid value: -5: must be greater than or equal to 0"]),
    ("no containers", edited("spec.template.spec.containers", []),
     ["spec.template.spec.containers: Required value"]),
    ("a null container, as JSON may give one", edited("spec.template.spec.containers", [None]),
     ["spec.template.spec.containers[0].name: Required value"]),
    ("a restartPolicy but Always", edited("spec.template.spec.restartPolicy", "Never"),
     ['spec.template.spec.restartPolicy: Unsupported value: "Never": supported values: '
      '"Always"']),
    ("activeDeadlineSeconds", edited("spec.template.spec.activeDeadlineSeconds", 30),
     ["spec.template.spec.activeDeadlineSeconds: Invalid value: 30: must not be specified"]),
    ("a template label that is not a label",
     edited("spec.template.metadata.labels", {"role": "front end"}),
     ['spec.template.labels: Invalid value: "front end": a valid label must be an empty string '
      "or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "
      "alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for "
      "validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"]),
]  # fmt: skip


@pytest.mark.parametrize(("obj", "messages"), [c[1:] for c in INVALID],
                         ids=[c[0] for c in INVALID])  # fmt: skip
def test_an_invalid_rc_is_refused_in_the_api_servers_words(
    obj: dict[str, Any], messages: list[str]
) -> None:
    with pytest.raises(ApiError) as caught:
        admitted(obj)
    assert caught.value.code == 422
    assert caught.value.message.startswith('ReplicationController "frontend" is invalid: ')
    found = [e.render() for e in validate_replication_controller(obj)]
    assert found == messages


def test_an_update_may_change_the_selector_with_the_template() -> None:
    obj = admitted(copy.deepcopy(VALID))
    obj["spec"]["selector"] = {"role": "frontend", "v": "2"}
    obj["spec"]["template"]["metadata"]["labels"]["v"] = "2"
    assert RCS is not None
    admission.default(RCS, obj)
    admission.validate(RCS, obj)  # no error: an RC's selector is not immutable
