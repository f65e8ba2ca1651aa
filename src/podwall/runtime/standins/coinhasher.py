"""Stand-in for `dockercoins/hasher`, DockerCoins' hashing service (container.training's
dockercoins/hasher/hasher.rb, Sinatra on thin, port 80).

As upstream: `POST /` waits 0.1 s, then answers the hex SHA-256 of the request's body
(text/plain, no newline); `GET /` answers `HASHER running on HOSTNAME` and a newline
(text/html); one request at a time (thin's one event loop, blocked by the sleep); Sinatra's
protection headers; other routes a 404 saying Sinatra doesn't know this ditty

Not reproduced: the 404 page is a short one (not Sinatra's development page with its
suggested route); request bodies beyond 1 MiB are cut; thin's request log; an idle kept-alive
connection holds the listener for up to `coinserving.IDLE_TIMEOUT` seconds (thin's event loop
serves other clients meanwhile; DockerCoins' worker and curl close theirs).

Run as `python -m podwall.runtime.standins.coinhasher`; it drops to the pod's uid at start.
"""

from __future__ import annotations

import hashlib
import logging
import socket
import time
from collections.abc import Callable

from podwall.runtime.standins import coinserving
from podwall.runtime.standins.webserving import Reply, Request, handler

log = logging.getLogger("hasher")

SERVER = "thin"
DELAY = 0.1
HTML = "text/html;charset=utf-8"
PROTECTION = (
    ("X-Xss-Protection", "1; mode=block"),
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "SAMEORIGIN"),
)
NOT_FOUND = b"""<!DOCTYPE html>
<html>
<head>
  <title>Not Found</title>
</head>
<body>
  <h2>Sinatra doesn\xe2\x80\x99t know this ditty.</h2>
</body>
</html>
"""


def answerer(
    hostname: str, sleep: Callable[[float], None] = time.sleep
) -> Callable[[Request], Reply]:
    def answer(request: Request) -> Reply:
        if request.path == "/" and request.method == "POST":
            sleep(DELAY)
            digest = hashlib.sha256(request.body).hexdigest().encode()
            return Reply(200, digest, "text/plain;charset=utf-8", PROTECTION)
        if request.path == "/" and request.method in ("GET", "HEAD"):
            return Reply(200, f"HASHER running on {hostname}\n".encode(), HTML, PROTECTION)
        return Reply(404, NOT_FOUND, HTML, (("X-Cascade", "pass"), *PROTECTION))

    return answer


def main() -> None:
    base = handler(answerer(socket.gethostname()), log, SERVER)

    class Handler(base):  # type: ignore[valid-type,misc]
        timeout = coinserving.IDLE_TIMEOUT

    coinserving.run(log, Handler, f"Listening on :::{coinserving.PORT}, CTRL+C to stop")


if __name__ == "__main__":
    main()
