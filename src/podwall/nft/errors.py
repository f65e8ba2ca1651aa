"""Errors raised by the nftables layer.

Pure: no I/O here.
"""

from __future__ import annotations

from podwall.errors import PodwallError


class NftError(PodwallError):
    """nft (or the in-memory fake standing in for it) refused a transaction.

    The message mimics what nft itself prints, so callers handle the fake and the real
    binary the same way.
    """


class InvalidOperation(ValueError):
    """A verb/object pair (or an object's fields) that nft would never accept.

    Raised while a transaction is built, not when it runs, so the caller's stack trace
    points at the line that queued the bad operation.
    """
