"""Errors of the local runtime: what went wrong on this host, said so a user can act on it."""

from __future__ import annotations

from podwall.errors import PodwallError


class SandboxError(PodwallError):
    """A sandbox network could not be created, changed or removed."""
