"""Fragments: one ruleset in a stable order, and the batch between two fragmented rulesets that
looks only at fragments that are not the very same object."""

from __future__ import annotations

import pytest

from podwall.nft.fragments import FragmentKey, Fragments, flatten, full_text, update
from podwall.nft.objects import Chain, Element, Rule, Set
from podwall.nft.ruleset import Ruleset
from podwall.nft.statements import Accept, Drop
from podwall.nft.values import NftType


def fragment(
    chain: str = "", rules: tuple[str, ...] = (), elements: tuple[str, ...] = ()
) -> Ruleset:
    rs = Ruleset()
    if chain:
        rs.chain(Chain(name=chain))
        for comment in rules:
            verdict = Drop() if comment == "drop" else Accept()
            rs.rule(Rule(chain=chain, statements=(verdict,), comment=comment))
    if elements:
        rs.set(Set(name="s", key=(NftType.IPV4_ADDR,)))
        for key in elements:
            rs.element(Element(set="s", key=(key,)))
    return rs


def test_flatten_merges_fragments_in_key_order() -> None:
    whole = flatten({("b",): fragment("second"), ("a",): fragment("first")})
    assert list(whole.chains) == ["first", "second"]


def test_full_text_is_the_full_transaction_rendered() -> None:
    frags: Fragments = {("a",): fragment("c", ("ok",)), ("s",): fragment(elements=("198.18.0.1",))}
    text, operations = full_text(frags)
    assert text.splitlines()[:2] == ["add table inet podwall", "delete table inet podwall"]
    assert operations == len(text.splitlines())


KEY: FragmentKey = ("f",)
SAME = fragment("c", ("ok",))
CHANGES = [
    ("the very same object is not looked at", SAME, SAME, []),
    ("a new fragment adds its chain and rules", None, fragment("c", ("ok",)),
     ["add chain inet podwall c", "add rule inet podwall c accept comment \"ok\""]),
    ("a removed fragment flushes, then deletes its chain", fragment("c", ("ok",)), None,
     ["flush chain inet podwall c", "delete chain inet podwall c"]),
    ("changed rules flush the chain and add them again", fragment("c", ("ok",)), fragment("c", ("drop",)),
     ["flush chain inet podwall c", "add rule inet podwall c drop comment \"drop\""]),
    ("equal rules in a new object change nothing", fragment("c", ("ok",)), fragment("c", ("ok",)), []),
    ("stale elements go before new ones", fragment(elements=("198.18.0.1",)), fragment(elements=("198.18.0.2",)),
     ["delete element inet podwall s { 198.18.0.1 }", "add element inet podwall s { 198.18.0.2 }"]),
]  # fmt: skip


@pytest.mark.parametrize(
    ("before", "after", "lines"), [c[1:] for c in CHANGES], ids=[c[0] for c in CHANGES]
)
def test_update(before: Ruleset | None, after: Ruleset | None, lines: list[str]) -> None:
    old = {} if before is None else {KEY: before}
    new = {} if after is None else {KEY: after}
    assert update(old, new).render().splitlines() == lines


def test_only_the_keys_given_are_looked_at() -> None:
    old = {("a",): fragment("a", ("ok",)), ("b",): fragment("b", ("ok",))}
    new = {("a",): fragment("a", ("drop",)), ("b",): fragment("b", ("drop",))}
    lines = update(old, new, [("b",)]).render().splitlines()
    assert lines == ["flush chain inet podwall b", 'add rule inet podwall b drop comment "drop"']
