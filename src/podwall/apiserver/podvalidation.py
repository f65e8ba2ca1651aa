"""The API server's Pod rules, in upstream's words (pkg/apis/core/validation, 1.32):
ValidatePodCreate, the pod-spec half of ValidatePodTemplateSpec, and ValidatePodUpdate.

The rules of a pod spec itself (containers, names, images, ports, restartPolicy) are
`podwall.model.podvalidation`'s with `served=True`, shared with the analyzer; here is what a
Pod or a template adds to them: tolerations, activeDeadlineSeconds, images without leading or
trailing whitespace (pods only), no ephemeral containers on create or in templates, no
`nodeName` while scheduling gates remain.

`validate_pod_update` is ValidatePodUpdate's spec half: the containers may not be added or
removed, their images may change, activeDeadlineSeconds may only be set or lowered,
tolerations only added to (or their tolerationSeconds changed), scheduling gates only removed,
terminationGracePeriodSeconds set to 1 if it was negative; any other change to the spec
(ports, commands, env, `nodeName`, ephemeral containers, which change only through
pods/ephemeralcontainers) is the one Forbidden error. Upstream appends to that error a go-cmp
diff of the two specs (`cmp.Diff` over Go structs); podwall does not imitate Go's diff format
and omits it, so the message ends at `...(allow it to be set to 1 if it was previously
negative)`. Metadata is not compared here: labels and annotations may change freely.

The specs are compared as apiequality.Semantic.DeepEqual compares Go structs, approximated on
JSON: an absent field, null, "", [] and {} are one value (Go's zero values, and nil and empty
slices and maps), as are false and 0 for the few non-pointer scalars listed in
`_ZERO_SCALARS`. Where Go keeps a pointer to an empty struct apart from nil (say
`securityContext: {}`), or compares resource quantities by value ("1" and "1000m"), this
comparison differs.

Not ported: the QoS class check, in-place resize (off by default in 1.32), the relaxed
nodeSelector and affinity of gated pods, the two toleration checks whose error value is the
Go struct itself, pod-specific annotations. Upstream's DefaultTolerationSeconds admission adds
its two tolerations back on every update; podwall adds them on create only, so a PUT of a
manifest without them is also told `existing toleration can not be modified`. Pure: no I/O.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any

from podwall.model.fielderrors import FieldError, forbidden, invalid, not_supported, required
from podwall.model.fieldpath import child, index
from podwall.model.labelvalidation import validate_label_name
from podwall.model.podvalidation import validate_pod_spec

MAX_INT32 = 2**31 - 1
TOLERATION_OPERATORS = ("Equal", "Exists")
TAINT_EFFECTS = ("NoSchedule", "PreferNoSchedule", "NoExecute")
UPDATE_FORBIDDEN = (
    "pod updates may not change fields other than `spec.containers[*].image`,"
    "`spec.initContainers[*].image`,"
    "`spec.activeDeadlineSeconds`,"
    "`spec.tolerations` (only additions to existing tolerations),"
    "`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)"
)
_ZERO_SCALARS = frozenset({"hostNetwork", "hostPID", "hostIPC", "stdin", "stdinOnce", "tty",
                           "hostPort", "containerPort"})  # fmt: skip


def _dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def validate_pod_spec_of(spec: object, path: str) -> list[FieldError]:
    """ValidatePodSpec, as far as podwall ports it: the shared rules and the tolerations and
    activeDeadlineSeconds."""
    errs = validate_pod_spec(spec, path, served=True)
    body = _dict(spec)
    deadline = body.get("activeDeadlineSeconds")
    if isinstance(deadline, int) and not 1 <= deadline <= MAX_INT32:
        errs.append(invalid(child(path, "activeDeadlineSeconds"), deadline,
                            f"must be between 1 and {MAX_INT32}, inclusive"))  # fmt: skip
    return errs + validate_tolerations(body.get("tolerations"), child(path, "tolerations"))


def validate_template_spec(spec: object, path: str) -> list[FieldError]:
    """ValidatePodTemplateSpec's pod spec at `path` (`spec.template.spec`)."""
    errs = validate_pod_spec_of(spec, path)
    if _list(_dict(spec).get("ephemeralContainers")):
        errs.append(forbidden(child(path, "ephemeralContainers"),
                              "ephemeral containers not allowed in pod template"))  # fmt: skip
    return errs


