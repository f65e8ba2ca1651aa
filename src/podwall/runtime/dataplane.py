"""The reconcile step of a node: snapshot in, one atomic `nft` transaction out.

The first sync replaces the table; later syncs send only the difference. When nft refuses a
transaction, nft has applied none of it, so the previous ruleset stays in force: the error is
raised to the caller and the next sync diffs from the ruleset that is really loaded.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from podwall.model.cluster import Cluster
from podwall.nft import fragments, runner
from podwall.nft.compile import Compiler
from podwall.nft.errors import NftError
from podwall.nft.fragments import FragmentKey
from podwall.nft.ruleset import Ruleset

log = logging.getLogger(__name__)

Apply = Callable[[str, str | None], None]


def _run(script: str, netns: str | None) -> None:
    runner.run(script, netns=netns)


@dataclass(frozen=True, slots=True, kw_only=True)
class SyncResult:
    full: bool  # a whole-table load rather than an update
    operations: int  # commands in the batch; 0 when nothing changed
    seconds: float


class Dataplane:
    """The ruleset of one node namespace. Call `sync` from one task only."""

    def __init__(self, netns: str | None, node: str | None = None, apply: Apply = _run) -> None:
        self.netns = netns
        self.node = node
        self._apply = apply
        self._compiler = Compiler(node)
        self.loaded: dict[FragmentKey, Ruleset] | None = None

    def sync(self, cluster: Cluster) -> SyncResult:
        """Make the loaded ruleset enforce `cluster`. Raises NftError, leaving the old one."""
        started = time.perf_counter()
        # After a refused batch the compiler's memo is ahead of what nft holds; the diff is
        # taken against `loaded`, what nft really holds, so the next sync repairs it.
        desired = self._compiler.compile(cluster)
        full = self.loaded is None
        if self.loaded is None:
            tx = fragments.full(desired)
        else:
            tx = fragments.update(self.loaded, desired)
        if len(tx):
            try:
                self._apply(tx.render(), self.netns)
            except NftError as exc:
                log.error("nft refused the update netns=%s error=%s", self.netns, exc)
                raise
        self.loaded = desired
        result = SyncResult(full=full, operations=len(tx), seconds=time.perf_counter() - started)
        log.debug(
            "synced netns=%s full=%s operations=%d seconds=%.4f",
            self.netns, result.full, result.operations, result.seconds,
        )  # fmt: skip
        return result
