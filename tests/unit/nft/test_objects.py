"""Objects and statements render to exact nft text; every verb/object pair is covered."""

from __future__ import annotations

import typing

import pytest

from podwall.nft.errors import InvalidOperation
from podwall.nft.objects import (
    VERBS,
    Chain,
    ChainPolicy,
    ChainType,
    Element,
    Hook,
    Map,
    Object,
    Priority,
    Rule,
    Set,
    SetFlag,
    Table,
    Verb,
    check_operation,
)
from podwall.nft.statements import (
    DNAT,
    SNAT,
    Accept,
    Counter,
    Drop,
    Field,
    Goto,
    Jump,
    Limit,
    Log,
    Lookup,
    Masquerade,
    Match,
    NumgenVMap,
    Op,
    Reject,
    Return,
    SetMark,
    Statement,
    VMap,
)
from podwall.nft.transaction import Operation, Transaction
from podwall.nft.values import NftType

V4 = NftType.IPV4_ADDR
BASE = Chain(
    name="filter-forward",
    type=ChainType.FILTER,
    hook=Hook.FORWARD,
    priority=Priority.FILTER,
    policy=ChainPolicy.DROP,
)
SET = Set(name="peers", key=(V4, NftType.INET_PROTO), flags=frozenset({SetFlag.INTERVAL}))
MAP = Map(name="pods", key=(V4,), comment="pod ip to chain")
RULE = Rule(chain="c", statements=(Match(Field.IP_SADDR, "10.0.0.1"), Accept()), comment="r")
P = "inet podwall"

# (verb, object, exact command); the completeness test below checks every valid pair is here.
COMMANDS: list[tuple[Verb, Object, str]] = [
    (Verb.ADD, Table(), f"add table {P}"),
    (Verb.ADD, Table(comment="pw"), f'add table {P} {{ comment "pw" ; }}'),
    (Verb.CREATE, Table(), f"create table {P}"),
    (Verb.DELETE, Table(), f"delete table {P}"),
    (Verb.FLUSH, Table(), f"flush table {P}"),
    (Verb.ADD, Chain(name="c"), f"add chain {P} c"),
    (Verb.ADD, Chain(name="c", comment="x"), f'add chain {P} c {{ comment "x" ; }}'),
    (
        Verb.ADD,
        BASE,
        f"add chain {P} filter-forward {{ type filter hook forward priority 0 ; policy drop ; }}",
    ),
    (
        Verb.CREATE,
        Chain(name="nat-pre", type=ChainType.NAT, hook=Hook.PREROUTING, priority=-100),
        f"create chain {P} nat-pre {{ type nat hook prerouting priority -100 ; }}",
    ),
    (Verb.DELETE, BASE, f"delete chain {P} filter-forward"),
    (Verb.FLUSH, Chain(name="c"), f"flush chain {P} c"),
    (
        Verb.ADD,
        SET,
        f"add set {P} peers {{ type ipv4_addr . inet_proto ; flags interval ; }}",
    ),
    (Verb.CREATE, Set(name="s", key=(V4,)), f"create set {P} s {{ type ipv4_addr ; }}"),
    (Verb.DELETE, SET, f"delete set {P} peers"),
    (Verb.FLUSH, SET, f"flush set {P} peers"),
    (
        Verb.ADD,
        MAP,
        f'add map {P} pods {{ type ipv4_addr : verdict ; comment "pod ip to chain" ; }}',
    ),
    (
        Verb.CREATE,
        MAP,
        f'create map {P} pods {{ type ipv4_addr : verdict ; comment "pod ip to chain" ; }}',
    ),
    (Verb.DELETE, MAP, f"delete map {P} pods"),
    (Verb.FLUSH, MAP, f"flush map {P} pods"),
    (
        Verb.ADD,
        Element(set="peers", key=("10.0.0.0/8", "tcp")),
        f"add element {P} peers {{ 10.0.0.0/8 . tcp }}",
    ),
    (
        Verb.ADD,
        Element(map="pods", key=("10.244.0.5",), value=Jump("pod-in_a_b")),
        f"add element {P} pods {{ 10.244.0.5 : jump pod-in_a_b }}",
    ),
    (
        Verb.CREATE,
        Element(map="pods", key=("10.244.0.5",), value=Drop()),
        f"create element {P} pods {{ 10.244.0.5 : drop }}",
    ),
    (
        Verb.DELETE,
        Element(map="pods", key=("10.244.0.5",), value=Drop()),
        f"delete element {P} pods {{ 10.244.0.5 }}",
    ),
    (Verb.ADD, RULE, f'add rule {P} c ip saddr 10.0.0.1 accept comment "r"'),
    (Verb.ADD, Rule(chain="c", statements=(Drop(),), handle=4), f"add rule {P} c handle 4 drop"),
    (Verb.INSERT, Rule(chain="c", statements=(Drop(),)), f"insert rule {P} c drop"),
    (
        Verb.INSERT,
        Rule(chain="c", statements=(Drop(),), handle=4),
        f"insert rule {P} c handle 4 drop",
    ),
    (
        Verb.REPLACE,
        Rule(chain="c", statements=(Accept(),), handle=7),
        f"replace rule {P} c handle 7 accept",
    ),
    (Verb.DELETE, Rule(chain="c", handle=7), f"delete rule {P} c handle 7"),
]


