"""Reading running agents' flows over HTTP (`GET /flows`, see `podwall.agent.flowapi`).

`AgentFeed` follows one agent: each `poll` asks for what came after the last entry it got
(the agent's `X-Podwall-Next`) and counts what the agent's ring dropped before it was asked
(`X-Podwall-Missed`). `AgentsFollower` merges several agents as `files.Follower` merges ring
files: in time order, Services joined across nodes. Errors name the agent's URL.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable

from podwall.errors import PodwallError
from podwall.flows.flow import Flow
from podwall.flows.merge import Joiner
from podwall.flows.ring import Entry, entry_from_json

TIMEOUT = 10.0
NEXT = "X-Podwall-Next"
MISSED = "X-Podwall-Missed"


class AgentUnreachable(PodwallError):
    """An agent's `/flows` could not be read."""


def base_url(url: str) -> str:
    """The agent's address as given, without `/flows` or a trailing slash."""
    text = url.rstrip("/")
    if text.endswith("/flows"):
        text = text[: -len("/flows")]
    if urllib.parse.urlsplit(text).scheme not in ("http", "https"):
        raise AgentUnreachable(f"--agent {url!r}: expected an http:// or https:// URL")
    return text


class AgentFeed:
    """The entries one agent adds; the first poll returns all its ring holds."""

    def __init__(self, url: str, *, timeout: float = TIMEOUT) -> None:
        self.url = base_url(url)
        self.timeout = timeout
        self.position = 0
        self.missed = 0

    def poll(self, wait: float = 0.0) -> list[Entry]:
        query = urllib.parse.urlencode({"since": self.position, "wait": wait})
        try:
            with urllib.request.urlopen(
                f"{self.url}/flows?{query}", timeout=self.timeout + wait
            ) as reply:
                body = reply.read().decode()
                following, missed = reply.headers.get(NEXT), reply.headers.get(MISSED)
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode(errors="replace").strip()
            raise AgentUnreachable(f"{self.url}/flows: {exc.code} {detail}") from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise AgentUnreachable(f"cannot read {self.url}/flows: {reason}") from None
        if following is None or not following.isdigit():
            raise AgentUnreachable(f"{self.url}/flows: not a podwall agent (no {NEXT} header)")
        self.position = int(following)
        self.missed += int(missed) if missed and missed.isdigit() else 0
        return list(_parse(body.splitlines(), self.url))


def _parse(lines: Iterable[str], url: str) -> Iterable[Entry]:
    for line in lines:
        if not line.strip():
            continue
        try:
            yield entry_from_json(json.loads(line))
        except (ValueError, KeyError, TypeError, AttributeError):
            raise AgentUnreachable(f"{url}/flows: a line is not a flow: {line[:80]!r}") from None


class AgentsFollower:
    """The flows of several agents, merged: the first poll returns all they hold."""

    def __init__(self, urls: Iterable[str], *, timeout: float = TIMEOUT) -> None:
        self.feeds = [AgentFeed(url, timeout=timeout) for url in urls]
        self._joiner = Joiner()

    @property
    def missed(self) -> int:
        return sum(feed.missed for feed in self.feeds)

    def poll(self) -> list[Flow]:
        entries: list[Entry] = []
        for feed in self.feeds:
            entries += feed.poll()
        return self._joiner.feed(sorted(entries, key=lambda e: e.time))

    def close(self) -> None:
        pass  # one request per poll: nothing held open
