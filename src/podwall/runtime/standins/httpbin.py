"""Stand-in for the httpbin request-inspection servers: `kennethreitz/httpbin` (Python, port
80) and `mccutchen/go-httpbin` (Go, $PORT or `-port`, else 8080).

The endpoints labs call, with each server's JSON (two-space indented): `/get` (args, headers,
origin, url), `/ip` (origin), `/headers`, `/user-agent`, `/uuid`, `/anything[/...]` and
`/post`, `/put`, `/patch`, `/delete` (the same with method, data, json), `/status/N` (that
status, empty body), `/` (a short index). go-httpbin writes each header as a list of values
and adds `method` to `/get`, as upstream's. Anything else: 404.

Run as `python -m podwall.runtime.standins.httpbin (python | go) ARGS...`; it drops to the
pod's uid at start.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import uuid
from collections.abc import Callable, Mapping, Sequence

from podwall.runtime.standins.webserving import Reply, Request, run

log = logging.getLogger("httpbin")

PYTHON_PORT = 80
GO_PORT = 8080
JSON = "application/json"
BODY_METHODS = {"/post": "POST", "/put": "PUT", "/patch": "PATCH", "/delete": "DELETE"}
INDEX = b"httpbin: HTTP Request & Response Service (podwall stand-in)\n"


def _title(key: str) -> str:
    return "-".join(part.capitalize() for part in key.split("-"))


def headers_of(request: Request, go: bool) -> dict[str, object]:
    if go:
        lists: dict[str, list[str]] = {}
        for key, value in request.headers:
            lists.setdefault(_title(key), []).append(value)
        return dict(lists)
    return {_title(key): value for key, value in request.headers}


def url_of(request: Request) -> str:
    return f"http://{request.header('Host') or request.server[0]}{request.target}"


def _json(data: object, status: int = 200) -> Reply:
    return Reply(status, (json.dumps(data, indent=2) + "\n").encode(), JSON)


def answer(request: Request, go: bool) -> Reply:
    path = request.path
    origin = request.client[0]
    if path == "/":
        return Reply(200, INDEX, "text/html; charset=utf-8")
    if path == "/ip":
        return _json({"origin": origin})
    if path == "/headers":
        return _json({"headers": headers_of(request, go)})
    if path == "/user-agent":
        return _json({"user-agent": request.header("User-Agent") or ""})
    if path == "/uuid":
        return _json({"uuid": str(uuid.uuid4())})
    args: dict[str, object] = dict(request.args())
    if go:
        args = {key: [value] for key, value in args.items()}
    base = {"args": args, "headers": headers_of(request, go), "origin": origin}
    if path == "/get" and request.method in ("GET", "HEAD"):
        extra = {"method": request.method} if go else {}
        return _json({**base, **extra, "url": url_of(request)})
    wanted = BODY_METHODS.get(path)
    if path.startswith("/anything") or (wanted and request.method == wanted):
        text = request.body.decode(errors="replace")
        return _json({**base, "data": text, "json": _parsed(text), "method": request.method,
                      "url": url_of(request)})  # fmt: skip
    if wanted or path == "/get":
        return Reply(405, b"Method Not Allowed\n")
    code = path.removeprefix("/status/")
    if code != path and code.isdigit() and 100 <= int(code) <= 599:
        return Reply(int(code), b"", "text/html; charset=utf-8")
    return Reply(404, b"404 page not found\n")


def _parsed(text: str) -> object:
    try:
        return json.loads(text) if text else None
    except ValueError:
        return None


def port_of(go: bool, args: Sequence[str], environ: Mapping[str, str]) -> int:
    """go-httpbin's `-port N` / `-port=N` / $PORT; the Python image's gunicorn binds :80."""
    if not go:
        return PYTHON_PORT
    value = environ.get("PORT", "")
    rest = list(args)
    while rest:
        arg = rest.pop(0)
        name, sep, text = arg.lstrip("-").partition("=")
        if arg.startswith("-") and name == "port":
            value = text if sep else (rest.pop(0) if rest else "")
    return int(value) if value.isdigit() else GO_PORT


def main(argv: Sequence[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    go = bool(args) and args[0] == "go"
    port = port_of(go, args[1:], os.environ)
    serve_one: Callable[[Request], Reply] = lambda request: answer(request, go)  # noqa: E731
    server = None if go else "gunicorn/19.9.0"
    ready = f"go-httpbin listening on http://0.0.0.0:{port}" if go else f"Listening at: :{port}"
    run(log, port, serve_one, ready, server)


if __name__ == "__main__":
    main()
