"""Stand-in for `calico/star-collect`, the management UI of Calico's stars policy demo
(projectcalico/star's `star-collect`).

As upstream: options `--http-address` (0.0.0.0), `--http-port` (9001),
`--http-request-seconds` (5), `--resources-file` (a JSON array of `{"id", "url"}`) and
`--logfile`. Every request interval (the first one interval after start) each resource's URL
gets a GET; an answer whose body is JSON is kept as `{"json", "statusCode", "url"}`, anything
else (no answer, a body that is not JSON) as `null`. The REST API, compact JSON with sorted keys
as upstream's serializer writes it:

- `GET /responses`: `{"responses": {"B": {"json": {...}, "statusCode": 200, "url": ...}, "C":
  null, ...}}`, what the UI's page fetches; `GET /responses/example`: upstream's sample data;
- `GET /resources`: `{"resources": [{"id", "url"}, ...]}`; `POST /resources` with one
  `{"id", "url"}`: adds it (its response `null` until fetched) and answers it back, or 400 with
  the decoding error;
- `GET /` (or `/?...`): the page; anything else: 404 with no body.

The demo's manifest runs the image without arguments, and the image knows the demo's probes:
the three resources `B` (`http://backend.stars:6379/status`), `F` (frontend, port 80) and `C`
(`http://client.client:9000/status`), the ids the tutorial names and the URLs its probes use.
That list (`CALICO_RESOURCES`) is what this stand-in starts with when `--resources-file` is not
given; the image's own file is not published, so it is inferred from the tutorial.

Not reproduced: the page. Upstream's draws the graph with arbor.js from `/responses`; this one
is plain HTML, rendered by the server from the same data with the same rule (a node per
resource that answered; an edge from N to M when N's targets list M's URL, reachable or not; no
edge from a node to itself), and refreshes itself every five seconds. `/assets/...` are not
served. Each GET times out after a few seconds (see `starshared`); only `http://` URLs.

Run as `python -m podwall.runtime.standins.starcollect ARGS...`; it drops to the pod's uid at
start.
"""

from __future__ import annotations

import html
import http.server
import json
import logging
import signal
import sys
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from podwall.runtime.standins.privileges import drop_privileges
from podwall.runtime.standins.starshared import (
    JSON,
    FetchError,
    HelpRequested,
    Reply,
    UsageError,
    configure_logging,
    get,
    in_parallel,
    listen,
    number,
    parse_flags,
    run_rounds,
    send,
)

log = logging.getLogger("star-collect")

FLAGS = ("http-address", "http-port", "http-request-seconds", "resources-file", "logfile")
USAGE = """\
Usage:
    star-collect --help
    star-collect [--http-address=<address> --http-port=<port> \
--http-request-seconds=<seconds> --resources-file=<path> --logfile=<path>]
"""
HTML = "text/html"
REFRESH_SECONDS = 5

Getter = Callable[[str], Reply]


@dataclass(frozen=True, slots=True)
class Resource:
    id: str
    url: str


@dataclass(frozen=True, slots=True)
class Response:
    url: str
    status_code: int
    json: Any


CALICO_RESOURCES: tuple[Resource, ...] = (
    Resource("B", "http://backend.stars:6379/status"),
    Resource("F", "http://frontend.stars:80/status"),
    Resource("C", "http://client.client:9000/status"),
)


def _targets(pairs: Iterable[tuple[str, bool]]) -> dict[str, Any]:
    return {
        "status": {"targets": [{"reachable": r, "url": f"http://{u}/status"} for u, r in pairs]}
    }


def _example(name: str, pairs: Iterable[tuple[str, bool]]) -> dict[str, Any]:
    return {"json": _targets(pairs), "statusCode": 200, "url": f"http://{name}/status"}


# Upstream's /responses/example (GET /?example=true draws it).
EXAMPLE: dict[str, Any] = {
    "A": _example("a", [("b", True), ("c", True), ("d", True)]),
    "B": _example("b", [("a", True), ("c", False), ("d", True)]),
    "C": _example("c", [("a", False), ("b", False), ("d", False)]),
    "D": _example("d", [("a", False), ("b", False), ("foobar", False)]),
    "E": None,
}


