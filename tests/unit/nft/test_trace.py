"""The tracer follows packets through hand-written rulesets and reports verdict and path."""

from __future__ import annotations

import pytest

from podwall.nft.fake import FakeNFT
from podwall.nft.objects import Chain, ChainPolicy, ChainType, Hook, Rule, Table
from podwall.nft.statements import (
    Accept,
    CtState,
    Drop,
    Field,
    Goto,
    Jump,
    Log,
    Match,
    Op,
    Reject,
    Return,
    SetMark,
    Statement,
)
from podwall.nft.trace import Packet, Verdict, trace, trace_path
from podwall.nft.transaction import Transaction

from .nft_samples import TABLE, sample_transaction

WEB = "10.244.1.5"  # selected by policy default/allow (see nft_samples)
OTHER_POD = "10.244.2.9"  # selected by no policy


@pytest.fixture(scope="module")
def dataplane() -> FakeNFT:
    fake = FakeNFT()
    fake.run(sample_transaction())
    return fake


def pkt(saddr: str, daddr: str, dport: int = 80, **kw: object) -> Packet:
    return Packet(saddr=saddr, daddr=daddr, dport=dport, sport=40000, **kw)  # type: ignore[arg-type]


def test_established_flows_are_accepted_by_conntrack(dataplane: FakeNFT) -> None:
    result = trace(dataplane, pkt("8.8.8.8", WEB, 22, ct_state=CtState.ESTABLISHED))
    assert result.verdict is Verdict.ACCEPT
    assert result.comments == ("conntrack: established flows",)


def test_invalid_packets_are_dropped(dataplane: FakeNFT) -> None:
    result = trace(dataplane, pkt("10.0.0.1", WEB, ct_state=CtState.INVALID))
    assert result.verdict is Verdict.DROP
    assert result.comments == ("conntrack: invalid",)


def test_pod_selected_by_no_policy_falls_through_to_the_accept_policy(dataplane: FakeNFT) -> None:
    result = trace(dataplane, pkt("8.8.8.8", OTHER_POD, 22))
    assert result.verdict is Verdict.ACCEPT
    assert result.comments == ()
    assert result.steps[-1].note == "policy accept"


def test_verdict_map_sends_a_selected_pod_to_its_chain_and_default_denies(
    dataplane: FakeNFT,
) -> None:
    result = trace(dataplane, pkt("8.8.8.8", WEB, 80))
    assert result.verdict is Verdict.DROP
    assert result.comments == (
        "to a pod selected by an ingress policy",
        "policy default/allow selects default/web",
        "default deny: default/web is isolated for ingress",
    )
    assert result.steps[0].note == "@ingress-pods[10.244.1.5 : jump pod-in_default_web]"


@pytest.mark.parametrize(
    ("saddr", "dport", "verdict"),
    [
        ("10.3.0.1", 80, Verdict.ACCEPT),  # in 10.0.0.0/8
        ("10.3.0.1", 81, Verdict.ACCEPT),  # port range 80-81
        ("10.3.0.1", 82, Verdict.DROP),  # outside the port range
        ("10.1.2.3", 80, Verdict.DROP),  # except 10.1.0.0/16
        ("10.2.0.5", 80, Verdict.DROP),  # except range 10.2.0.1-10.2.0.9
        ("10.2.0.10", 80, Verdict.ACCEPT),  # just past the except range
        ("11.0.0.1", 80, Verdict.DROP),  # outside the cidr
    ],
)
def test_ipblock_with_except_as_a_deny_set_checked_first(
    dataplane: FakeNFT, saddr: str, dport: int, verdict: Verdict
) -> None:
    result = trace(dataplane, pkt(saddr, WEB, dport))
    assert result.verdict is verdict
    allowed = "policy default/allow ingress[0]" in result.comments
    assert allowed == (verdict is Verdict.ACCEPT)


