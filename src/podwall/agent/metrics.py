"""The agent's Prometheus metrics, in a registry of its own (several agents can share a
process in tests). Names follow Prometheus conventions: base units, `_total` counters.

- `podwall_agent_sync_duration_seconds{type=full|update}`: snapshot, compile and nft commit;
  `podwall_agent_nft_commit_duration_seconds`: the nft commit alone;
- `podwall_agent_enforce_latency_seconds`: from the arrival of a watch event that changed what
  is enforced to the nft commit that enforces it;
- `podwall_agent_ruleset_objects{object=chains|sets|elements|rules}`: the loaded ruleset;
- `podwall_agent_nft_errors_total`, `podwall_agent_nft_operations_total`;
- `podwall_agent_watch_restarts_total{kind,reason=closed|expired|error}`,
  `podwall_agent_relists_total{kind}`;
- `podwall_agent_synced_resource_version{kind}` and
  `podwall_agent_last_commit_timestamp_seconds`: what the loaded ruleset reflects, and when
  it was committed (a benchmark polls these);
- `podwall_agent_objects{kind}`, `podwall_agent_policies` (those that apply on this node),
  `podwall_agent_local_pods`, `podwall_agent_ready`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
)

from podwall.nft.ruleset import Ruleset

LATENCY_BUCKETS = (0.005, 0.01, 0.02, 0.03, 0.05, 0.075, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
SYNC_BUCKETS = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
RULESET_OBJECTS = ("chains", "sets", "elements", "rules")


class Metrics:
    def __init__(self) -> None:
        no_created: Any = disable_created_metrics  # untyped
        no_created()  # no `_created` series: nothing here is reset or recreated
        self.registry = CollectorRegistry()
        r = self.registry
        self.sync_seconds = Histogram(
            "podwall_agent_sync_duration_seconds",
            "Time of one sync: snapshot, compile, nft commit.",
            ["type"], buckets=SYNC_BUCKETS, registry=r,
        )  # fmt: skip
        self.enforce_latency = Histogram(
            "podwall_agent_enforce_latency_seconds",
            "From the arrival of a watch event that changed the node's view to its nft commit.",
            buckets=LATENCY_BUCKETS, registry=r,
        )  # fmt: skip
        self.nft_seconds = Histogram(
            "podwall_agent_nft_commit_duration_seconds",
            "Time nft took to commit a batch (part of the sync).",
            buckets=SYNC_BUCKETS, registry=r,
        )  # fmt: skip
        self.ruleset = Gauge(
            "podwall_agent_ruleset_objects", "Objects in the loaded ruleset.", ["object"],
            registry=r,
        )  # fmt: skip
        self.nft_errors = Counter(
            "podwall_agent_nft_errors", "nft batches refused (the previous ruleset stayed).",
            registry=r,
        )  # fmt: skip
        self.nft_operations = Counter(
            "podwall_agent_nft_operations", "Operations committed in nft batches.", registry=r
        )
        self.watch_restarts = Counter(
            "podwall_agent_watch_restarts", "Watches started again, by why the last one ended.",
            ["kind", "reason"], registry=r,
        )  # fmt: skip
        self.relists = Counter(
            "podwall_agent_relists", "Lists after the first, per kind.", ["kind"], registry=r
        )
        self.synced_rv = Gauge(
            "podwall_agent_synced_resource_version",
            "Per kind, the resourceVersion the loaded ruleset reflects.", ["kind"], registry=r,
        )  # fmt: skip
        self.last_commit = Gauge(
            "podwall_agent_last_commit_timestamp_seconds",
            "Wall-clock time of the last successful sync.", registry=r,
        )  # fmt: skip
        self.objects = Gauge(
            "podwall_agent_objects", "Objects in the watch cache, per kind.", ["kind"], registry=r
        )
        self.policies = Gauge(
            "podwall_agent_policies",
            "NetworkPolicies of the namespaces where this node has pods (the ones that apply).",
            registry=r,
        )  # fmt: skip
        self.local_pods = Gauge(
            "podwall_agent_local_pods", "Pods of this node in the loaded ruleset.", registry=r
        )
        self.ready = Gauge(
            "podwall_agent_ready", "1 once the first full sync is committed.", registry=r
        )

    def observe_ruleset(self, fragments: Iterable[Ruleset]) -> None:
        counts = dict.fromkeys(RULESET_OBJECTS, 0)
        for fragment in fragments:
            counts["chains"] += len(fragment.chains)
            counts["sets"] += len(fragment.sets)
            counts["elements"] += fragment.element_count()
            counts["rules"] += fragment.rule_count()
        for name, value in counts.items():
            self.ruleset.labels(object=name).set(value)

    def observe_resource_versions(self, versions: dict[str, str]) -> None:
        for kind, rv in versions.items():
            if rv.isdigit():  # opaque to clients, but a number on every API server known
                self.synced_rv.labels(kind=kind).set(int(rv))

    def exposition(self) -> bytes:
        return generate_latest(self.registry)
