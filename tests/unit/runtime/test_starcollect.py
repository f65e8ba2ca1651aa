"""calico/star-collect: the demo's resources, fetching, the REST API in upstream's JSON, and the
page's graph by the upstream page's rule."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from podwall.runtime.images import KIND_STAR_COLLECT, ContainerSpec, Launch, resolve
from podwall.runtime.standins.starcollect import (
    CALICO_RESOURCES,
    EXAMPLE,
    Edge,
    Options,
    Resource,
    ResourceStore,
    Response,
    answer,
    fetch,
    fetch_round,
    graph,
    page,
    parse,
)
from podwall.runtime.standins.starshared import FetchError, Reply, UsageError

B, F, C = CALICO_RESOURCES
PROBE = {"status": {"targets": [{"reachable": True, "url": F.url}]}}


def test_without_arguments_the_demos_three_probes_are_the_resources() -> None:
    assert parse([]) == Options()
    assert [(r.id, r.url) for r in Options().resources] == [
        ("B", "http://backend.stars:6379/status"),
        ("F", "http://frontend.stars:80/status"),
        ("C", "http://client.client:9000/status"),
    ]


def test_a_resources_file_replaces_them() -> None:
    files = {"/r.json": '[{"id": "A", "url": "http://a/status"}]'}
    options = parse(["--resources-file=/r.json", "--http-port", "9002"], files.__getitem__)
    assert options == Options(port=9002, resources=(Resource("A", "http://a/status"),))


@pytest.mark.parametrize(
    ("text", "why"),
    [("{}", "expected a JSON array"), ('[{"id": "A"}]', 'field "url"'), ("[", "Expecting")],
    ids=["not an array", "a resource without url", "not JSON"],
)
def test_a_bad_resources_file_is_named(text: str, why: str) -> None:
    with pytest.raises(
        UsageError, match=rf"Failed to parse file \[/r.json\] as resources!\n.*{why}"
    ):
        parse(["--resources-file=/r.json"], lambda path: text)


def getter(replies: dict[str, Reply]) -> object:
    def get(url: str) -> Reply:
        if url not in replies:
            raise FetchError(f"{url}: timed out")
        return replies[url]

    return get


@pytest.mark.parametrize(
    ("reply", "response"),
    [
        (Reply(200, json.dumps(PROBE).encode()), Response(B.url, 200, PROBE)),
        (Reply(404, b"[]"), Response(B.url, 404, [])),
        (Reply(404, b""), None),
        (None, None),
    ],
    ids=["JSON is kept", "any status with JSON", "a body that is no JSON", "no answer"],
)
def test_fetch(reply: Reply | None, response: Response | None) -> None:
    replies = {B.url: reply} if reply else {}
    assert fetch(B, getter(replies)) == response  # type: ignore[arg-type]


def test_responses_are_upstreams_compact_json_keys_sorted() -> None:
    store = ResourceStore(CALICO_RESOURCES)
    fetch_round(store, getter({F.url: Reply(200, json.dumps(PROBE).encode())}))  # type: ignore[arg-type]
    code, content_type, body = answer("GET", "/responses", b"", store)
    assert (code, content_type) == (200, "application/json; charset=utf-8")
    assert body == (
        b'{"responses":{"B":null,"C":null,"F":{"json":{"status":{"targets":[{"reachable":true,'
        b'"url":"http://frontend.stars:80/status"}]}},"statusCode":200,'
        b'"url":"http://frontend.stars:80/status"}}}'
    )


def test_resources_are_listed_and_added() -> None:
    store = ResourceStore([B])
    added = answer("POST", "/resources", b'{"id": "X", "url": "http://x/status"}', store)
    assert added == (200, "application/json; charset=utf-8", b'{"id":"X","url":"http://x/status"}')
    listed = json.loads(answer("GET", "/resources", b"", store)[2])
    assert listed == {
        "resources": [{"id": "B", "url": B.url}, {"id": "X", "url": "http://x/status"}]
    }
    assert json.loads(answer("GET", "/responses", b"", store)[2])["responses"]["X"] is None


@pytest.mark.parametrize(
    ("body", "why"),
    [
        (b"{", b"Expecting"),
        (b'{"id": 1, "url": "u"}', b'field "id"'),
        (b"[]", b"expected an object"),
    ],
    ids=["not JSON", "an id that is no string", "not an object"],
)
def test_a_bad_resource_is_400_with_the_error(body: bytes, why: bytes) -> None:
    store = ResourceStore([])
    code, content_type, text = answer("POST", "/resources", body, store)
    assert (code, content_type) == (400, "text/plain")
    assert why in text
    assert store.resources() == []


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/assets/js/arbor.js"), ("GET", "/nothing"), ("POST", "/responses")],
    ids=["the page's scripts", "an unknown path", "not GET"],
)
def test_other_requests_are_404(method: str, path: str) -> None:
    assert answer(method, path, b"", ResourceStore([])) == (404, "", b"")


def test_the_graph_follows_the_upstream_pages_rule() -> None:
    nodes, edges = graph(EXAMPLE)
    assert nodes == ["A", "B", "C", "D"]  # E has no response: no node
    reachable = {(e.source, e.target) for e in edges if e.reachable}
    unreachable = {(e.source, e.target) for e in edges if not e.reachable}
    assert reachable == {("A", "B"), ("A", "C"), ("A", "D"), ("B", "A"), ("B", "D")}
    # D lists http://foobar/status, no node's URL: no edge.
    assert unreachable == {("B", "C"), ("C", "A"), ("C", "B"), ("C", "D"), ("D", "A"), ("D", "B")}


def test_no_edge_to_itself_nor_from_an_answer_without_targets() -> None:
    responses = {
        "B": {"url": B.url, "json": {"status": {"targets": [{"url": B.url, "reachable": True},
                                                            {"url": F.url, "reachable": False}]}}},
        "F": {"url": F.url, "json": ["not", "a", "probe"]},
        "C": None,
    }  # fmt: skip
    assert graph(responses) == (["B", "F"], [Edge("B", "F", False)])


def test_the_page_lists_nodes_and_connections() -> None:
    text = page(EXAMPLE).decode()
    assert "<title>Visual Star</title>" in text
    assert "<li>A: http://a/status</li>" in text
    assert "<li>E:" not in text
    assert "<tr><td>A</td><td>B</td><td>reachable</td></tr>" in text
    assert "<tr><td>C</td><td>D</td><td>unreachable</td></tr>" in text


def test_the_root_is_the_page_of_the_live_data_or_the_example() -> None:
    store = ResourceStore(CALICO_RESOURCES)
    code, content_type, live = answer("GET", "/", b"", store)
    assert (code, content_type) == (200, "text/html")
    assert "<li>" not in live.decode()  # nothing fetched yet: no node
    assert answer("GET", "/?example=true", b"", store)[2] == page(EXAMPLE)
    assert json.loads(answer("GET", "/responses/example", b"", store)[2]) == {"responses": EXAMPLE}


@pytest.mark.parametrize(
    ("args", "argv_tail"),
    [((), ()), (("--http-port=9002",), ("--http-port=9002",))],
    ids=["the demo's container: no command, no args", "args"],
)
def test_the_image_runs_the_stand_in(args: tuple[str, ...], argv_tail: tuple[str, ...]) -> None:
    spec = ContainerSpec(image="docker.io/calico/star-collect:multiarch", args=args)
    launch = resolve(spec, python="/venv/bin/python")
    assert isinstance(launch, Launch)
    assert launch.argv == ("/venv/bin/python", "-m", "podwall.runtime.standins.starcollect",
                           *argv_tail)  # fmt: skip
    assert launch.kind == KIND_STAR_COLLECT
    assert launch.drops_own_privileges


def test_a_missing_resources_file_stops_the_program() -> None:
    module = "podwall.runtime.standins.starcollect"
    args = ["--resources-file=/nonexistent/resources.json"]
    result = subprocess.run([sys.executable, "-m", module, *args], capture_output=True,
                            text=True, timeout=30, check=False)  # fmt: skip
    assert result.returncode == 1
    assert result.stderr.startswith(
        "Failed to parse file [/nonexistent/resources.json] as resources!\n"
    )
    assert "Usage:\n    star-collect --help\n" in result.stderr
