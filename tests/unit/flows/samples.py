"""Flows to test with: a few fixed ones and a hypothesis strategy over all of them."""

from __future__ import annotations

from hypothesis import strategies as st

from podwall.flows.attribution import ServiceHop
from podwall.flows.flow import Flow, FlowEndpoint, RuleRef, Verdict
from podwall.model.policy import Direction

FRONTEND = FlowEndpoint(
    ip="198.18.0.2", port=40000, namespace="default", pod="frontend", labels=(("app", "frontend"),)
)
BACKEND = FlowEndpoint(
    ip="198.18.0.3", port=8080, namespace="default", pod="backend", labels=(("app", "backend"),)
)
OUTSIDE = FlowEndpoint(ip="203.0.113.9", port=443)


def flow(
    time: float = 1000.0,
    *,
    node: str = "node-1",
    direction: Direction = Direction.INGRESS,
    verdict: Verdict = Verdict.ALLOWED,
    source: FlowEndpoint = FRONTEND,
    destination: FlowEndpoint = BACKEND,
    policies: tuple[str, ...] = ("default/backend-allow-ingress-frontend",),
    service: str | None = None,
) -> Flow:
    rule = RuleRef(index=0, peer=0) if verdict is Verdict.ALLOWED else None
    return Flow(
        time=time,
        node=node,
        direction=direction,
        verdict=verdict,
        source=source,
        destination=destination,
        protocol="TCP",
        service=service,
        policies=policies,
        rule=rule,
        reason=f"{verdict.value.lower()} by {', '.join(policies)}",
        tag="pwai:0123456789abcdef",
    )


def hop(time: float = 999.9, node: str = "node-1") -> ServiceHop:
    return ServiceHop(
        time=time,
        node=node,
        service="default/backend",
        source="198.18.0.2",
        source_port=40000,
        protocol="TCP",
        cluster_ip="198.19.0.20",
        port=80,
    )


_names = st.from_regex(r"[a-z][a-z0-9-]{0,10}", fullmatch=True)
_ips = st.ip_addresses(v=4).map(str)
_ports = st.none() | st.integers(0, 65535)


@st.composite
def endpoints(draw: st.DrawFn) -> FlowEndpoint:
    if draw(st.booleans()):
        return FlowEndpoint(ip=draw(_ips), port=draw(_ports))
    labels = draw(st.dictionaries(_names, _names, max_size=3))
    return FlowEndpoint(
        ip=draw(_ips),
        port=draw(_ports),
        namespace=draw(_names),
        pod=draw(_names),
        labels=tuple(sorted(labels.items())),
    )


@st.composite
def flows(draw: st.DrawFn) -> Flow:
    rule = draw(
        st.none()
        | st.builds(
            RuleRef,
            index=st.integers(0, 9),
            peer=st.none() | st.integers(0, 9),
            port=st.none() | st.integers(0, 9),
        )
    )
    return Flow(
        # whole microseconds: the JSON time keeps six decimals
        time=draw(st.integers(0, 4_000_000_000_000_000)) / 1e6,
        node=draw(_names),
        direction=draw(st.sampled_from(Direction)),
        verdict=draw(st.sampled_from(Verdict)),
        source=draw(endpoints()),
        destination=draw(endpoints()),
        protocol=draw(st.sampled_from(["TCP", "UDP", "SCTP", "47"])),
        service=draw(st.none() | _names.map(lambda n: f"default/{n}")),
        policies=tuple(draw(st.lists(_names.map(lambda n: f"ns/{n}"), max_size=3))),
        rule=rule,
        reason=draw(st.text(max_size=40)),
        attributed=draw(st.booleans()),
        tag=draw(st.sampled_from(["", "pwai:0123456789abcdef"])),
    )
