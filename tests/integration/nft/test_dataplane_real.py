"""The reconcile step against the real kernel: updates land atomically, and a refused
transaction leaves the previous ruleset in force."""

from __future__ import annotations

import pytest

from podwall.model.cluster import Cluster
from podwall.nft import NftError, runner
from podwall.nft.compile import compile_ruleset
from podwall.nft.ruleset import full_transaction
from podwall.runtime.dataplane import Dataplane
from tests.builders import make_cluster, policy

ALLOW_B = policy(
    "allow-b",
    "x",
    "podSelector: {}\n"
    "ingress: [{from: [{podSelector: {matchLabels: {app: b}}}], ports: [{port: http}]}]",
)
DENY_Y = policy("deny", "y", "podSelector: {}\npolicyTypes: [Ingress, Egress]")


def _blocks(listing: str) -> list[str]:
    """The table's chains, sets and maps, in a stable order: nft lists them by creation."""
    body = listing.strip().split("\n", 2)[2].rsplit("\n", 1)[0]
    return sorted(block.strip() for block in body.split("\n\n"))


def _fresh_listing(cluster: Cluster) -> list[str]:
    return _blocks(runner.trial(full_transaction(compile_ruleset(cluster)).render()))


@pytest.mark.netns
def test_an_update_reaches_what_a_full_load_gives(node: str) -> None:
    dataplane = Dataplane(node)
    assert dataplane.sync(make_cluster(ALLOW_B)).full
    result = dataplane.sync(make_cluster(ALLOW_B + DENY_Y))
    assert not result.full
    assert result.operations > 0
    assert _blocks(runner.list_ruleset(node)) == _fresh_listing(make_cluster(ALLOW_B + DENY_Y))


@pytest.mark.netns
def test_a_refused_update_leaves_the_previous_ruleset_in_force(node: str) -> None:
    dataplane = Dataplane(node)
    dataplane.sync(make_cluster(ALLOW_B))
    before = runner.list_ruleset(node)

    def broken(script: str, netns: str | None) -> None:
        # A batch whose last command nft refuses: nothing of it may be applied.
        runner.run(script + "add rule inet podwall no-such-chain accept\n", netns=netns)

    dataplane._apply = broken
    with pytest.raises(NftError):
        dataplane.sync(make_cluster(ALLOW_B + DENY_Y))
    assert runner.list_ruleset(node) == before

    dataplane._apply = lambda script, netns: runner.run(script, netns=netns)
    dataplane.sync(make_cluster(ALLOW_B + DENY_Y))
    assert _blocks(runner.list_ruleset(node)) == _fresh_listing(make_cluster(ALLOW_B + DENY_Y))
