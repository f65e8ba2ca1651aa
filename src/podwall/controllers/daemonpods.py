"""DaemonSet pods: which nodes should run one, the pod for a node, and which pods are current.

Mirrors pkg/controller/daemon: `NodeShouldRunDaemonPod`, `getNodesToDaemonPods`
(daemon_controller.go) and util/daemonset_util.go (`NewPod`, `IsPodUpdated`,
`GetTemplateGeneration`, `GetTargetNodeName`, `ReplaceDaemonSetPodNodeNameNodeAffinity`, the
daemon tolerations); the registry's template generation (`deprecated.daemonset.template
.generation`: 1 on create, bumped when the template changes). Which nodes fit is `nodefit`.

A pod's revision is its template's hash (`revisions.revision_hash`, which also names the
DaemonSet's ControllerRevisions). A daemon pod is created bound (`spec.nodeName`) as well as
carrying upstream's node-name affinity, since podwall's scheduler reads no affinity. Pure.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from podwall.controllers import nodefit, revisions
from podwall.controllers.actions import Obj
from podwall.controllers.meta import (
    annotations_of,
    controlled_by,
    controller_ref,
    creation_key,
    deep,
    is_deleting,
    labels_of,
    name_of,
    namespace_of,
)
from podwall.controllers.pods import default_pod_template

TEMPLATE_GENERATION = "deprecated.daemonset.template.generation"
"""Where apps/v1 keeps spec.templateGeneration (the registry bumps it on template changes)."""
HASH_LABEL = "controller-revision-hash"
GENERATION_LABEL = "pod-template-generation"
NodePods = dict[str, list[Obj]]


# -- the registry: defaults and template generation ------------------------------------------


def prepare_daemonset(new: Mapping[str, Any], stored: Mapping[str, Any] | None) -> Obj:
    """PrepareForCreate / PrepareForUpdate: template defaults, and the template generation:
    on create the one given (at least 1); on update one more than stored when the template
    changed, else the stored one."""
    out = deep(new)
    spec = out.setdefault("spec", {})
    spec["template"] = default_pod_template(spec.get("template") or {})
    if stored is None:
        generation = max(template_generation(out) or 1, 1)
    else:
        generation = template_generation(stored) or 1
        old_template = (stored.get("spec") or {}).get("template") or {}
        if default_pod_template(old_template) != spec["template"]:
            generation += 1
    annotations = out.setdefault("metadata", {}).setdefault("annotations", {})
    annotations[TEMPLATE_GENERATION] = str(generation)
    return out


def template_generation(ds: Mapping[str, Any]) -> int | None:
    """util.GetTemplateGeneration: the annotation as a number, None when absent or bad."""
    value = annotations_of(ds).get(TEMPLATE_GENERATION)
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def revision_hash(ds: Mapping[str, Any]) -> str:
    """The hash of the current template: its ControllerRevision's, and its pods' label."""
    return revisions.revision_hash(ds)


# -- pods ---------------------------------------------------------------------------------------


def _template(ds: Mapping[str, Any]) -> Mapping[str, Any]:
    return (ds.get("spec") or {}).get("template") or {}


def _pod_spec_for(ds: Mapping[str, Any], node: str) -> Obj:
    """util.NewPod's spec: the template's, on `node`, with the daemon tolerations."""
    spec = deep(_template(ds).get("spec") or {})
    spec["nodeName"] = node
    nodefit.add_daemon_tolerations(spec)
    return spec


def node_should_run(ds: Mapping[str, Any], node: Mapping[str, Any]) -> tuple[bool, bool]:
    """NodeShouldRunDaemonPod: (should run a pod there, should keep one running there)."""
    template_spec: Mapping[str, Any] = _template(ds).get("spec") or {}
    if template_spec.get("nodeName") and template_spec["nodeName"] != name_of(node):
        return False, False
    # What the predicates read of util.NewPod(ds, node), without copying the whole template.
    spec: dict[str, Any] = {**template_spec, "nodeName": name_of(node)}
    nodefit.add_daemon_tolerations(spec)
    if not nodefit.fits_node_affinity(spec, node):
        return False, False
    tolerations, taints = spec["tolerations"], nodefit.taints_of(node)
    if nodefit.untolerated_taint(taints, tolerations, nodefit.scheduling_taint) is None:
        return True, True
    evicted = nodefit.untolerated_taint(taints, tolerations, nodefit.eviction_taint)
    return False, evicted is None


def node_name_affinity(affinity: Mapping[str, Any] | None, node: str) -> Obj:
    """ReplaceDaemonSetPodNodeNameNodeAffinity: the required terms become `metadata.name In
    [node]` (the template's own terms chose the node already); the rest is kept."""
    out = deep(affinity or {})
    term = {"matchFields": [{"key": nodefit.NAME_FIELD, "operator": "In", "values": [node]}]}
    node_affinity = out.setdefault("nodeAffinity", {})
    required = node_affinity.setdefault("requiredDuringSchedulingIgnoredDuringExecution", {})
    required["nodeSelectorTerms"] = [term]
    return out


def new_pod(ds: Mapping[str, Any], node: str, pod_hash: str, name: str) -> Obj:
    """util.NewPod + GetPodFromTemplate: the daemon pod for `node`, owned by `ds`."""
    template_meta = _template(ds).get("metadata") or {}
    labels = dict(template_meta.get("labels") or {})
    generation = template_generation(ds)
    if generation is not None:
        labels[GENERATION_LABEL] = str(generation)
    labels[HASH_LABEL] = pod_hash
    metadata: dict[str, Any] = {
        "name": name,
        "generateName": f"{name_of(ds)}-",
        "namespace": namespace_of(ds),
        "labels": labels,
        "ownerReferences": [controller_ref(ds)],
    }
    for field in ("annotations", "finalizers"):
        if template_meta.get(field):
            metadata[field] = deep({field: template_meta[field]})[field]
    spec = _pod_spec_for(ds, node)
    spec["affinity"] = node_name_affinity(spec.get("affinity"), node)
    return {"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": spec}


def target_node(pod: Mapping[str, Any]) -> str:
    """util.GetTargetNodeName: spec.nodeName, else the node its name affinity names."""
    spec = pod.get("spec") or {}
    if spec.get("nodeName"):
        return str(spec["nodeName"])
    for term in nodefit.required_terms(spec) or ():
        for field in term.get("matchFields") or ():
            values = list(field.get("values") or ())
            if field.get("key") == nodefit.NAME_FIELD and len(values) == 1:
                return str(values[0])
    return ""


def is_pod_updated(pod: Mapping[str, Any], pod_hash: str, generation: int | None) -> bool:
    """util.IsPodUpdated: the pod carries the current hash or template generation."""
    labels = labels_of(pod)
    by_generation = generation is not None and labels.get(GENERATION_LABEL) == str(generation)
    return by_generation or (bool(pod_hash) and labels.get(HASH_LABEL) == pod_hash)


def phase(pod: Mapping[str, Any]) -> str:
    return str((pod.get("status") or {}).get("phase") or "")


def scheduled_then_oldest(pod: Mapping[str, Any]) -> tuple[bool, str, str]:
    """podByCreationTimestampAndPhase: bound pods first, then oldest, then by name."""
    return (not (pod.get("spec") or {}).get("nodeName"), *creation_key(pod))


def nodes_to_daemon_pods(ds: Mapping[str, Any], pods: Iterable[Mapping[str, Any]]) -> NodePods:
    """getNodesToDaemonPods: the pods `ds` controls, by target node, oldest first; a finished
    pod already being deleted is nobody's concern any more."""
    by_node: NodePods = {}
    for pod in sorted(controlled_by(pods, ds), key=scheduled_then_oldest):
        if is_deleting(pod) and phase(pod) in ("Succeeded", "Failed"):
            continue
        by_node.setdefault(target_node(pod), []).append(pod)
    return by_node


def desired_nodes(ds: Mapping[str, Any], nodes: Iterable[Mapping[str, Any]]) -> list[str]:
    """The nodes that should run a daemon pod, by name."""
    return sorted(name_of(node) for node in nodes if node_should_run(ds, node)[0])


def min_ready_seconds(ds: Mapping[str, Any]) -> int:
    return int((ds.get("spec") or {}).get("minReadySeconds", 0))
