"""The real flows of the attached cluster, for the picture: the recent connections of the pods
the draft selects, with the verdict and the policy that decided, as `podwall observe` shows.

A cluster of `podwall up` keeps its nodes' flows in ring files (`podwall.flows.files`); its
kubeconfig sits in the cluster's state directory beside `cluster-id`, which names them.
`RecentFlows` follows every node's ring (`files.Follower`, only what was added since the last
call is read) and keeps the last `KEEP` flows in memory; `of(pods)` answers those where either
end is one of `pods`. A cluster whose flows are not on this machine gives no `RecentFlows`
(`for_kubeconfig` returns None) and the page says so. Call from one thread at a time.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterable
from pathlib import Path

from podwall.editor.form import JSON
from podwall.flows import files, render
from podwall.flows.flow import Flow

KEEP = 5000
CLUSTER_ID = "cluster-id"


def for_kubeconfig(kubeconfig: Path, run_root: Path | None = None) -> RecentFlows | None:
    """The flows of the `podwall up` cluster whose kubeconfig this is; None for another."""
    id_file = kubeconfig.parent / CLUSTER_ID
    try:
        cluster_id = id_file.read_text().strip()
    except OSError:
        return None
    if not cluster_id:
        return None
    return RecentFlows(files.flows_dir(cluster_id, run_root or files.RUN_ROOT))


def _keys(flow: Flow) -> tuple[str | None, str | None]:
    return tuple(  # type: ignore[return-value]
        f"{end.namespace}/{end.pod}" if end.pod is not None else None
        for end in (flow.source, flow.destination)
    )


def flow_json(flow: Flow) -> JSON:
    """A flow for the page: its JSON, its ends' pod keys, and the line `observe` prints."""
    source, destination = _keys(flow)
    return {
        **flow.to_json(),
        "sourceKey": source,
        "destinationKey": destination,
        "text": render.text(flow),
    }


class RecentFlows:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._follower: files.Follower | None = None
        self._flows: deque[Flow] = deque(maxlen=KEEP)
        self._lock = threading.Lock()

    def _poll(self) -> None:
        if self._follower is None:
            if not self.directory.exists():
                return  # no node has written yet: look again next time
            self._follower = files.Follower(self.directory, from_start=True)
        self._flows.extend(self._follower.poll())

    def of(self, pods: Iterable[str], last: int) -> list[JSON]:
        """The last `last` flows (oldest first) with one of `pods` (`ns/name`) at either end."""
        wanted = set(pods)
        with self._lock:
            self._poll()
            found = [f for f in self._flows if wanted.intersection(_keys(f))]
        return [flow_json(f) for f in found[max(0, len(found) - last) :]]

    def close(self) -> None:
        if self._follower is not None:
            self._follower.close()
