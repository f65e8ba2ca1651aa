"""What happens to an object between the request body and the store: decoding, defaults,
validation.

NetworkPolicies are checked by `podwall.model.strictfields` (unknown fields, per the
`fieldValidation` query parameter) and `podwall.model.validation` (the API server's rules, one
source of truth with the engine); ClusterNetworkPolicies, a custom resource, by
`podwall.model.cnpvalidation` (the CRD's schema and CEL rules; unknown fields are pruned as
the CRD's structural schema prunes them); AdminNetworkPolicies and the
BaselineAdminNetworkPolicy likewise by `podwall.model.anpvalidation`, after their schema's
defaults. Other kinds get their metadata checked and the
upstream defaults that printers and controllers read.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from podwall.apiserver import (
    appsvalidation,
    batchvalidation,
    errors,
    rbacvalidation,
    rcvalidation,
    secretdata,
)
from podwall.apiserver.objectindex import thaw
from podwall.apiserver.resources import Resource
from podwall.controllers.jobspec import default_cronjob, default_job
from podwall.controllers.replicasets import default_replication_controller
from podwall.controllers.statefulpods import default_statefulset_spec
from podwall.model import anpvalidation, strictfields
from podwall.model.cnpvalidation import unknown_fields as cnp_unknown_fields
from podwall.model.cnpvalidation import validate_cluster_network_policy
from podwall.model.dnsnames import is_dns1035_label, is_dns1123_label
from podwall.model.fielderrors import FieldError, invalid
from podwall.model.validation import validate_network_policy, validate_object_meta

Object = dict[str, Any]
NETWORK_POLICY_KEY = "networkpolicies.networking.k8s.io"
CLUSTER_NETWORK_POLICY_KEY = "clusternetworkpolicies.policy.networking.k8s.io"
# The v1alpha1 custom resources, by store key, with their kind.
V1ALPHA1_POLICY_KEYS = {
    "adminnetworkpolicies.policy.networking.k8s.io": "AdminNetworkPolicy",
    "baselineadminnetworkpolicies.policy.networking.k8s.io": "BaselineAdminNetworkPolicy",
}
DAEMONSETS = "daemonsets.apps"
STATEFULSETS = "statefulsets.apps"
CONTROLLER_REVISIONS = "controllerrevisions.apps"
JOBS, CRONJOBS = "jobs.batch", "cronjobs.batch"
REPLICATION_CONTROLLERS = "replicationcontrollers"


def decode(
    resource: Resource, body: Mapping[str, Any], field_validation: str
) -> tuple[Object, list[str]]:
    """Strict decoding: unknown fields are an error (Strict), a warning (Warn, the default) or
    silently dropped (Ignore), as `encoding/json` would drop them. Returns the object and the
    warnings for the `Warning` header.

    The object is `body` itself unless unknown fields had to be dropped (then a copy: `body`
    is never changed); a caller that changes it copies it first."""
    obj: Object = body if type(body) is dict else dict(body)
    if resource.key == NETWORK_POLICY_KEY:
        unknown = strictfields.unknown_fields(obj)
    elif resource.key == CLUSTER_NETWORK_POLICY_KEY:
        unknown = cnp_unknown_fields(obj)
    elif resource.key in V1ALPHA1_POLICY_KEYS:
        unknown = anpvalidation.unknown_fields(V1ALPHA1_POLICY_KEYS[resource.key], obj)
    else:
        return obj, []
    if not unknown:
        return obj, []
    obj = thaw(obj)
    mode = field_validation or "Warn"
    if mode == "Strict":
        detail = ", ".join(f'unknown field "{path}"' for path in unknown)
        raise errors.bad_request(
            f'{resource.kind} in version "{resource.version}" cannot be handled as a '
            f"{resource.kind}: strict decoding error: {detail}"
        )
    if resource.key == NETWORK_POLICY_KEY:
        _prune(obj, strictfields.NETWORK_POLICY)
    else:
        for path in unknown:
            _drop(obj, path)
    if mode == "Ignore":
        return obj, []
    return obj, [f'unknown field "{path}"' for path in unknown]


def _prune(value: Any, schema: Any) -> None:
    """Drop what `schema` (strictfields' shape) does not know, in place."""
    if schema is strictfields.ANY:
        return
    if isinstance(schema, list):
        if isinstance(value, list):
            for item in value:
                _prune(item, schema[0])
        return
    if not isinstance(value, dict):
        return
    for key in list(value):
        if key not in schema:
            del value[key]
        else:
            _prune(value[key], schema[key])


def _drop(obj: Object, path: str) -> None:
    """Remove the field at `path` (`spec.ingress[0].form`), as structural pruning does."""
    steps = _steps(path)
    parent: Any = obj
    for step in steps[:-1]:
        try:
            parent = parent[step]
        except (KeyError, IndexError, TypeError):
            return
    if isinstance(parent, dict):
        parent.pop(steps[-1], None)


def _steps(path: str) -> list[str | int]:
    """`spec.ingress[0].form` -> ["spec", "ingress", 0, "form"]."""
    steps: list[str | int] = []
    for part in path.split("."):
        name, _, indexes = part.partition("[")
        steps.append(name)
        steps += [int(i) for i in indexes.rstrip("]").split("][") if i.isdigit()]
    return steps


# Defaults: the parts of upstream's SetDefaults_* that show in output or that controllers read.


def _default_ports(ports: list[Any] | None) -> None:
    for port in ports or []:
        if isinstance(port, dict):
            port.setdefault("protocol", "TCP")


def _default_pod_spec(spec: Any) -> None:
    if not isinstance(spec, dict):
        return
    spec.setdefault("restartPolicy", "Always")
    spec.setdefault("terminationGracePeriodSeconds", 30)
    spec.setdefault("dnsPolicy", "ClusterFirst")
    spec.setdefault("securityContext", {})
    spec.setdefault("schedulerName", "default-scheduler")
    for field in ("initContainers", "containers"):
        for container in spec.get(field) or []:
            if not isinstance(container, dict):
                continue
            image = str(container.get("image") or "")
            tag = image.rpartition(":")[2] if ":" in image.rpartition("/")[2] else ""
            if "@" not in image:
                container.setdefault(
                    "imagePullPolicy", "Always" if tag in ("", "latest") else "IfNotPresent"
                )
            container.setdefault("terminationMessagePath", "/dev/termination-log")
            container.setdefault("terminationMessagePolicy", "File")
            container.setdefault("resources", {})
            _default_ports(container.get("ports"))


def _default_template(obj: Object) -> None:
    template = (obj.get("spec") or {}).get("template")
    if isinstance(template, dict):
        template.setdefault("metadata", {}).pop("creationTimestamp", None)
        _default_pod_spec(template.get("spec"))


def default(resource: Resource, obj: Object) -> None:
    """Fill in upstream defaults, in place."""
    spec = obj.get("spec")
    kind = resource.key
    if kind == "namespaces":
        name = str((obj.get("metadata") or {}).get("name") or "")
        labels = obj.setdefault("metadata", {}).setdefault("labels", {})
        if name:
            labels["kubernetes.io/metadata.name"] = name
        obj.setdefault("spec", {}).setdefault("finalizers", ["kubernetes"])
        obj.setdefault("status", {}).setdefault("phase", "Active")
    if kind == "secrets" and (problem := secretdata.fold(obj)) is not None:
        raise errors.bad_request(f'Secret in version "v1" cannot be handled as a Secret: {problem}')
    rbacvalidation.default(kind, obj)
    if kind == REPLICATION_CONTROLLERS:
        obj.update(default_replication_controller(obj))
        _default_template(obj)
        return
    if not isinstance(spec, dict):
        return
    if kind in V1ALPHA1_POLICY_KEYS:
        obj.update(anpvalidation.defaulted(obj))  # the CRD's `protocol: TCP` defaults
        return
    if kind in (JOBS, CRONJOBS):
        obj.update(default_job(obj) if kind == JOBS else default_cronjob(obj))
        job = obj if kind == JOBS else (obj.get("spec") or {}).get("jobTemplate")
        if isinstance(job, dict):
            _default_template(job)  # SetDefaults_PodSpec reaches every template
        return
    if kind == NETWORK_POLICY_KEY:
        spec.setdefault("podSelector", {})
        for direction in ("ingress", "egress"):
            for rule in spec.get(direction) or []:
                if isinstance(rule, dict):
                    _default_ports(rule.get("ports"))
        if not spec.get("policyTypes"):
            types = ["Ingress"]
            if spec.get("egress"):
                types.append("Egress")
            spec["policyTypes"] = types
    elif kind == "services":
        spec.setdefault("type", "ClusterIP")
        spec.setdefault("sessionAffinity", "None")
        for port in spec.get("ports") or []:
            if isinstance(port, dict):
                port.setdefault("protocol", "TCP")
                if "port" in port:
                    port.setdefault("targetPort", port["port"])
    elif kind == "pods":
        _default_pod_spec(spec)
    elif kind in ("deployments.apps", "replicasets.apps"):
        spec.setdefault("replicas", 1)
        if kind == "deployments.apps":
            spec.setdefault("revisionHistoryLimit", 10)
            spec.setdefault("progressDeadlineSeconds", 600)
            strategy = spec.setdefault("strategy", {})
            if isinstance(strategy, dict):
                strategy.setdefault("type", "RollingUpdate")
                if strategy["type"] == "RollingUpdate":
                    strategy.setdefault(
                        "rollingUpdate", {"maxUnavailable": "25%", "maxSurge": "25%"}
                    )
        _default_template(obj)
    elif kind == DAEMONSETS:
        spec.setdefault("revisionHistoryLimit", 10)
        strategy = spec.setdefault("updateStrategy", {})
        if isinstance(strategy, dict):
            strategy.setdefault("type", "RollingUpdate")
            if strategy["type"] == "RollingUpdate":
                rolling = strategy.setdefault("rollingUpdate", {})
                if isinstance(rolling, dict):
                    rolling.setdefault("maxUnavailable", 1)
                    rolling.setdefault("maxSurge", 0)
        _default_template(obj)
    elif kind == STATEFULSETS:
        default_statefulset_spec(spec)
        _default_template(obj)


_DAEMONSET_STATUS_COUNTS = (
    "currentNumberScheduled",
    "numberMisscheduled",
    "desiredNumberScheduled",
    "numberReady",
)


# The status each kind is born with (None: none); a copy goes into each new object.
_BORN: dict[str, dict[str, Any] | None] = {
    "pods": {"phase": "Pending"},
    "services": {"loadBalancer": {}},
    "namespaces": {"phase": "Active"},
    "deployments.apps": None,
    "replicasets.apps": None,
    REPLICATION_CONTROLLERS: {"replicas": 0},  # core/v1's `replicas` has no omitempty
    DAEMONSETS: dict.fromkeys(_DAEMONSET_STATUS_COUNTS, 0),  # the counts have no omitempty
    STATEFULSETS: {"replicas": 0, "availableReplicas": 0},  # neither has omitempty
    CONTROLLER_REVISIONS: None,
    JOBS: {},
    CRONJOBS: {},
    CLUSTER_NETWORK_POLICY_KEY: None,  # a CRD with a status subresource drops it
    **dict.fromkeys(V1ALPHA1_POLICY_KEYS),
}


def prepare_for_create(resource: Resource, obj: Object) -> None:
    """PrepareForCreate: a client does not choose the status an object is born with."""
    if resource.key in _BORN:
        born = _BORN[resource.key]
        initial = None if born is None else thaw(born)  # the object's own, never the table's
    else:
        initial = obj.get("status")
    if initial is None:
        obj.pop("status", None)
    else:
        obj["status"] = initial


# Validation.


def warn(resource: Resource, obj: Object) -> list[str]:
    """What a valid object asks that podwall does not do, for the `Warning` header kubectl
    prints: a StatefulSet's volumeClaimTemplates (no PersistentVolumeClaims are served)."""
    if resource.key != STATEFULSETS:
        return []
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        return []
    claims = [
        str((c.get("metadata") or {}).get("name") or "")
        for c in spec.get("volumeClaimTemplates") or ()
        if isinstance(c, dict)
    ]
    if not claims:
        return []
    return [
        f"spec.volumeClaimTemplates: podwall serves no PersistentVolumeClaims: the claims "
        f"{', '.join(claims)} are not provisioned, and the pods run without those volumes"
    ]


_NAME_RULES: dict[str, Callable[[str], list[str]]] = {
    "namespaces": is_dns1123_label,
    "services": is_dns1035_label,
    **{key: rbacvalidation.path_segment_name for key in (*rbacvalidation.ROLES,
                                                         *rbacvalidation.BINDINGS)},
}  # fmt: skip


def validate(resource: Resource, obj: Object, more: Sequence[FieldError] = ()) -> None:
    """Raise a 422 Invalid ApiError naming every field that is wrong; `more` are the errors
    the caller found that need the request (a Pod's, see `handlers`)."""
    if resource.key == NETWORK_POLICY_KEY:
        errs = validate_network_policy(obj)
    elif resource.key == CLUSTER_NETWORK_POLICY_KEY:
        errs = validate_cluster_network_policy(obj)
    elif resource.key in V1ALPHA1_POLICY_KEYS:
        errs = anpvalidation.validate(V1ALPHA1_POLICY_KEYS[resource.key], obj)
    else:
        errs = validate_object_meta(obj.get("metadata"), "metadata")
        name = (obj.get("metadata") or {}).get("name")
        name_rule = _NAME_RULES.get(resource.key)
        if name_rule is not None and isinstance(name, str) and name:
            # These kinds validate the name with their own rule instead of a DNS subdomain.
            errs = [invalid("metadata.name", name, msg) for msg in name_rule(name)] + [
                e for e in errs if e.path != "metadata.name"
            ]
        if resource.key in ("deployments.apps", "replicasets.apps"):
            errs += appsvalidation.validate_workload(obj)
        elif resource.key == REPLICATION_CONTROLLERS:
            errs += rcvalidation.validate_replication_controller(obj)
        elif resource.key == DAEMONSETS:
            errs += appsvalidation.validate_daemonset(obj)
        elif resource.key == STATEFULSETS:
            errs += appsvalidation.validate_statefulset(obj)
        elif resource.key == CONTROLLER_REVISIONS:
            errs += appsvalidation.validate_controller_revision(obj)
        elif resource.key == JOBS:
            errs += batchvalidation.validate_job(obj)
        elif resource.key == CRONJOBS:
            errs += batchvalidation.validate_cronjob(obj)
        elif resource.key == "secrets":
            errs += secretdata.validate(obj)
        errs += rbacvalidation.validate(resource.key, obj)
    errs = [*errs, *more]
    if errs:
        meta = obj.get("metadata") or {}
        name = str(meta.get("name") or meta.get("generateName") or "")
        raise errors.invalid(resource.kind, resource.group, name, errs)
