"""The rows and columns of the matrix: pods grouped by namespace, or by namespace and workload.

A workload is the pod's declared owner (`deploy web`); a bare pod falls back to its `app`
label, then to its own name. Groups are for reading, not for policy: a group's pods may
behave differently, and the grid says so. Filters (namespace, workload, text) pick groups.
Pure: no I/O here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from podwall.model.cluster import Pod

APP_LABELS = ("app.kubernetes.io/name", "app")
BY = ("workload", "namespace")


@dataclass(frozen=True, slots=True, kw_only=True)
class Group:
    index: int
    namespace: str
    workload: str  # "" when grouped by namespace
    pods: tuple[int, ...]  # indices into the connectivity map's pods
    search: str  # lower-case text a filter looks in: names, keys, labels

    @property
    def label(self) -> str:
        return f"{self.namespace}/{self.workload}" if self.workload else self.namespace


@dataclass(frozen=True, slots=True, kw_only=True)
class Filter:
    """Empty fields keep every group; `namespace` is exact, the others are substrings."""

    namespace: str = ""
    workload: str = ""
    text: str = ""

    def keeps(self, group: Group) -> bool:
        if self.namespace and group.namespace != self.namespace:
            return False
        if self.workload and self.workload.lower() not in group.workload.lower():
            return False
        return not self.text or self.text.lower() in group.search


def workload_of(pod: Pod) -> str:
    if pod.workload is not None:
        kind, name = pod.workload
        return f"{kind.lower()} {name}"
    for key in APP_LABELS:
        value = pod.labels.get(key)
        if value:
            return f"app {value}"
    return f"pod {pod.name}"


def group_pods(pods: Sequence[Pod], by: str) -> tuple[Group, ...]:
    """Groups in (namespace, workload) order; `pods` are the map's, in its order."""
    members: dict[tuple[str, str], list[int]] = {}
    for i, pod in enumerate(pods):
        workload = workload_of(pod) if by == "workload" else ""
        members.setdefault((pod.namespace, workload), []).append(i)
    out = []
    for index, ((namespace, workload), indices) in enumerate(sorted(members.items())):
        words = [namespace, workload]
        for i in indices:
            pod = pods[i]
            words += [pod.key, *(f"{k}={v}" for k, v in pod.labels.items())]
        out.append(
            Group(
                index=index,
                namespace=namespace,
                workload=workload,
                pods=tuple(indices),
                search="\n".join(words).lower(),
            )
        )
    return tuple(out)