@dataclass(frozen=True, slots=True)
class Options:
    address: str = "0.0.0.0"
    port: int = 9001
    request_seconds: int = 5
    resources: tuple[Resource, ...] = CALICO_RESOURCES
    logfile: str | None = None


def parse(
    args: Sequence[str], read: Callable[[str], str] = lambda p: Path(p).read_text()
) -> Options:
    """The options of `args`, the resources file read with `read`; UsageError or
    HelpRequested as docopt would stop."""
    values = parse_flags(args, FLAGS)
    resources = CALICO_RESOURCES
    if "resources-file" in values:
        path = values["resources-file"]
        try:
            resources = decode_resources(read(path))
        except (OSError, ValueError) as exc:
            raise UsageError(f"Failed to parse file [{path}] as resources!\n{exc}") from None
    return Options(
        address=values.get("http-address", "0.0.0.0"),
        port=number(values, "http-port", 9001),
        request_seconds=number(values, "http-request-seconds", 5),
        resources=resources,
        logfile=values.get("logfile"),
    )


def decode_resource(value: Any) -> Resource:
    """One `{"id": ..., "url": ...}`; ValueError naming what is wrong."""
    if not isinstance(value, dict):
        raise ValueError(f"expected an object with id and url, got {json.dumps(value)}")
    for key in ("id", "url"):
        if not isinstance(value.get(key), str):
            raise ValueError(f'field "{key}": expected a string')
    return Resource(value["id"], value["url"])


def decode_resources(text: str) -> tuple[Resource, ...]:
    """A resources file: a JSON array of resources."""
    value = json.loads(text)
    if not isinstance(value, list):
        raise ValueError("expected a JSON array of resources")
    return tuple(decode_resource(item) for item in value)


class ResourceStore:
    """Each resource's last response (None until one is fetched), shared by the fetches and
    the HTTP handler."""

    def __init__(self, resources: Iterable[Resource]) -> None:
        self._lock = threading.Lock()
        self._responses: dict[Resource, Response | None] = dict.fromkeys(resources)

    def resources(self) -> list[Resource]:
        with self._lock:
            return list(self._responses)

    def save(self, resource: Resource, response: Response | None) -> None:
        with self._lock:
            self._responses[resource] = response

    def responses(self) -> dict[Resource, Response | None]:
        with self._lock:
            return dict(self._responses)


def fetch(resource: Resource, getter: Getter = get) -> Response | None:
    """The resource's answer if it is JSON, else None."""
    try:
        reply = getter(resource.url)
        body = json.loads(reply.body)
    except FetchError:
        return None
    except ValueError:
        log.warning("Failed to parse response body as JSON: [%s]", resource.url)
        return None
    return Response(resource.url, reply.status, body)


def fetch_round(store: ResourceStore, getter: Getter = get) -> None:
    """Fetch every resource at once and keep the answers."""
    in_parallel(store.resources(), lambda r: store.save(r, fetch(r, getter)))


def responses_json(store: ResourceStore) -> dict[str, Any]:
    """`{"responses": {id: {"json", "statusCode", "url"} or None}}`."""
    responses: dict[str, Any] = {}
    for resource, response in store.responses().items():
        responses[resource.id] = None if response is None else {
            "json": response.json, "statusCode": response.status_code, "url": response.url,
        }  # fmt: skip
    return {"responses": responses}


@dataclass(frozen=True, slots=True)
class Edge:
    source: str
    target: str
    reachable: bool


def graph(responses: Mapping[str, Any]) -> tuple[list[str], list[Edge]]:
    """The page's nodes and edges from `/responses`' `responses`, by the upstream page's rule."""
    nodes = sorted(name for name, response in responses.items() if response)
    edges = []
    for source in nodes:
        targets = _listed_targets(responses[source])
        for target in nodes:
            url = responses[target].get("url")
            found = [t for t in targets if t.get("url") == url]
            if source != target and found:
                edges.append(Edge(source, target, bool(found[-1].get("reachable"))))
    return nodes, edges


