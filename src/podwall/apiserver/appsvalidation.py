"""Validation of apps/v1 workloads, in upstream's words (pkg/apis/apps/validation):
Deployments and ReplicaSets (the selector; the template's pod spec is
`podvalidation.validate_template_spec`'s, as for every workload here), DaemonSets
(ValidateDaemonSetSpec and its update strategy), StatefulSets (ValidateStatefulSetSpec) and
ControllerRevisions. `selector_matches_template`, `not_matching` and `nonnegative` are shared
with `batchvalidation` and `rcvalidation`. What may change on update is `mutating`'s. Pure: no I/O.
"""

from __future__ import annotations

from typing import Any

from podwall.apiserver.goformat import go_map
from podwall.apiserver.podvalidation import validate_template_spec
from podwall.model.dnsnames import regex_error
from podwall.model.fielderrors import FieldError, forbidden, invalid, not_supported, required
from podwall.model.labelselectors import SelectorError, as_selector

Object = dict[str, Any]
_TEMPLATE = "spec.template.spec"  # a template's pod spec is `podvalidation`'s to check


def validate_workload(obj: Object) -> list[FieldError]:
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        return [required("spec")]
    errs: list[FieldError] = []
    selector = spec.get("selector")
    labels = ((spec.get("template") or {}).get("metadata") or {}).get("labels") or {}
    if not isinstance(selector, dict) or not (
        selector.get("matchLabels") or selector.get("matchExpressions")
    ):
        errs.append(required("spec.selector"))
        errs.append(invalid("spec.selector", selector, "empty selector is invalid for deployment"))
    else:
        errs += selector_matches_template(selector, labels)
    return errs + validate_template_spec(_dict(spec.get("template")).get("spec"), _TEMPLATE)


def validate_daemonset(obj: Object) -> list[FieldError]:
    """ValidateDaemonSetSpec: a non-empty selector that picks the template, restartPolicy
    Always, no activeDeadlineSeconds, counts not negative, and a known update strategy."""
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        return [required("spec")]
    selector = spec.get("selector")
    template = _dict(spec.get("template"))
    labels = _dict(template.get("metadata")).get("labels") or {}
    pod_spec = _dict(template.get("spec"))
    errs: list[FieldError] = []
    if selector is None:
        errs.append(not_matching(labels))
    elif isinstance(selector, dict):
        errs += selector_matches_template(selector, labels)
        if not (selector.get("matchLabels") or selector.get("matchExpressions")):
            errs.append(
                invalid("spec.selector", selector, "empty selector is invalid for daemonset")
            )
    errs += validate_template_spec(template.get("spec"), _TEMPLATE)
    restart = pod_spec.get("restartPolicy", "Always")
    if restart != "Always":
        errs.append(not_supported("spec.template.spec.restartPolicy", restart, ["Always"]))
    if pod_spec.get("activeDeadlineSeconds") is not None:
        errs.append(
            invalid(
                "spec.template.spec.activeDeadlineSeconds",
                pod_spec["activeDeadlineSeconds"],
                "activeDeadlineSeconds in DaemonSet is not Supported",
            )
        )
    for field in ("minReadySeconds", "revisionHistoryLimit"):
        errs += nonnegative(spec.get(field), f"spec.{field}")
    return errs + _validate_daemonset_strategy(spec.get("updateStrategy"))


def validate_statefulset(obj: Object) -> list[FieldError]:
    """ValidateStatefulSetSpec: a known pod management policy and update strategy, counts not
    negative, a non-empty selector that picks the template, restartPolicy Always, no
    activeDeadlineSeconds, a known PVC retention policy."""
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        return [required("spec")]
    errs: list[FieldError] = []
    policy = spec.get("podManagementPolicy")
    if not policy:
        errs.append(required("spec.podManagementPolicy"))
    elif policy not in ("OrderedReady", "Parallel"):
        errs.append(invalid("spec.podManagementPolicy", policy,
                            "must be 'OrderedReady' or 'Parallel'"))  # fmt: skip
    errs += _validate_statefulset_strategy(_dict(spec.get("updateStrategy")))
    errs += _validate_retention(spec.get("persistentVolumeClaimRetentionPolicy"))
    for field in ("replicas", "minReadySeconds"):
        errs += nonnegative(spec.get(field), f"spec.{field}")
    errs += nonnegative(_dict(spec.get("ordinals")).get("start"), "spec.ordinals.start")
    selector = spec.get("selector")
    template = _dict(spec.get("template"))
    labels = _dict(template.get("metadata")).get("labels") or {}
    if not isinstance(selector, dict):
        errs.append(required("spec.selector"))
    else:
        if not (selector.get("matchLabels") or selector.get("matchExpressions")):
            errs.append(
                invalid("spec.selector", selector, "empty selector is invalid for statefulset")
            )
        errs += selector_matches_template(selector, labels)
    pod_spec = _dict(template.get("spec"))
    errs += validate_template_spec(template.get("spec"), _TEMPLATE)
    restart = pod_spec.get("restartPolicy", "Always")
    if restart != "Always":
        errs.append(not_supported("spec.template.spec.restartPolicy", restart, ["Always"]))
    if pod_spec.get("activeDeadlineSeconds") is not None:
        errs.append(forbidden("spec.template.spec.activeDeadlineSeconds",
                              "activeDeadlineSeconds in StatefulSet is not Supported"))  # fmt: skip
    return errs


