"""Whether a pod fits a node: nodeSelector, required node affinity, taints.

Mirrors what the DaemonSet controller asks of a node before it places a daemon pod there
(pkg/controller/daemon `predicates`): `nodeaffinity.GetRequiredNodeAffinity(pod).Match(node)`
(k8s.io/component-helpers/scheduling/corev1/nodeaffinity: the nodeSelector's labels, then the
`requiredDuringSchedulingIgnoredDuringExecution` terms, ORed, each term's `matchExpressions` on
labels and `matchFields` on `metadata.name` ANDed), `Toleration.ToleratesTaint` and
`FindMatchingUntoleratedTaint` (k8s.io/api/core/v1, component-helpers/scheduling/corev1), and
the tolerations every daemon pod gets (`util.AddOrUpdateDaemonPodTolerations`).

Pure: nodes and pods are JSON dicts; nothing is read or written.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from podwall.controllers.meta import name_of

NAME_FIELD = "metadata.name"
"""The one field `matchFields` may name (metav1.ObjectNameField)."""

NOT_READY = "node.kubernetes.io/not-ready"
UNREACHABLE = "node.kubernetes.io/unreachable"
DISK_PRESSURE = "node.kubernetes.io/disk-pressure"
MEMORY_PRESSURE = "node.kubernetes.io/memory-pressure"
PID_PRESSURE = "node.kubernetes.io/pid-pressure"
UNSCHEDULABLE = "node.kubernetes.io/unschedulable"
NETWORK_UNAVAILABLE = "node.kubernetes.io/network-unavailable"

_DAEMON_TOLERATIONS: tuple[tuple[str, str], ...] = (
    (NOT_READY, "NoExecute"),
    (UNREACHABLE, "NoExecute"),
    (DISK_PRESSURE, "NoSchedule"),
    (MEMORY_PRESSURE, "NoSchedule"),
    (PID_PRESSURE, "NoSchedule"),
    (UNSCHEDULABLE, "NoSchedule"),
)


def tolerates(toleration: Mapping[str, Any], taint: Mapping[str, Any]) -> bool:
    """Toleration.ToleratesTaint: effect and key match when given; Equal compares values."""
    effect, key = toleration.get("effect") or "", toleration.get("key") or ""
    if effect and effect != taint.get("effect"):
        return False
    if key and key != taint.get("key"):
        return False
    operator = toleration.get("operator") or "Equal"
    if operator == "Exists":
        return True
    if operator == "Equal":
        return (toleration.get("value") or "") == (taint.get("value") or "")
    return False


def untolerated_taint(
    taints: Iterable[Mapping[str, Any]],
    tolerations: Iterable[Mapping[str, Any]],
    considered: Callable[[Mapping[str, Any]], bool],
) -> Mapping[str, Any] | None:
    """FindMatchingUntoleratedTaint: the first considered taint no toleration tolerates."""
    tolerations = list(tolerations)
    for taint in taints:
        if considered(taint) and not any(tolerates(t, taint) for t in tolerations):
            return taint
    return None


def _add_toleration(tolerations: list[dict[str, Any]], key: str, effect: str) -> None:
    """v1helper.AddOrUpdateTolerationInPodSpec: replace the one that MatchToleration says is
    the same (key, operator, value and effect; tolerationSeconds aside), else append."""
    new = {"key": key, "operator": "Exists", "effect": effect}
    same = ("key", "operator", "value", "effect")
    for index, old in enumerate(tolerations):
        if all((old.get(field) or "") == (new.get(field) or "") for field in same):
            tolerations[index] = new
            return
    tolerations.append(new)


def add_daemon_tolerations(spec: dict[str, Any]) -> None:
    """util.AddOrUpdateDaemonPodTolerations, in place: a daemon pod stays on a node that is not
    ready, unreachable, under pressure or cordoned (and, with hostNetwork, one without a pod
    network), as node agents must."""
    tolerations: list[dict[str, Any]] = list(spec.get("tolerations") or ())
    for key, effect in _DAEMON_TOLERATIONS:
        _add_toleration(tolerations, key, effect)
    if spec.get("hostNetwork"):
        _add_toleration(tolerations, NETWORK_UNAVAILABLE, "NoSchedule")
    spec["tolerations"] = tolerations


def _as_int(value: str) -> int | None:
    try:
        return int(value)
    except ValueError:
        return None


def requirement_matches(requirement: Mapping[str, Any], value: str | None) -> bool:
    """One NodeSelectorRequirement against the node's value for its key (None: absent)."""
    operator = requirement.get("operator")
    values = [str(v) for v in requirement.get("values") or ()]
    if operator == "In":
        return value is not None and value in values
    if operator == "NotIn":
        return value is None or value not in values
    if operator == "Exists":
        return value is not None
    if operator == "DoesNotExist":
        return value is None
    if operator in ("Gt", "Lt") and value is not None and len(values) == 1:
        have, bound = _as_int(value), _as_int(values[0])
        if have is None or bound is None:
            return False
        return have > bound if operator == "Gt" else have < bound
    return False


def term_matches(term: Mapping[str, Any], node: Mapping[str, Any]) -> bool:
    """A NodeSelectorTerm: every expression on labels and every field; an empty term, none."""
    expressions = list(term.get("matchExpressions") or ())
    fields = list(term.get("matchFields") or ())
    if not expressions and not fields:
        return False
    labels = (node.get("metadata") or {}).get("labels") or {}
    for requirement in expressions:
        value = labels.get(requirement.get("key"))
        if not requirement_matches(requirement, None if value is None else str(value)):
            return False
    for requirement in fields:
        value = name_of(node) if requirement.get("key") == NAME_FIELD else None
        if value is None or not requirement_matches(requirement, value):
            return False
    return True


def required_terms(spec: Mapping[str, Any]) -> list[Mapping[str, Any]] | None:
    """The required node affinity's terms, None when the pod has none."""
    affinity = (spec.get("affinity") or {}).get("nodeAffinity") or {}
    required = affinity.get("requiredDuringSchedulingIgnoredDuringExecution")
    if required is None:
        return None
    return list(required.get("nodeSelectorTerms") or ())


def fits_node_affinity(spec: Mapping[str, Any], node: Mapping[str, Any]) -> bool:
    """GetRequiredNodeAffinity(pod).Match(node): nodeSelector, then the required terms."""
    labels = (node.get("metadata") or {}).get("labels") or {}
    selector = spec.get("nodeSelector") or {}
    if any(labels.get(key) != value for key, value in selector.items()):
        return False
    terms = required_terms(spec)
    return terms is None or any(term_matches(term, node) for term in terms)


def taints_of(node: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return list((node.get("spec") or {}).get("taints") or ())


def scheduling_taint(taint: Mapping[str, Any]) -> bool:
    """The effects a pod must tolerate to be placed: NoSchedule and NoExecute."""
    return taint.get("effect") in ("NoSchedule", "NoExecute")


def eviction_taint(taint: Mapping[str, Any]) -> bool:
    """The effect a running pod must tolerate to stay: NoExecute."""
    return taint.get("effect") == "NoExecute"
