"""Which flows a user asked to see: `podwall observe`'s filters, as one predicate.

Every given filter must hold (AND); a filter that names an end (`--pod`, `--namespace`)
holds when either end matches, `--from`/`--to` only the source/destination. An end is named
as `ns/pod`, as a bare pod name (any namespace), or as an address or CIDR (pods too have
addresses). Pure: no I/O here.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from podwall.errors import PodwallError
from podwall.flows.flow import Flow, FlowEndpoint, Verdict


class FilterError(PodwallError, ValueError):
    """A filter value that cannot mean anything; the message names the option."""


@dataclass(frozen=True, slots=True)
class EndMatch:
    """One way of naming an end of a flow."""

    namespace: str | None = None
    pod: str | None = None
    network: ipaddress.IPv4Network | ipaddress.IPv6Network | None = None

    @staticmethod
    def parse(text: str, option: str) -> EndMatch:
        if not text:
            raise FilterError(f"{option}: empty value")
        try:
            return EndMatch(network=ipaddress.ip_network(text, strict=False))
        except ValueError:
            pass
        namespace, sep, pod = text.partition("/")
        if sep and (not namespace or not pod or "/" in pod):
            raise FilterError(f"{option} {text!r}: expected POD, NAMESPACE/POD, an IP or a CIDR")
        return EndMatch(namespace=namespace, pod=pod) if sep else EndMatch(pod=text)

    def matches(self, end: FlowEndpoint) -> bool:
        if self.network is not None:
            try:
                return ipaddress.ip_address(end.ip) in self.network
            except ValueError:
                return False
        if self.namespace is not None and end.namespace != self.namespace:
            return False
        return end.pod == self.pod


@dataclass(frozen=True, slots=True, kw_only=True)
class FlowFilter:
    pods: tuple[EndMatch, ...] = ()  # either end matches one of them
    namespaces: tuple[str, ...] = ()  # either end is a pod in one of them
    sources: tuple[EndMatch, ...] = ()
    destinations: tuple[EndMatch, ...] = ()
    ports: tuple[int, ...] = ()  # the destination port
    verdicts: tuple[Verdict, ...] = ()
    policies: tuple[str, ...] = ()  # ns/name among the flow's deciding policies
    since: float | None = None  # seconds since the epoch

    def matches(self, flow: Flow) -> bool:
        ends = (flow.source, flow.destination)
        return all(
            (
                not self.pods or any(m.matches(e) for m in self.pods for e in ends),
                not self.namespaces or any(e.namespace in self.namespaces for e in ends),
                not self.sources or any(m.matches(flow.source) for m in self.sources),
                not self.destinations
                or any(m.matches(flow.destination) for m in self.destinations),
                not self.ports or flow.port in self.ports,
                not self.verdicts or flow.verdict in self.verdicts,
                not self.policies or any(p in flow.policies for p in self.policies),
                self.since is None or flow.time >= self.since,
            )
        )


def parse_verdict(text: str) -> Verdict:
    try:
        return Verdict(text.upper())
    except ValueError:
        choices = ", ".join(v.value for v in Verdict)
        raise FilterError(f"--verdict {text!r}: expected one of {choices}") from None


def parse_policy(text: str, default_namespace: str = "default") -> str:
    """`ns/name`, or a bare name in the default namespace."""
    namespace, sep, name = text.partition("/")
    if not sep:
        return f"{default_namespace}/{text}"
    if not namespace or not name or "/" in name:
        raise FilterError(f"--policy {text!r}: expected NAME or NAMESPACE/NAME")
    return text