@pytest.mark.parametrize(("verb", "obj", "expected"), COMMANDS)
def test_command_text(verb: Verb, obj: Object, expected: str) -> None:
    assert Transaction("podwall").command(Operation(verb, obj)) == expected


def test_every_valid_verb_object_pair_has_a_command_row() -> None:
    covered = {(type(obj), verb) for verb, obj, _ in COMMANDS}
    valid = {(kind, verb) for kind, verbs in VERBS.items() for verb in verbs}
    assert covered == valid


def test_verbs_table_covers_every_object_type() -> None:
    assert set(VERBS) == set(typing.get_args(Object))


INVALID = [
    (verb, obj)
    for obj in (Table(), Chain(name="c"), SET, MAP, Element(set="s", key=("1.2.3.4",)), RULE)
    for verb in Verb
    if verb not in VERBS[type(obj)]
]


@pytest.mark.parametrize(("verb", "obj"), INVALID)
def test_invalid_verb_object_pairs_are_refused(verb: Verb, obj: Object) -> None:
    with pytest.raises(InvalidOperation, match=f"cannot {verb}"):
        check_operation(verb, obj)


STATEMENTS: list[tuple[Statement, str]] = [
    (Match(Field.IP_SADDR, "10.0.0.0/8"), "ip saddr 10.0.0.0/8"),
    (Match(Field.IP_DADDR, "10.0.0.1", Op.NE), "ip daddr != 10.0.0.1"),
    (Match(Field.IP6_SADDR, "fd00::/64"), "ip6 saddr fd00::/64"),
    (Match(Field.L4PROTO, ("tcp", "udp")), "meta l4proto { tcp, udp }"),
    (Match(Field.TH_DPORT, "80-81"), "th dport 80-81"),
    (Match(Field.IIFNAME, "veth1"), 'iifname "veth1"'),
    (Match(Field.OIFNAME, ("a", "b*"), Op.NE), 'oifname != { "a", "b*" }'),
    (Match(Field.CT_STATE, ("established", "related")), "ct state established,related"),
    (Match(Field.MARK, "0x10"), "meta mark 0x10"),
    (Match(Field.FIB_DADDR_TYPE, "local"), "fib daddr type local"),
    (Match(Field.IP_SADDR, "@allowed", Op.NE), "ip saddr != @allowed"),
    (
        Lookup((Field.IP_DADDR, Field.L4PROTO, Field.TH_DPORT), "ports"),
        "ip daddr . meta l4proto . th dport @ports",
    ),
    (Lookup((Field.IP_SADDR,), "deny", Op.NE), "ip saddr != @deny"),
    (VMap((Field.IP_DADDR,), "pods"), "ip daddr vmap @pods"),
    (
        VMap((Field.IP_DADDR, Field.L4PROTO, Field.TH_DPORT), "svc"),
        "ip daddr . meta l4proto . th dport vmap @svc",
    ),
    (Accept(), "accept"),
    (Drop(), "drop"),
    (Reject(), "reject"),
    (Return(), "return"),
    (Jump("pod-in_a_b"), "jump pod-in_a_b"),
    (Goto("ep_x"), "goto ep_x"),
    (Counter(), "counter"),
    (Log("podwall drop: "), 'log prefix "podwall drop: "'),
    (Log("pwai:0123456789abcdef", 20567), 'log prefix "pwai:0123456789abcdef" group 20567'),
    (Limit(100, 200), "limit rate 100/second burst 200 packets"),
    (SetMark(0x4000), "meta mark set 0x00004000"),
    (DNAT("10.244.0.5", 8080), "dnat ip to 10.244.0.5:8080"),
    (DNAT("10.244.0.5"), "dnat ip to 10.244.0.5"),
    (DNAT("fd00::5", 80), "dnat ip6 to [fd00::5]:80"),
    (DNAT("fd00::5"), "dnat ip6 to fd00::5"),
    (SNAT("10.0.0.1"), "snat ip to 10.0.0.1"),
    (Masquerade(), "masquerade"),
    (
        NumgenVMap(("ep_a", "ep_b")),
        "numgen random mod 2 vmap { 0 : goto ep_a, 1 : goto ep_b }",
    ),
]


