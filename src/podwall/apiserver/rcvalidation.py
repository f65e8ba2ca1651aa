"""Validation of core/v1 ReplicationControllers, in upstream's words
(pkg/apis/core/validation: ValidateReplicationControllerSpec and ValidatePodTemplateSpecForRC).

An RC's selector is a plain label map, not a LabelSelector: it matches as the equality selector
it stands for (labels.Set.AsSelector, which checks nothing of the map itself), and a template it
does not pick is told in `appsvalidation.not_matching`'s words, as for the apps kinds. Its
defaults (the selector and labels taken from the template) are `controllers.replicasets`'. The
same checks hold on update: an RC's selector may change. Pure: no I/O.
"""

from __future__ import annotations

from typing import Any

from podwall.apiserver.appsvalidation import nonnegative, not_matching
from podwall.model.fielderrors import FieldError, invalid, not_supported, required
from podwall.model.labels import LabelSelector
from podwall.model.labelvalidation import validate_labels

Object = dict[str, Any]


def validate_replication_controller(obj: Object) -> list[FieldError]:
    """ValidateReplicationControllerSpec (the metadata is checked as for every kind)."""
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        spec = {}
    errs = nonnegative(spec.get("minReadySeconds"), "spec.minReadySeconds")
    selector = spec.get("selector")
    if not isinstance(selector, dict) or not selector:
        errs.append(required("spec.selector"))
        selector = {}
    errs += nonnegative(spec.get("replicas"), "spec.replicas")
    return errs + _validate_template(spec.get("template"), selector)


def _validate_template(template: object, selector: dict[str, Any]) -> list[FieldError]:
    """ValidatePodTemplateSpecForRC: present, picked by the selector, restartPolicy Always,
    no activeDeadlineSeconds; its labels valid and its pod spec has containers, each named."""
    if not isinstance(template, dict):
        return [required("spec.template")]
    meta = template.get("metadata")
    labels = (meta.get("labels") if isinstance(meta, dict) else None) or {}
    errs: list[FieldError] = []
    if selector and not LabelSelector.from_set(selector).matches(labels):
        errs.append(not_matching(labels))
    errs += validate_labels(labels, "spec.template.labels")
    pod_spec = template.get("spec")
    pod_spec = pod_spec if isinstance(pod_spec, dict) else {}
    containers = pod_spec.get("containers")
    if not containers:
        errs.append(required("spec.template.spec.containers"))
    for i, container in enumerate(containers if isinstance(containers, list) else ()):
        if not isinstance(container, dict) or not container.get("name"):
            errs.append(required(f"spec.template.spec.containers[{i}].name"))
    restart = pod_spec.get("restartPolicy", "Always")
    if restart != "Always":
        errs.append(not_supported("spec.template.spec.restartPolicy", restart, ["Always"]))
    if pod_spec.get("activeDeadlineSeconds") is not None:
        errs.append(
            invalid(
                "spec.template.spec.activeDeadlineSeconds",
                pod_spec["activeDeadlineSeconds"],
                "must not be specified",
            )
        )
    return errs
