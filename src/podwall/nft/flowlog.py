"""Flow logging in the ruleset: each verdict rule reports the connections it decides.

Only the tier chains (ClusterNetworkPolicy Accept and Deny rules) and the class chains
decide new connections (established and related traffic is accepted, and
invalid dropped, before a packet reaches them), so what they log is the first packet of a new
connection, never the packets of an established one. With `FlowLog` given to the compiler,
every rule that decides becomes a pair:

    <matches> limit rate R/second burst B packets log prefix "<tag>" group G <verdict>
    <matches> goto flows_lost_<verdict>

The first reports the packet through NFLOG and gives the verdict while its token bucket (one
per rule) has tokens; past the rate the second gives the same verdict through a chain whose
counter counts what was not reported, so a flood costs the reader at most R a second per rule
and nothing lost is silent. The verdict is the same either way: logging never changes what the
ruleset allows. A Service's chain reports its connections the same way, before DNAT (the tag
names the Service): `... log ... goto <endpoint>`, else `jump flows_lost_service` (count and
return), then the goto.

Tags are `logtags.LogTag` prefixes; the compiler keeps them in a `TagTable` for the reader.
Pure: no I/O here.
"""

from __future__ import annotations

from dataclasses import dataclass

from podwall.nft.logtags import LogTag, TagTable
from podwall.nft.naming import name
from podwall.nft.objects import Chain
from podwall.nft.objects import Rule as NftRule
from podwall.nft.ruleset import Ruleset
from podwall.nft.statements import Accept, Counter, Drop, Goto, Jump, Limit, Log, Statement

LOG_GROUP = 20567  # "PW": clear of the groups 0-2 that ulogd and Calico use by default


@dataclass(frozen=True, slots=True, kw_only=True)
class FlowLog:
    """What the compiler logs with: the NFLOG group and each rule's rate limit."""

    group: int = LOG_GROUP
    rate: int = 100  # reports a second, per rule, sustained
    burst: int = 200  # reports at once, per rule, after a quiet spell


# The chains that count what the rate limit kept from the log, by the verdict given.
LOST_CHAINS = {
    "ALLOWED": name("flows", "lost", "allowed"),
    "DENIED": name("flows", "lost", "denied"),
    "AUDIT": name("flows", "lost", "audit"),
    "SERVICE": name("flows", "lost", "service"),
}
_LOST_VERDICTS: dict[str, tuple[Statement, ...]] = {
    "ALLOWED": (Counter(), Accept()),
    "DENIED": (Counter(), Drop()),
    "AUDIT": (Counter(), Accept()),
    "SERVICE": (Counter(),),  # falls off the end: back to the service's chain
}
_COMMENTS = {
    "ALLOWED": "flows allowed past the log rate limit",
    "DENIED": "flows denied past the log rate limit",
    "AUDIT": "flows audited past the log rate limit",
    "SERVICE": "service connections past the log rate limit",
}


def lost_fragment() -> Ruleset:
    """The counting chains the second rule of each pair goes to."""
    rs = Ruleset()
    for verdict, chain in LOST_CHAINS.items():
        rs.chain(Chain(name=chain, comment=_COMMENTS[verdict]))
        rs.rule(NftRule(chain=chain, statements=_LOST_VERDICTS[verdict]))
    return rs


Body = tuple[Statement, ...]


class Logging:
    """Writes the logging pair of each verdict rule and records its tag."""

    def __init__(self, config: FlowLog, tags: TagTable) -> None:
        self.config = config
        self.tags = tags
        self._limit = Limit(config.rate, config.burst)

    def _report(self, tag: LogTag) -> tuple[Limit, Log]:
        return self._limit, Log(self.tags.add(tag), self.config.group)

    def allow(self, matches: Body, tag: LogTag) -> tuple[Body, Body]:
        """`matches` accept, reported as `tag`."""
        lost = LOST_CHAINS["ALLOWED"]
        return (*matches, *self._report(tag), Accept()), (*matches, Goto(lost))

    def refuse(self, matches: Body, tag: LogTag) -> tuple[Body, Body]:
        """`matches` drop (a ClusterNetworkPolicy Deny rule), reported as `tag`."""
        lost = LOST_CHAINS["DENIED"]
        return (*matches, Counter(), *self._report(tag), Drop()), (*matches, Goto(lost))

    def deny(self, tag: LogTag) -> tuple[Body, Body]:
        """The default deny of a class chain, reported as `tag`."""
        return (Counter(), *self._report(tag), Drop()), (Goto(LOST_CHAINS["DENIED"]),)

    def audit(self, tag: LogTag) -> tuple[Body, Body]:
        """What only audited policies isolate and none admits: accepted, reported as `tag`."""
        return (*self._report(tag), Accept()), (Goto(LOST_CHAINS["AUDIT"]),)

    def service(self, tag: LogTag, pick: Statement) -> tuple[Body, Body, Body]:
        """A Service chain's rules around `pick` (its goto to an endpoint): report and pick,
        or count what was not reported and pick."""
        return (*self._report(tag), pick), (Jump(LOST_CHAINS["SERVICE"]),), (pick,)
