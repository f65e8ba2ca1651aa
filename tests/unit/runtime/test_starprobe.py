"""calico/star-probe: the demo's arguments, the probing rule, GET /status in upstream's JSON."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from podwall.runtime.images import KIND_STAR_PROBE, ContainerSpec, Launch, resolve
from podwall.runtime.standins.starprobe import (
    Options,
    StatusCache,
    answer,
    parse,
    probe_round,
    reached,
)
from podwall.runtime.standins.starshared import FetchError, Reply, UsageError

DEMO_URLS = "http://frontend.stars:80/status,http://backend.stars:6379/status,http://client.client:9000/status"
FRONTEND, BACKEND, CLIENT = DEMO_URLS.split(",")


@pytest.mark.parametrize(
    ("args", "options"),
    [
        (["--http-port=6379", f"--urls={DEMO_URLS}"],
         Options((FRONTEND, BACKEND, CLIENT), port=6379)),
        ([f"--urls={FRONTEND},{BACKEND}"], Options((FRONTEND, BACKEND))),
        (["--urls=a,,b,", "--http-address", "127.0.0.1", "--http-probe-seconds=1",
          "--logfile=/tmp/probe.log"],
         Options(("a", "b"), address="127.0.0.1", probe_seconds=1, logfile="/tmp/probe.log")),
    ],
    ids=["the backend's arguments", "the client's: port 9000 by default",
         "every option; empty URLs dropped"],
)  # fmt: skip
def test_options(args: list[str], options: Options) -> None:
    assert parse(args) == options


def test_urls_are_required() -> None:
    with pytest.raises(UsageError, match="--urls"):
        parse(["--http-port=80"])


def fake_get(url: str) -> Reply:
    """Frontend answers 200, backend 404 (still an answer), client nothing."""
    if url == FRONTEND:
        return Reply(200, b"{}")
    if url == BACKEND:
        return Reply(404, b"")
    raise FetchError(f"{url}: timed out")


@pytest.mark.parametrize(
    ("url", "expected"),
    [(FRONTEND, True), (BACKEND, True), (CLIENT, False)],
    ids=["200 is reachable", "404 is reachable too", "no answer is unreachable"],
)
def test_reachable_means_any_http_answer(url: str, expected: bool) -> None:
    assert reached(url, fake_get) is expected


def status(cache: StatusCache) -> object:
    code, content_type, body = answer("GET", "/status", cache)
    assert (code, content_type) == (200, "application/json; charset=utf-8")
    return json.loads(body)


def test_targets_start_unreachable() -> None:
    cache = StatusCache([FRONTEND, BACKEND])
    assert status(cache) == {"status": {"targets": [
        {"reachable": False, "url": FRONTEND}, {"reachable": False, "url": BACKEND}]}}  # fmt: skip


def test_a_round_records_every_target() -> None:
    cache = StatusCache([FRONTEND, BACKEND, CLIENT])
    probe_round(cache, [FRONTEND, BACKEND, CLIENT], fake_get)
    assert status(cache) == {"status": {"targets": [
        {"reachable": True, "url": FRONTEND}, {"reachable": True, "url": BACKEND},
        {"reachable": False, "url": CLIENT}]}}  # fmt: skip
    cache.record(FRONTEND, False)
    cache.record("http://elsewhere/status", True)  # not a target: ignored, as upstream
    assert [t["reachable"] for t in cache.status()["status"]["targets"]] == [False, True, False]


def test_status_is_upstreams_compact_json() -> None:
    cache = StatusCache([CLIENT])
    cache.record(CLIENT, True)
    body = answer("GET", "/status", cache)[2]
    assert (
        body
        == b'{"status":{"targets":[{"reachable":true,"url":"http://client.client:9000/status"}]}}'
    )


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/"), ("GET", "/status?x=1"), ("POST", "/status"), ("GET", "/status/")],
    ids=["the root", "a query", "not GET", "a trailing slash"],
)
def test_only_get_status_is_served(method: str, path: str) -> None:
    assert answer(method, path, StatusCache([])) == (404, "", b"")


@pytest.mark.parametrize(
    ("command", "args", "probe_args"),
    [
        (("probe", "--http-port=6379", f"--urls={DEMO_URLS}"), (),
         ("--http-port=6379", f"--urls={DEMO_URLS}")),
        (("probe",), ("--urls=x",), ("--urls=x",)),
        ((), ("--urls=x",), ("--urls=x",)),
    ],
    ids=["the demo's command", "command and args", "args alone"],
)  # fmt: skip
def test_the_image_runs_the_stand_in(
    command: tuple[str, ...], args: tuple[str, ...], probe_args: tuple[str, ...]
) -> None:
    spec = ContainerSpec(image="calico/star-probe:multiarch", command=command, args=args)
    launch = resolve(spec, python="/venv/bin/python")
    assert isinstance(launch, Launch)
    assert launch.argv == ("/venv/bin/python", "-m", "podwall.runtime.standins.starprobe",
                           *probe_args)  # fmt: skip
    assert launch.kind == KIND_STAR_PROBE
    assert launch.drops_own_privileges


def test_another_command_in_the_image_runs_on_the_host() -> None:
    spec = ContainerSpec(image="calico/star-probe:v0.1.0", command=("sleep", "10"))
    launch = resolve(spec, python="/venv/bin/python", which=lambda name, path: f"/bin/{name}")
    assert isinstance(launch, Launch)
    assert launch.argv == ("sleep", "10")
    assert not launch.drops_own_privileges


@pytest.mark.parametrize(
    ("args", "code", "shown"),
    [(["--help"], 0, "Usage:\n    star-probe --help\n"),
     (["--http-port=80"], 1, "Missing required flag: '--urls'\n\nUsage:")],
    ids=["--help", "no --urls"],
)  # fmt: skip
def test_the_program_stops_as_docopt_does(args: list[str], code: int, shown: str) -> None:
    module = "podwall.runtime.standins.starprobe"
    result = subprocess.run([sys.executable, "-m", module, *args], capture_output=True,
                            text=True, timeout=30, check=False)  # fmt: skip
    assert result.returncode == code
    assert (result.stdout + result.stderr).startswith(shown)