def validate_controller_revision(obj: Object) -> list[FieldError]:
    """ValidateControllerRevision: data is mandatory, the revision not negative."""
    errs: list[FieldError] = []
    if obj.get("data") is None:
        errs.append(required("data", "data is mandatory"))
    return errs + nonnegative(obj.get("revision"), "revision")


def _validate_statefulset_strategy(strategy: dict[str, Any]) -> list[FieldError]:
    """ValidateStatefulSetSpec's updateStrategy cases (maxUnavailable is alpha: not read)."""
    path = "spec.updateStrategy"
    kind = strategy.get("type")
    rolling = strategy.get("rollingUpdate")
    if not kind:
        return [required(path)]
    if kind == "OnDelete":
        if rolling is not None:
            return [invalid(f"{path}.rollingUpdate", rolling,
                            "only allowed for updateStrategy 'RollingUpdate'")]  # fmt: skip
        return []
    if kind != "RollingUpdate":
        return [invalid(path, strategy, "must be 'RollingUpdate' or 'OnDelete'")]
    return nonnegative(_dict(rolling).get("partition"), f"{path}.rollingUpdate.partition")


def _validate_retention(policy: object) -> list[FieldError]:
    """ValidatePersistentVolumeClaimRetentionPolicy: Retain or Delete, for each case."""
    errs: list[FieldError] = []
    for field in ("whenDeleted", "whenScaled"):
        value = _dict(policy).get(field)
        if value is not None and value not in ("Retain", "Delete"):
            path = f"spec.persistentVolumeClaimRetentionPolicy.{field}"
            errs.append(not_supported(path, value, ["Retain", "Delete"]))
    return errs


def _dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def nonnegative(value: object, path: str) -> list[FieldError]:
    """ValidateNonnegativeField."""
    if isinstance(value, int) and value < 0:
        return [invalid(path, value, "must be greater than or equal to 0")]
    return []


def _validate_daemonset_strategy(strategy: object) -> list[FieldError]:
    """ValidateDaemonSetUpdateStrategy and ValidateRollingUpdateDaemonSet."""
    path = "spec.updateStrategy"
    if not isinstance(strategy, dict):
        return []
    kind = strategy.get("type")
    if kind == "OnDelete":
        return []
    if kind != "RollingUpdate":
        return [not_supported(path, strategy, ["RollingUpdate", "OnDelete"])]
    rolling = strategy.get("rollingUpdate")
    if not isinstance(rolling, dict):
        return [required(f"{path}.rollingUpdate")]
    errs: list[FieldError] = []
    values = {}
    for field in ("maxUnavailable", "maxSurge"):
        value, field_path = rolling.get(field, 0), f"{path}.rollingUpdate.{field}"
        errs += _int_or_percent_errors(value, field_path)
        values[field] = _int_or_percent(value)
    for field in ("maxUnavailable", "maxSurge"):
        if values[field] > 100 and isinstance(rolling.get(field), str):
            errs.append(invalid(f"{path}.rollingUpdate.{field}", rolling[field],
                                "must not be greater than 100%"))  # fmt: skip
    if values["maxUnavailable"] and values["maxSurge"]:
        detail = "may not be set when maxUnavailable is non-zero"
        errs.append(invalid(f"{path}.rollingUpdate.maxSurge", rolling.get("maxSurge"), detail))
    elif not values["maxUnavailable"] and not values["maxSurge"]:
        errs.append(required(f"{path}.rollingUpdate.maxUnavailable",
                             "cannot be 0 when maxSurge is 0"))  # fmt: skip
    return errs


def _int_or_percent(value: object) -> int:
    """getIntOrPercentValue: the number, or the percentage's number (0 when malformed)."""
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.endswith("%") and value[:-1].isdigit():
        return int(value[:-1])
    return 0


def _int_or_percent_errors(value: object, path: str) -> list[FieldError]:
    """ValidatePositiveIntOrPercent."""
    if isinstance(value, str):
        if value.endswith("%") and value[:-1].isdigit():
            return []
        message = "a valid percent string must be a numeric string followed by an ending '%'"
        return [invalid(path, value, regex_error(message, "[0-9]+%", "1%", "93%"))]
    return nonnegative(value, path)


_NOT_MATCHING = "`selector` does not match template `labels`"


def selector_matches_template(selector: dict[str, Any], labels: dict[str, str]) -> list[FieldError]:
    """LabelSelectorAsSelector, then whether it selects the template's labels."""
    try:
        chosen = as_selector(selector)
    except SelectorError:
        return [invalid("spec.selector", selector, "invalid label selector")]
    if chosen is None or chosen.matches(labels):
        return []
    return [not_matching(labels)]


def not_matching(labels: dict[str, str]) -> FieldError:
    """The template's labels are not picked by the selector (every kind's words for it)."""
    return invalid("spec.template.metadata.labels", go_map(labels), _NOT_MATCHING)
