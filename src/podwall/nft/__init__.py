"""podwall.nft: nftables objects, transactions, an in-memory fake and a packet tracer.

Everything here is pure except `runner`, the one module that runs nft (the `nft` binary, or
libnftables in-process through `libnft`).

The names below are imported on first use: the node agent loads `podwall.nft.compile` and
`runner` only, and importing the fake and the tracer (and the engine behind them) at every
start cost it ~0.2 s.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from podwall import lazypackage

if TYPE_CHECKING:
    from podwall.nft.errors import InvalidOperation, NftError
    from podwall.nft.fake import FakeNFT
    from podwall.nft.trace import Packet, Trace, trace, trace_path
    from podwall.nft.transaction import Transaction

_HOMES = {
    "FakeNFT": "podwall.nft.fake",
    "InvalidOperation": "podwall.nft.errors",
    "NftError": "podwall.nft.errors",
    "Packet": "podwall.nft.trace",
    "Trace": "podwall.nft.trace",
    "Transaction": "podwall.nft.transaction",
    "trace": "podwall.nft.trace",
    "trace_path": "podwall.nft.trace",
}

__all__ = [
    "FakeNFT",
    "InvalidOperation",
    "NftError",
    "Packet",
    "Trace",
    "Transaction",
    "trace",
    "trace_path",
]


__getattr__ = lazypackage.install(__name__, _HOMES)
