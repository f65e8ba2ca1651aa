from __future__ import annotations

import pytest

from podwall.model.policy import Direction
from podwall.nft.logtags import HASH_HEX, LogTag, TagHead, TagKind, TagTable, read_head

ALLOW = LogTag(
    kind=TagKind.ALLOW, direction=Direction.INGRESS, policies=("default/web",), rule=0, peer=1
)
DENY = LogTag(kind=TagKind.DENY, direction=Direction.EGRESS, policies=("a/p", "a/q"))
SERVICE = LogTag(kind=TagKind.SERVICE, service="default/backend")


@pytest.mark.parametrize(
    ("tag", "head"),
    [
        pytest.param(ALLOW, "pwai:", id="an ingress allow reads pwai"),
        pytest.param(DENY, "pwde:", id="an egress default deny reads pwde"),
        pytest.param(SERVICE, "pws:", id="a service has no direction"),
    ],
)
def test_a_prefix_shows_kind_and_direction(tag: LogTag, head: str) -> None:
    assert tag.prefix.startswith(head)
    assert len(tag.prefix) == len(head) + HASH_HEX
    assert read_head(tag.prefix) == TagHead(tag.kind, tag.direction)


def test_a_prefix_fits_nft_log_prefix() -> None:
    long = LogTag(
        kind=TagKind.DENY, direction=Direction.INGRESS, policies=("n" * 63 + "/" + "p" * 253,)
    )
    assert len(long.prefix.encode()) <= 127


def test_the_same_meaning_gives_the_same_prefix_and_another_meaning_another() -> None:
    again = LogTag(
        kind=TagKind.ALLOW, direction=Direction.INGRESS, policies=("default/web",), rule=0, peer=1
    )
    other = LogTag(
        kind=TagKind.ALLOW, direction=Direction.INGRESS, policies=("default/web",), rule=0, peer=2
    )
    assert again.prefix == ALLOW.prefix
    assert other.prefix != ALLOW.prefix


@pytest.mark.parametrize(
    "prefix",
    [
        "",
        "hello",
        "pwx:0123456789abcdef",
        "pwa:0123456789abcdef",
        "pwai:0123",
        "pwsi:0123456789abcdef",
        "xxai:0123456789abcdef",
    ],
    ids=[
        "empty",
        "no colon",
        "unknown kind",
        "allow without direction",
        "short hash",
        "service with direction",
        "not ours",
    ],
)
def test_read_head_refuses_what_is_not_a_podwall_tag(prefix: str) -> None:
    assert read_head(prefix) is None


def test_the_table_maps_prefixes_back_and_forgets_on_request() -> None:
    table = TagTable()
    allow, deny = table.add(ALLOW), table.add(DENY)
    assert (table.get(allow), table.get(deny), len(table)) == (ALLOW, DENY, 2)
    table.keep_only({deny})
    assert (table.get(allow), table.get(deny)) == (None, DENY)


def test_a_cluster_policy_tag_differs_from_the_network_policy_tag_of_the_same_indices() -> None:
    """A ClusterNetworkPolicy rule adds its name and action to the meaning; a NetworkPolicy
    tag's meaning (so the prefix every node already logs with) is the one it always had."""
    cnp = LogTag(
        kind=TagKind.ALLOW,
        direction=Direction.INGRESS,
        policies=("default/web",),
        rule=0,
        peer=1,
        rule_name="web",
        action="Accept",
    )
    assert cnp.cluster_policy
    assert not ALLOW.cluster_policy
    assert cnp.prefix != ALLOW.prefix
    assert cnp.meaning()[: len(ALLOW.meaning())] == ALLOW.meaning()
    assert len(ALLOW.meaning()) == 8  # kind, direction, policies, rule, peer, port, service, audit
    renamed = LogTag(**{**_fields(cnp), "rule_name": "other"})
    assert renamed.prefix != cnp.prefix


def _fields(tag: LogTag) -> dict[str, object]:
    return {f: getattr(tag, f) for f in tag.__dataclass_fields__}
