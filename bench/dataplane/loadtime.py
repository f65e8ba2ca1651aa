"""Ruleset load and incremental change times, through podwall's own `Dataplane.sync`.

Each repetition uses a fresh node namespace and one `Dataplane`: sync the base snapshot (a
full load), then the snapshot with one policy changed, then that plus one new pod (updates).
The `apply` hook of `Dataplane` times `nft -f` alone and notes when it was called, so

    compile = (hook called - sync started) - (transaction built + rendered)

where the transaction and its rendering are timed again afterwards from what the dataplane
kept in `loaded` (pure functions of it): a `Ruleset` (full_transaction / update_transaction)
or, with the fragment compiler, a dict of fragments (podwall.nft.fragments full / update).
`total` is `SyncResult.seconds`.
"""

from __future__ import annotations

import contextlib
import importlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bench.dataplane import sandbox
from bench.dataplane.clusters import Clusters
from podwall.model.cluster import Cluster
from podwall.nft import runner
from podwall.nft.ruleset import Ruleset
from podwall.nft.transaction import Transaction
from podwall.runtime.dataplane import Dataplane


@dataclass(frozen=True)
class Sync:
    """One sync, split: seconds, plus the size of the transaction."""

    compile: float
    transaction: float  # full_transaction / update_transaction, plus render()
    nft: float
    total: float
    operations: int
    script_bytes: int


@dataclass(frozen=True)
class Counts:
    pods: int
    policies: int
    chains: int
    sets: int
    elements: int
    rules: int


class Capture:
    """An `apply` for Dataplane that keeps the script instead of running nft."""

    def __init__(self) -> None:
        self.script = ""

    def __call__(self, script: str, netns: str | None) -> None:
        self.script = script


def full_script(snapshot: Cluster) -> str:
    """The script of a first `Dataplane.sync` of `snapshot` (a whole-table load)."""
    capture = Capture()
    Dataplane(None, apply=capture).sync(snapshot)
    return capture.script


class _TimedApply:
    def __init__(self) -> None:
        self.called_at = 0.0
        self.seconds = 0.0
        self.script_bytes = 0

    def __call__(self, script: str, netns: str | None) -> None:
        self.called_at = time.perf_counter()
        self.script_bytes = len(script.encode())
        runner.run(script, netns=netns)
        self.seconds = time.perf_counter() - self.called_at


def _timed(make: Callable[[], Transaction]) -> float:
    started = time.perf_counter()
    make().render()
    return time.perf_counter() - started


# podwall's diff API moves (ruleset.update_transaction, then nft.fragments): looked up at run
# time so that this benchmark keeps working on either side of such a change.
def _fragments() -> Any:
    return importlib.import_module("podwall.nft.fragments")


def _rulesets() -> Any:
    return importlib.import_module("podwall.nft.ruleset")


def flat(loaded: Any) -> Ruleset:
    """What `Dataplane.loaded` holds, as one Ruleset."""
    if isinstance(loaded, Ruleset):
        return loaded
    ruleset: Ruleset = _fragments().flatten(loaded)
    return ruleset


def transaction(before: Any, after: Any, keys: Any = None) -> Transaction:
    """The transaction `Dataplane.sync` sends from `before` (None: nothing loaded) to `after`,
    looking only at `keys` (the fragments the compiler touched) when given."""
    tx: Transaction
    if isinstance(after, Ruleset):
        rulesets = _rulesets()
        tx = (
            rulesets.full_transaction(after)
            if before is None
            else rulesets.update_transaction(before, after)
        )
    else:
        fragments = _fragments()
        if before is None:
            tx = fragments.full(after)
        elif keys is not None:
            tx = fragments.update(before, after, keys)
        else:
            tx = fragments.update(before, after)
    return tx


def _sync(dp: Dataplane, hook: _TimedApply, snapshot: Cluster) -> Sync:
    before: Any = dp.loaded
    hook.called_at = hook.seconds = 0.0
    hook.script_bytes = 0
    started = time.perf_counter()
    result = dp.sync(snapshot)
    after: Any = dp.loaded
    assert after is not None
    keys = getattr(getattr(dp, "_compiler", None), "touched", None)
    full_text = getattr(_fragments(), "full_text", None)
    paused = getattr(importlib.import_module("podwall.runtime.dataplane"), "gc_paused", None)
    with paused() if paused is not None else contextlib.nullcontext():  # as in sync
        if before is None and full_text is not None and not isinstance(after, Ruleset):
            started_tx = time.perf_counter()
            full_text(after)  # what Dataplane.sync renders for a whole-table load
            tx = time.perf_counter() - started_tx
        else:
            tx = _timed(lambda: transaction(before, after, keys))
    pre_apply = (hook.called_at or (started + result.seconds)) - started
    return Sync(
        compile=max(0.0, pre_apply - tx),
        transaction=tx,
        nft=hook.seconds,
        total=result.seconds,
        operations=result.operations,
        script_bytes=hook.script_bytes,
    )


def counts(snapshot: Cluster, ruleset: Ruleset) -> Counts:
    return Counts(
        pods=len(snapshot.pods),
        policies=len(snapshot.policies),
        chains=len(ruleset.chains),
        sets=len(ruleset.sets),
        elements=ruleset.element_count(),
        rules=ruleset.rule_count(),
    )


@dataclass(frozen=True)
class Round:
    full: Sync
    policy: list[Sync]  # one per update cycle
    pod: list[Sync]
    counts: Counts


# After committing a big batch the kernel keeps freeing and settling for a while: the first
# updates after the 9 MB full load at 10k cost up to twice as much (measured: 73 ms at once,
# 45 ms after 1 s, 35 ms after 6 s, then 24-36 ms). Updates come to a running cluster, so
# they are measured in cycles after a pause, and the report takes the median of all cycles.
SETTLE_S = 1.0
CYCLES = 5


def one_round(clusters: Clusters) -> Round:
    """Full load, then cycles of policy change, pod added and back to the base snapshot (the
    last not measured): in one fresh node namespace."""
    with sandbox.node() as node:
        hook = _TimedApply()
        dp = Dataplane(node.netns, apply=hook)
        full = _sync(dp, hook, clusters.base)
        assert dp.loaded is not None
        size = counts(clusters.base, flat(dp.loaded))
        time.sleep(SETTLE_S)
        policy, pod = [], []
        for _ in range(CYCLES):
            policy.append(_sync(dp, hook, clusters.policy_changed))
            pod.append(_sync(dp, hook, clusters.pod_added))
            dp.sync(clusters.base)
            time.sleep(0.2)  # a cluster's changes do not come back to back
    return Round(full, policy, pod, size)
