"""The ServiceAccounts controller: a `default` ServiceAccount in every live namespace."""

from __future__ import annotations

from typing import Any

import pytest

from podwall.controllers.actions import Create
from podwall.controllers.serviceaccounts import reconcile_service_accounts

ACTIVE = {"metadata": {"name": "team"}, "status": {"phase": "Active"}}
TERMINATING = {"metadata": {"name": "team", "deletionTimestamp": "2026-01-01T00:00:00Z"},
               "status": {"phase": "Terminating"}}  # fmt: skip
DEFAULT_SA = {"apiVersion": "v1", "kind": "ServiceAccount",
              "metadata": {"name": "default", "namespace": "team"}}  # fmt: skip


@pytest.mark.parametrize(
    ("namespace", "has_default", "actions"),
    [
        pytest.param(ACTIVE, False, [Create(DEFAULT_SA)], id="a new namespace gets one"),
        pytest.param(ACTIVE, True, [], id="one that has it keeps it"),
        pytest.param(TERMINATING, False, [], id="a terminating namespace gets none"),
        pytest.param(None, False, [], id="a gone namespace gets none"),
    ],
)
def test_reconcile(namespace: dict[str, Any] | None, has_default: bool, actions: list[Any]) -> None:
    assert reconcile_service_accounts(namespace, has_default) == actions
