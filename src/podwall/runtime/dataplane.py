"""The reconcile step of a node: snapshot in, one atomic `nft` transaction out.

The first sync replaces the table; later syncs send only the difference. When nft refuses a
transaction, nft has applied none of it, so the previous ruleset stays in force: the error is
raised to the caller and the next sync diffs from the ruleset that is really loaded.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from podwall.model.cluster import Cluster
from podwall.nft import fragments, runner
from podwall.nft.compile import Compiler
from podwall.nft.errors import NftError
from podwall.nft.flowlog import FlowLog
from podwall.nft.fragments import FragmentKey
from podwall.nft.logtags import TagTable
from podwall.nft.ruleset import Ruleset

log = logging.getLogger(__name__)

Apply = Callable[[str, str | None], None]


def _run(script: str, netns: str | None) -> None:
    runner.run(script, netns=netns)


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Hold the cyclic garbage collector off. A compile allocates hundreds of thousands of
    small objects while the snapshot holds as many more, so the collector would walk the
    whole heap again and again: 10k pods compiled in 2.9 s with it, 0.9 s without. The
    compile makes no reference cycles; what it drops is freed by reference counting."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@dataclass(frozen=True, slots=True, kw_only=True)
class SyncResult:
    full: bool  # a whole-table load rather than an update
    operations: int  # commands in the batch; 0 when nothing changed
    seconds: float


class Dataplane:
    """The ruleset of one node namespace. Call `sync` from one task only.

    With `flow_log`, the ruleset logs each new connection's verdict (`nft.flowlog`), and
    `tags` maps the log prefixes back to the rules.
    """

    def __init__(
        self,
        netns: str | None,
        node: str | None = None,
        apply: Apply = _run,
        *,
        flow_log: FlowLog | None = None,
    ) -> None:
        self.netns = netns
        self.node = node
        self.flow_log = flow_log
        self._apply = apply
        self._compiler = Compiler(node, flow_log=flow_log)
        self.loaded: dict[FragmentKey, Ruleset] | None = None
        self._pending: set[FragmentKey] = set()  # changed since `loaded` was applied

    @property
    def tags(self) -> TagTable:
        return self._compiler.tags

    def sync(self, cluster: Cluster) -> SyncResult:
        """Make the loaded ruleset enforce `cluster`. Raises NftError, leaving the old one."""
        started = time.perf_counter()
        # After a refused batch the compiler's memo is ahead of what nft holds; the diff is
        # taken against `loaded`, what nft really holds, over every key changed since it was
        # applied, so the next sync repairs it.
        with gc_paused():
            desired = self._compiler.compile(cluster)
            self._pending |= self._compiler.touched
            full = self.loaded is None
            if self.loaded is None:
                script, operations = fragments.full_text(desired)
            else:
                tx = fragments.update(self.loaded, desired, self._pending)
                script, operations = (tx.render() if len(tx) else ""), len(tx)
        if operations:
            try:
                self._apply(script, self.netns)
            except NftError as exc:
                log.error("nft refused the update netns=%s error=%s", self.netns, exc)
                raise
        self.loaded = desired
        self._pending = set()
        result = SyncResult(full=full, operations=operations, seconds=time.perf_counter() - started)
        log.debug(
            "synced netns=%s full=%s operations=%d seconds=%.4f",
            self.netns, result.full, result.operations, result.seconds,
        )  # fmt: skip
        return result
