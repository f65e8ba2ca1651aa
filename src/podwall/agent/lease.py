"""Each agent's Lease: that it is alive, and what its node enforces.

The Lease is `coordination.k8s.io/v1`, named after the node, in namespace `podwall-system`
(not `kube-node-lease`: the kubelet's own Lease there already has the node's name, and write
access to that namespace would let the agent fake node heartbeats). The agent renews it every
`RENEW_SECONDS` with `holderIdentity`, `renewTime` and `leaseDurationSeconds`, and annotations
saying what the loaded ruleset enforces:

- `podwall.io/synced-resource-version`: the newest resourceVersion the loaded ruleset reflects;
- `podwall.io/synced-at`: when it was committed; `podwall.io/lag-seconds`: how long the oldest
  change not yet enforced has waited;
- `podwall.io/policies`, `podwall.io/pods` (this node's, policy applies to them),
  `podwall.io/cluster-pods`; `podwall.io/ready`; `podwall.io/last-error`.

An agent is alive while `renewTime + leaseDurationSeconds` is in the future. `podwall status`
reads the Leases back with `AgentStatus.parse`. A failed renewal is logged and retried; it
never touches the ruleset.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import KW_ONLY, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from podwall import __version__
from podwall.agent.backoff import Backoff
from podwall.agent.client import ApiError, Connection, Unreachable
from podwall.agent.worker import PeriodicThread
from podwall.clock import Clock, utc_now

log = logging.getLogger(__name__)

NAMESPACE = "podwall-system"
DURATION_SECONDS = 40
RENEW_SECONDS = 10.0
PREFIX = "podwall.io/"
COLLECTION = "/apis/coordination.k8s.io/v1/namespaces/{namespace}/leases"
AGENT_LABEL = ("app.kubernetes.io/component", "podwall-agent")


@dataclass(frozen=True, kw_only=True)
class Enforcement:
    """What the agent's loaded ruleset enforces, as the Lease's annotations say it."""

    ready: bool = False
    synced_resource_version: str = ""
    synced_at: datetime | None = None
    lag_seconds: float = 0.0
    policies: int = 0
    pods: int = 0
    cluster_pods: int = 0
    last_error: str = ""

    def annotations(self) -> dict[str, str]:
        return {
            PREFIX + "ready": str(self.ready).lower(),
            PREFIX + "synced-resource-version": self.synced_resource_version,
            PREFIX + "synced-at": micro_time(self.synced_at) if self.synced_at else "",
            PREFIX + "lag-seconds": f"{self.lag_seconds:.3f}",
            PREFIX + "policies": str(self.policies),
            PREFIX + "pods": str(self.pods),
            PREFIX + "cluster-pods": str(self.cluster_pods),
            PREFIX + "last-error": self.last_error,
            PREFIX + "version": __version__,
        }

    @staticmethod
    def parse(annotations: Mapping[str, Any]) -> Enforcement:
        def text(name: str) -> str:
            return str(annotations.get(PREFIX + name) or "")

        return Enforcement(
            ready=text("ready") == "true",
            synced_resource_version=text("synced-resource-version"),
            synced_at=parse_time(text("synced-at")),
            lag_seconds=_number(text("lag-seconds")),
            policies=int(_number(text("policies"))),
            pods=int(_number(text("pods"))),
            cluster_pods=int(_number(text("cluster-pods"))),
            last_error=text("last-error"),
        )


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return 0.0


def micro_time(when: datetime) -> str:
    """metav1.MicroTime: RFC 3339 with microseconds, in UTC."""
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_time(text: str) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


def newest_resource_version(versions: Mapping[str, str]) -> str:
    """The newest of the kinds' resourceVersions (numbers on every API server known)."""
    numeric = [int(v) for v in versions.values() if v.isdigit()]
    return str(max(numeric)) if numeric else ""


