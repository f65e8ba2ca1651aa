"""The Job controller as a client-go controller: keys are (namespace, name) of Jobs.

| a change to… | queues                                   |
|--------------|------------------------------------------|
| a Job        | it                                       |
| a pod        | its controlling Job (old and new)        |

A sync reads the Job and the pods it controls (by controller uid), runs `reconcile_job` and has
its actions written; a deadline, a failure back-off or a TTL brings the key back when it is due.
Handlers run in the thread that delivers the Store's events: they only read caches and queue.
"""

from __future__ import annotations

from podwall.apiserver.informers import Informers, Key
from podwall.apiserver.loops import (
    CONTROLLER,
    PodOwner,
    controller_index,
    enqueue_controller,
    enqueue_itself,
)
from podwall.controllers.jobs import JOBS, reconcile_job
from podwall.controllers.meta import uid_of


class JobController(PodOwner):
    """syncJob per key; pod changes reach the Job that controls them."""

    name = "job"

    def watch(self, informers: Informers) -> None:
        self.jobs = informers.informer(JOBS)
        self.pods = informers.informer("pods")
        self.pods.add_index(CONTROLLER, controller_index)
        self.jobs.add_handler(enqueue_itself(self.queue))
        self.pods.add_handler(enqueue_controller(self.queue, "Job"))

    def sync(self, key: Key) -> int:
        job = self.jobs.get(*key)
        if job is None:
            return 0  # its pods are the garbage collector's
        pods = self.pods.by_index(CONTROLLER, uid_of(job))
        taken = self.pods.names_in(key[0])
        result = reconcile_job(job, pods, self.clock(), self.rng, taken)
        written = self.writer.apply(result.actions, {JOBS: [job]})
        if result.requeue_after is not None:
            self.queue.add_later(key, result.requeue_after)
        return written
