"""FakeNFT applies transactions with nft's semantics (each checked against real nft 1.0.6)."""

from __future__ import annotations

import itertools
from collections.abc import Callable

import pytest

from podwall.nft.errors import NftError
from podwall.nft.fake import FakeNFT
from podwall.nft.objects import (
    Chain,
    ChainPolicy,
    ChainType,
    Element,
    Hook,
    Map,
    Rule,
    Set,
    Table,
)
from podwall.nft.statements import (
    DNAT,
    Accept,
    Drop,
    Field,
    Goto,
    Jump,
    Lookup,
    Masquerade,
    Match,
    VMap,
)
from podwall.nft.transaction import Transaction

from .nft_samples import INTERVAL, PORT, PROTO, TABLE, V4

FORWARD = Chain(name="forward", type=ChainType.FILTER, hook=Hook.FORWARD, priority=0)


def tx_of(*build: Callable[[Transaction], None]) -> Transaction:
    tx = Transaction(TABLE)
    for step in build:
        step(tx)
    return tx


def base(tx: Transaction) -> None:
    """A table with a forward base chain, two regular chains, a set and a verdict map."""
    tx.add(Table())
    tx.add(FORWARD)
    tx.add(Chain(name="a"))
    tx.add(Chain(name="b"))
    tx.add(Set(name="s", key=(V4,), flags=INTERVAL))
    tx.add(Map(name="m", key=(V4,)))


def loaded(*build: Callable[[Transaction], None]) -> FakeNFT:
    fake = FakeNFT()
    fake.run(tx_of(base, *build))
    return fake


def rules(fake: FakeNFT, chain: str) -> list[str]:
    return [rule.text() for rule in fake.table(TABLE).chains[chain].rules]


def test_empty_fake_dumps_nothing() -> None:
    assert FakeNFT().dump() == ""


def test_dump_is_sorted_nft_list_text() -> None:
    fake = loaded(
        lambda tx: tx.add(Element(set="s", key=("10.0.0.10",))),
        lambda tx: tx.add(Element(set="s", key=("10.0.0.9",))),
        lambda tx: tx.add(Element(set="s", key=("10.0.1.1/24",))),
        lambda tx: tx.add(Element(map="m", key=("10.1.0.1",), value=Jump("a"))),
        lambda tx: tx.add(Rule(chain="forward", statements=(VMap((Field.IP_DADDR,), "m"),))),
        lambda tx: tx.add(Rule(chain="a", statements=(Accept(),), comment="ok")),
    )
    assert fake.dump() == (
        "table inet podwall {\n"
        "\tset s {\n"
        "\t\ttype ipv4_addr\n"
        "\t\tflags interval\n"
        "\t\telements = { 10.0.0.9, 10.0.0.10, 10.0.1.0/24 }\n"
        "\t}\n"
        "\n"
        "\tmap m {\n"
        "\t\ttype ipv4_addr : verdict\n"
        "\t\telements = { 10.1.0.1 : jump a }\n"
        "\t}\n"
        "\n"
        "\tchain a {\n"
        '\t\taccept comment "ok"\n'
        "\t}\n"
        "\n"
        "\tchain b {\n"
        "\t}\n"
        "\n"
        "\tchain forward {\n"
        "\t\ttype filter hook forward priority 0; policy accept;\n"
        "\t\tip daddr vmap @m\n"
        "\t}\n"
        "}\n"
    )


def test_add_is_idempotent_for_tables_chains_sets_and_identical_elements() -> None:
    fake = loaded(lambda tx: tx.add(Element(set="s", key=("10.0.0.0/8",))))
    before = fake.dump()
    fake.run(tx_of(base, lambda tx: tx.add(Element(set="s", key=("10.0.0.0/8",)))))
    assert fake.dump() == before