@pytest.mark.parametrize(("statement", "expected"), STATEMENTS)
def test_statement_text(statement: Statement, expected: str) -> None:
    assert statement.render() == expected


def test_every_statement_type_has_a_rendering_row() -> None:
    assert {type(s) for s, _ in STATEMENTS} == set(typing.get_args(Statement))


@pytest.mark.parametrize(
    "make",
    [
        lambda: Chain(name="c", hook=Hook.FORWARD),
        lambda: Chain(name="c", policy=ChainPolicy.DROP),
        lambda: Chain(name="n", type=ChainType.NAT, hook=Hook.FORWARD, priority=0),
        lambda: Chain(name="fwd"),  # an nft keyword: a syntax error where a name goes
        lambda: Chain(name="has space"),
        lambda: Chain(name="x" * 256),
        lambda: Set(name="s", key=()),
        lambda: Map(name="m", key=(NftType.VERDICT,)),
        lambda: Element(key=("1.2.3.4",)),
        lambda: Element(set="s", map="m", key=("1.2.3.4",)),
        lambda: Element(set="s", key=("1.2.3.4",), value=Accept()),
        lambda: Rule(chain="c", statements=(Accept(), Counter())),
        lambda: Rule(chain="c", statements=(DNAT("10.0.0.1", 80),)),
        lambda: Rule(chain="c", statements=(Accept(),), comment='say "hi"'),
        lambda: Rule(chain="c", statements=(Accept(),), comment="x" * 129),
    ],
)
def test_objects_nft_would_reject_cannot_be_built(make: typing.Callable[[], object]) -> None:
    with pytest.raises(InvalidOperation):
        make()


@pytest.mark.parametrize(
    "make",
    [
        lambda: Match(Field.IP_SADDR, ""),
        lambda: Match(Field.IP_SADDR, ()),
        lambda: Lookup((), "s"),
        lambda: Lookup((Field.CT_STATE,), "s"),
        lambda: VMap((Field.IIFNAME,), "m"),
        lambda: Log('a"b'),
        lambda: Log("x" * 128),
        lambda: Log("p", 70000),
        lambda: Limit(0, 1),
        lambda: Limit(1, 0),
        lambda: NumgenVMap(()),
        lambda: Jump("1abc"),
        lambda: Match(Field.IP_SADDR, "fd00::1"),  # IPv6 literal on an `ip` field
        lambda: Match(Field.IP_DADDR, ("10.0.0.1", "nonsense")),
        lambda: Match(Field.TH_DPORT, "81-80"),
        lambda: Match(Field.TH_DPORT, "70000"),
        lambda: Match(Field.L4PROTO, "tcpp"),
        lambda: Match(Field.CT_STATE, "established,bogus"),
        lambda: Match(Field.MARK, "0xzz"),
        lambda: Match(Field.FIB_DADDR_TYPE, "remote"),
        lambda: Match(Field.IIFNAME, "a-very-long-interface-name"),
    ],
)
def test_statements_nft_would_reject_cannot_be_built(make: typing.Callable[[], object]) -> None:
    with pytest.raises(InvalidOperation):
        make()


def test_comment_limit_is_128_bytes_not_characters() -> None:
    Rule(chain="c", statements=(Accept(),), comment="é" * 64)
    with pytest.raises(InvalidOperation):
        Rule(chain="c", statements=(Accept(),), comment="é" * 65)


def test_dnat_with_port_after_l4proto_match_is_fine() -> None:
    rule = Rule(chain="c", statements=(Match(Field.L4PROTO, "tcp"), DNAT("10.0.0.1", 80)))
    assert rule.text() == "meta l4proto tcp dnat ip to 10.0.0.1:80"


def test_base_chain_spec_and_regular_chain_has_none() -> None:
    assert BASE.is_base
    assert BASE.spec() == "type filter hook forward priority 0 ; policy drop ;"
    assert Chain(name="c").spec() is None
