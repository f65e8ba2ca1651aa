"""One probe session for every case of a real-packet conformance module.

The upstream suites run every test on one set of namespaces and pods (only labels and policies
change), so the cases of a module share one sandbox: each case resets the running session to
its first step by an incremental update, as it then moves through its own steps. The servers
serve every port any case probes, as upstream's pods do. After each update no node's ruleset
may still name a policy the update removed, so no case sees the previous case's policies.

Each step's flows are those newer than the last the session had settled on (`new_flows`): the
nodes are quiet between one step's probes and the next's, so one wait for quiet per step does.

A case that ends with an error other than a failed check (an update that raised, say) discards
the session: the next case starts a fresh one. The module's fixture closes it, also on failure.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from podwall.flows.flow import Flow
from podwall.model.cluster import Cluster
from podwall.model.convert import cluster as convert_cluster
from podwall.model.rawobject import RawObject
from podwall.nft.flowlog import FlowLog
from podwall.nft.runner import list_ruleset
from podwall.runtime.probe import Serve, Session

Manifest = Mapping[str, Any]


def cluster_of(manifests: Iterable[Manifest]) -> Cluster:
    return convert_cluster(RawObject(body=dict(m)) for m in manifests).cluster


def policy_names(manifests: Iterable[Manifest]) -> frozenset[str]:
    """The names of the policies among `manifests`, of any kind and API."""
    return frozenset(
        str(m["metadata"]["name"]) for m in manifests if str(m.get("kind", "")).endswith("Policy")
    )


def without_policies(manifests: Iterable[Manifest]) -> list[Manifest]:
    return [m for m in manifests if not str(m.get("kind", "")).endswith("Policy")]


def named_in(name: str, ruleset: str) -> bool:
    """Whether `ruleset` names policy `name` as a whole word (chain names and comments); a
    Kubernetes name has no "_", which joins the parts of a chain's name."""
    word = "A-Za-z0-9.-"
    return re.search(rf"(?<![{word}]){re.escape(name)}(?![{word}])", ruleset) is not None


class SharedSession:
    """A `Session` started at first use on `base` (the pods, no policy) and kept across cases."""

    def __init__(
        self, base: Iterable[Manifest], *, serve: Serve, nodes: int, flow_log: FlowLog
    ) -> None:
        self._base = without_policies(base)
        self._serve = serve
        self._nodes = nodes
        self._flow_log = flow_log
        self._session: Session | None = None
        self._policies: frozenset[str] = frozenset()
        self._seen: Counter[Flow] = Counter()  # the flows already handed out

    def update(self, manifests: Sequence[Manifest]) -> Session:
        """The session, enforcing `manifests` now; checks that the policies they drop are gone."""
        session = self._started()
        session.update(cluster_of(manifests))
        now = policy_names(manifests)
        dropped = self._policies - now
        self._policies = now
        for name, node in session.sandbox.nodes.items():
            ruleset = list_ruleset(node.network.netns)
            left = sorted(p for p in dropped if named_in(p, ruleset))
            assert not left, f"node {name} still enforces removed policies {left}"
        return session

    def new_flows(self) -> list[Flow]:
        """The flows the nodes reported since the last call, once they are quiet. Told apart
        from those handed out already by value, not by time: a flow's time is when its node
        read it, and one node may report after another that read later."""
        session = self._started()
        flows = list((Counter(session.flows()) - self._seen).elements())
        self._seen.update(flows)
        return flows

    def new_flows_until(
        self, complete: Callable[[list[Flow]], bool], limit: float = 10.0
    ) -> list[Flow]:
        """`new_flows`, read again until `complete` holds of all read so far or `limit`
        seconds passed: on a loaded machine a node may report a flow after the others went
        quiet. What is still missing then is the caller's to report."""
        flows = self.new_flows()
        deadline = time.monotonic() + limit
        while not complete(flows) and time.monotonic() < deadline:
            time.sleep(0.5)
            flows += self.new_flows()
        return flows

    def discard(self) -> None:
        """Tear the session down; the next `update` starts a fresh one."""
        session, self._session = self._session, None
        self._policies = frozenset()
        if session is not None:
            session.__exit__(None, None, None)

    def _started(self) -> Session:
        if self._session is None:
            session = Session(
                cluster_of(self._base),
                serve=self._serve,
                nodes=self._nodes,
                flow_log=self._flow_log,
                progress=lambda _: None,
            )
            session.__enter__()
            self._session = session
            try:
                session.start()
                self._seen = Counter(session.flows())
            except BaseException:
                self.discard()
                raise
        return self._session