def test_add_base_chain_again_may_change_only_its_policy() -> None:
    fake = loaded()
    fake.run(
        tx_of(
            lambda tx: tx.add(
                Chain(
                    name="forward",
                    type=ChainType.FILTER,
                    hook=Hook.FORWARD,
                    priority=0,
                    policy=ChainPolicy.DROP,
                )
            )
        )
    )
    assert fake.table(TABLE).chains["forward"].chain.policy is ChainPolicy.DROP
    with pytest.raises(NftError, match="Operation not supported"):
        fake.run(
            tx_of(
                lambda tx: tx.add(
                    Chain(name="forward", type=ChainType.FILTER, hook=Hook.INPUT, priority=0)
                )
            )
        )


@pytest.mark.parametrize(
    "op",
    [
        lambda tx: tx.create(Table()),
        lambda tx: tx.create(Chain(name="a")),
        lambda tx: tx.create(Set(name="s", key=(V4,), flags=INTERVAL)),
        lambda tx: tx.create(Map(name="m", key=(V4,))),
        lambda tx: tx.add(Set(name="s", key=(V4,))),  # same name, other definition
        lambda tx: tx.add(Set(name="m", key=(V4,))),  # sets and maps share names
    ],
)
def test_create_or_conflicting_add_fails_if_it_exists(op: Callable[[Transaction], None]) -> None:
    fake = loaded()
    with pytest.raises(NftError, match="File exists"):
        fake.run(tx_of(op))


@pytest.mark.parametrize(
    "op",
    [
        lambda tx: tx.delete(Chain(name="nope")),
        lambda tx: tx.flush(Chain(name="nope")),
        lambda tx: tx.delete(Set(name="nope", key=(V4,))),
        lambda tx: tx.flush(Set(name="m", key=(V4,))),  # m is a map, not a set
        lambda tx: tx.delete(Map(name="nope", key=(V4,))),
        lambda tx: tx.delete(Element(set="s", key=("10.0.0.1",))),
        lambda tx: tx.delete(Rule(chain="a", handle=999)),
        lambda tx: tx.replace(Rule(chain="a", statements=(Accept(),), handle=999)),
        lambda tx: tx.add(Rule(chain="a", statements=(Accept(),), handle=999)),
        lambda tx: tx.add(Rule(chain="nope", statements=(Accept(),))),
        lambda tx: tx.add(Element(set="nope", key=("10.0.0.1",))),
        lambda tx: tx.add(Element(set="m", key=("10.0.0.1",))),  # m is a map
        lambda tx: tx.add(Rule(chain="a", statements=(Jump("nope"),))),
        lambda tx: tx.add(Rule(chain="a", statements=(Lookup((Field.IP_SADDR,), "nope"),))),
        lambda tx: tx.add(Rule(chain="a", statements=(VMap((Field.IP_SADDR,), "s"),))),
        lambda tx: tx.add(Element(map="m", key=("10.0.0.1",), value=Goto("nope"))),
    ],
)
def test_missing_objects_fail(op: Callable[[Transaction], None]) -> None:
    fake = loaded()
    with pytest.raises(NftError, match=r"No such file|does not exist"):
        fake.run(tx_of(op))


def test_operations_on_a_missing_table_fail() -> None:
    with pytest.raises(NftError, match="no such table"):
        FakeNFT().run(tx_of(lambda tx: tx.add(Chain(name="a"))))
    with pytest.raises(NftError, match="No such file"):
        FakeNFT().run(tx_of(lambda tx: tx.delete(Table())))
    with pytest.raises(NftError, match="no such table"):
        FakeNFT().table(TABLE)


@pytest.mark.parametrize(
    ("setup", "delete"),
    [
        (lambda tx: tx.add(Rule(chain="a", statements=(Jump("b"),))), Chain(name="b")),
        (lambda tx: tx.add(Element(map="m", key=("10.0.0.1",), value=Jump("b"))), Chain(name="b")),
        (
            lambda tx: tx.add(Rule(chain="a", statements=(Match(Field.IP_SADDR, "@s"),))),
            Set(name="s", key=(V4,), flags=INTERVAL),
        ),
        (
            lambda tx: tx.add(Rule(chain="a", statements=(VMap((Field.IP_DADDR,), "m"),))),
            Map(name="m", key=(V4,)),
        ),
    ],
)
def test_deleting_something_in_use_is_busy(
    setup: Callable[[Transaction], None], delete: Chain | Set | Map
) -> None:
    fake = loaded(setup)
    with pytest.raises(NftError, match="Device or resource busy"):
        fake.run(tx_of(lambda tx: tx.delete(delete)))


