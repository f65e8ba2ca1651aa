"""Validation of every kind podwall reads besides NetworkPolicy: Namespaces, Pods, Services,
Deployments, ReplicaSets, ReplicationControllers, StatefulSets, DaemonSets, Jobs and CronJobs.

As the API server validates them on create, for their metadata (name, namespace, labels, owner
references), the fields podwall reads and their types, with upstream's words and field paths
(`spec.ports[0].targetPort`); pod specs are `podvalidation`'s. Every error is reported in one
pass. Pure: no I/O here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from podwall.model.decoding import (
    MALFORMED,
    decode_int32,
    decode_list,
    decode_object,
    decode_string,
    decode_string_map,
    object_rules,
)
from podwall.model.dnsnames import is_dns1035_label, is_dns1123_label, is_dns1123_subdomain
from podwall.model.fielderrors import ErrorType, FieldError, invalid, required
from podwall.model.fieldpath import child, index
from podwall.model.goquote import go_quote
from podwall.model.labelvalidation import validate_label_selector, validate_labels
from podwall.model.podvalidation import (
    decode_bool,
    validate_ip,
    validate_pod_spec,
    validate_pod_status,
    validate_protocol,
)
from podwall.model.rawobject import selector
from podwall.model.validation import is_valid_port_name, is_valid_port_num

NameRule = Callable[[str], list[str]]
WORKLOADS = (
    "Deployment", "ReplicaSet", "ReplicationController", "StatefulSet", "DaemonSet", "Job",
    "CronJob",
)  # fmt: skip


def validate(kind: str, body: Mapping[str, Any]) -> list[FieldError]:
    """Errors of one object of `kind`; [] for a kind podwall does not read."""
    if kind == "Namespace":
        return validate_meta(body.get("metadata"), "metadata", is_dns1123_label, namespaced=False)
    if kind == "Pod":
        errs = validate_meta(body.get("metadata"), "metadata", is_dns1123_subdomain)
        errs += validate_pod_spec(body.get("spec"), "spec")
        return errs + validate_pod_status(body.get("status"), "status")
    if kind == "Service":
        errs = validate_meta(body.get("metadata"), "metadata", is_dns1035_label)
        return errs + validate_service_spec(body.get("spec"), "spec")
    if kind in WORKLOADS:
        errs = validate_meta(body.get("metadata"), "metadata", is_dns1123_subdomain)
        return errs + _validate_workload_spec(kind, body.get("spec"), "spec")
    return []


# ObjectMeta: name, namespace, labels, ownerReferences.


@object_rules
def validate_meta(
    meta: Mapping[str, Any],
    path: str,
    errs: list[FieldError],
    name_rule: NameRule,
    *,
    namespaced: bool = True,
) -> None:
    generate_name = decode_string(meta.get("generateName"), child(path, "generateName"), errs)
    name_path = child(path, "name")
    name = decode_string(meta.get("name"), name_path, errs)
    if isinstance(name, str) and name:
        errs += [invalid(name_path, name, msg) for msg in name_rule(name)]
    elif name is not MALFORMED and not generate_name:
        errs.append(required(name_path, "name or generateName is required"))
    ns_path = child(path, "namespace")
    namespace = decode_string(meta.get("namespace"), ns_path, errs)
    if isinstance(namespace, str) and namespace:
        if namespaced:
            errs += [invalid(ns_path, namespace, msg) for msg in is_dns1123_label(namespace)]
        else:
            errs.append(_not_allowed(ns_path, namespace))
    labels = decode_string_map(meta.get("labels"), child(path, "labels"), errs)
    if labels is not MALFORMED:
        errs += validate_labels(labels, child(path, "labels"))
    decode_string_map(meta.get("annotations"), child(path, "annotations"), errs)
    errs += _validate_owner_references(meta.get("ownerReferences"), child(path, "ownerReferences"))


def _not_allowed(path: str, value: str) -> FieldError:
    return FieldError(
        path=path, type=ErrorType.FORBIDDEN, value=value, detail="not allowed on this type"
    )


def _validate_owner_references(raw: object, path: str) -> list[FieldError]:
    """ValidateOwnerReferences: each names its owner's apiVersion, kind, name and uid."""
    errs: list[FieldError] = []
    refs = decode_list(raw, path, errs)
    if refs is MALFORMED:
        return errs
    controllers = 0
    for i, item in enumerate(refs or ()):
        ref_path = index(path, i)
        ref = decode_object(item, ref_path, errs)
        if ref is MALFORMED:
            continue
        ref = ref or {}
        for field in ("apiVersion", "kind", "name", "uid"):
            value = decode_string(ref.get(field), child(ref_path, field), errs)
            if value is None or value == "":
                errs.append(invalid(child(ref_path, field), "", f"{field} must not be empty"))
        if decode_bool(ref.get("controller"), child(ref_path, "controller"), errs) is True:
            controllers += 1
    if controllers > 1:
        errs.append(invalid(path, "", "Only one reference can have Controller set to true"))
    return errs


# Services.


@object_rules
def validate_service_spec(spec: Mapping[str, Any], path: str, errs: list[FieldError]) -> None:
    """The parts of ValidateService podwall reads: selector, ports, clusterIP."""
    selector = decode_string_map(spec.get("selector"), child(path, "selector"), errs)
    if selector is not MALFORMED:
        errs += validate_labels(selector, child(path, "selector"))
    ports_path = child(path, "ports")
    ports = decode_list(spec.get("ports"), ports_path, errs)
    if ports is not MALFORMED:
        names: set[str] = set()
        for i, port in enumerate(ports or ()):
            errs += _validate_service_port(port, index(ports_path, i), len(ports or ()) > 1, names)
    ip_path = child(path, "clusterIP")
    cluster_ip = spec.get("clusterIP")
    if cluster_ip != "None":
        errs += validate_ip(cluster_ip, ip_path)


