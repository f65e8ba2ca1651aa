"""Transaction: queued in order, checked when queued, rendered as one nft script."""

from __future__ import annotations

import pytest

from podwall.nft.errors import InvalidOperation
from podwall.nft.objects import Chain, Element, Map, Rule, Set, Table, Verb
from podwall.nft.statements import Accept, Drop, Field, Jump, Match
from podwall.nft.transaction import Transaction
from podwall.nft.values import NftType

from .nft_samples import sample_transaction


def test_render_is_one_line_per_operation_in_queued_order() -> None:
    tx = Transaction("podwall")
    tx.add(Table())
    tx.flush(Table())
    tx.add(Chain(name="c"))
    tx.add(Rule(chain="c", statements=(Match(Field.TH_DPORT, "53"), Accept()), comment="dns"))
    tx.insert(Rule(chain="c", statements=(Drop(),)))
    assert tx.render() == (
        "add table inet podwall\n"
        "flush table inet podwall\n"
        "add chain inet podwall c\n"
        'add rule inet podwall c th dport 53 accept comment "dns"\n'
        "insert rule inet podwall c drop\n"
    )
    assert len(tx) == 5
    assert [op.verb for op in tx] == [Verb.ADD, Verb.FLUSH, Verb.ADD, Verb.ADD, Verb.INSERT]


def test_empty_transaction_renders_nothing() -> None:
    assert Transaction("podwall").render() == ""


def test_render_is_deterministic(sample_tx: Transaction) -> None:
    assert sample_tx.render() == sample_transaction().render()
    assert sample_tx.render() == sample_tx.render()


def test_invalid_verb_fails_when_queued_and_is_not_queued() -> None:
    tx = Transaction("podwall")
    with pytest.raises(InvalidOperation, match="cannot insert chains"):
        tx.insert(Chain(name="c"))  # type: ignore[arg-type]
    with pytest.raises(InvalidOperation, match="cannot flush rules"):
        tx.flush(Rule(chain="c", statements=(Accept(),)))  # type: ignore[arg-type]
    with pytest.raises(InvalidOperation, match="cannot replace sets"):
        tx.replace(Set(name="s", key=(NftType.IPV4_ADDR,)))  # type: ignore[arg-type]
    with pytest.raises(InvalidOperation, match="cannot flush elements"):
        tx.flush(Element(set="s", key=("1.2.3.4",)))  # type: ignore[arg-type]
    assert len(tx) == 0


def test_rule_delete_and_replace_need_a_handle() -> None:
    tx = Transaction("podwall")
    with pytest.raises(InvalidOperation, match="handle"):
        tx.delete(Rule(chain="c", statements=(Accept(),)))
    with pytest.raises(InvalidOperation, match="handle"):
        tx.replace(Rule(chain="c", statements=(Accept(),)))


def test_adding_a_rule_needs_statements() -> None:
    with pytest.raises(InvalidOperation, match="at least one statement"):
        Transaction("podwall").add(Rule(chain="c"))


def test_map_element_needs_a_value_except_to_delete() -> None:
    tx = Transaction("podwall")
    with pytest.raises(InvalidOperation, match="needs a value"):
        tx.add(Element(map="m", key=("10.0.0.1",)))
    tx.delete(Element(map="m", key=("10.0.0.1",)))
    assert tx.render() == "delete element inet podwall m { 10.0.0.1 }\n"


def test_table_name_must_be_safe() -> None:
    with pytest.raises(InvalidOperation):
        Transaction("ip")


def test_operations_is_a_snapshot() -> None:
    tx = Transaction("podwall")
    tx.add(Table())
    ops = tx.operations
    tx.add(Map(name="m", key=(NftType.IPV4_ADDR,)))
    tx.add(Element(map="m", key=("10.0.0.1",), value=Jump("c")))
    assert len(ops) == 1
    assert len(tx.operations) == 3
