"""hashicorp/http-echo: Go-style flags, the text and a newline on every path, /health."""

from __future__ import annotations

import pytest

from podwall.runtime.standins.httpecho import (
    MISSING_TEXT,
    Options,
    UsageError,
    answer,
    parse,
)


@pytest.mark.parametrize(
    ("args", "environ", "expected"),
    [
        (["-text=Hello from backend", "-listen=:5678"], {}, Options("Hello from backend", 5678)),
        (["--text", "hi"], {}, Options("hi", 5678)),
        (["-listen", "0.0.0.0:8080", "-text=a=b"], {}, Options("a=b", 8080)),
        (["-text=x", "-status-code=503"], {}, Options("x", 5678, 503)),
        ([], {"ECHO_TEXT": "from env"}, Options("from env", 5678)),
    ],
    ids=["one dash with =", "two dashes, value apart", "host:port, = in the text",
         "a status code", "ECHO_TEXT without -text"],
)  # fmt: skip
def test_the_flags_are_upstreams(
    args: list[str], environ: dict[str, str], expected: Options
) -> None:
    assert parse(args, environ) == expected


@pytest.mark.parametrize(
    ("args", "message"),
    [([], MISSING_TEXT), (["-txt=x"], "flag provided but not defined: -txt"),
     (["-text"], "flag needs an argument: -text")],
    ids=["no text", "an unknown flag", "a flag without its value"],
)  # fmt: skip
def test_bad_arguments_get_upstreams_words(args: list[str], message: str) -> None:
    with pytest.raises(UsageError, match=message):
        parse(args, {})


def test_every_path_answers_the_text_and_a_newline_but_health() -> None:
    options = Options("Hello from backend", 5678)
    assert answer(options, "/") == (200, b"Hello from backend\n")
    assert answer(options, "/any/path?q=1") == (200, b"Hello from backend\n")
    assert answer(options, "/health") == (200, b'{"status":"ok"}\n')
    assert answer(Options("down", 5678, 503), "/")[0] == 503