def validate_pod(pod: Mapping[str, Any]) -> list[FieldError]:
    """validatePodMetadataAndSpec's spec part, on create and on update alike."""
    spec = pod.get("spec")
    errs = validate_pod_spec_of(spec, "spec")
    for field in ("containers", "initContainers", "ephemeralContainers"):
        for i, container in enumerate(_list(_dict(spec).get(field))):
            image = _dict(container).get("image")
            if isinstance(image, str) and image != image.strip():
                path = child(index(child("spec", field), i), "image")
                errs.append(invalid(path, image, "must not have leading or trailing whitespace"))
    return errs


def validate_pod_create(pod: Mapping[str, Any]) -> list[FieldError]:
    """ValidatePodCreate's own checks, after `validate_pod`."""
    spec = _dict(pod.get("spec"))
    errs: list[FieldError] = []
    if _list(spec.get("ephemeralContainers")):
        errs.append(forbidden("spec.ephemeralContainers", "cannot be set on create"))
    if spec.get("nodeName") and _list(spec.get("schedulingGates")):
        detail = "cannot be set until all schedulingGates have been cleared"
        errs.append(forbidden("spec.nodeName", detail))
    return errs


def validate_tolerations(raw: object, path: str) -> list[FieldError]:
    """ValidateTolerations, but for the two checks whose value is the Go struct."""
    errs: list[FieldError] = []
    for i, item in enumerate(_list(raw)):
        toleration, at = _dict(item), index(path, i)
        key, operator = toleration.get("key") or "", toleration.get("operator") or ""
        effect = toleration.get("effect") or ""
        if key:
            errs += validate_label_name(str(key), child(at, "key"))
        if not key and operator != "Exists":
            errs.append(invalid(child(at, "operator"), operator,
                                "operator must be Exists when `key` is empty, which means "
                                '"match all values and all keys"'))  # fmt: skip
        if toleration.get("tolerationSeconds") is not None and effect != "NoExecute":
            detail = "effect must be 'NoExecute' when `tolerationSeconds` is set"
            errs.append(invalid(child(at, "effect"), effect, detail))
        if operator not in ("", *TOLERATION_OPERATORS):
            errs.append(not_supported(child(at, "operator"), operator, TOLERATION_OPERATORS))
        if effect and effect not in TAINT_EFFECTS:
            errs.append(not_supported(child(at, "effect"), effect, TAINT_EFFECTS))
    return errs


# ValidatePodUpdate.


def validate_pod_update(new: Mapping[str, Any], old: Mapping[str, Any]) -> list[FieldError]:
    """ValidatePodUpdate's spec checks (the spec's own rules are `validate_pod`'s)."""
    spec, old_spec = _dict(new.get("spec")), _dict(old.get("spec"))
    errs: list[FieldError] = []
    for field in ("containers", "initContainers"):
        found, stop = _container_updates(_list(spec.get(field)), _list(old_spec.get(field)),
                                         child("spec", field))  # fmt: skip
        errs += found
        if stop:
            return errs
    found = _deadline_update(spec.get("activeDeadlineSeconds"),
                             old_spec.get("activeDeadlineSeconds"))  # fmt: skip
    errs += found
    if found and spec.get("activeDeadlineSeconds") is not None:
        return errs  # upstream returns here, before the other checks
    errs += _only_added_tolerations(
        _list(spec.get("tolerations")), _list(old_spec.get("tolerations")), "spec.tolerations"
    )
    errs += _only_deleted_gates(
        _list(spec.get("schedulingGates")), _list(old_spec.get("schedulingGates"))
    )
    if _semantic(_munged(spec, old_spec)) != _semantic(old_spec):
        errs.append(forbidden("spec", UPDATE_FORBIDDEN))
    return errs