def _listed_targets(response: Mapping[str, Any]) -> list[dict[str, Any]]:
    """`json.status.targets` of a response, [] where the probe's answer has none."""
    value: Any = response.get("json")
    for key in ("status", "targets"):
        value = value.get(key) if isinstance(value, dict) else None
    return [t for t in value if isinstance(t, dict)] if isinstance(value, list) else []


def page(responses: Mapping[str, Any]) -> bytes:
    """The UI: each node that answered, and each connection with whether it is reachable."""
    nodes, edges = graph(responses)
    items = "".join(
        f"<li>{html.escape(n)}: {html.escape(str(responses[n].get('url')))}</li>\n" for n in nodes
    )
    rows = "".join(
        f"<tr><td>{html.escape(e.source)}</td><td>{html.escape(e.target)}</td>"
        f"<td>{'reachable' if e.reachable else 'unreachable'}</td></tr>\n"
        for e in edges
    )
    text = f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="refresh" content="{REFRESH_SECONDS}">
<title>Visual Star</title>
</head>
<body>
<h1>Visual Star</h1>
<p>podwall's stand-in for calico/star-collect: the connections its probes report
(<a href="/responses">/responses</a>).</p>
<h2>Nodes</h2>
<ul>
{items}</ul>
<h2>Connections</h2>
<table>
<tr><th>from</th><th>to</th><th>status</th></tr>
{rows}</table>
</body>
</html>
"""
    return text.encode()


def compact(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":")).encode()


def answer(method: str, path: str, body: bytes, store: ResourceStore) -> tuple[int, str, bytes]:
    """Status, content type and body of a request."""
    if method == "GET" and path == "/responses":
        return 200, JSON, compact(responses_json(store))
    if method == "GET" and path == "/responses/example":
        return 200, JSON, compact({"responses": EXAMPLE})
    if method == "GET" and path == "/resources":
        return 200, JSON, compact({"resources": [vars_of(r) for r in store.resources()]})
    if method == "POST" and path == "/resources":
        return _add(body, store)
    if method == "GET" and (path == "/" or path.startswith("/?")):
        example = "example=" in path
        return 200, HTML, page(EXAMPLE if example else responses_json(store)["responses"])
    return 404, "", b""


def vars_of(resource: Resource) -> dict[str, str]:
    return {"id": resource.id, "url": resource.url}


def _add(body: bytes, store: ResourceStore) -> tuple[int, str, bytes]:
    try:
        resource = decode_resource(json.loads(body))
    except ValueError as exc:
        log.warning("%s", exc)
        return 400, "text/plain", str(exc).encode()
    log.info("Adding resource [%s]", resource)
    store.save(resource, None)
    return 200, JSON, compact(vars_of(resource))


def handler(store: ResourceStore) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            send(self, *answer("GET", self.path, b"", store))

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            send(self, *answer("POST", self.path, self.rfile.read(min(length, 1 << 20)), store))

        def log_message(self, format: str, *args: Any) -> None:
            log.info("%s %s", self.client_address[0], format % args)

    return Handler


def main(argv: Sequence[str] | None = None) -> int:
    drop_privileges()  # before reading a resources file given by the pod's spec
    try:
        options = parse(sys.argv[1:] if argv is None else argv)
    except HelpRequested:
        print(USAGE, end="")
        return 0
    except UsageError as exc:
        print(f"{exc}\n\n{USAGE}", end="", file=sys.stderr)
        return 1
    configure_logging(options.logfile)
    log.info("Initial resources: %s", json.dumps([vars_of(r) for r in options.resources]))
    store = ResourceStore(options.resources)
    server = listen(options.address, options.port, handler(store))
    stop = threading.Event()
    rounds = threading.Thread(
        target=run_rounds,
        args=(options.request_seconds, lambda: fetch_round(store), stop),
        daemon=True,
    )
    rounds.start()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    log.info("Starting HTTP server on [%s:%d]", options.address, options.port)
    with server:
        server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
