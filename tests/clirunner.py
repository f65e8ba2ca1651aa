"""Run `podwall ARGS` in this process, as a test sees it: exit status, stdout, stderr, and both
interleaved in the order written (`output`), as a terminal shows them.

It runs `podwall.cli.main.run`, not `main`: an exception other than the exit (a bug) is not
turned into exit status 70 here but goes up, failing the test with its traceback.
"""

from __future__ import annotations

import contextlib
import io
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from podwall.cli.main import run


@dataclass(frozen=True, slots=True)
class Result:
    exit_code: int
    stdout: str
    stderr: str
    output: str


class _Stream(io.StringIO):
    """What a command writes to one stream, copied to the interleaved `output` as well."""

    def __init__(self, both: io.StringIO) -> None:
        super().__init__()
        self._both = both

    def write(self, text: str) -> int:
        self._both.write(text)
        return super().write(text)


@contextlib.contextmanager
def _captured(stdin: str) -> Iterator[tuple[_Stream, _Stream, io.StringIO]]:
    both = io.StringIO()
    out, err = _Stream(both), _Stream(both)
    saved = sys.stdin, sys.stdout, sys.stderr
    sys.stdin = io.TextIOWrapper(io.BytesIO(stdin.encode()), encoding="utf-8")
    sys.stdout, sys.stderr = out, err
    try:
        yield out, err, both
    finally:
        sys.stdin, sys.stdout, sys.stderr = saved


def _status(code: object) -> int:
    """SystemExit's code as a shell sees it: None is 0, a message is 1 (argparse never uses it)."""
    if code is None:
        return 0
    return code if isinstance(code, int) else 1


def invoke(args: Sequence[str], input: str | None = None) -> Result:
    """`podwall ARGS` with `input` on stdin (empty when None)."""
    with _captured(input or "") as (out, err, both):
        try:
            run(list(args))
        except SystemExit as exc:
            code = _status(exc.code)
        else:  # pragma: no cover - run always exits
            code = 0
    return Result(
        exit_code=code, stdout=out.getvalue(), stderr=err.getvalue(), output=both.getvalue()
    )
