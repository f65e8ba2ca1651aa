"""Run nft: the only module of podwall.nft (with libnft, which it calls) that does I/O.

A transaction is one atomic nft batch: through libnftables in this process when the library
is there (as it is wherever the nftables package is), else to `nft -f -` on stdin.
"""

from __future__ import annotations

import shutil
import subprocess

from podwall.nft import libnft
from podwall.nft.errors import NftError

NFT = "nft"


def available() -> bool:
    """Whether an `nft` binary is on PATH."""
    return shutil.which(NFT) is not None


def run(script: str, *, netns: str | None = None) -> None:
    """Apply `script` atomically (inside network namespace `netns` when given)."""
    if libnft.available():
        libnft.run(script, netns)
    else:
        _nft(["-f", "-"], script, netns)


def check(script: str) -> None:
    """Have nft parse and validate `script` without applying it (`nft -c`).

    The kernel is asked too, but some errors (jump loops, NAT in the wrong hook) only show
    when a batch really commits: `trial` catches those.
    """
    _nft(["-c", "-f", "-"], script, None)


def list_ruleset(netns: str | None = None) -> str:
    return _nft(["list", "ruleset"], "", netns)


def list_chain(family: str, table: str, chain: str, netns: str | None = None) -> str:
    """One chain's listing, its counters' values included."""
    return _nft(["list", "chain", family, table, chain], "", netns)


def trial(script: str) -> str:
    """Load `script` into a brand-new network namespace and return its ruleset listing.

    `unshare -n` gives the nft process an empty namespace that disappears with it, so this
    exercises the kernel for real without touching the host's rules.
    """
    return _run(["unshare", "--net", "sh", "-c", "nft -f - && nft list ruleset"], script)


def _nft(args: list[str], script: str, netns: str | None) -> str:
    prefix = ["ip", "netns", "exec", netns] if netns is not None else []
    return _run([*prefix, NFT, *args], script)


def _run(argv: list[str], stdin: str) -> str:
    try:
        done = subprocess.run(argv, input=stdin, capture_output=True, text=True, check=False)
    except FileNotFoundError as err:
        raise NftError(f"cannot run {argv[0]}: {err}") from None
    if done.returncode != 0:
        raise NftError(done.stderr.strip() or f"{' '.join(argv)} exited {done.returncode}")
    return done.stdout
