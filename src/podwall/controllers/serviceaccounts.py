"""The ServiceAccounts controller of kube-controller-manager: a `default` ServiceAccount in
every namespace that is not being deleted (made again when deleted). Pure: no I/O."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from podwall.controllers.actions import Action, Create

DEFAULT = "default"


def default_service_account(namespace: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": {"name": DEFAULT, "namespace": namespace},
    }


def reconcile_service_accounts(
    namespace: Mapping[str, Any] | None, has_default: bool
) -> list[Action]:
    """What the namespace needs: its `default` ServiceAccount, unless it has one, is gone or
    is terminating."""
    if namespace is None or has_default:
        return []
    meta = namespace.get("metadata") or {}
    phase = (namespace.get("status") or {}).get("phase")
    if meta.get("deletionTimestamp") or phase == "Terminating":
        return []
    return [Create(default_service_account(str(meta.get("name", ""))))]