@object_rules
def _validate_service_port(
    port: Mapping[str, Any], path: str, errs: list[FieldError], require_name: bool, names: set[str]
) -> None:
    """validateServicePort."""
    name_path = child(path, "name")
    name = decode_string(port.get("name"), name_path, errs)
    if require_name and name in (None, ""):
        errs.append(required(name_path))
    elif isinstance(name, str) and name:
        errs += [invalid(name_path, name, msg) for msg in is_dns1123_label(name)]
        if name in names:
            errs.append(FieldError(path=name_path, type=ErrorType.DUPLICATE, value=name))
        names.add(name)
    number_path = child(path, "port")
    number = decode_int32(port.get("port"), number_path, errs)
    if number is None:
        errs.append(required(number_path))
    elif isinstance(number, int):
        errs += [invalid(number_path, number, msg) for msg in is_valid_port_num(number)]
    errs += validate_protocol(port.get("protocol"), child(path, "protocol"))
    errs += _validate_target_port(port.get("targetPort"), child(path, "targetPort"))


def _validate_target_port(raw: object, path: str) -> list[FieldError]:
    """An IntOrString; 0 and "" are defaulted to `port`, so only other values are checked."""
    if raw is None or raw == "" or raw == 0:
        return []
    if isinstance(raw, str):
        return [invalid(path, raw, msg) for msg in is_valid_port_name(raw)]
    errs: list[FieldError] = []
    if isinstance(raw, bool) or not isinstance(raw, int):
        return [invalid(path, raw, "must be an integer or a string")]
    number = decode_int32(raw, path, errs)
    if isinstance(number, int):
        errs += [invalid(path, number, msg) for msg in is_valid_port_num(number)]
    return errs


# Workloads: a selector and a pod template (a CronJob's is under jobTemplate.spec).


def _validate_workload_spec(kind: str, raw: object, path: str) -> list[FieldError]:
    errs: list[FieldError] = []
    spec = decode_object(raw, path, errs)
    if spec is MALFORMED:
        return errs
    spec = spec or {}
    if kind == "CronJob":
        job_path = child(path, "jobTemplate")
        job = decode_object(spec.get("jobTemplate"), job_path, errs)
        if job is MALFORMED:
            return errs
        return errs + _validate_workload_spec(
            "Job", (job or {}).get("spec"), child(job_path, "spec")
        )
    selector_path = child(path, "selector")
    if kind == "ReplicationController":
        return errs + _validate_rc_selector(spec, path)
    selector_errs = validate_label_selector(spec.get("selector"), selector_path)
    errs += selector_errs
    if spec.get("selector") is None and kind != "Job":
        errs.append(required(selector_path))
    labels = _template_labels(spec, path, errs)
    apps = kind != "Job"  # a Job's selector is generated unless set by hand
    if apps and not selector_errs and spec.get("selector") is not None and labels is not None:
        errs += _selector_matches(spec["selector"], labels, _LABELS_PATH.format(path))
    return errs


_LABELS_PATH = "{}.template.metadata.labels"


def _template_labels(
    spec: Mapping[str, Any], path: str, errs: list[FieldError]
) -> Mapping[str, str] | None:
    """Check the pod template; its labels (None when they could not be read)."""
    template_path = child(path, "template")
    template = decode_object(spec.get("template"), template_path, errs)
    if template is MALFORMED:
        return None
    template = template or {}
    meta_path = child(template_path, "metadata")
    meta = decode_object(template.get("metadata"), meta_path, errs)
    labels: Mapping[str, str] | None = {} if meta is None else None
    if isinstance(meta, Mapping):
        found = decode_string_map(meta.get("labels"), child(meta_path, "labels"), errs)
        if found is not MALFORMED:
            labels = found
            errs += validate_labels(found, child(meta_path, "labels"))
    errs += validate_pod_spec(template.get("spec"), child(template_path, "spec"))
    return labels


def _validate_rc_selector(spec: Mapping[str, Any], path: str) -> list[FieldError]:
    """A ReplicationController's selector is a plain label map, defaulted to the template's
    labels (SetDefaults_ReplicationController): required only when both are empty."""
    errs: list[FieldError] = []
    selector_path = child(path, "selector")
    chosen = decode_string_map(spec.get("selector"), selector_path, errs)
    labels = _template_labels(spec, path, errs)
    if chosen is MALFORMED or labels is None:
        return errs
    if chosen:
        errs += _selector_matches({"matchLabels": chosen}, labels, _LABELS_PATH.format(path))
    elif not labels:
        errs.append(required(selector_path))
    return errs


def _selector_matches(
    raw: Mapping[str, Any], labels: Mapping[str, str], path: str
) -> list[FieldError]:
    if selector(raw).matches(labels):
        return []
    return [invalid(path, _GoStringMap(labels), "`selector` does not match template `labels`")]


class _GoStringMap:
    """A map[string]string as field.Error prints it (`%#v`, keys sorted)."""

    def __init__(self, labels: Mapping[str, str]) -> None:
        self.labels = dict(labels)

    def __repr__(self) -> str:
        items = ", ".join(f"{go_quote(k)}:{go_quote(v)}" for k, v in sorted(self.labels.items()))
        return f"map[string]string{{{items}}}"


__all__ = ["FieldError", "is_dns1035_label", "validate", "validate_meta", "validate_service_spec"]