def test_deleting_a_chain_takes_its_rules_and_their_references() -> None:
    fake = loaded(lambda tx: tx.add(Rule(chain="a", statements=(Jump("b"),))))
    fake.run(tx_of(lambda tx: tx.delete(Chain(name="a")), lambda tx: tx.delete(Chain(name="b"))))
    assert set(fake.table(TABLE).chains) == {"forward"}


def test_flush_chain_removes_its_rules() -> None:
    fake = loaded(lambda tx: tx.add(Rule(chain="a", statements=(Accept(),))))
    fake.run(tx_of(lambda tx: tx.flush(Chain(name="a"))))
    assert rules(fake, "a") == []


def test_flush_table_empties_every_chain_but_keeps_chains_and_elements() -> None:
    fake = loaded(
        lambda tx: tx.add(Element(set="s", key=("10.0.0.0/8",))),
        lambda tx: tx.add(Rule(chain="a", statements=(Accept(),))),
        lambda tx: tx.add(Rule(chain="forward", statements=(Drop(),))),
    )
    fake.run(tx_of(lambda tx: tx.flush(Table())))
    state = fake.table(TABLE)
    assert all(not chain.rules for chain in state.chains.values())
    assert set(state.chains) == {"forward", "a", "b"}
    assert len(state.sets["s"].elements) == 1


def test_flush_set_removes_elements() -> None:
    fake = loaded(lambda tx: tx.add(Element(set="s", key=("10.0.0.0/8",))))
    fake.run(tx_of(lambda tx: tx.flush(Set(name="s", key=(V4,), flags=INTERVAL))))
    assert not fake.table(TABLE).sets["s"].elements


def test_delete_table_removes_everything() -> None:
    fake = loaded(lambda tx: tx.add(Rule(chain="a", statements=(Jump("b"),))))
    fake.run(tx_of(lambda tx: tx.delete(Table())))
    assert fake.dump() == ""


@pytest.mark.parametrize(
    ("elements", "error"),
    [
        (["10.0.0.0/8", "10.1.0.0/16"], "overlaps"),
        (["10.0.0.1-10.0.0.9", "10.0.0.5"], "overlaps"),
    ],
)
def test_overlapping_interval_elements_fail(elements: list[str], error: str) -> None:
    fake = loaded()
    with pytest.raises(NftError, match=error):
        fake.run(tx_of(*(lambda tx, e=e: tx.add(Element(set="s", key=(e,))) for e in elements)))


def test_concatenated_interval_elements_overlap_only_if_every_component_does() -> None:
    def setup(tx: Transaction) -> None:
        tx.add(Set(name="c", key=(V4, PROTO, PORT), flags=INTERVAL))
        tx.add(Element(set="c", key=("10.0.0.0/8", "tcp", "80")))
        tx.add(Element(set="c", key=("10.0.0.0/8", "udp", "80")))  # other protocol: fine
        tx.add(Element(set="c", key=("10.0.0.0/8", "tcp", "81-90")))  # other ports: fine

    fake = loaded(setup)
    with pytest.raises(NftError, match="overlaps"):
        fake.run(tx_of(lambda tx: tx.add(Element(set="c", key=("10.1.0.0/16", "tcp", "85")))))


def test_prefixes_need_an_interval_set_and_keys_must_fit_the_type() -> None:
    def plain(tx: Transaction) -> None:
        tx.add(Set(name="p", key=(V4,)))

    fake = loaded(plain)
    with pytest.raises(NftError, match="flags interval"):
        fake.run(tx_of(lambda tx: tx.add(Element(set="p", key=("10.0.0.0/8",)))))
    with pytest.raises(NftError, match="does not match type"):
        fake.run(tx_of(lambda tx: tx.add(Element(set="p", key=("10.0.0.1", "tcp")))))
    with pytest.raises(NftError, match="IPv4"):
        fake.run(tx_of(lambda tx: tx.add(Element(set="p", key=("fd00::1",)))))


