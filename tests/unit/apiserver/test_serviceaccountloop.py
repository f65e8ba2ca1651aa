"""The ServiceAccounts controller running: every namespace has its `default` ServiceAccount."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from podwall.apiserver.bootstrap import NAMESPACES, bootstrap
from podwall.apiserver.reconciler import Reconciler
from podwall.apiserver.store import Store


@pytest.fixture
def loop(tmp_path: Path) -> Iterator[Reconciler]:
    s = Store(tmp_path / "state.db")
    bootstrap(s)
    reconciler = Reconciler(s, controllers=["serviceaccount"])
    reconciler.install()
    yield reconciler
    reconciler.remove()
    s.close()


def accounts(store: Store) -> set[tuple[str, str]]:
    items, _ = store.list("serviceaccounts")
    return {(i["metadata"]["namespace"], i["metadata"]["name"]) for i in items}


def test_every_namespace_gets_a_default_service_account_again_when_deleted(
    loop: Reconciler,
) -> None:
    store = loop.store
    assert loop.wait_idle()
    assert accounts(store) == {(ns, "default") for ns in NAMESPACES}
    store.create("namespaces", {"apiVersion": "v1", "kind": "Namespace",
                                "metadata": {"name": "team"}})  # fmt: skip
    assert loop.wait_idle()
    assert ("team", "default") in accounts(store)
    store.delete("serviceaccounts", "team", "default")
    assert loop.wait_idle()
    assert ("team", "default") in accounts(store)
