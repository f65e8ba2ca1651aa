"""`ClusterSource`: the objects of a running cluster, read with the official `kubernetes` client.

Attached to `podwall up` (or any cluster a kubeconfig names), the editor reads namespaces, pods,
services, workloads, NetworkPolicies and ClusterNetworkPolicies (none where their CRD is not
installed; with them, the nodes their `nodes` peers select) on every load, so what it shows is
what the cluster holds now. Objects are converted to plain API dicts
(`sanitize_for_serialization`) and go through the same `podwall.model.convert` as manifests
read from files.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from kubernetes import client

from podwall.editor.errors import EditorError
from podwall.live import connect, reader
from podwall.manifests.reader import Loaded
from podwall.model.rawobject import RawObject
from podwall.model.source import Source as Origin

REQUEST_TIMEOUT = 10.0  # seconds, per list call


# The kinds the editor shows (not every workload kind live.reader knows), listed as it lists them.
_SHOWN = {
    "Namespace",
    "Pod",
    "Service",
    "Deployment",
    "ReplicaSet",
    "NetworkPolicy",
    "ClusterNetworkPolicy",
    # Read for the verdicts (the tiers they hold), though the editor drafts neither.
    "AdminNetworkPolicy",
    "BaselineAdminNetworkPolicy",
    "Node",
}
KINDS = tuple(k for k in reader.KINDS if k.kind in _SHOWN)


class ClusterError(EditorError):
    """The kubeconfig cannot be read, or the cluster cannot be reached; says which."""


class ClusterSource:
    """A live cluster as a `Source`: listed anew on every `load()`."""

    def __init__(self, kubeconfig: Path | str, context: str | None = None) -> None:
        self.kubeconfig = Path(kubeconfig)
        self.context = context
        self.configuration = _configuration(self.kubeconfig, context)
        self.server = str(self.configuration.host)
        self.name = f"cluster {self.server}"

    @contextmanager
    def api_client(self) -> Iterator[Any]:
        """A fresh `ApiClient`, closed after use (the client is not safe to share for exec)."""
        api: Any = client.ApiClient(configuration=self.configuration)
        try:
            yield api
        finally:
            api.close()

    def describe(self) -> list[str]:
        return [f"{self.name} (kubeconfig {self.kubeconfig})"]

    def load(self) -> Loaded:
        loaded = Loaded(texts={self.name: ""})
        with self.api_client() as api:
            read: set[str] = set()  # the plurals that had objects
            for kind in KINDS:
                if kind.needs and not read.intersection(kind.needs):
                    continue
                objects = self._list(api, kind)
                if objects:
                    read.add(kind.plural)
                loaded.objects += objects
        return loaded

    def _list(self, api: Any, kind: reader.Kind) -> list[RawObject]:
        found = reader.pages(api, kind, self.name, timeout=REQUEST_TIMEOUT)
        return [RawObject(body=body, source=Origin(file=self.name)) for body in found]


def _configuration(path: Path, context: str | None) -> Any:
    try:
        configuration, _ = connect.configure(connect.Target(path, context))
    except connect.ConfigError as exc:
        hint = "" if path.is_file() else " (is `podwall up` running?)"
        raise ClusterError(f"{exc}{hint}") from exc
    return configuration
