"""Which running pods a workload of the other side stands for, so a diff pairs them up.

Files declare a workload by its template (one stand-in pod, `Pod.workload` set); a cluster
runs its pods (`frontend-d9b85874d-brtf6`). A running pod is the workload's when it is in the
workload's namespace, its name starts with the workload's name and a dash, its selector
selects it: what the workload's controllers go by to own pods (a pod the selector no longer
selects is released). A stand-in stands for every replica, so the comparison is per workload
whatever the replica counts: the running pods whose labels (less those the controllers add),
named ports and host network are the template's are that one endpoint, and so are they all
when they all differ from it alike (the files change the template, or each was relabelled),
with a note; a running pod that differs from the others (`kubectl label pod ...`) keeps its
name, is compared as what the files would re-create, and is named in a note. Standalone pods
match by name only, elsewhere.
Pure: no I/O here.
"""

from __future__ import annotations

from collections.abc import Mapping

from podwall.model.cluster import Cluster, Pod, Workload
from podwall.model.policy import IPAddress
from podwall.model.record import Record, field, replace

# Labels the workload controllers put on the pods they create, never in a template.
CONTROLLER_LABELS = frozenset(
    {
        "pod-template-hash",  # Deployment
        "controller-revision-hash",  # StatefulSet, DaemonSet
        "pod-template-generation",  # DaemonSet
        "statefulset.kubernetes.io/pod-name",
        "apps.kubernetes.io/pod-index",
        "controller-uid",  # Job
        "job-name",
        "batch.kubernetes.io/controller-uid",
        "batch.kubernetes.io/job-name",
        "batch.kubernetes.io/job-completion-index",
    }
)


class Matching(Record):
    """`alias`: a running pod's key -> the key of the stand-in it is (its labels are the
    template's); `counterpart`: a running pod that differs from its template -> the stand-in
    it is compared as. Keys are unique across both sides (pods on one side only)."""

    alias: Mapping[str, str] = field(default_factory=dict)
    counterpart: Mapping[str, str] = field(default_factory=dict)
    notes: tuple[str, ...] = ()


def match(before: Cluster, after: Cluster) -> Matching:
    alias: dict[str, str] = {}
    counterpart: dict[str, str] = {}
    notes: list[str] = []
    for stand_in, workload, pods in _by_workload(before, after):
        drifts = {pod.key: differences(pod, stand_in) for pod in pods}
        alike = [d for d in drifts.values() if not d]
        first = next(iter(drifts.values()))
        if not alike and all(d == first for d in drifts.values()):
            # Every running pod differs alike: the files change the template (a rollout) or
            # every pod was relabelled; either way one endpoint, as the files re-create it.
            alias.update(dict.fromkeys(drifts, stand_in.key))
            notes.append(
                f"the {len(pods)} running pod(s) of {_name(workload)} differ from its template "
                f"in the files ({'; '.join(first)}): compared as the files would re-create them"
            )
            continue
        for key, drift in drifts.items():
            if not drift:
                alias[key] = stand_in.key
                continue
            counterpart[key] = stand_in.key
            notes.append(
                f"{key} differs from the template of {_name(workload)} "
                f"({'; '.join(drift)}): it is compared as the files would re-create it"
            )
    return Matching(alias=alias, counterpart=counterpart, notes=tuple(notes))


def with_addresses(side: Cluster, other: Cluster, matching: Matching) -> Cluster:
    """`side` with its stand-ins given the addresses of the running pods of `other` they stand
    for: a pod the files re-create gets an address of the pod network too, and an ipBlock
    holding the running pods' addresses holds it (a template alone has none)."""
    found: dict[str, dict[IPAddress, None]] = {}
    for running, stand_in in (*matching.alias.items(), *matching.counterpart.items()):
        pod = other.pods_by_key.get(running)
        template = side.pods_by_key.get(stand_in)
        if pod is not None and template is not None and not template.ips:
            found.setdefault(stand_in, {}).update(dict.fromkeys(pod.ips))
    if not any(found.values()):
        return side
    pods = tuple(replace(p, ips=tuple(found[p.key])) if found.get(p.key) else p for p in side.pods)
    return replace(side, pods=pods)


