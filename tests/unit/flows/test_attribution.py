from __future__ import annotations

import ipaddress

import pytest

from podwall.engine import Endpoint, Traffic, decide
from podwall.engine import explain as explaining
from podwall.flows.attribution import Attributor, ServiceHop
from podwall.flows.flow import Flow, RuleRef, Verdict
from podwall.flows.nflog import LogRecord
from podwall.flows.packet import TCP, UDP, parse_ipv4
from podwall.model.policy import Direction
from podwall.nft.logtags import LogTag, TagKind, TagTable
from tests.builders import make_cluster, policy
from tests.unit.flows.wire import ipv4

LAB = """
apiVersion: v1
kind: Pod
metadata: {name: frontend, namespace: default, labels: {app: frontend}}
spec: {containers: [{name: c}]}
status: {podIP: 198.18.0.2}
---
apiVersion: v1
kind: Pod
metadata: {name: backend, namespace: default, labels: {app: backend}}
spec: {containers: [{name: c, ports: [{containerPort: 8080}]}]}
status: {podIP: 198.18.0.3}
---
apiVersion: v1
kind: Service
metadata: {name: backend, namespace: default}
spec: {clusterIP: 198.19.0.20, selector: {app: backend}, ports: [{port: 80, targetPort: 8080}]}
---
"""
POLICIES = policy(
    "backend-ingress-deny", "default", "podSelector: {matchLabels: {app: backend}}"
) + policy(
    "backend-allow-ingress-frontend",
    "default",
    """
podSelector: {matchLabels: {app: backend}}
ingress:
- from:
  - podSelector: {matchLabels: {app: frontend}}
""",
)
CLUSTER = make_cluster(POLICIES, base=LAB)
FRONTEND, BACKEND = CLUSTER.pods_by_key["default/frontend"], CLUSTER.pods_by_key["default/backend"]
ALLOW_KEY, DENY_KEY = "default/backend-allow-ingress-frontend", "default/backend-ingress-deny"
SERVICE_KEY = "default/backend"

ALLOW_TAG = LogTag(
    kind=TagKind.ALLOW,
    direction=Direction.INGRESS,
    policies=(ALLOW_KEY,),
    rule=0,
    peer=0,
)
DENY_TAG = LogTag(kind=TagKind.DENY, direction=Direction.INGRESS, policies=(ALLOW_KEY, DENY_KEY))
AUDIT_TAG = LogTag(kind=TagKind.AUDIT, direction=Direction.EGRESS, policies=("default/trial",))
SERVICE_TAG = LogTag(kind=TagKind.SERVICE, service=SERVICE_KEY)


def _record(prefix: str, src: str, dst: str, dport: int = 8080, sport: int = 40000) -> LogRecord:
    return LogRecord(
        group=1,
        prefix=prefix,
        seq=None,
        hook=2,
        mark=0,
        indev=None,
        outdev=None,
        timestamp=None,
        packet=parse_ipv4(ipv4(src, dst, TCP, sport, dport)),
    )


def _attributor() -> Attributor:
    table = TagTable()
    for tag in (ALLOW_TAG, DENY_TAG, AUDIT_TAG, SERVICE_TAG):
        table.add(tag)
    attributor = Attributor("node-1", table)
    attributor.update(CLUSTER)
    return attributor


def _flow(prefix: str, src: str = "198.18.0.2", dst: str = "198.18.0.3") -> Flow:
    flow = _attributor().record(_record(prefix, src, dst), now=100.0)
    assert isinstance(flow, Flow)
    return flow


def test_an_allowed_flow_names_pods_labels_rule_and_time() -> None:
    flow = _flow(ALLOW_TAG.prefix)
    assert (flow.verdict, flow.direction, flow.node, flow.time) == (
        Verdict.ALLOWED,
        Direction.INGRESS,
        "node-1",
        100.0,
    )
    assert (flow.source.key, flow.destination.key, flow.port) == (
        "default/frontend",
        "default/backend",
        8080,
    )
    assert dict(flow.source.labels) == {"app": "frontend"}
    assert flow.rule == RuleRef(index=0, peer=0)
    assert flow.reason == "allowed by default/backend-allow-ingress-frontend ingress[0] from[0]"


def test_the_allowed_words_are_those_of_explain() -> None:
    traffic = Traffic(src=Endpoint.of_pod(FRONTEND), dst=Endpoint.of_pod(BACKEND), port=8080)
    explained = explaining.brief(decide(CLUSTER, traffic))
    ingress = next(line for line in explained if "ingress" in line)
    assert _flow(ALLOW_TAG.prefix).reason in ingress


def test_a_denied_flow_names_every_isolating_policy() -> None:
    flow = _flow(DENY_TAG.prefix)
    assert (flow.verdict, flow.policies, flow.rule) == (
        Verdict.DENIED,
        (ALLOW_KEY, DENY_KEY),
        None,
    )
    assert flow.reason == (
        "denied by the default deny of "
        "default/backend-allow-ingress-frontend, default/backend-ingress-deny"
    )


def test_an_audited_flow_says_it_would_be_denied() -> None:
    flow = _flow(AUDIT_TAG.prefix)
    assert flow.verdict is Verdict.AUDIT
    assert flow.reason.startswith("would be denied by the default deny of default/trial")


def test_an_address_outside_the_cluster_stays_an_address() -> None:
    flow = _flow(DENY_TAG.prefix, src="203.0.113.9")
    assert (flow.source.key, flow.source.pod, flow.source.labels) == ("203.0.113.9", None, ())


