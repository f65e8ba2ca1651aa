"""The logging pairs: same verdict either way, the tag recorded, the loss counted."""

from __future__ import annotations

from podwall.model.policy import Direction
from podwall.nft.flowlog import LOST_CHAINS, FlowLog, Logging, lost_fragment
from podwall.nft.logtags import LogTag, TagKind, TagTable
from podwall.nft.objects import Rule
from podwall.nft.statements import Accept, Drop, Field, Goto, Jump, Limit, Log, Match

CONFIG = FlowLog(group=7, rate=10, burst=20)
ALLOW = LogTag(kind=TagKind.ALLOW, direction=Direction.INGRESS, policies=("a/p",), rule=0)
DENY = LogTag(kind=TagKind.DENY, direction=Direction.INGRESS, policies=("a/p",))
MATCH = (Match(Field.IP_SADDR, "198.18.0.2"),)


def _text(body: tuple[object, ...]) -> str:
    return Rule(chain="c", statements=body).text()  # type: ignore[arg-type]


def test_an_allow_rule_reports_under_its_limit_and_counts_past_it() -> None:
    tags = TagTable()
    logged, lost = Logging(CONFIG, tags).allow(MATCH, ALLOW)
    assert logged == (*MATCH, Limit(10, 20), Log(ALLOW.prefix, 7), Accept())
    assert lost == (*MATCH, Goto(LOST_CHAINS["ALLOWED"]))
    assert tags.get(ALLOW.prefix) == ALLOW


def test_a_default_deny_drops_either_way() -> None:
    logged, lost = Logging(CONFIG, TagTable()).deny(DENY)
    assert _text(logged) == (
        f'counter limit rate 10/second burst 20 packets log prefix "{DENY.prefix}" group 7 drop'
    )
    assert lost == (Goto(LOST_CHAINS["DENIED"]),)


def test_an_audit_rule_accepts_either_way() -> None:
    audit = LogTag(kind=TagKind.AUDIT, direction=Direction.EGRESS, policies=("a/t",))
    logged, lost = Logging(CONFIG, TagTable()).audit(audit)
    assert logged[-1] == Accept()
    assert lost == (Goto(LOST_CHAINS["AUDIT"]),)


def test_a_service_reports_then_picks_or_counts_then_picks() -> None:
    tag = LogTag(kind=TagKind.SERVICE, service="default/backend")
    pick = Goto("ep_x")
    logged, count, plain = Logging(CONFIG, TagTable()).service(tag, pick)
    assert logged[-1] == pick
    assert (count, plain) == ((Jump(LOST_CHAINS["SERVICE"]),), (pick,))


def test_the_lost_chains_give_the_verdict_of_their_name() -> None:
    rs = lost_fragment()
    verdicts = {name: rs.rules[name][0].statements[-1] for name in rs.chains}
    assert verdicts[LOST_CHAINS["ALLOWED"]] == Accept()
    assert verdicts[LOST_CHAINS["AUDIT"]] == Accept()
    assert verdicts[LOST_CHAINS["DENIED"]] == Drop()
    assert all("counter" in rule.text() for rules in rs.rules.values() for rule in rules)
