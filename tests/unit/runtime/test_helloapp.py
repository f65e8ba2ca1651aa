"""GKE's hello-app: the sample's three lines, its version from the image's tag."""

from __future__ import annotations

import pytest

from podwall.runtime.standins.helloapp import DEFAULT_PORT, answer, port, version_of


def test_the_answer_is_the_samples_three_lines() -> None:
    assert answer("1.0.0", "hello-web") == b"Hello, world!\nVersion: 1.0.0\nHostname: hello-web\n"


@pytest.mark.parametrize(
    ("tag", "version"),
    [("1.0", "1.0.0"), ("2.0", "2.0.0"), ("1", "1.0.0"), ("1.2.3", "1.2.3"), ("", "1.0.0"),
     ("latest", "1.0.0"), ("1.0.0.1", "1.0.0")],
    ids=["1.0", "2.0", "a major alone", "three parts as they are", "no tag", "latest",
         "not a version"],
)  # fmt: skip
def test_the_version_is_the_tags(tag: str, version: str) -> None:
    assert version_of(tag) == version


@pytest.mark.parametrize(
    ("environ", "expected"),
    [({}, DEFAULT_PORT), ({"PORT": ""}, DEFAULT_PORT), ({"PORT": "9000"}, 9000)],
    ids=["unset", "empty", "set"],
)
def test_the_port_is_PORT_else_8080(environ: dict[str, str], expected: int) -> None:
    assert port(environ) == expected