def test_an_unknown_tag_is_shown_unattributed_with_the_verdict_of_its_kind() -> None:
    stranger = LogTag(kind=TagKind.DENY, direction=Direction.EGRESS, policies=("x/y",)).prefix
    flow = _flow(stranger)
    assert (flow.verdict, flow.direction, flow.attributed, flow.policies) == (
        Verdict.DENIED,
        Direction.EGRESS,
        False,
        (),
    )
    assert "unattributed" in flow.reason


@pytest.mark.parametrize(
    "prefix", ["", "someone else's prefix", "IN=eth0"], ids=["none", "free text", "iptables"]
)
def test_records_that_are_not_ours_make_no_flow(prefix: str) -> None:
    assert _attributor().record(_record(prefix, "198.18.0.2", "198.18.0.3"), 1.0) is None


def test_a_service_hop_names_the_service_of_the_flow_that_follows() -> None:
    attributor = _attributor()
    hop = attributor.record(_record(SERVICE_TAG.prefix, "198.18.0.2", "198.19.0.20", 80), 10.0)
    assert isinstance(hop, ServiceHop)
    assert (hop.service, hop.cluster_ip, hop.port) == ("default/backend", "198.19.0.20", 80)
    flow = attributor.record(_record(ALLOW_TAG.prefix, "198.18.0.2", "198.18.0.3"), 10.1)
    assert isinstance(flow, Flow)
    assert flow.service == "default/backend"


def test_a_hop_of_another_connection_or_too_old_names_nothing() -> None:
    attributor = _attributor()
    attributor.record(_record(SERVICE_TAG.prefix, "198.18.0.2", "198.19.0.20", 80), 10.0)
    other_port = attributor.record(
        _record(ALLOW_TAG.prefix, "198.18.0.2", "198.18.0.3", sport=9), 10.1
    )
    too_late = attributor.record(_record(ALLOW_TAG.prefix, "198.18.0.2", "198.18.0.3"), 60.0)
    assert isinstance(other_port, Flow)
    assert isinstance(too_late, Flow)
    assert (other_port.service, too_late.service) == (None, None)


def test_the_packet_time_wins_over_the_read_time_when_the_kernel_gives_one() -> None:
    record = _record(ALLOW_TAG.prefix, "198.18.0.2", "198.18.0.3")
    stamped = LogRecord(**{**{f: getattr(record, f) for f in record.__slots__}, "timestamp": 5.5})
    flow = _attributor().record(stamped, 100.0)
    assert isinstance(flow, Flow)
    assert flow.time == 5.5


def test_udp_and_a_protocol_number_are_named() -> None:
    record = LogRecord(
        group=1, prefix=DENY_TAG.prefix, seq=None, hook=2, mark=0, indev=None, outdev=None,
        timestamp=None, packet=parse_ipv4(ipv4("198.18.0.2", "198.18.0.3", UDP, 1, 53)),
    )  # fmt: skip
    flow = _attributor().record(record, 1.0)
    assert isinstance(flow, Flow)
    assert flow.protocol == "UDP"
    gre = parse_ipv4(ipv4("198.18.0.2", "198.18.0.3", 47))
    assert gre is not None
    assert gre.dst == ipaddress.IPv4Address("198.18.0.3")


def test_a_retransmitted_first_packet_is_the_same_connection() -> None:
    attributor = _attributor()
    first = attributor.record(_record(DENY_TAG.prefix, "198.18.0.2", "198.18.0.3"), 10.0)
    again = attributor.record(_record(DENY_TAG.prefix, "198.18.0.2", "198.18.0.3"), 11.0)
    other = attributor.record(_record(DENY_TAG.prefix, "198.18.0.2", "198.18.0.3", sport=2), 11.0)
    later = attributor.record(_record(DENY_TAG.prefix, "198.18.0.2", "198.18.0.3"), 500.0)
    assert isinstance(first, Flow)
    assert again is None
    assert isinstance(other, Flow)
    assert isinstance(later, Flow)  # long after: the port was used again
    assert attributor.repeats == 1


def test_a_cluster_network_policy_rule_is_named_in_the_words_of_explain() -> None:
    guard = """
apiVersion: policy.networking.k8s.io/v1alpha2
kind: ClusterNetworkPolicy
metadata: {name: guard}
spec:
  tier: Admin
  priority: 3
  subject: {pods: {namespaceSelector: {}, podSelector: {matchLabels: {app: backend}}}}
  ingress:
  - name: no-frontend
    action: Deny
    from: [{pods: {namespaceSelector: {}, podSelector: {matchLabels: {app: frontend}}}}]
"""
    tiered = make_cluster(guard, base=LAB)
    tag = LogTag(
        kind=TagKind.DENY,
        direction=Direction.INGRESS,
        policies=("admin/guard",),
        rule=0,
        peer=0,
        rule_name="no-frontend",
        action="Deny",
    )
    table = TagTable()
    table.add(tag)
    attributor = Attributor("node-1", table)
    attributor.update(tiered)
    flow = attributor.record(_record(tag.prefix, "198.18.0.2", "198.18.0.3"), now=1.0)
    assert isinstance(flow, Flow)
    assert (flow.verdict, flow.policies, flow.rule) == (
        Verdict.DENIED,
        ("admin/guard",),
        RuleRef(index=0, peer=0),
    )
    traffic = Traffic(src=Endpoint.of_pod(FRONTEND), dst=Endpoint.of_pod(BACKEND), port=8080)
    ingress = next(line for line in explaining.brief(decide(tiered, traffic)) if "ingress" in line)
    assert flow.reason.split(" (")[0] in ingress
