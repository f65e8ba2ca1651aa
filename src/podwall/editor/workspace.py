"""The loaded cluster: every source read, each NetworkPolicy validated, the rest converted.

Unlike the CLI, an invalid policy does not stop the editor: it is left out of the snapshot
and listed with its file, line and the API server's message.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from podwall.editor.drafts import validate
from podwall.editor.form import JSON
from podwall.editor.sources import MemorySource, Source
from podwall.manifests.reader import Loaded, LoadError
from podwall.model.cluster import Cluster
from podwall.model.clusterpolicy import ClusterNetworkPolicy
from podwall.model.cnpvalidation import validate_cluster_network_policy
from podwall.model.convert import cluster
from podwall.model.policy import NetworkPolicy
from podwall.model.rawobject import RawObject


@dataclass(kw_only=True)
class Snapshot:
    cluster: Cluster
    raw_policies: dict[str, RawObject] = field(default_factory=dict)  # both kinds, by key
    errors: list[str] = field(default_factory=list)
    ignored: dict[str, int] = field(default_factory=dict)


class Workspace:
    """The sources, the texts imported on the page, and the snapshot built from them."""

    def __init__(self, sources: Sequence[Source] = (), *, max_age: float | None = None) -> None:
        """`max_age`: seconds a snapshot is used before the sources are read again (a live
        cluster changes by itself); None keeps it until `reload()` (files change on request)."""
        self.imported = MemorySource()
        self.sources: list[Source] = [*sources, self.imported]
        self.max_age = max_age
        self._snapshot: Snapshot | None = None
        self._built = 0.0

    def files(self) -> list[str]:
        return [name for s in self.sources for name in s.describe()]

    def snapshot(self) -> Snapshot:
        stale = self.max_age is not None and time.monotonic() - self._built > self.max_age
        if self._snapshot is None or stale:
            self._snapshot = self._build()
            self._built = time.monotonic()
        return self._snapshot

    def reload(self) -> Snapshot:
        self._snapshot = None
        return self.snapshot()

    def add(self, name: str, text: str) -> Snapshot:
        self.imported.add(name, text)
        return self.reload()

    def remove(self, name: str) -> Snapshot:
        self.imported.remove(name)
        return self.reload()

    def _build(self) -> Snapshot:
        errors: list[str] = []
        objects: list[RawObject] = []
        for source in self.sources:
            try:
                loaded = source.load()
            except LoadError as exc:
                errors.append(str(exc))
                continue
            objects += _valid(loaded, errors)
        conversion = cluster(objects)
        raw = {f"{o.namespace}/{o.name}": o for o in objects if o.kind == "NetworkPolicy"}
        raw |= {_cluster_key(o): o for o in objects if o.kind == "ClusterNetworkPolicy"}
        return Snapshot(
            cluster=conversion.cluster,
            raw_policies=raw,
            errors=errors,
            ignored=conversion.ignored,
        )


def _valid(loaded: Loaded, errors: list[str]) -> list[RawObject]:
    out = []
    for obj in loaded.objects:
        if obj.kind == "NetworkPolicy":
            src = obj.source
            problems = validate(obj.body, loaded.texts.get(src.file, ""), src.document)
            if problems:
                errors += [_where(obj, p) for p in problems]
                continue
        elif obj.kind == "ClusterNetworkPolicy":
            # Converted only when valid, as the commands do (the engine evaluates the tiers).
            found = [e.render() for e in validate_cluster_network_policy(obj.body)]
            if found:
                errors += [_where(obj, {"message": text}) for text in found]
                continue
        out.append(obj)
    return out


def _cluster_key(obj: RawObject) -> str:
    """A valid ClusterNetworkPolicy's key, as the model names it: `admin/name`."""
    return f"{str(obj.body['spec']['tier']).lower()}/{obj.name}"


def _where(obj: RawObject, problem: JSON) -> str:
    line = problem.get("line") or obj.source.line
    where = f"{obj.source.file}:{line}" if line else obj.source.file
    return f"{where}: {obj.describe()}: {problem['message']} (left out)"


def with_draft(base: Cluster, draft: NetworkPolicy | ClusterNetworkPolicy | None) -> Cluster:
    """The snapshot as it would be after `kubectl apply` of the draft (same name replaces: a
    ClusterNetworkPolicy's name is cluster-wide, whatever its tier)."""
    if draft is None:
        return base
    policies, cluster_policies = list(base.policies), list(base.cluster_policies)
    if isinstance(draft, ClusterNetworkPolicy):
        cluster_policies = [p for p in cluster_policies if p.name != draft.name] + [draft]
    else:
        policies = [p for p in policies if p.key != draft.key] + [draft]
    return Cluster.build(
        namespaces=base.namespaces.values(),
        pods=base.pods,
        services=base.services,
        policies=policies,
        workloads=base.workloads,
        nodes=base.nodes,
        cluster_policies=cluster_policies,
    )
