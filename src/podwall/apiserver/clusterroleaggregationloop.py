"""The clusterrole-aggregation controller as a client-go controller: keys are the names of the
ClusterRoles that carry an `aggregationRule`; any ClusterRole added, changed or deleted queues
every one of them (as upstream's does: a label change can move a role into or out of any
selector), and a sync writes the rules `reconcile_aggregation` computes. A role aggregated into
another (`edit` into `admin`) is itself a change, so aggregation carries through. Handlers only
read caches and queue."""

from __future__ import annotations

from podwall.apiserver import errors
from podwall.apiserver.informers import Informers
from podwall.apiserver.store import Object
from podwall.apiserver.workqueue import WorkQueue
from podwall.apiserver.writes import Writer
from podwall.controllers.clusterroleaggregation import (
    is_aggregated,
    reconcile_aggregation,
)

CLUSTER_ROLES = "clusterroles.rbac.authorization.k8s.io"
_ALL, _AGGREGATED = "all", "aggregated"


class ClusterRoleAggregationController:
    name = "clusterrole-aggregation"

    def __init__(self, informers: Informers, writer: Writer, queue: WorkQueue[str]) -> None:
        self.queue, self.writer = queue, writer
        self.roles = informers.informer(CLUSTER_ROLES)
        self.roles.add_index(_ALL, lambda _: (True,))
        self.roles.add_index(_AGGREGATED, lambda role: (True,) if is_aggregated(role) else ())
        self.roles.add_handler(self._changed)

    def _changed(self, old: Object | None, new: Object | None) -> None:
        for role in self.roles.by_index(_AGGREGATED, True):
            self.queue.add(str((role.get("metadata") or {}).get("name", "")))

    def sync(self, key: str) -> int:
        role = self.roles.get("", key)
        actions = reconcile_aggregation(role, self.roles.by_index(_ALL, True))
        try:
            return self.writer.apply(actions, {CLUSTER_ROLES: [role] if role else []})
        except errors.NotFoundError:
            return 0  # deleted meanwhile: nothing left to aggregate into