def test_elements_are_stored_as_nft_lists_them() -> None:
    fake = loaded(
        lambda tx: tx.add(Element(set="s", key=("10.0.0.1/8",))),
        lambda tx: tx.add(Element(set="s", key=("192.168.0.1/32",))),
    )
    assert "elements = { 10.0.0.0/8, 192.168.0.1 }" in fake.dump()


def test_map_key_cannot_be_readded_with_another_value() -> None:
    fake = loaded(lambda tx: tx.add(Element(map="m", key=("10.0.0.1",), value=Jump("a"))))
    fake.run(tx_of(lambda tx: tx.add(Element(map="m", key=("10.0.0.1",), value=Jump("a")))))
    with pytest.raises(NftError, match="File exists"):
        fake.run(tx_of(lambda tx: tx.add(Element(map="m", key=("10.0.0.1",), value=Jump("b")))))
    with pytest.raises(NftError, match="File exists"):
        fake.run(tx_of(lambda tx: tx.create(Element(map="m", key=("10.0.0.1",), value=Jump("a")))))


@pytest.mark.parametrize(
    ("op", "error"),
    [
        (lambda tx: tx.add(Rule(chain="a", statements=(Jump("forward"),))), "base chain"),
        (
            lambda tx: tx.add(Element(map="m", key=("10.0.0.1",), value=Goto("forward"))),
            "base chain",
        ),
        (
            lambda tx: tx.add(
                Rule(chain="a", statements=(Lookup((Field.IP_SADDR, Field.L4PROTO), "s"),))
            ),
            "datatype mismatch",
        ),
        (
            lambda tx: tx.add(Rule(chain="a", statements=(Match(Field.IP6_SADDR, "@s"),))),
            "datatype mismatch",
        ),
        (
            lambda tx: tx.add(Rule(chain="a", statements=(Match(Field.CT_STATE, "@s"),))),
            "cannot be looked up",
        ),
    ],
)
def test_references_must_be_usable(op: Callable[[Transaction], None], error: str) -> None:
    with pytest.raises(NftError, match=error):
        loaded().run(tx_of(op))


def test_jump_loops_fail_at_commit() -> None:
    with pytest.raises(NftError, match="Too many links: loop"):
        loaded(
            lambda tx: tx.add(Rule(chain="forward", statements=(Jump("a"),))),
            lambda tx: tx.add(Rule(chain="a", statements=(Jump("b"),))),
            lambda tx: tx.add(Rule(chain="b", statements=(Goto("a"),))),
        )


def test_loops_through_verdict_maps_fail_too() -> None:
    with pytest.raises(NftError, match="loop"):
        loaded(
            lambda tx: tx.add(Rule(chain="forward", statements=(Jump("a"),))),
            lambda tx: tx.add(Rule(chain="a", statements=(VMap((Field.IP_DADDR,), "m"),))),
            lambda tx: tx.add(Element(map="m", key=("10.0.0.1",), value=Jump("a"))),
        )


def test_loops_among_unreachable_chains_are_accepted_like_the_kernel_does() -> None:
    fake = loaded(
        lambda tx: tx.add(Rule(chain="a", statements=(Jump("b"),))),
        lambda tx: tx.add(Rule(chain="b", statements=(Jump("a"),))),
    )
    with pytest.raises(NftError, match="loop"):
        fake.run(tx_of(lambda tx: tx.add(Rule(chain="forward", statements=(Jump("a"),)))))


def test_jumps_nest_at_most_16_deep() -> None:
    def chain_of(n: int) -> Callable[[Transaction], None]:
        def build(tx: Transaction) -> None:
            names = [f"c{i}" for i in range(n)]
            for name in names:
                tx.add(Chain(name=name))
            tx.add(Rule(chain="forward", statements=(Jump(names[0]),)))
            for here, there in itertools.pairwise(names):
                tx.add(Rule(chain=here, statements=(Jump(there),)))

        return build

    loaded(chain_of(15))
    with pytest.raises(NftError, match="deeper than 16"):
        loaded(chain_of(16))