def _by_workload(before: Cluster, after: Cluster) -> list[tuple[Pod, Workload, list[Pod]]]:
    """(stand-in, its workload, the running pods it stands for), in the stand-ins' order."""
    out: dict[str, tuple[Pod, Workload, list[Pod]]] = {}
    for pod, stand_in, workload in _owners(before, after).values():
        out.setdefault(stand_in.key, (stand_in, workload, []))[2].append(pod)
    return list(out.values())


def _owners(before: Cluster, after: Cluster) -> dict[str, tuple[Pod, Pod, Workload]]:
    """Running pod key -> (the pod, the stand-in, its workload). Where two workloads' names
    and selectors fit (`web`, `web-api`), the longer name is the owner, as pod names go."""
    out: dict[str, tuple[Pod, Pod, Workload]] = {}
    for mine, other in ((before, after), (after, before)):
        stand_ins = _stand_ins(mine, other)
        if not stand_ins:
            continue  # the usual diff of two sets of files: nothing to look for
        orphans = _orphans(other, mine)
        for stand_in, workload in stand_ins:
            prefix = f"{workload.name}-"
            for pod in orphans.get(workload.namespace, ()):
                if not pod.name.startswith(prefix) or not workload.selector.matches(pod.labels):
                    continue
                found = out.get(pod.key)
                if found is None or len(found[2].name) < len(workload.name):
                    out[pod.key] = (pod, stand_in, workload)
    return dict(sorted(out.items()))


def _stand_ins(side: Cluster, other: Cluster) -> list[tuple[Pod, Workload]]:
    """The stand-ins of `side` that `other` has no pod of that name for, with their workload."""
    by_key = {(w.kind, w.namespace, w.name): w for w in side.workloads}
    taken = other.pods_by_key
    out: list[tuple[Pod, Workload]] = []
    for pod in side.pods:
        if pod.workload is None or pod.key in taken:
            continue
        workload = by_key.get((pod.workload[0], pod.namespace, pod.workload[1]))
        if workload is not None:
            out.append((pod, workload))
    return out


def _orphans(side: Cluster, other: Cluster) -> dict[str, list[Pod]]:
    """The running pods of `side` that `other` has no pod of that name for, by namespace: on
    a cluster, those of the workloads the files redeclare (see `live/layer.py`)."""
    taken = other.pods_by_key
    out: dict[str, list[Pod]] = {}
    for pod in side.pods:
        if pod.workload is None and pod.key not in taken:
            out.setdefault(pod.namespace, []).append(pod)
    return out


def differences(pod: Pod, template: Pod) -> list[str]:
    """How a running pod differs from its template, as policy sees a pod; [] when alike."""
    out: list[str] = []
    labels = {k: v for k, v in pod.labels.items() if k not in CONTROLLER_LABELS}
    wanted = dict(template.labels)
    out += [
        f"label {k}={v} not in the template" for k, v in sorted(labels.items()) if k not in wanted
    ]
    for key, value in sorted(wanted.items()):
        if key not in labels:
            out.append(f"label {key}={value} missing")
        elif labels[key] != value:
            out.append(f"label {key}={labels[key]}, the template has {value}")
    if _named(pod) != _named(template):
        out.append("named ports differ")
    if pod.host_network != template.host_network:
        out.append("hostNetwork differs")
    return out


def _named(pod: Pod) -> set[tuple[str, str, int]]:
    return {(p.name, p.protocol.value, p.port) for p in pod.ports if p.name}


def _name(workload: Workload) -> str:
    return f"{workload.kind.lower()} {workload.namespace}/{workload.name}"
