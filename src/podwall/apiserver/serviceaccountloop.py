"""The ServiceAccounts controller as a client-go controller: keys are namespaces; a namespace
added, or its `default` ServiceAccount deleted, queues it; a sync creates what
`reconcile_service_accounts` asks for. Handlers only read caches and queue."""

from __future__ import annotations

from podwall.apiserver import errors
from podwall.apiserver.informers import Informers
from podwall.apiserver.store import Object
from podwall.apiserver.workqueue import WorkQueue
from podwall.apiserver.writes import Writer
from podwall.controllers.serviceaccounts import DEFAULT, reconcile_service_accounts


class ServiceAccountController:
    name = "serviceaccount"

    def __init__(self, informers: Informers, writer: Writer, queue: WorkQueue[str]) -> None:
        self.queue, self.writer = queue, writer
        self.namespaces = informers.informer("namespaces")
        self.accounts = informers.informer("serviceaccounts", full=False)
        self.namespaces.add_handler(self._namespace_changed)
        self.accounts.add_handler(self._account_changed)

    def _namespace_changed(self, old: Object | None, new: Object | None) -> None:
        if new is not None:
            self.queue.add(str((new.get("metadata") or {}).get("name", "")))

    def _account_changed(self, old: Object | None, new: Object | None) -> None:
        if new is None and old is not None:
            meta = old.get("metadata") or {}
            if meta.get("name") == DEFAULT:
                self.queue.add(str(meta.get("namespace", "")))

    def sync(self, key: str) -> int:
        namespace = self.namespaces.get("", key)
        actions = reconcile_service_accounts(namespace, self.accounts.has(key, DEFAULT))
        try:
            return self.writer.apply(actions)
        except errors.AlreadyExistsError:
            return 0  # made meanwhile (by a client): nothing left to do
