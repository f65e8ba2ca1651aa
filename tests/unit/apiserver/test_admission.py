"""Admission of DaemonSets and StatefulSets: what PrepareForCreate, the defaults and validation
make of one."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from podwall.apiserver import admission
from podwall.apiserver.errors import ApiError
from podwall.apiserver.resources import by_kind
from tests.unit.apiserver.admitting import admitted as admit
from tests.unit.apiserver.admitting import with_field

DAEMONSETS = by_kind("apps/v1", "DaemonSet")
assert DAEMONSETS is not None

VALID: dict[str, Any] = {
    "apiVersion": "apps/v1",
    "kind": "DaemonSet",
    "metadata": {"name": "agent", "namespace": "default"},
    "spec": {
        "selector": {"matchLabels": {"app": "agent"}},
        "template": {
            "metadata": {"labels": {"app": "agent"}},
            "spec": {"containers": [{"name": "agent", "image": "agent:1"}]},
        },
    },
}


def edited(path: str, value: Any) -> dict[str, Any]:
    """VALID with the field at the dotted `path` set to `value` (None: removed)."""
    return with_field(VALID, path, value)


def admitted(obj: dict[str, Any]) -> dict[str, Any]:
    return admit(DAEMONSETS, obj)


def test_a_valid_daemonset_is_defaulted_and_born_with_zero_counts() -> None:
    out = admitted(edited("status", {"numberReady": 5}))
    assert out["status"] == {
        "currentNumberScheduled": 0,
        "numberMisscheduled": 0,
        "desiredNumberScheduled": 0,
        "numberReady": 0,
    }
    assert out["spec"]["updateStrategy"] == {
        "type": "RollingUpdate",
        "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0},
    }
    assert out["spec"]["revisionHistoryLimit"] == 10


RU = "spec.updateStrategy"
INVALID: list[tuple[str, dict[str, Any], str]] = [
    ("labels the selector does not pick", edited("spec.template.metadata.labels", {"app": "x"}),
     'spec.template.metadata.labels: Invalid value: map[string]string{"app":"x"}: '
     "`selector` does not match template `labels`"),
    ("no selector", edited("spec.selector", None),
     'spec.template.metadata.labels: Invalid value: map[string]string{"app":"agent"}: '
     "`selector` does not match template `labels`"),
    ("an empty selector", edited("spec.selector", {}),
     "spec.selector: Invalid value: {}: empty selector is invalid for daemonset"),
    ("no containers", edited("spec.template.spec.containers", []),
     "spec.template.spec.containers: Required value"),
    ("a restartPolicy but Always", edited("spec.template.spec.restartPolicy", "OnFailure"),
     'spec.template.spec.restartPolicy: Unsupported value: "OnFailure": supported values: '
     '"Always"'),
    ("activeDeadlineSeconds", edited("spec.template.spec.activeDeadlineSeconds", 5),
     "spec.template.spec.activeDeadlineSeconds: Invalid value: 5: "
     "activeDeadlineSeconds in DaemonSet is not Supported"),
    ("negative minReadySeconds", edited("spec.minReadySeconds", -1),
     "spec.minReadySeconds: Invalid value: -1: must be greater than or equal to 0"),
    ("an unknown strategy", edited(RU, {"type": "Recreate"}),
     'spec.updateStrategy: Unsupported value: {"type": "Recreate"}: supported values: '
     '"RollingUpdate", "OnDelete"'),
    ("both zero", edited(RU, {"type": "RollingUpdate",
                              "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 0}}),
     "spec.updateStrategy.rollingUpdate.maxUnavailable: Required value: "
     "cannot be 0 when maxSurge is 0"),
    ("both set", edited(RU, {"type": "RollingUpdate",
                             "rollingUpdate": {"maxUnavailable": 1, "maxSurge": "10%"}}),
     'spec.updateStrategy.rollingUpdate.maxSurge: Invalid value: "10%": '
     "may not be set when maxUnavailable is non-zero"),
    ("more than 100%", edited(RU, {"type": "RollingUpdate",
                                   "rollingUpdate": {"maxUnavailable": "150%"}}),
     'spec.updateStrategy.rollingUpdate.maxUnavailable: Invalid value: "150%": '
     "must not be greater than 100%"),
    ("not a percent", edited(RU, {"type": "RollingUpdate",
                                  "rollingUpdate": {"maxUnavailable": "half"}}),
     'spec.updateStrategy.rollingUpdate.maxUnavailable: Invalid value: "half": a valid percent '
     "string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex "
     "used for validation is '[0-9]+%')"),
]  # fmt: skip


@pytest.mark.parametrize(("obj", "message"), [c[1:] for c in INVALID],
                         ids=[c[0] for c in INVALID])  # fmt: skip
def test_an_invalid_daemonset_is_refused_in_the_api_servers_words(
    obj: dict[str, Any], message: str
) -> None:
    with pytest.raises(ApiError) as caught:
        admitted(obj)
    assert caught.value.code == 422
    assert message in caught.value.message.split('"agent" is invalid: ', 1)[1]


@pytest.mark.parametrize(
    "strategy",
    [
        {"type": "OnDelete"},
        {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%"}},
        {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}},
    ],
    ids=["OnDelete", "a percentage", "surge alone"],
)
def test_valid_update_strategies_pass(strategy: dict[str, Any]) -> None:
    admitted(edited(RU, strategy))


# -- StatefulSets ------------------------------------------------------------------------------

STATEFULSETS = by_kind("apps/v1", "StatefulSet")
assert STATEFULSETS is not None
STS: dict[str, Any] = {
    **copy.deepcopy(VALID),
    "kind": "StatefulSet",
    "metadata": {"name": "db", "namespace": "default"},
}
STS["spec"]["serviceName"] = "db"


def sts_edited(path: str, value: Any) -> dict[str, Any]:
    out = copy.deepcopy(STS)
    *parents, last = path.split(".")
    node = out
    for key in parents:
        node = node.setdefault(key, {})
    if value is None:
        node.pop(last, None)
    else:
        node[last] = value
    return out


def sts_admitted(obj: dict[str, Any]) -> dict[str, Any]:
    assert STATEFULSETS is not None
    admission.prepare_for_create(STATEFULSETS, obj)
    admission.default(STATEFULSETS, obj)
    admission.validate(STATEFULSETS, obj)
    return obj


def test_a_valid_statefulset_is_defaulted_as_upstream_and_born_with_zero_counts() -> None:
    out = sts_admitted(sts_edited("status", {"readyReplicas": 5}))
    assert out["status"] == {"replicas": 0, "availableReplicas": 0}
    spec = out["spec"]
    assert spec["podManagementPolicy"] == "OrderedReady"
    assert spec["updateStrategy"] == {"type": "RollingUpdate", "rollingUpdate": {"partition": 0}}
    assert spec["persistentVolumeClaimRetentionPolicy"] == {
        "whenDeleted": "Retain",
        "whenScaled": "Retain",
    }
    assert (spec["replicas"], spec["revisionHistoryLimit"]) == (1, 10)
    assert spec["template"]["spec"]["restartPolicy"] == "Always"


def test_a_given_rolling_update_without_parameters_stays_without() -> None:
    out = sts_admitted(sts_edited("spec.updateStrategy", {"type": "RollingUpdate"}))
    assert out["spec"]["updateStrategy"] == {"type": "RollingUpdate"}


SU = "spec.updateStrategy"
STS_INVALID: list[tuple[str, dict[str, Any], str]] = [
    ("labels the selector does not pick",
     sts_edited("spec.template.metadata.labels", {"app": "x"}),
     'spec.template.metadata.labels: Invalid value: map[string]string{"app":"x"}: '
     "`selector` does not match template `labels`"),
    ("no selector", sts_edited("spec.selector", None), "spec.selector: Required value"),
    ("an empty selector", sts_edited("spec.selector", {}),
     "spec.selector: Invalid value: {}: empty selector is invalid for statefulset"),
    ("negative replicas", sts_edited("spec.replicas", -1),
     "spec.replicas: Invalid value: -1: must be greater than or equal to 0"),
    ("an unknown pod management policy", sts_edited("spec.podManagementPolicy", "Random"),
     "spec.podManagementPolicy: Invalid value: \"Random\": must be 'OrderedReady' or 'Parallel'"),
    ("an unknown strategy", sts_edited(SU, {"type": "Recreate"}),
     "must be 'RollingUpdate' or 'OnDelete'"),
    ("OnDelete with rollingUpdate", sts_edited(SU, {"type": "OnDelete", "rollingUpdate": {}}),
     "spec.updateStrategy.rollingUpdate: Invalid value: {}: "
     "only allowed for updateStrategy 'RollingUpdate'"),
    ("a negative partition",
     sts_edited(SU, {"type": "RollingUpdate", "rollingUpdate": {"partition": -1}}),
     "spec.updateStrategy.rollingUpdate.partition: Invalid value: -1: "
     "must be greater than or equal to 0"),
    ("an unknown retention policy",
     sts_edited("spec.persistentVolumeClaimRetentionPolicy", {"whenDeleted": "Keep"}),
     'spec.persistentVolumeClaimRetentionPolicy.whenDeleted: Unsupported value: "Keep": '
     'supported values: "Retain", "Delete"'),
    ("a restartPolicy but Always", sts_edited("spec.template.spec.restartPolicy", "Never"),
     'spec.template.spec.restartPolicy: Unsupported value: "Never": supported values: '
     '"Always"'),
    ("activeDeadlineSeconds", sts_edited("spec.template.spec.activeDeadlineSeconds", 5),
     "spec.template.spec.activeDeadlineSeconds: Forbidden: "
     "activeDeadlineSeconds in StatefulSet is not Supported"),
]  # fmt: skip


@pytest.mark.parametrize(("obj", "message"), [c[1:] for c in STS_INVALID],
                         ids=[c[0] for c in STS_INVALID])  # fmt: skip
def test_an_invalid_statefulset_is_refused_in_the_api_servers_words(
    obj: dict[str, Any], message: str
) -> None:
    with pytest.raises(ApiError) as caught:
        sts_admitted(obj)
    assert caught.value.code == 422
    assert message in caught.value.message.split('"db" is invalid: ', 1)[1]


@pytest.mark.parametrize(
    ("claims", "expected"),
    [
        pytest.param(None, [], id="no-claims"),
        pytest.param(
            [{"metadata": {"name": "data"}}, {"metadata": {"name": "logs"}}],
            ["spec.volumeClaimTemplates: podwall serves no PersistentVolumeClaims: the claims "
             "data, logs are not provisioned, and the pods run without those volumes"],
            id="two-claims",
        ),
    ],
)  # fmt: skip
def test_claim_templates_are_accepted_with_a_warning(
    claims: list[dict[str, Any]] | None, expected: list[str]
) -> None:
    assert STATEFULSETS is not None
    obj = sts_admitted(sts_edited("spec.volumeClaimTemplates", claims))
    assert admission.warn(STATEFULSETS, obj) == expected
    assert DAEMONSETS is not None
    assert admission.warn(DAEMONSETS, admitted(edited("status", None))) == []


CR = by_kind("apps/v1", "ControllerRevision")


@pytest.mark.parametrize(
    ("revision", "message"),
    [
        pytest.param({}, "data: Required value: data is mandatory", id="no-data"),
        pytest.param({"data": {}, "revision": -1},
                     "revision: Invalid value: -1: must be greater than or equal to 0",
                     id="a-negative-revision"),
    ],
)  # fmt: skip
def test_an_invalid_controller_revision_is_refused(revision: dict[str, Any], message: str) -> None:
    assert CR is not None
    obj = {"apiVersion": "apps/v1", "kind": "ControllerRevision",
           "metadata": {"name": "r", "namespace": "default"}, **revision}  # fmt: skip
    with pytest.raises(ApiError) as caught:
        admission.validate(CR, obj)
    assert caught.value.message == f'ControllerRevision.apps "r" is invalid: {message}'


def test_each_created_object_gets_a_status_of_its_own() -> None:
    """The born statuses are one table: an object changing its status must not change the
    next object's (nor a later create's)."""
    pods = by_kind("v1", "Pod")
    assert pods is not None
    first: dict[str, Any] = {"metadata": {"name": "a"}}
    second: dict[str, Any] = {"metadata": {"name": "b"}}
    admission.prepare_for_create(pods, first)
    admission.prepare_for_create(pods, second)
    first["status"]["phase"] = "Running"
    assert second["status"] == {"phase": "Pending"}
    third: dict[str, Any] = {"metadata": {"name": "c"}, "status": {"phase": "Failed"}}
    admission.prepare_for_create(pods, third)
    assert third["status"] == {"phase": "Pending"}
