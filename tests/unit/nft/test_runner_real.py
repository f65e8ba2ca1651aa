"""The real nft binary accepts everything we render, and refuses what the fake refuses.

Nothing touches the host's ruleset: scripts are checked with `nft -c` or loaded into a
throwaway network namespace (`unshare -n`) that vanishes with the nft process.
"""

from __future__ import annotations

import itertools
import re
import typing
from collections.abc import Callable

import pytest

from podwall.nft import runner
from podwall.nft.errors import NftError
from podwall.nft.fake import FakeNFT
from podwall.nft.naming import name
from podwall.nft.objects import (
    Chain,
    ChainPolicy,
    ChainType,
    Element,
    Hook,
    Map,
    Priority,
    Rule,
    Set,
    Table,
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
from podwall.nft.transaction import Transaction
from podwall.nft.values import NftType

from .nft_samples import INTERVAL, PORT, PROTO, TABLE, V4, sample_transaction

pytestmark = pytest.mark.netns


def kitchen_sink() -> Transaction:
    """The sample dataplane plus every other statement type, IPv6 and postrouting NAT."""
    tx = sample_transaction()
    v6 = NftType.IPV6_ADDR
    tx.add(
        Chain(
            name="filter-egress",
            type=ChainType.FILTER,
            hook=Hook.FORWARD,
            priority=Priority.FILTER,
            policy=ChainPolicy.ACCEPT,
        )
    )
    tx.add(
        Chain(
            name="nat-postrouting",
            type=ChainType.NAT,
            hook=Hook.POSTROUTING,
            priority=Priority.SRCNAT,
        )
    )
    tx.add(Chain(name="pod-out_default_web"))
    tx.add(Chain(name="ep_v6"))
    tx.add(Set(name="v6-peers", key=(v6, PROTO, PORT), flags=INTERVAL))
    tx.add(Element(set="v6-peers", key=("fd00:10::/64", "udp", "53")))
    tx.add(Map(name="egress-pods", key=(V4,)))
    tx.add(Element(map="egress-pods", key=("10.244.1.5",), value=Jump("pod-out_default_web")))
    tx.add(Map(name="v6-services", key=(v6, PROTO, PORT), flags=INTERVAL))
    tx.add(Element(map="v6-services", key=("fd00:96::10", "tcp", "80"), value=Goto("ep_v6")))
    rules: list[tuple[str, tuple[Statement, ...]]] = [
        ("filter-egress", (Match(Field.CT_STATE, "established,related"), Accept())),
        (
            "filter-egress",
            (Match(Field.IIFNAME, "veth*"), Match(Field.OIFNAME, "eth0", Op.NE), SetMark(0x4000)),
        ),
        (
            "filter-egress",
            (Match(Field.MARK, "0x4000"), Match(Field.FIB_DADDR_TYPE, "local"), Counter(), Drop()),
        ),
        ("filter-egress", (VMap((Field.IP_SADDR,), "egress-pods"),)),
        (
            "pod-out_default_web",
            (
                Match(Field.IP_DADDR, "10.96.0.0/12", Op.NE),
                Match(Field.TH_SPORT, "1024-65535"),
                Return(),
            ),
        ),
        (
            "pod-out_default_web",
            (
                Match(Field.IP6_DADDR, "fd00::/8"),
                Lookup((Field.IP6_DADDR, Field.L4PROTO, Field.TH_DPORT), "v6-peers"),
                Accept(),
            ),
        ),
        ("pod-out_default_web", (Log("podwall deny: "), Reject())),
        ("pod-out_default_web", (Limit(100, 200), Log("pwde:0123456789abcdef", 20567), Drop())),
        (
            "nat-prerouting",
            (VMap((Field.IP6_DADDR, Field.L4PROTO, Field.TH_DPORT), "v6-services"),),
        ),
        ("ep_v6", (Match(Field.L4PROTO, "tcp"), DNAT("fd00:10::5", 8080))),
        ("nat-postrouting", (Match(Field.OIFNAME, "eth0"), Masquerade())),
        (
            "nat-postrouting",
            (
                Match(Field.IP_SADDR, "10.244.0.0/16"),
                Match(Field.IP_DADDR, "10.244.0.0/16", Op.NE),
                SNAT("192.0.2.1"),
            ),
        ),
    ]
    for chain, statements in rules:
        tx.add(Rule(chain=chain, statements=statements, comment=f"sink {chain}"))
    return tx


def statement_types(tx: Transaction) -> set[type]:
    found: set[type] = set()
    for op in tx:
        if isinstance(op.obj, Rule):
            found.update(type(s) for s in op.obj.statements)
        if isinstance(op.obj, Element) and op.obj.value is not None:
            found.add(type(op.obj.value))
    return found


def test_kitchen_sink_uses_every_statement_type() -> None:
    assert statement_types(kitchen_sink()) == set(typing.get_args(Statement))
    assert {Goto, DNAT, NumgenVMap} <= statement_types(sample_transaction())


def test_nft_check_mode_accepts_the_rendered_script() -> None:
    runner.check(kitchen_sink().render())


def test_kernel_loads_the_rendered_script_in_a_throwaway_netns() -> None:
    tx = kitchen_sink()
    fake = FakeNFT()
    fake.run(tx)
    listing = runner.trial(tx.render())
    state = fake.table(TABLE)
    listed = set(re.findall(r"^\t(?:chain|set|map) (\S+) \{", listing, re.M))
    assert listed == set(state.chains) | set(state.sets)
    listed_rules = len(re.findall(r'^\t\t(?!comment ).* comment "[^"]*"$', listing, re.M))
    assert listed_rules == sum(len(c.rules) for c in state.chains.values())


def test_the_fake_dump_is_itself_loadable() -> None:
    fake = FakeNFT()
    fake.run(kitchen_sink())
    runner.trial(fake.dump())


def test_generated_names_are_accepted_by_nft() -> None:
    parts = [
        ("default", "web"),
        ("kube-system", "my.policy", "0"),
        ("x" * 300,),
        ("ip6",),
        ("fwd",),
        ("Ünïcode", "a/b"),
    ]
    tx = Transaction(TABLE)
    tx.add(Table())
    for i, p in enumerate(parts):
        tx.add(Chain(name=name("pol-in", *p)))
        tx.add(Set(name=name("ipb", *p, str(i)), key=(V4,)))
    runner.trial(tx.render())


def test_nft_errors_carry_nft_stderr() -> None:
    with pytest.raises(NftError, match="syntax error"):
        runner.check("add rule inet podwall forward bogus\n")


def base(tx: Transaction) -> None:
    tx.add(Table())
    tx.add(Chain(name="forward", type=ChainType.FILTER, hook=Hook.FORWARD, priority=0))
    tx.add(Chain(name="a"))
    tx.add(Chain(name="b"))
    tx.add(Set(name="s", key=(V4,), flags=INTERVAL))
    tx.add(Set(name="plain", key=(V4,)))
    tx.add(Map(name="m", key=(V4,)))
    tx.add(Element(set="s", key=("10.0.0.0/8",)))
    tx.add(Element(map="m", key=("10.0.0.1",), value=Jump("a")))


def chained(tx: Transaction, *rules: tuple[str, Statement]) -> None:
    for chain, statement in rules:
        tx.add(Rule(chain=chain, statements=(statement,)))


def jumps_deep(tx: Transaction, depth: int) -> None:
    names = [f"c{i}" for i in range(depth)]
    for chain in names:
        tx.add(Chain(name=chain))
    chained(tx, ("forward", Jump(names[0])), *((a, Jump(b)) for a, b in itertools.pairwise(names)))


FAILING: dict[str, Callable[[Transaction], None]] = {
    "overlapping interval": lambda tx: tx.add(Element(set="s", key=("10.1.0.0/16",))),
    "prefix in plain set": lambda tx: tx.add(Element(set="plain", key=("10.0.0.0/8",))),
    "create existing chain": lambda tx: tx.create(Chain(name="a")),
    "create existing element": lambda tx: tx.create(Element(set="s", key=("10.0.0.0/8",))),
    "map key, other value": lambda tx: tx.add(Element(map="m", key=("10.0.0.1",), value=Jump("b"))),
    "delete chain in use": lambda tx: tx.delete(Chain(name="a")),
    "delete missing element": lambda tx: tx.delete(Element(set="s", key=("10.0.0.1",))),
    "jump to missing chain": lambda tx: tx.add(Rule(chain="a", statements=(Jump("zz"),))),
    "jump to base chain": lambda tx: tx.add(Rule(chain="a", statements=(Jump("forward"),))),
    "lookup missing set": lambda tx: tx.add(
        Rule(chain="a", statements=(Match(Field.IP_SADDR, "@zz"),))
    ),
    "loop": lambda tx: chained(tx, ("forward", Jump("a")), ("a", Jump("b")), ("b", Goto("a"))),
    "dnat in filter chain": lambda tx: chained(tx, ("forward", Jump("b")), ("b", DNAT("10.0.0.1"))),
    "jumps 16 chains deep": lambda tx: jumps_deep(tx, 16),
    "delete missing rule": lambda tx: tx.delete(Rule(chain="a", handle=999)),
}


def delete_after(tx: Transaction, rule: tuple[str, Statement], chain: Chain | None) -> None:
    """Add `rule`, then delete `chain` (or, with None, flush the table and re-add it)."""
    chained(tx, rule)
    if chain is not None:
        tx.delete(chain)
    else:
        tx.flush(Table())
        chained(tx, rule)


PASSING: dict[str, Callable[[Transaction], None]] = {
    "re-add identical element": lambda tx: tx.add(Element(set="s", key=("10.0.0.0/8",))),
    "re-add identical map element": lambda tx: tx.add(
        Element(map="m", key=("10.0.0.1",), value=Jump("a"))
    ),
    "adjacent intervals": lambda tx: tx.add(Element(set="s", key=("11.0.0.0/8",))),
    "jumps 15 chains deep": lambda tx: jumps_deep(tx, 15),
    "loop nothing reaches": lambda tx: chained(tx, ("a", Jump("b")), ("b", Jump("a"))),
    "delete chain with rules": lambda tx: delete_after(tx, ("b", Accept()), Chain(name="b")),
    "flush table then re-add": lambda tx: delete_after(tx, ("a", Drop()), None),
}


@pytest.mark.parametrize("case", sorted(PASSING))
def test_fake_and_kernel_accept_the_same_transactions(case: str) -> None:
    tx = Transaction(TABLE)
    base(tx)
    PASSING[case](tx)
    runner.trial(tx.render())
    FakeNFT().run(tx)


@pytest.mark.parametrize("case", sorted(FAILING))
def test_fake_and_kernel_refuse_the_same_transactions(case: str) -> None:
    ok, bad = Transaction(TABLE), Transaction(TABLE)
    base(ok)
    base(bad)
    FAILING[case](bad)
    runner.trial(ok.render())
    FakeNFT().run(ok)
    with pytest.raises(NftError):
        runner.trial(bad.render())
    with pytest.raises(NftError):
        FakeNFT().run(bad)


def test_the_kernel_loads_a_compiled_tier_ruleset_and_the_tracer_knows_its_statements() -> None:
    """ClusterNetworkPolicy tier chains with flow logging, every set named and every set
    written in: nft loads them, and each statement type they use is one the kitchen sink
    (and so the fake and the tracer) covers, Return (Pass) among them."""
    from unittest import mock

    from podwall.nft import setbook
    from podwall.nft.compile import compile_ruleset
    from podwall.nft.flowlog import FlowLog
    from podwall.nft.ruleset import full_transaction
    from podwall.nft.statements import Return
    from tests.unit.nft.test_clusterpolicies import tier_cluster

    for inline in (0, setbook.INLINE_MAX):
        with mock.patch.object(setbook, "INLINE_MAX", inline):
            tx = full_transaction(compile_ruleset(tier_cluster(), flow_log=FlowLog()))
        used = statement_types(tx)
        assert Return in used
        assert used <= statement_types(kitchen_sink())
        FakeNFT().run(tx)
        runner.trial(tx.render())
