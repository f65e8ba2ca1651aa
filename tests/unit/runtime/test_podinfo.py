"""podinfo: its flags and $PODINFO_* settings, and the JSON its API answers."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from podwall.runtime.standins.podinfo import DEFAULT_VERSION, Options, answer, parse, version_of
from podwall.runtime.standins.webserving import Request

OPTIONS = Options(9898, "6.5.4", "greetings from podinfo v6.5.4", "#34577c")


@pytest.mark.parametrize(
    ("tag", "version"),
    [("6.5.4", "6.5.4"), ("v6.7.1", "6.7.1"), ("latest", DEFAULT_VERSION), ("", DEFAULT_VERSION)],
    ids=["a version", "v-prefixed", "latest", "no tag"],
)
def test_version_is_the_tags(tag: str, version: str) -> None:
    assert version_of(tag) == version


@pytest.mark.parametrize(
    ("args", "environ", "expected"),
    [
        ((), {}, OPTIONS),
        (("--port=8080", "--level=info"), {}, replace(OPTIONS, port=8080)),
        (("--port", "9000", "--ui-message", "hi"), {}, Options(9000, "6.5.4", "hi", "#34577c")),
        ((), {"PODINFO_UI_MESSAGE": "env", "PODINFO_UI_COLOR": "#fff", "PODINFO_PORT": "1"},
         Options(1, "6.5.4", "env", "#fff")),
        (("./podinfo", "--port=9899"), {}, replace(OPTIONS, port=9899)),
    ],
    ids=["defaults", "--port=N, other flags ignored", "separate values", "environment",
         "the program named first"],
)  # fmt: skip
def test_parse(args: tuple[str, ...], environ: dict[str, str], expected: Options) -> None:
    assert parse("6.5.4", args, environ) == expected


def _get(path: str) -> tuple[int, object]:
    request = Request("GET", path, "HTTP/1.1", (("Host", "podinfo:9898"),), ("198.18.0.7", 1),
                      ("198.18.0.5", 9898))  # fmt: skip
    reply = answer(OPTIONS, request, "podinfo-7f9", {"A": "b"})
    return reply.status, json.loads(reply.body)


def test_root_is_the_runtime_json() -> None:
    status, data = _get("/")
    assert status == 200
    assert isinstance(data, dict)
    assert (data["hostname"], data["version"], data["message"]) == (
        "podinfo-7f9", "6.5.4", "greetings from podinfo v6.5.4",
    )  # fmt: skip
    assert set(data) >= {"revision", "color", "logo", "goos", "goarch", "runtime", "num_cpu"}


@pytest.mark.parametrize(
    ("path", "expected"),
    [("/healthz", (200, {"status": "OK"})), ("/readyz", (200, {"status": "OK"})),
     ("/version", (200, {"commit": "podwall-stand-in", "version": "6.5.4"})),
     ("/status/503", (503, {"status": 503})), ("/env", (200, ["A=b"])),
     ("/headers", (200, {"Host": ["podinfo:9898"]})),
     ("/nope", (404, {"code": 404, "message": "not found"}))],
    ids=["healthz", "readyz", "version", "status", "env", "headers", "unknown"],
)  # fmt: skip
def test_api(path: str, expected: tuple[int, object]) -> None:
    assert _get(path) == expected
