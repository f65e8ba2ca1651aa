"""The CronJob controller as a client-go controller: keys are (namespace, name) of CronJobs.

| a change to… | queues                                   |
|--------------|------------------------------------------|
| a CronJob    | it                                       |
| a Job        | its controlling CronJob (old and new)    |

A sync reads the CronJob and the Jobs it controls (by controller uid), runs
`reconcile_cronjob` and has its actions written; the key comes back just after the next
scheduled time. Handlers run in the thread that delivers the Store's events: they only read
caches and queue.
"""

from __future__ import annotations

from podwall.apiserver.informers import Informers, Key
from podwall.apiserver.loops import CONTROLLER, controller_index, enqueue_controller, enqueue_itself
from podwall.apiserver.workqueue import WorkQueue
from podwall.apiserver.writes import Writer
from podwall.clock import Clock
from podwall.controllers.cronjobs import reconcile_cronjob
from podwall.controllers.meta import uid_of

CRONJOBS, JOBS = "cronjobs.batch", "jobs.batch"


class CronJobController:
    """syncCronJob per key; Job changes reach the CronJob that controls them."""

    name = "cronjob"

    def __init__(
        self, informers: Informers, writer: Writer, queue: WorkQueue[Key], clock: Clock
    ) -> None:
        self.queue, self.writer, self.clock = queue, writer, clock
        self.cronjobs = informers.informer(CRONJOBS)
        self.jobs = informers.informer(JOBS)
        self.jobs.add_index(CONTROLLER, controller_index)
        self.cronjobs.add_handler(enqueue_itself(self.queue))
        self.jobs.add_handler(enqueue_controller(self.queue, "CronJob"))

    def sync(self, key: Key) -> int:
        cronjob = self.cronjobs.get(*key)
        if cronjob is None:
            return 0  # its Jobs are the garbage collector's
        jobs = self.jobs.by_index(CONTROLLER, uid_of(cronjob))
        result = reconcile_cronjob(cronjob, jobs, self.clock())
        written = self.writer.apply(result.actions, {CRONJOBS: [cronjob]})
        if result.requeue_after is not None:
            self.queue.add_later(key, result.requeue_after)
        return written
