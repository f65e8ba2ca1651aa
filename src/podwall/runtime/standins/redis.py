"""Stand-in for the `redis` image: a listener on port 6379 that speaks enough of Redis's
protocol (RESP) for a client to check it is there.

The recipes connect to it (`nc -v -w 2 db 6379`) and nothing more; a client gets `+PONG` to
`PING` (inline or as a RESP array), `+OK` to `QUIT` (then the connection closes), and Redis's
own error for anything else: `-ERR unknown command 'x', with args beginning with: `.

Run as `python -m podwall.runtime.standins.redis`; it drops to the pod's uid at start.
"""

from __future__ import annotations

import logging
import socketserver

from podwall.runtime.standins.serving import serve, start

log = logging.getLogger("redis")

PORT = 6379
MAX_LINE = 64 * 1024


def reply(words: list[str]) -> tuple[bytes, bool]:
    """The reply to a command, and whether the connection ends after it."""
    if not words:
        return b"", False
    name = words[0].lower()
    if name == "ping":
        return (b"+PONG\r\n" if len(words) == 1 else _bulk(words[1])), False
    if name == "quit":
        return b"+OK\r\n", True
    args = " ".join(f"'{w}'" for w in words[1:])
    return (
        f"-ERR unknown command '{words[0]}', with args beginning with: {args}\r\n".encode(),
        False,
    )


def _bulk(text: str) -> bytes:
    data = text.encode()
    return b"$%d\r\n%s\r\n" % (len(data), data)


class Handler(socketserver.StreamRequestHandler):
    def handle(self) -> None:
        while True:
            words = self._command()
            if words is None:
                return
            answer, last = reply(words)
            self.wfile.write(answer)
            if last:
                return

    def _command(self) -> list[str] | None:
        """One command, inline (`PING`) or a RESP array (`*1\\r\\n$4\\r\\nPING\\r\\n`)."""
        line = self.rfile.readline(MAX_LINE)
        if not line:
            return None
        text = line.decode(errors="replace").strip()
        if not text.startswith("*"):
            return text.split()
        words = []
        for _ in range(_count(text[1:])):
            header = self.rfile.readline(MAX_LINE).decode(errors="replace").strip()
            size = min(_count(header[1:]), MAX_LINE)
            words.append(self.rfile.read(size + 2)[:size].decode(errors="replace"))
        return words


def _count(text: str) -> int:
    return int(text) if text.isdigit() else 0


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


def main() -> None:
    start()
    serve([Server(("", PORT), Handler)], log, f"Ready to accept connections tcp on port {PORT}")


if __name__ == "__main__":
    main()
