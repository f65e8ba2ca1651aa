"""Stand-in for the httpbin request-inspection servers: `kennethreitz/httpbin` (Python, port
80) and `mccutchen/go-httpbin` (Go, $PORT or `-port`, else 8080).

The endpoints labs call, with each server's JSON (two-space indented): `/get` (args, headers,
origin, url), `/ip` (origin), `/headers`, `/user-agent`, `/uuid`, `/anything[/...]` (also
method) and `/post`, `/put`, `/patch`, `/delete` (also data, files, form, json), `/status/N`
(that status, empty body), `/` (a short index, not httpbin's page). The Python server sorts
its keys (Flask's jsonify); go-httpbin writes its structs' fields in order (args, headers,
method, origin, url, ...) and every header and argument as a list of values. Anything else:
404.

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

from podwall.runtime.standins.webserving import Reply, Request, canonical, run

log = logging.getLogger("httpbin")

PYTHON_PORT = 80
GO_PORT = 8080
JSON = "application/json"
GO_JSON = "application/json; charset=utf-8"
BODY_METHODS = {"/post": "POST", "/put": "PUT", "/patch": "PATCH", "/delete": "DELETE"}
INDEX = b"httpbin: HTTP Request & Response Service (podwall stand-in)\n"


def headers_of(request: Request, go: bool) -> dict[str, object]:
    """The request's headers by canonical name: a list of values each for Go's http.Header."""
    if go:
        lists: dict[str, list[str]] = {}
        for key, value in request.headers:
            lists.setdefault(canonical(key), []).append(value)
        return dict(lists)
    return {canonical(key): value for key, value in request.headers}


def url_of(request: Request) -> str:
    return f"http://{request.header('Host') or request.server[0]}{request.target}"


def _json(data: Mapping[str, object], go: bool, status: int = 200) -> Reply:
    """Both servers sort their keys (Go's maps, Flask's jsonify) except Go's structs, whose
    fields keep their order: `data` is given in that order."""
    text = json.dumps(data, indent=2, sort_keys=not go) + "\n"
    return Reply(status, text.encode(), GO_JSON if go else JSON)


def answer(request: Request, go: bool) -> Reply:
    path = request.path
    if path == "/":
        return Reply(200, INDEX, "text/html; charset=utf-8")
    simple = _simple(request, go)
    if simple is not None:
        return _json(simple, go)
    args: dict[str, object] = dict(request.args())
    if go:
        args = {key: [value] for key, value in sorted(args.items())}
    head: dict[str, object] = {"args": args, "headers": headers_of(request, go)}
    if go or path.startswith("/anything"):
        head["method"] = request.method
    head |= {"origin": request.client[0], "url": url_of(request)}
    wanted = BODY_METHODS.get(path)
    if path == "/get" and request.method in ("GET", "HEAD"):
        return _json(head, go)
    if path.startswith("/anything") or (wanted and request.method == wanted):
        text = request.body.decode(errors="replace")
        body = {"data": text, "files": {}, "form": {}, "json": _parsed(text)}
        return _json(head | body, go)
    if wanted or path == "/get":
        return Reply(405, b"Method Not Allowed\n")
    code = path.removeprefix("/status/")
    if code != path and code.isdigit() and 100 <= int(code) <= 599:
        return Reply(int(code), b"", "text/html; charset=utf-8")
    return Reply(404, b"404 page not found\n")


def _simple(request: Request, go: bool) -> dict[str, object] | None:
    """The one-field endpoints' answers: /ip, /headers, /user-agent, /uuid."""
    path = request.path
    if path == "/ip":
        return {"origin": request.client[0]}
    if path == "/headers":
        return {"headers": headers_of(request, go)}
    if path == "/user-agent":
        return {"user-agent": request.header("User-Agent") or ""}
    if path == "/uuid":
        return {"uuid": str(uuid.uuid4())}
    return None


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
