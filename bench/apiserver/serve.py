"""The process the API benchmark talks to: podwall's `Server`, or a bare ASGI app beside it.

    python -m bench.apiserver.serve STATE_DIR          # Server(STATE_DIR, port=0)
    python -m bench.apiserver.serve STATE_DIR --bare   # a constant answer, same TLS and uvicorn

It prints one JSON line (`port`, `token`, `ca`) once it accepts connections, then serves until
its standard input closes (the benchmark holds the pipe), so it never outlives the benchmark.
The server runs in a process of its own so that its resident memory is its own and the
benchmark's clients do not share its interpreter lock.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
from pathlib import Path
from typing import Any

import uvicorn

from podwall.apiserver import kubeconfig, tls
from podwall.apiserver.server import HTTP_PROTOCOL, LOOP, Server, listening_socket

CONSTANT = b'{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Success"}'


async def bare_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """The least an ASGI app can do: a constant JSON body."""
    if scope["type"] != "http":
        return
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"application/json")],
        }
    )
    await send({"type": "http.response.body", "body": CONSTANT})


def serve_bare(state_dir: Path) -> dict[str, Any]:
    """uvicorn as Server configures it (socket, protocol class, event loop, TLS), the app a
    constant."""
    state_dir.mkdir(parents=True, exist_ok=True)
    files = tls.ensure_certificates(state_dir)
    token = kubeconfig.ensure_token(state_dir / "token")
    sock = listening_socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(512)
    config = uvicorn.Config(
        bare_app,
        http=HTTP_PROTOCOL,
        loop=LOOP,
        ssl_certfile=str(files.server_cert),
        ssl_keyfile=str(files.server_key),
        log_level="warning",
        access_log=False,
        lifespan="off",
        timeout_keep_alive=30,
        proxy_headers=False,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        thread.join(0.02)
    return {"port": sock.getsockname()[1], "token": token, "ca": str(files.ca_cert)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("state_dir", type=Path)
    ap.add_argument("--bare", action="store_true")
    args = ap.parse_args(argv)
    if args.bare:
        info = serve_bare(args.state_dir)
    else:
        server = Server(args.state_dir, port=0)
        server.start()
        info = {"port": server.port, "token": server.token, "ca": str(args.state_dir / "ca.crt")}
    print(json.dumps(info), flush=True)
    sys.stdin.read()  # until the benchmark closes the pipe (or exits)
    if not args.bare:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
