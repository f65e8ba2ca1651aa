"""podwall.nft: nftables objects, transactions, an in-memory fake and a packet tracer.

Everything here is pure except `runner`, the one module that runs nft (the `nft` binary, or
libnftables in-process through `libnft`).
"""

from podwall.nft.errors import InvalidOperation, NftError
from podwall.nft.fake import FakeNFT
from podwall.nft.trace import Packet, Trace, trace, trace_path
from podwall.nft.transaction import Transaction

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
