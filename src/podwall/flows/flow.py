"""The flow record: one verdict on one new connection, on one side, with who decided it.

A connection between pods passes two checks, the source's egress and the destination's
ingress; each side a policy isolates reports its own verdict, so a connection makes up to two
flows (`direction` says which side, `subject` which pod). A flow names its ends as pods with
their labels, or as addresses outside the cluster, the Service when the client dialled a
ClusterIP, and the attribution in the words `podwall explain` uses. A flow whose log tag is not
known is kept, marked `attributed: false`, with its verdict read from the tag's kind; its
policy is never guessed.

`to_json` is the contract of `podwall observe -o json` (one object a line) and of the ring
files; `from_json` reads it back. Pure: no I/O here.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from podwall.model.policy import Direction


class Verdict(StrEnum):
    ALLOWED = "ALLOWED"
    DENIED = "DENIED"
    AUDIT = "AUDIT"  # would be denied by an audited policy; let through


@dataclass(frozen=True, slots=True, kw_only=True)
class FlowEndpoint:
    """A pod of the cluster (namespace, name, labels) or only an address outside it."""

    ip: str
    port: int | None = None
    namespace: str | None = None
    pod: str | None = None
    labels: tuple[tuple[str, str], ...] = ()

    @property
    def key(self) -> str:
        """`ns/name` for a pod, the address otherwise."""
        return f"{self.namespace}/{self.pod}" if self.pod is not None else self.ip

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"ip": self.ip}
        if self.port is not None:
            out["port"] = self.port
        if self.pod is not None:
            out |= {"namespace": self.namespace, "pod": self.pod, "labels": dict(self.labels)}
        return out

    @staticmethod
    def from_json(data: dict[str, Any]) -> FlowEndpoint:
        return FlowEndpoint(
            ip=str(data["ip"]),
            port=data.get("port"),
            namespace=data.get("namespace"),
            pod=data.get("pod"),
            labels=tuple(sorted(data.get("labels", {}).items())),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class RuleRef:
    """The rule that admitted a connection: `ingress[0] from[1] ports[0]`, as nft comments
    and `podwall explain` number them."""

    index: int
    peer: int | None = None
    port: int | None = None

    def render(self, direction: Direction) -> str:
        text = f"{direction}[{self.index}]"
        if self.peer is not None:
            text += f" {'from' if direction is Direction.INGRESS else 'to'}[{self.peer}]"
        return text

    def to_json(self) -> dict[str, int]:
        out = {"index": self.index}
        if self.peer is not None:
            out["peer"] = self.peer
        if self.port is not None:
            out["port"] = self.port
        return out


@dataclass(frozen=True, slots=True, kw_only=True)
class Flow:
    time: float  # seconds since the epoch, when the node read it
    node: str
    direction: Direction
    verdict: Verdict
    source: FlowEndpoint
    destination: FlowEndpoint
    protocol: str  # TCP, UDP, SCTP, or the IANA number
    service: str | None = None  # ns/name, when the client dialled its ClusterIP
    policies: tuple[str, ...] = ()  # the admitting policy, or the isolating ones that deny
    rule: RuleRef | None = None  # the admitting rule (allowed flows)
    reason: str = ""
    attributed: bool = True
    tag: str = field(default="", compare=False)  # the nft log prefix it came from

    @property
    def subject(self) -> FlowEndpoint:
        """The pod whose policy decided: the source for egress, the destination for ingress."""
        return self.source if self.direction is Direction.EGRESS else self.destination

    @property
    def port(self) -> int | None:
        return self.destination.port

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "time": _iso(self.time),
            "node": self.node,
            "direction": self.direction.value,
            "verdict": self.verdict.value,
            "source": self.source.to_json(),
            "destination": self.destination.to_json(),
            "protocol": self.protocol,
        }
        if self.service is not None:
            out["service"] = self.service
        out |= {"policies": list(self.policies), "reason": self.reason}
        if self.rule is not None:
            out["rule"] = self.rule.to_json()
        out["attributed"] = self.attributed
        if self.tag:
            out["tag"] = self.tag
        return out

    @staticmethod
    def from_json(data: dict[str, Any]) -> Flow:
        rule = data.get("rule")
        return Flow(
            time=_epoch(str(data["time"])),
            node=str(data["node"]),
            direction=Direction(data["direction"]),
            verdict=Verdict(data["verdict"]),
            source=FlowEndpoint.from_json(data["source"]),
            destination=FlowEndpoint.from_json(data["destination"]),
            protocol=str(data["protocol"]),
            service=data.get("service"),
            policies=tuple(data.get("policies", ())),
            rule=None if rule is None else RuleRef(**rule),
            reason=str(data.get("reason", "")),
            attributed=bool(data.get("attributed", True)),
            tag=str(data.get("tag", "")),
        )


def _iso(seconds: float) -> str:
    moment = datetime.datetime.fromtimestamp(seconds, datetime.UTC)
    return moment.isoformat(timespec="microseconds").replace("+00:00", "Z")


def _epoch(text: str) -> float:
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