@pytest.mark.parametrize(
    ("daddr", "l4proto", "dport", "verdict"),
    [
        (WEB, "tcp", 8080, Verdict.ACCEPT),  # web's named port
        (WEB, "tcp", 9000, Verdict.DROP),  # that is the *other* pod's port
        (WEB, "udp", 8080, Verdict.DROP),  # wrong protocol
    ],
)
def test_named_port_resolved_per_destination_pod_in_a_concatenated_set(
    dataplane: FakeNFT, daddr: str, l4proto: str, dport: int, verdict: Verdict
) -> None:
    result = trace(dataplane, pkt("192.168.7.7", daddr, dport, l4proto=l4proto))
    assert result.verdict is verdict
    if verdict is Verdict.ACCEPT:
        assert result.comments[-1] == "policy default/allow ingress[1] port http"


def test_anonymous_set_of_sources(dataplane: FakeNFT) -> None:
    ok = trace(dataplane, pkt("172.16.0.1", WEB, 8080))
    assert ok.verdict is Verdict.ACCEPT
    assert trace(dataplane, pkt("172.16.0.2", WEB, 8080)).verdict is Verdict.DROP


@pytest.mark.parametrize(
    ("numgen", "endpoint", "port", "comment"),
    [
        (0, WEB, 8080, "endpoint 10.244.1.5:8080"),
        (1, "10.244.1.6", 9000, "endpoint 10.244.1.6:9000"),
    ],
)
def test_service_dnat_via_numgen_then_policy_on_the_endpoint(
    dataplane: FakeNFT, numgen: int, endpoint: str, port: int, comment: str
) -> None:
    result = trace_path(dataplane, pkt("172.16.0.1", "10.96.0.10", 80, numgen=numgen))
    assert (result.packet.daddr, result.packet.dport) == (endpoint, port)
    assert result.comments[:3] == ("services", "service default/web tcp/80", comment)
    # Policy applies after DNAT: web (selected) allows 172.16.0.1 on its port; the other
    # endpoint is selected by no policy, so it is allowed too.
    assert result.verdict is Verdict.ACCEPT
    assert result.steps[1].note == f"numgen -> ep_web-{numgen}"


def test_service_port_not_in_the_services_map_is_not_translated(dataplane: FakeNFT) -> None:
    result = trace_path(dataplane, pkt("172.16.0.1", "10.96.0.10", 443))
    assert result.packet.daddr == "10.96.0.10"
    assert "services" not in result.comments


def test_nat_chains_only_see_new_connections(dataplane: FakeNFT) -> None:
    packet = pkt("172.16.0.1", "10.96.0.10", 80, ct_state=CtState.ESTABLISHED)
    result = trace(dataplane, packet, Hook.PREROUTING)
    assert result.packet == packet
    assert result.steps[0].note == "skipped: not ct state new"


def ruleset(
    *rules: tuple[str, tuple[Statement, ...], str], policy: ChainPolicy = ChainPolicy.DROP
) -> FakeNFT:
    """A table with base chain `forward` (forward, given policy) and regular chains a, b, c."""
    tx = Transaction(TABLE)
    tx.add(Table())
    tx.add(Chain(name="a"))
    tx.add(Chain(name="b"))
    tx.add(Chain(name="c"))
    tx.add(
        Chain(name="forward", type=ChainType.FILTER, hook=Hook.FORWARD, priority=0, policy=policy)
    )
    for chain, statements, comment in rules:
        tx.add(Rule(chain=chain, statements=statements, comment=comment))
    fake = FakeNFT()
    fake.run(tx)
    return fake


def test_default_drop_policy() -> None:
    result = trace(ruleset(), pkt("10.0.0.1", "10.0.0.2"))
    assert result.verdict is Verdict.DROP
    assert result.render() == "podwall/forward: policy drop\n=> drop"


