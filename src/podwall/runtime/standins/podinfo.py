"""Stand-in for `stefanprodan/podinfo` (Docker Hub and ghcr.io), the Go microservice demo.

As upstream's HTTP API, on `--port` ($PODINFO_PORT, else 9898): `/` and `/api/info` answer
the runtime JSON (hostname, version, revision, color, logo, message, goos, goarch, runtime,
num_goroutine, num_cpu); `/healthz` and `/readyz` `{"status":"OK"}`; `/version`
`{"commit":...,"version":...}`; `/headers` the request's headers; `/status/{code}` that
status; `/env` the environment; anything else 404. The message is `--ui-message`
($PODINFO_UI_MESSAGE), else `greetings from podinfo v<version>`; the color `--ui-color`
($PODINFO_UI_COLOR), else #34577c. The version is the image tag's (`6.5.4`), else 6.7.1.
Upstream serves its web UI, not JSON, at `/` to browsers; every client here gets the JSON
that curl gets. Other flags (`--level`, `--grpc-port`, `--port-metrics`...) are accepted and
change nothing: no gRPC, no metrics port.

Run as `python -m podwall.runtime.standins.podinfo TAG ARGS...`; it drops to the pod's uid.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from podwall.runtime.standins.webserving import Reply, Request, canonical, run

log = logging.getLogger("podinfo")

DEFAULT_PORT = 9898
DEFAULT_VERSION = "6.7.1"
DEFAULT_COLOR = "#34577c"
LOGO = "https://raw.githubusercontent.com/stefanprodan/podinfo/gh-pages/cuddle_clap.gif"
REVISION = "podwall-stand-in"
JSON = "application/json; charset=utf-8"
# Upstream's binary, as the image's CMD (`./podinfo`, workdir /home/app) names it.
EXECUTABLES = frozenset({"./podinfo", "podinfo", "/home/app/podinfo"})


@dataclass(frozen=True, slots=True)
class Options:
    port: int
    version: str
    message: str
    color: str


def version_of(tag: str) -> str:
    """`6.5.4` and `v6.5.4` are versions; `latest` or no tag is the default's."""
    text = tag.removeprefix("v")
    parts = text.split(".")
    return text if len(parts) == 3 and all(p.isdigit() for p in parts) else DEFAULT_VERSION


def parse(tag: str, args: Sequence[str], environ: Mapping[str, str]) -> Options:
    """Options from pflag-style args (`--port=9898`, `--port 9898`), then $PODINFO_*."""
    rest = list(args)
    if rest and rest[0] in EXECUTABLES:
        rest = rest[1:]
    flags: dict[str, str] = {}
    while rest:
        arg = rest.pop(0)
        if not arg.startswith("--"):
            continue
        name, sep, value = arg[2:].partition("=")
        if not sep and rest and not rest[0].startswith("-"):
            value = rest.pop(0)
        flags[name] = value

    def setting(name: str, default: str) -> str:
        env = "PODINFO_" + name.upper().replace("-", "_")
        return flags.get(name) or environ.get(env) or default

    version = version_of(tag)
    port = setting("port", str(DEFAULT_PORT))
    return Options(
        port=int(port) if port.isdigit() else DEFAULT_PORT,
        version=version,
        message=setting("ui-message", f"greetings from podinfo v{version}"),
        color=setting("ui-color", DEFAULT_COLOR),
    )


def info(options: Options, hostname: str) -> dict[str, str]:
    return {
        "hostname": hostname,
        "version": options.version,
        "revision": REVISION,
        "color": options.color,
        "logo": LOGO,
        "message": options.message,
        "goos": "linux",
        "goarch": "amd64",
        "runtime": "go1.23",
        "num_goroutine": "8",
        "num_cpu": str(os.cpu_count() or 1),
    }


def _json(status: int, data: object) -> Reply:
    # podinfo indents its JSON (json.Indent, two spaces) and ends it without a newline.
    return Reply(status, json.dumps(data, indent=2).encode(), JSON)


def answer(options: Options, request: Request, hostname: str, environ: Mapping[str, str]) -> Reply:
    path = request.path.rstrip("/") or "/"
    if path in ("/", "/api/info"):
        return _json(200, info(options, hostname))
    if path in ("/healthz", "/readyz"):
        return _json(200, {"status": "OK"})
    if path == "/version":
        return _json(200, {"commit": REVISION, "version": options.version})
    if path == "/headers":
        headers: dict[str, list[str]] = {}
        for key, value in request.headers:
            headers.setdefault(canonical(key), []).append(value)
        return _json(200, dict(sorted(headers.items())))  # Go writes a map's keys sorted
    if path == "/env":
        return _json(200, [f"{key}={value}" for key, value in environ.items()])
    code = path.removeprefix("/status/")
    if code != path and code.isdigit() and 100 <= int(code) <= 599:
        return _json(int(code), {"status": int(code)})
    return _json(404, {"code": 404, "message": "not found"})


def main(argv: Sequence[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    options = parse(args[0] if args else "", args[1:], os.environ)
    environ = dict(os.environ)

    def serve_one(request: Request) -> Reply:
        return answer(options, request, socket.gethostname(), environ)

    ready = f"Starting podinfo version {options.version} on port {options.port}"
    run(log, options.port, serve_one, ready)


if __name__ == "__main__":
    main()