def lease_body(
    node: str,
    holder: str,
    enforcement: Enforcement,
    now: datetime,
    current: Mapping[str, Any] | None,
) -> dict[str, Any]:
    """The Lease to write; `current` is the stored one (its acquireTime and transitions)."""
    spec = dict((current or {}).get("spec") or {})
    meta = dict((current or {}).get("metadata") or {})
    if spec.get("holderIdentity") != holder:
        spec["acquireTime"] = micro_time(now)
        spec["leaseTransitions"] = int(spec.get("leaseTransitions") or 0) + (current is not None)
    spec.update(
        holderIdentity=holder, leaseDurationSeconds=DURATION_SECONDS, renewTime=micro_time(now)
    )
    labels = {**(meta.get("labels") or {}), AGENT_LABEL[0]: AGENT_LABEL[1]}
    annotations = {**(meta.get("annotations") or {}), **enforcement.annotations()}
    metadata = {"name": node, "labels": labels, "annotations": annotations}
    if meta.get("resourceVersion"):
        metadata["resourceVersion"] = meta["resourceVersion"]
    return {
        "apiVersion": "coordination.k8s.io/v1",
        "kind": "Lease",
        "metadata": metadata,
        "spec": spec,
    }


@dataclass(frozen=True, kw_only=True)
class AgentStatus:
    """One node's agent, read back from its Lease."""

    node: str
    holder: str
    renewed: datetime | None
    duration: int
    enforcement: Enforcement

    @staticmethod
    def parse(lease: Mapping[str, Any]) -> AgentStatus:
        meta = lease.get("metadata") or {}
        spec = lease.get("spec") or {}
        return AgentStatus(
            node=str(meta.get("name") or ""),
            holder=str(spec.get("holderIdentity") or ""),
            renewed=parse_time(str(spec.get("renewTime") or "")),
            duration=int(spec.get("leaseDurationSeconds") or DURATION_SECONDS),
            enforcement=Enforcement.parse(meta.get("annotations") or {}),
        )

    def alive(self, now: datetime) -> bool:
        return self.renewed is not None and self.renewed + timedelta(seconds=self.duration) > now


@dataclass(eq=False)
class LeaseKeeper(PeriodicThread):
    """Renews the node's Lease every `renew_seconds` from what `report` says, until `stop`;
    `poke` renews now (the agent just got ready)."""

    connection: Connection
    node: str
    holder: str
    report: Callable[[], Enforcement]
    stop: threading.Event
    _: KW_ONLY
    namespace: str = NAMESPACE
    renew_seconds: float = RENEW_SECONDS
    clock: Clock = utc_now

    def __post_init__(self) -> None:
        self.backoff = Backoff(first=1.0, cap=self.renew_seconds)
        self._poked = threading.Event()
        self._thread = threading.Thread(target=self._run, name="lease", daemon=True)

    @property
    def collection(self) -> str:
        return COLLECTION.format(namespace=self.namespace)

    def write(self) -> None:
        """Create or renew the Lease once; ApiError or Unreachable when that fails."""
        path = f"{self.collection}/{self.node}"
        try:
            current = self.connection.request("GET", path)
        except ApiError as exc:
            if exc.status != 404:
                raise
            current = None
        body = lease_body(self.node, self.holder, self.report(), self.clock(), current)
        if current is None:
            self.connection.request("POST", self.collection, body=body)
        else:
            self.connection.request("PUT", path, body=body)

    def _run(self) -> None:
        while not self.stop.is_set():
            delay = self.renew_seconds
            try:
                self.write()
                self.backoff.reset()
            except (ApiError, Unreachable) as exc:
                delay = self.backoff.next()
                log.warning(
                    "lease not renewed namespace=%s name=%s error=%s retry_in=%.1fs",
                    self.namespace, self.node, exc, delay,
                )  # fmt: skip
            except Exception:
                delay = self.backoff.next()
                log.exception("lease renewal failed")
            self._sleep(delay)