def test_nat_reached_from_a_filter_chain_fails() -> None:
    with pytest.raises(NftError, match="Operation not supported: dnat"):
        loaded(
            lambda tx: tx.add(Rule(chain="forward", statements=(Jump("a"),))),
            lambda tx: tx.add(Rule(chain="a", statements=(DNAT("10.0.0.1"),))),
        )


def test_masquerade_only_in_postrouting() -> None:
    def prerouting(tx: Transaction) -> None:
        tx.add(Chain(name="pre", type=ChainType.NAT, hook=Hook.PREROUTING, priority=-100))
        tx.add(Rule(chain="pre", statements=(Masquerade(),)))

    def postrouting(tx: Transaction) -> None:
        tx.add(Chain(name="post", type=ChainType.NAT, hook=Hook.POSTROUTING, priority=100))
        tx.add(Rule(chain="post", statements=(Masquerade(),)))

    with pytest.raises(NftError, match="masquerade"):
        loaded(prerouting)
    assert "masquerade" in loaded(postrouting).dump()


def test_a_failing_transaction_changes_nothing() -> None:
    fake = loaded(
        lambda tx: tx.add(Element(set="s", key=("10.0.0.0/8",))),
        lambda tx: tx.add(Rule(chain="a", statements=(Accept(),))),
    )
    before = fake.dump()

    def partly_valid(tx: Transaction) -> None:
        tx.flush(Table())
        tx.delete(Chain(name="b"))
        tx.add(Chain(name="c"))
        tx.add(Element(set="s", key=("192.168.0.0/16",)))
        tx.add(Element(set="s", key=("10.1.0.0/16",)))  # overlaps: the whole batch fails

    with pytest.raises(NftError, match=r"add element inet podwall s \{ 10.1.0.0/16 \}: interval"):
        fake.run(tx_of(partly_valid))
    assert fake.dump() == before


def test_commit_time_failure_is_atomic_too() -> None:
    fake = loaded()
    before = fake.dump()
    with pytest.raises(NftError, match="loop"):
        fake.run(
            tx_of(
                lambda tx: tx.add(Rule(chain="forward", statements=(Jump("a"),))),
                lambda tx: tx.add(Rule(chain="a", statements=(Jump("b"),))),
                lambda tx: tx.add(Rule(chain="b", statements=(Jump("a"),))),
            )
        )
    assert fake.dump() == before


def test_rule_positions_and_handles() -> None:
    fake = loaded(
        lambda tx: tx.add(Rule(chain="a", statements=(Accept(),), comment="1")),
        lambda tx: tx.add(Rule(chain="a", statements=(Accept(),), comment="2")),
    )
    first, second = fake.table(TABLE).chains["a"].rules
    assert first.handle is not None
    assert second.handle is not None
    assert first.handle < second.handle

    fake.run(
        tx_of(
            lambda tx: tx.insert(Rule(chain="a", statements=(Drop(),), comment="0")),
            lambda tx: tx.add(
                Rule(chain="a", statements=(Drop(),), comment="1.5", handle=first.handle)
            ),
            lambda tx: tx.insert(
                Rule(chain="a", statements=(Drop(),), comment="1.9", handle=second.handle)
            ),
            lambda tx: tx.replace(
                Rule(chain="a", statements=(Drop(),), comment="2'", handle=second.handle)
            ),
            lambda tx: tx.delete(Rule(chain="a", handle=first.handle)),
        )
    )
    assert [r.comment for r in fake.table(TABLE).chains["a"].rules] == ["0", "1.5", "1.9", "2'"]


def test_sample_ruleset_loads(sample_tx: Transaction) -> None:
    fake = FakeNFT()
    fake.run(sample_tx)
    fake.run(sample_tx)  # flush table + idempotent adds: reapplying is a no-op
    assert fake.dump().count("chain ") == 7
