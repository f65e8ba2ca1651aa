"""The clusterrole-aggregation controller running: a labelled ClusterRole's rules reach the
aggregated roles (and through `view` into `edit` and `admin`), and leave them when it goes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from podwall.apiserver.bootstrap import bootstrap
from podwall.apiserver.reconciler import Reconciler
from podwall.apiserver.store import Store

ROLES = "clusterroles.rbac.authorization.k8s.io"
VIEW_LABEL = "rbac.authorization.k8s.io/aggregate-to-view"
CNP_RULE = {"verbs": ["list"], "apiGroups": ["policy.networking.k8s.io"],
            "resources": ["clusternetworkpolicies"]}  # fmt: skip


@pytest.fixture
def loop(tmp_path: Path) -> Iterator[Reconciler]:
    s = Store(tmp_path / "state.db")
    bootstrap(s)
    reconciler = Reconciler(s, controllers=["clusterrole-aggregation"])
    reconciler.install()
    yield reconciler
    reconciler.remove()
    s.close()


def rules(store: Store, name: str) -> list[Any]:
    return list(store.read(ROLES, "", name).obj.get("rules") or [])


def cnp_reader(labels: dict[str, str]) -> dict[str, Any]:
    return {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
            "metadata": {"name": "cnp-reader", "labels": labels}, "rules": [CNP_RULE]}  # fmt: skip


def test_the_bootstrap_roles_need_no_write(loop: Reconciler) -> None:
    before = {n: loop.store.read(ROLES, "", n).obj["metadata"]["resourceVersion"]
              for n in ("admin", "edit", "view")}  # fmt: skip
    assert loop.wait_idle()
    after = {n: loop.store.read(ROLES, "", n).obj["metadata"]["resourceVersion"]
             for n in ("admin", "edit", "view")}  # fmt: skip
    assert after == before


def test_a_labelled_role_adds_to_view_edit_and_admin_and_follows_changes(
    loop: Reconciler,
) -> None:
    store = loop.store
    assert loop.wait_idle()
    store.create(ROLES, cnp_reader({VIEW_LABEL: "true"}))
    assert loop.wait_idle()
    for name in ("view", "edit", "admin"):
        assert CNP_RULE in rules(store, name), name
    store.mutate(ROLES, "", "cnp-reader", lambda r: {**r, "metadata": {**r["metadata"],
                 "labels": {"other": "x"}}})  # fmt: skip
    assert loop.wait_idle()
    for name in ("view", "edit", "admin"):
        assert CNP_RULE not in rules(store, name), name
    store.mutate(ROLES, "", "cnp-reader", lambda r: {**r, "metadata": {**r["metadata"],
                 "labels": {VIEW_LABEL: "true"}}})  # fmt: skip
    assert loop.wait_idle()
    assert CNP_RULE in rules(store, "admin")
    store.delete(ROLES, "", "cnp-reader")
    assert loop.wait_idle()
    assert CNP_RULE not in rules(store, "admin")
