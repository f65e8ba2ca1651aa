"""`GET /flows` on the agent's HTTP port: the node's recent flows, for `podwall observe --agent`.

`/flows?since=N&wait=S` answers the entries of the node's memory ring numbered N on (0: all it
holds), one JSON object a line as in the ring files (`ring.entry_json`: flows, and the Service
hops that let a reader name the Service of a flow decided on another node). Headers:

- `X-Podwall-Next`: the number to ask for next (a follower passes it as `since`);
- `X-Podwall-Missed`: entries numbered N on that the ring no longer held (overwritten before
  they were asked for), so a slow follower knows what it lost.

With `wait`, an answer with nothing new waits up to S seconds (at most `MAX_WAIT`) for the
first entry: a follower's long poll, no busy loop. A `since` beyond what the ring has numbered
means the agent restarted (its numbers began again): the answer starts over from what it holds.
When the node does not read its flows, 503 says why. Read-only: it never touches the ruleset.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping

from podwall.agent.health import Reply, Route
from podwall.errors import PodwallError
from podwall.flows.ring import Entry, FlowRing, entry_json

MAX_WAIT = 30.0
JSON_LINES = "application/jsonl"
NEXT = "X-Podwall-Next"
MISSED = "X-Podwall-Missed"


class BadQuery(PodwallError, ValueError):
    """A `/flows` query parameter that means nothing; answered as a 400."""


def _number(query: Mapping[str, str], name: str, default: float) -> float:
    text = query.get(name)
    if text is None:
        return default
    try:
        value = float(text)
    except ValueError:
        raise BadQuery(f"{name}={text!r}: not a number") from None
    if value < 0 or value != value:
        raise BadQuery(f"{name}={text!r}: must be 0 or more")
    return value


def answer(ring: FlowRing[Entry], query: Mapping[str, str]) -> Reply:
    try:
        since = int(_number(query, "since", 0))
        wait = min(_number(query, "wait", 0.0), MAX_WAIT)
    except BadQuery as exc:
        return Reply(400, "text/plain", f"{exc}\n".encode())
    if since > ring.next:  # numbered afresh: the agent restarted since the caller's last ask
        since = 0
    entries, following = ring.since(since, wait)
    missed = max(0, following - since - len(entries))
    body = "".join(json.dumps(entry_json(e), separators=(",", ":")) + "\n" for e in entries)
    headers = ((NEXT, str(following)), (MISSED, str(missed)))
    return Reply(200, JSON_LINES, body.encode(), headers)


def flows_route(ring: Callable[[], FlowRing[Entry] | str]) -> Route:
    """The `/flows` route over the ring `ring()` gives, or the reason it gives none."""

    def route(query: Mapping[str, str]) -> Reply:
        found = ring()
        if isinstance(found, str):
            return Reply(503, "text/plain", f"{found}\n".encode())
        return answer(found, query)

    return route
