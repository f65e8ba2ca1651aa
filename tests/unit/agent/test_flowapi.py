"""`GET /flows`: the ring's entries from a cursor, the next cursor, what was missed, a long
poll; and `podwall observe --agent` reading it, merged across agents, following."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator

import pytest

from podwall.agent.flowapi import MISSED, NEXT, answer, flows_route
from podwall.agent.health import HealthServer
from podwall.cli.observe import run_observe
from podwall.flows.filters import FlowFilter
from podwall.flows.flow import Flow
from podwall.flows.remote import AgentFeed, AgentUnreachable
from podwall.flows.ring import Entry, FlowRing, entry_from_json
from tests.clirunner import invoke
from tests.unit.flows.samples import flow, hop


def _times(body: bytes) -> list[float]:
    return [entry_from_json(json.loads(line)).time for line in body.decode().splitlines()]


@pytest.mark.parametrize(
    ("held", "since", "times", "following", "missed"),
    [
        pytest.param(3, 0, [1.0, 2.0, 3.0], 3, 0, id="from the start: all it holds"),
        pytest.param(3, 2, [3.0], 3, 0, id="from a cursor"),
        pytest.param(3, 3, [], 3, 0, id="nothing new"),
        pytest.param(6, 1, [3.0, 4.0, 5.0, 6.0], 6, 1, id="overwritten before asked: missed"),
        pytest.param(2, 9, [1.0, 2.0], 2, 0, id="a cursor past the end: restarted, start over"),
    ],
)
def test_the_answer_from_a_cursor(
    held: int, since: int, times: list[float], following: int, missed: int
) -> None:
    ring: FlowRing[Entry] = FlowRing(4)
    ring.extend(flow(float(n)) for n in range(1, held + 1))
    reply = answer(ring, {"since": str(since)})
    assert reply.status == 200
    assert _times(reply.body) == times
    assert dict(reply.headers) == {NEXT: str(following), MISSED: str(missed)}


@pytest.mark.parametrize("query", [{"since": "x"}, {"wait": "-1"}, {"wait": "nan"}])
def test_a_bad_query_is_400(query: dict[str, str]) -> None:
    reply = answer(FlowRing(4), query)
    assert reply.status == 400
    assert next(iter(query)) in reply.body.decode()


def test_no_ring_is_503_with_the_reason() -> None:
    reply = flows_route(lambda: "flows are off (--no-flows)")({})
    assert (reply.status, reply.body) == (503, b"flows are off (--no-flows)\n")


def test_a_long_poll_returns_what_comes_while_it_waits() -> None:
    ring: FlowRing[Entry] = FlowRing(4)
    later = threading.Timer(0.05, lambda: ring.extend([flow(7.0)]))
    later.start()
    try:
        reply = answer(ring, {"since": "0", "wait": "5"})
    finally:
        later.cancel()
    assert _times(reply.body) == [7.0]


class Served:
    def __init__(self, node: str) -> None:
        self.ring: FlowRing[Entry] = FlowRing(100)
        self.server = HealthServer(
            "127.0.0.1", 0, healthy=lambda: None, ready=lambda: None, metrics=lambda: b"",
            routes={"/flows": flows_route(lambda: self.ring)},
        )  # fmt: skip
        self.server.start()
        host, port = self.server.address
        self.url = f"http://{host}:{port}"
        self.node = node


@pytest.fixture
def agents() -> Iterator[list[Served]]:
    served = [Served("node-1"), Served("node-2")]
    try:
        yield served
    finally:
        for one in served:
            one.server.close()


def test_a_feed_follows_one_agent_from_its_cursor(agents: list[Served]) -> None:
    one = agents[0]
    one.ring.extend([flow(1.0), flow(2.0)])
    feed = AgentFeed(one.url + "/flows")
    assert [e.time for e in feed.poll()] == [1.0, 2.0]
    one.ring.extend([flow(3.0)])
    assert [e.time for e in feed.poll()] == [3.0]
    assert feed.poll() == []


def test_observe_merges_agents_and_joins_the_service_across_them(agents: list[Served]) -> None:
    one, two = agents
    one.ring.extend([hop(1000.0, "node-1"), flow(1000.3, node="node-1")])
    two.ring.extend([flow(1000.2, node="node-2")])
    result = invoke(
        ["observe", "--agent", one.url, "--agent", two.url, "-o", "json"],
    )
    assert result.exit_code == 0
    rows = [json.loads(line) for line in result.output.splitlines()]
    assert [(r["node"], r.get("service")) for r in rows] == [
        ("node-2", "default/backend"),  # decided on node-2, translated on node-1
        ("node-1", "default/backend"),
    ]


def test_following_agents_prints_the_history_then_what_comes(agents: list[Served]) -> None:
    one, two = agents
    one.ring.extend([flow(1.0), flow(2.0)])
    shown: list[Flow] = []

    def show(item: Flow) -> None:
        shown.append(item)
        if len(shown) == 1:
            two.ring.extend([flow(3.0, node="node-2")])

    run_observe([one.url, two.url], FlowFilter(), follow=True, last=1, show=show, polls=1)
    assert [(f.node, f.time) for f in shown] == [("node-1", 2.0), ("node-2", 3.0)]


def test_an_agent_that_does_not_answer_is_named() -> None:
    result = invoke(["observe", "--agent", "http://127.0.0.1:9"])
    assert result.exit_code == 1
    assert "http://127.0.0.1:9/flows" in result.output


def test_an_agent_url_must_be_http() -> None:
    with pytest.raises(AgentUnreachable, match="http"):
        AgentFeed("127.0.0.1:9474")
