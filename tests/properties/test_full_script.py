"""The fast full-load script says exactly what the checked transaction says."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings

from podwall.nft.compile import compile_ruleset
from podwall.nft.ruleset import full_script, full_transaction
from tests.strategies import objects, to_cluster


@settings(max_examples=100)
@given(objects())
def test_full_script_is_the_full_transaction(objs: list[dict[str, Any]]) -> None:
    ruleset = compile_ruleset(to_cluster(objs))
    tx = full_transaction(ruleset)
    assert full_script(ruleset) == (tx.render(), len(tx))
