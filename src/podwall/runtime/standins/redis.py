"""Stand-in for the `redis` image: a listener on port 6379 that speaks Redis's protocol (RESP2,
and inline commands as `nc` sends them) over an in-memory keyspace.

The recipes only connect to it (`nc -v -w 2 db 6379`); DockerCoins' worker and web UI (and
labs like it) use it as a store: `INCRBY hashes 1`, `HSET wallet ...`, `GET hashes`,
`HLEN wallet`. What it answers, and what it does not, is `rediscommands`' table: strings and
hashes with Redis's replies and errors; a client gets `+PONG` to `PING`, `+OK` to `QUIT` (then
the connection closes), and `-ERR unknown command 'x', with args beginning with: ` for a command
it does not have. Nothing is persisted: the data goes with the pod, as with the image's default
configuration and no volume.

Run as `python -m podwall.runtime.standins.redis`; it drops to the pod's uid at start.
"""

from __future__ import annotations

import itertools
import logging
import socketserver
import threading

from podwall.runtime.standins import resp
from podwall.runtime.standins.rediscommands import Keyspace, Session, execute
from podwall.runtime.standins.serving import serve, start

log = logging.getLogger("redis")

PORT = 6379
_ids = itertools.count(1)
_ids_lock = threading.Lock()


class Handler(socketserver.StreamRequestHandler):
    """One client connection: commands read, executed and answered in order until QUIT, the
    end of the stream, or a protocol error (answered, then closed, as Redis does)."""

    server: Server

    def handle(self) -> None:
        keyspace = self.server.keyspace
        with _ids_lock:
            session = Session(id=next(_ids))
        with keyspace.lock:
            keyspace.clients += 1
        try:
            self._serve(keyspace, session)
        finally:
            with keyspace.lock:
                keyspace.clients -= 1

    def _serve(self, keyspace: Keyspace, session: Session) -> None:
        while True:
            try:
                words = resp.read_command(self.rfile)
            except resp.ProtocolError as exc:
                self.wfile.write(resp.error(f"ERR {exc}"))
                return
            except ConnectionError:
                return
            if words is None:
                return
            outcome = execute(keyspace, session, words)
            self.wfile.write(outcome.reply)
            if outcome.close:
                return


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], keyspace: Keyspace | None = None) -> None:
        self.keyspace = keyspace or Keyspace()
        super().__init__(address, Handler)


def main() -> None:
    start()
    serve([Server(("", PORT))], log, f"Ready to accept connections tcp on port {PORT}")


if __name__ == "__main__":
    main()