def test_jump_returns_to_the_next_rule_goto_does_not() -> None:
    fake = ruleset(
        ("forward", (Jump("a"),), "jump a"),
        ("forward", (Goto("b"),), "goto b"),
        ("forward", (Accept(),), "never reached"),
        ("a", (Match(Field.TH_DPORT, "80"), Return()), "a: return early"),
        ("a", (Drop(),), "a: drop"),
        ("b", (Match(Field.TH_DPORT, "80"), Jump("c")), "b: jump c"),
        ("c", (Log("c: "),), "c: log"),
    )
    result = trace(fake, pkt("10.0.0.1", "10.0.0.2", 80))
    assert result.comments == ("jump a", "a: return early", "goto b", "b: jump c", "c: log")
    # b fell off its end after a goto: evaluation resumes in forward's caller, so forward's policy.
    assert result.verdict is Verdict.DROP


def test_accept_ends_only_the_current_base_chain() -> None:
    fake = ruleset(("forward", (Accept(),), "egress ok"))
    tx = Transaction("second")
    tx.add(Table())
    tx.add(Chain(name="ingress", type=ChainType.FILTER, hook=Hook.FORWARD, priority=10))
    tx.add(Rule(chain="ingress", statements=(Reject(),), comment="ingress rejects"))
    fake.run(tx)
    result = trace(fake, pkt("10.0.0.1", "10.0.0.2"))
    assert result.comments == ("egress ok", "ingress rejects")
    assert result.verdict is Verdict.REJECT


def test_match_operators_marks_interfaces_and_fib() -> None:
    fake = ruleset(
        ("forward", (Match(Field.IIFNAME, "veth*"), SetMark(0x10)), "mark pod traffic"),
        (
            "forward",
            (Match(Field.MARK, "0x10"), Match(Field.FIB_DADDR_TYPE, "local"), Drop()),
            "no pod to host",
        ),
        ("forward", (Match(Field.IP_SADDR, "10.0.0.0/8", Op.NE), Drop()), "foreign source"),
        ("forward", (Match(Field.L4PROTO, ("tcp", "udp")), Accept()), "tcp or udp"),
    )
    assert trace(fake, pkt("10.0.0.1", "10.9.9.9", iifname="veth7")).comments == (
        "mark pod traffic",
        "tcp or udp",
    )
    to_host = trace(fake, pkt("10.0.0.1", "10.9.9.9", iifname="veth7"), local_addrs=["10.9.9.9"])
    assert to_host.comments == ("mark pod traffic", "no pod to host")
    assert to_host.packet.mark == 0x10
    assert trace(fake, pkt("192.168.0.1", "10.9.9.9")).comments == ("foreign source",)
    icmp = trace(fake, Packet(saddr="10.0.0.1", daddr="10.0.0.2", l4proto="icmp"))
    assert icmp.verdict is Verdict.DROP


def test_ipv4_matches_never_match_ipv6_packets() -> None:
    fake = ruleset(
        ("forward", (Match(Field.IP_SADDR, "10.0.0.0/8", Op.NE), Drop()), "v4 rule"),
        ("forward", (Match(Field.IP6_SADDR, "fd00::/8"), Accept()), "v6 rule"),
    )
    result = trace(fake, Packet(saddr="fd00::1", daddr="fd00::2", dport=80))
    assert result.comments == ("v6 rule",)
    assert result.verdict is Verdict.ACCEPT


def test_ports_never_match_portless_packets() -> None:
    fake = ruleset(
        ("forward", (Match(Field.TH_DPORT, "80", Op.NE), Drop()), "not 80"),
        policy=ChainPolicy.ACCEPT,
    )
    result = trace(fake, Packet(saddr="10.0.0.1", daddr="10.0.0.2", l4proto="icmp"))
    assert result.verdict is Verdict.ACCEPT


def test_plain_strings_work_for_hook_and_ct_state(dataplane: FakeNFT) -> None:
    packet = pkt("8.8.8.8", WEB, 22, ct_state="established")
    assert trace(dataplane, packet, "forward").verdict is Verdict.ACCEPT  # type: ignore[arg-type]


def test_packet_validation() -> None:
    with pytest.raises(ValueError):  # noqa: PT011
        Packet(saddr="10.0.0.1", daddr="fd00::1")
    with pytest.raises(ValueError):  # noqa: PT011
        Packet(saddr="10.0.0.1", daddr="10.0.0.2", l4proto="bogus")
