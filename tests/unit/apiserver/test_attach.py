"""pods/attach: the options kubectl sends, and the checks made before the upgrade."""

from __future__ import annotations

import pytest
from starlette.datastructures import QueryParams

from podwall.apiserver.attach import attach_options
from podwall.apiserver.errors import ApiError


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        pytest.param(
            "container=c&stdin=true&stdout=true&stderr=true&tty=true",
            ("c", True, True, False, True),
            id="kubectl run -ti: a TTY merges stderr into stdout",
        ),
        pytest.param(
            "container=c&stdin=true&stdout=true&stderr=true",
            ("c", True, True, True, False),
            id="kubectl run -i: stdin, stdout and stderr",
        ),
        pytest.param(
            "stdout=true", (None, False, True, False, False), id="kubectl attach without -i"
        ),
    ],
)
def test_attach_options(query: str, expected: tuple[object, ...]) -> None:
    options = attach_options(QueryParams(query))
    assert options.command == ()
    got = (options.container, options.stdin, options.stdout, options.stderr, options.tty)
    assert got == expected


def test_attach_without_any_stream_is_refused_in_the_api_servers_words() -> None:
    with pytest.raises(ApiError, match="at least 1 of stdin, stdout, stderr"):
        attach_options(QueryParams("container=c"))