def _container_updates(
    new: Sequence[Any], old: Sequence[Any], path: str
) -> tuple[list[FieldError], bool]:
    """ValidateContainerUpdates: the same number of containers, each with an image."""
    if len(new) != len(old):
        return [forbidden(path, "pod updates may not add or remove containers")], True
    errs: list[FieldError] = []
    for i, container in enumerate(new):
        image = _dict(container).get("image")
        at = child(index(path, i), "image")
        if not image:
            errs.append(required(at))
        elif isinstance(image, str) and image != image.strip():
            errs.append(invalid(at, image, "must not have leading or trailing whitespace"))
    return errs, False


def _deadline_update(new: object, old: object) -> list[FieldError]:
    """activeDeadlineSeconds: from nil to a value, or lowered; never back to nil."""
    path = "spec.activeDeadlineSeconds"
    if isinstance(new, int):
        if not 0 <= new <= MAX_INT32:
            return [invalid(path, new, f"must be between 0 and {MAX_INT32}, inclusive")]
        if isinstance(old, int) and old < new:
            return [invalid(path, new, "must be less than or equal to previous value")]
        return []
    if old is not None:
        return [invalid(path, None, "must not update from a positive integer to nil value")]
    return []


def _only_added_tolerations(new: list[Any], old: list[Any], path: str) -> list[FieldError]:
    """validateOnlyAddedTolerations: every old toleration is still there, but for its
    tolerationSeconds (the new list's own rules are `validate_tolerations`')."""

    def sans_seconds(toleration: object) -> object:
        return _semantic({k: v for k, v in _dict(toleration).items() if k != "tolerationSeconds"})

    kept = [sans_seconds(t) for t in new]
    for toleration in old:
        if sans_seconds(toleration) not in kept:
            detail = "existing toleration can not be modified except its tolerationSeconds"
            return [forbidden(path, detail)]
    return []


def _only_deleted_gates(new: list[Any], old: list[Any]) -> list[FieldError]:
    """validateOnlyDeletedSchedulingGates (upstream reports in map order; here in index
    order)."""
    before = {_dict(g).get("name") for g in old}
    errs: list[FieldError] = []
    for i, gate in enumerate(new):
        name = _dict(gate).get("name")
        if name not in before:
            path = child(index("spec.schedulingGates", i), "name")
            detail = f"only deletion is allowed, but found new scheduling gate '{name}'"
            errs.append(forbidden(path, detail))
    return errs


def _munged(spec: dict[str, Any], old: dict[str, Any]) -> dict[str, Any]:
    """The new spec with what may change taken from the old one, as upstream munges it."""
    out = copy.deepcopy(spec)
    for field in ("containers", "initContainers"):
        for container, before in zip(_list(out.get(field)), _list(old.get(field)), strict=True):
            if isinstance(container, dict):
                container["image"] = _dict(before).get("image")
    for field in ("activeDeadlineSeconds", "schedulingGates", "tolerations"):
        out[field] = copy.deepcopy(old.get(field))
    old_grace = old.get("terminationGracePeriodSeconds")
    if (
        isinstance(old_grace, int)
        and old_grace < 0
        and out.get("terminationGracePeriodSeconds") == 1
    ):
        out["terminationGracePeriodSeconds"] = old_grace
    return out


def _semantic(value: Any) -> Any:
    """`value` with Go's zero values dropped, for apiequality.Semantic.DeepEqual's sense of
    equal (see the module docstring)."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            kept = _semantic(item)
            if not _is_zero(key, kept):
                out[key] = kept
        return out
    if isinstance(value, list):
        return [_semantic(item) for item in value]
    return value


def _is_zero(key: str, value: object) -> bool:
    if value is None or (isinstance(value, str | list | dict) and not value):
        return True
    return key in _ZERO_SCALARS and (value is False or value == 0)
