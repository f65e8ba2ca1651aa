"""Stand-in for `dockercoins/webui`, DockerCoins' web UI (container.training's
dockercoins/webui/webui.js, Express on port 80 with a node-redis client).

As upstream: it connects to `redis` before it listens (retrying, each failure logged as
`Redis error Error: ...`), then logs `WEBUI running on port 80`; `GET /` redirects to
`/index.html`; `GET /json` answers `{"coins":HLEN wallet,"hashes":GET hashes,"now":SECONDS}`
compact, `hashes` a string (or null before the worker's first update) and `now` the time in
seconds with milliseconds, as Express writes them; each request is logged in morgan's
`common` format (its size as `-`); anything else is Express's `Cannot GET /path` 404.

Not reproduced: the page at `/index.html` is this stand-in's own (it polls `/json` every
second and shows the speed as text, not upstream's Rickshaw graph; its jQuery, D3 and Rickshaw
files are not served); no ETag; when Redis breaks after start `/json` answers 500 after
`redisclient.TIMEOUT` (upstream's queued command waits for the reconnection).

Run as `python -m podwall.runtime.standins.coinwebui`; it drops to the pod's uid at start.
"""

from __future__ import annotations

import html
import json
import logging
import signal
import socket
import sys
import time
from collections.abc import Callable

from podwall.runtime.standins import resp
from podwall.runtime.standins.jsonmock import Server
from podwall.runtime.standins.redisclient import RedisClient
from podwall.runtime.standins.serving import start
from podwall.runtime.standins.webserving import Reply, Request, handler

log = logging.getLogger("webui")

PORT = 80
JSON = "application/json; charset=utf-8"
HTML = "text/html; charset=utf-8"
EXPRESS = (("X-Powered-By", "Express"),)
NOT_FOUND_HEADERS = (
    ("X-Powered-By", "Express"),
    ("Content-Security-Policy", "default-src 'none'"),
    ("X-Content-Type-Options", "nosniff"),
)
INDEX = b"""<!doctype html>
<html>
<head>
<title>DockerCoin Miner WebUI</title>
<script>
var last = null;
function refresh () {
    fetch("json").then(function (r) { return r.json(); }).then(function (data) {
        if (last !== null && data.now > last.now) {
            var speed = (data.hashes - last.hashes) / (data.now - last.now);
            document.getElementById("speed").textContent = "~" + speed.toFixed(1)
                + " hashes/second";
        }
        document.getElementById("coins").textContent = data.coins;
        last = data;
    });
}
setInterval(refresh, 1000);
</script>
</head>
<body>

<h1>DockerCoin Miner WebUI</h1>

<h2>
  Current mining speed:
  <span id="speed">-</span>
</h2>
<p>Coins: <span id="coins">-</span></p>

</body>
</html>
"""


def js_number(seconds: float) -> str:
    """A number as JavaScript's JSON.stringify writes it: 1733580000.5, 1733580000 (no `.0`)."""
    text = repr(seconds)
    return text[:-2] if text.endswith(".0") else text


def json_body(coins: int, hashes: bytes | None, now_ms: int) -> bytes:
    """`res.json({coins, hashes, now})` for `now = Date.now() / 1000`."""
    text = None if hashes is None else hashes.decode(errors="replace")
    head = json.dumps({"coins": coins, "hashes": text}, separators=(",", ":"))[:-1]
    return f'{head},"now":{js_number(now_ms / 1000)}}}'.encode()


def answerer(
    redis: RedisClient, now_ms: Callable[[], int] = lambda: time.time_ns() // 1_000_000
) -> Callable[[Request], Reply]:
    def answer(request: Request) -> Reply:
        path, method = request.path, request.method
        if method in ("GET", "HEAD") and path == "/":
            return _redirect(request, "/index.html")
        if method in ("GET", "HEAD") and path == "/json":
            return _json(redis, now_ms)
        if method in ("GET", "HEAD") and path == "/index.html":
            return Reply(200, INDEX, HTML, EXPRESS)
        shown = html.escape(request.target.split("?", 1)[0])
        page = (f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
                f"<title>Error</title>\n</head>\n<body>\n<pre>Cannot {method} {shown}</pre>\n"
                "</body>\n</html>\n")  # fmt: skip
        return Reply(404, page.encode(), HTML, NOT_FOUND_HEADERS)

    return answer


def _json(redis: RedisClient, now_ms: Callable[[], int]) -> Reply:
    try:
        coins = redis.call("HLEN", "wallet")
        hashes = redis.call("GET", "hashes")
    except (OSError, resp.ReplyError, resp.ProtocolError) as exc:
        log.error("Redis error Error: %s", exc)
        body = f"<pre>Error: {html.escape(str(exc))}</pre>\n".encode()
        return Reply(500, body, HTML, EXPRESS)
    if not isinstance(coins, int) or not isinstance(hashes, bytes | None):
        return Reply(500, b"<pre>Error: unexpected reply from Redis</pre>\n", HTML, EXPRESS)
    return Reply(200, json_body(coins, hashes, now_ms()), JSON, EXPRESS)


def _redirect(request: Request, location: str) -> Reply:
    """Express's `res.redirect`: 302, the page its content negotiation picks (text for curl's
    `*/*`, a link for a browser)."""
    if "text/html" in (request.header("Accept") or ""):
        page = (f"<!DOCTYPE html><head><title>Found</title></head><body><p>Found. Redirecting "
                f'to <a href="{location}">{location}</a></p></body>')  # fmt: skip
        body, kind = page.encode(), HTML
    else:
        body, kind = f"Found. Redirecting to {location}".encode(), "text/plain; charset=utf-8"
    return Reply(302, body, kind, (*EXPRESS, ("Location", location), ("Vary", "Accept")))


def connect(redis: RedisClient, sleep: Callable[[float], None] = time.sleep) -> None:
    """node-redis' `connect()`: retry until Redis answers, waiting 50 ms, 100 ms, ... up to
    2 s between tries (its default strategy, without the jitter)."""
    tries = 0
    while True:
        try:
            redis.connect()
            return
        except OSError as exc:
            print(f"Redis error Error: {_node_words(exc, redis)}", file=sys.stderr, flush=True)
        tries += 1
        sleep(min(0.05 * 2**tries, 2.0))


def _node_words(exc: OSError, redis: RedisClient) -> str:
    """The error as Node.js words it: `getaddrinfo ENOTFOUND redis`, `connect ECONNREFUSED`."""
    if isinstance(exc, socket.gaierror):
        return f"getaddrinfo ENOTFOUND {redis.host}"
    if isinstance(exc, ConnectionRefusedError):
        return f"connect ECONNREFUSED {redis.host}:{redis.port}"
    if isinstance(exc, TimeoutError):
        return "Connection timeout"
    return str(exc)


def main() -> None:
    start()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    redis = RedisClient("redis")
    connect(redis)
    base = handler(answerer(redis), log)

    class Handler(base):  # type: ignore[valid-type,misc]
        def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
            # morgan 'common': :remote-addr - :remote-user [:date[clf]] ":method :url
            # HTTP/:http-version" :status :res[content-length]; logged before the body's size
            # is known here, so "-" stands for it.
            stamp = time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime())
            print(f'{self.client_address[0]} - - [{stamp}] "{self.requestline}" {code} -',
                  flush=True)  # fmt: skip

    server = Server(("", PORT), Handler)
    print(f"WEBUI running on port {PORT}", flush=True)
    with server:
        server.serve_forever()


if __name__ == "__main__":
    main()
