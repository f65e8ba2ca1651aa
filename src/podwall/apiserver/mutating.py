"""Mutating admission of a running cluster: what the API server does to pods and Services
between the request and the store, with the controllers' pure functions.

- pods, on create: `default_pod` (defaults, admission plugins, status Pending with its QoS
  class), then the `Scheduler` places it among the Nodes (without one, `schedule_pod` puts
  every pod on the one node `node`);
- Services, on create: `default_service` allocates the ClusterIP (or checks the requested one);
  on update: `keep_allocation` carries it over and refuses to change it;
- Deployments and ReplicaSets, on create: the controllers' defaults (idempotent, so objects that
  `admission.default` already defaulted pass unchanged);
- DaemonSets, on create and update: `prepare_daemonset` (template defaults, and the template
  generation annotation, bumped when the template changes); an update that changes the selector
  is refused, as ValidateDaemonSetUpdate refuses it (`field is immutable`);
- StatefulSets, on update: a change to the spec beyond the fields ValidateStatefulSetUpdate
  lets change is refused (`Forbidden`, in its words); ControllerRevisions, on update: a change
  to `data` is refused (ValidateControllerRevisionUpdate: `field is immutable`).
- Jobs, on create: `prepare_job` (defaults, and the selector generated from the uid), then the
  checks of that selector; on update: the immutable selector, template and completions.

Installed on a Store with `install(store)`; it runs under the Store's write lock (see
`Store.on_write`), so two Services never get the same address. A ClusterIPError becomes the
422 Invalid that kubectl prints with the field named.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from podwall.apiserver import batchvalidation, errors
from podwall.apiserver.goformat import GoText, go_label_selector
from podwall.apiserver.scheduler import Scheduler
from podwall.apiserver.store import Object, Store
from podwall.clock import Clock, utc_now
from podwall.controllers import (
    ClusterIPError,
    default_deployment,
    default_pod,
    default_replicaset,
    default_service,
    keep_allocation,
    schedule_pod,
)
from podwall.controllers.daemonpods import prepare_daemonset
from podwall.controllers.jobspec import prepare_job
from podwall.controllers.pods import NODE_NAME
from podwall.controllers.services import KUBE_DNS_IP, KUBERNETES_IP, cluster_ips
from podwall.model.fielderrors import forbidden, invalid

BUILT_IN = {("default", "kubernetes"): KUBERNETES_IP, ("kube-system", "kube-dns"): KUBE_DNS_IP}


class Admission:
    """The mutating steps, over one Store; `install` hooks them in, `remove` takes them out."""

    def __init__(
        self,
        store: Store,
        *,
        node: str = NODE_NAME,
        scheduler: Scheduler | None = None,
        clock: Clock = utc_now,
        rng: random.Random | None = None,
    ) -> None:
        self.store = store
        self.node = node
        self.scheduler = scheduler
        self.clock = clock
        self.rng = rng or random.Random()
        self._undo: list[Callable[[], None]] = []

    def install(self) -> None:
        hooks = {
            "pods": self.pod,
            "services": self.service,
            "deployments.apps": self.deployment,
            "replicasets.apps": self.replicaset,
            "daemonsets.apps": self.daemonset,
            "statefulsets.apps": self.statefulset,
            "controllerrevisions.apps": self.controller_revision,
            "jobs.batch": self.job,
        }
        for resource, hook in hooks.items():
            self._undo.append(self.store.on_write(resource, hook))

    def remove(self) -> None:
        while self._undo:
            self._undo.pop()()

    def pod(self, new: Object, stored: Object | None) -> Object:
        if stored is not None:
            return new
        if self.scheduler is not None:
            return self.scheduler.place(default_pod(new))
        return schedule_pod(default_pod(new), self.clock(), self.node)

    def service(self, new: Object, stored: Object | None) -> Object:
        meta = new.get("metadata") or {}
        mine = (meta.get("namespace"), meta.get("name"))
        requested = (new.get("spec") or {}).get("clusterIP")
        if requested and BUILT_IN.get((str(mine[0]), str(mine[1]))) == requested:
            return new  # `kubernetes` and `kube-dns` hold the reserved addresses
        try:
            if stored is not None:
                return keep_allocation(new, stored)
            others, _ = self.store.list("services")
            taken = cluster_ips(
                [
                    s
                    for s in others
                    if (s["metadata"].get("namespace"), s["metadata"]["name"]) != mine
                ]
            )
            return default_service(new, taken, self.rng)
        except ClusterIPError as exc:
            name = str((new.get("metadata") or {}).get("name") or "")
            raise errors.invalid("Service", "", name, list(exc.errors)) from exc

    def deployment(self, new: Object, stored: Object | None) -> Object:
        return new if stored is not None else default_deployment(new)

    def replicaset(self, new: Object, stored: Object | None) -> Object:
        return new if stored is not None else default_replicaset(new)

    def daemonset(self, new: Object, stored: Object | None) -> Object:
        if stored is not None:
            selector = (new.get("spec") or {}).get("selector")
            if selector != (stored.get("spec") or {}).get("selector"):
                name = str((new.get("metadata") or {}).get("name") or "")
                value = GoText("", (go_label_selector(selector),))
                error = invalid("spec.selector", value, "field is immutable")
                raise errors.invalid("DaemonSet", "apps", name, [error])
        return prepare_daemonset(new, stored)

    def statefulset(self, new: Object, stored: Object | None) -> Object:
        if stored is not None:
            fixed = {k: v for k, v in (new.get("spec") or {}).items() if k not in _STS_MUTABLE}
            kept = {k: v for k, v in (stored.get("spec") or {}).items() if k not in _STS_MUTABLE}
            if fixed != kept:
                name = str((new.get("metadata") or {}).get("name") or "")
                error = forbidden("spec", _STS_FORBIDDEN)
                raise errors.invalid("StatefulSet", "apps", name, [error])
        return new

    def controller_revision(self, new: Object, stored: Object | None) -> Object:
        if stored is not None and new.get("data") != stored.get("data"):
            name = str((new.get("metadata") or {}).get("name") or "")
            error = invalid("data", new.get("data"), "field is immutable")
            raise errors.invalid("ControllerRevision", "apps", name, [error])
        return new

    def job(self, new: Object, stored: Object | None) -> Object:
        """The registry's generated selector on create (it needs the uid the store just set),
        then the checks that read it; on update, the immutable fields."""
        if stored is not None:
            errs = batchvalidation.validate_job_update(new, stored)
        else:
            new = prepare_job(new, None)
            errs = batchvalidation.validate_job_selector(new)
        if errs:
            name = str((new.get("metadata") or {}).get("name") or "")
            raise errors.invalid("Job", "batch", name, errs)
        return new


_STS_MUTABLE = frozenset(
    ("replicas", "template", "updateStrategy", "minReadySeconds", "ordinals",
     "persistentVolumeClaimRetentionPolicy")
)  # fmt: skip
_STS_FORBIDDEN = (
    "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', "
    "'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are "
    "forbidden"
)
