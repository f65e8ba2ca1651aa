"""Stand-in for `dockercoins/rng`, DockerCoins' random number generator (container.training's
dockercoins/rng/rng.py, a Flask app run by `flask run --without-threads` on port 80).

As upstream: `GET /` answers `RNG running on HOSTNAME` and a newline (text/html, as Flask
sends a string); `GET /N` (N digits, Flask's int converter) waits 0.1 s, then answers N random
bytes from the kernel (application/octet-stream); one request at a time, HTTP/1.0 as Werkzeug's
server speaks without threads; other paths get Werkzeug's 404 page, other methods its 405.

Not reproduced: Flask's debug mode ($DEBUG), its request log's exact format.

Run as `python -m podwall.runtime.standins.coinrng`; it drops to the pod's uid at start.
"""

from __future__ import annotations

import logging
import os
import re
import socket
import time
from collections.abc import Callable

from podwall.runtime.standins import coinserving
from podwall.runtime.standins.webserving import Reply, Request, handler

log = logging.getLogger("rng")

SERVER = "Werkzeug/3.1.3 Python/3.13.1"
HTML = "text/html; charset=utf-8"
DELAY = 0.1
# A read of /dev/urandom returns at most this many bytes (random(4)): what os.read gives upstream.
MAX_READ = 33554431
_BYTES = re.compile(r"/([0-9]+)")
NOT_FOUND = b"""<!doctype html>
<html lang=en>
<title>404 Not Found</title>
<h1>Not Found</h1>
<p>The requested URL was not found on the server. If you entered the URL manually please \
check your spelling and try again.</p>
"""
NOT_ALLOWED = b"""<!doctype html>
<html lang=en>
<title>405 Method Not Allowed</title>
<h1>Method Not Allowed</h1>
<p>The method is not allowed for the requested URL.</p>
"""


def answerer(
    hostname: str,
    random_bytes: Callable[[int], bytes] = os.urandom,
    sleep: Callable[[float], None] = time.sleep,
) -> Callable[[Request], Reply]:
    def answer(request: Request) -> Reply:
        path = request.path
        wanted = _BYTES.fullmatch(path)
        if path != "/" and wanted is None:
            return Reply(404, NOT_FOUND, HTML)
        if request.method not in ("GET", "HEAD", "OPTIONS"):
            return Reply(405, NOT_ALLOWED, HTML, (("Allow", "GET, HEAD, OPTIONS"),))
        if request.method == "OPTIONS":
            return Reply(200, b"", HTML, (("Allow", "GET, HEAD, OPTIONS"),))
        if wanted is None:
            return Reply(200, f"RNG running on {hostname}\n".encode(), HTML)
        sleep(DELAY)
        return Reply(200, random_bytes(min(int(wanted[1]), MAX_READ)), "application/octet-stream")

    return answer


def main() -> None:
    base = handler(answerer(socket.gethostname()), log, SERVER)

    class Handler(base):  # type: ignore[valid-type,misc]
        protocol_version = "HTTP/1.0"
        timeout = coinserving.IDLE_TIMEOUT

    coinserving.run(log, Handler, f" * Running on http://[::]:{coinserving.PORT}")


if __name__ == "__main__":
    main()
