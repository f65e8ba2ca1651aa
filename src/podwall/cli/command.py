"""How a command is declared for argparse: its description, the arguments it adds to its parser,
and the adapter that turns the parsed Namespace into a call of its typed function; the help
formatter every parser shares; the argument types argparse lacks (ranges, kinds of path).

It must not import what a command needs: building a parser costs only argparse, which
`podwall check` pays for its options anyway. pathlib and textwrap load only when used.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

HELP_WIDTH = 100  # at most: on a wider terminal, lines still end at 100
HELP_POSITION = 30  # where option help starts (longer options put it below)


class Command:
    """A command of `podwall`: `arguments` adds its options to a parser, `run` calls it.

    `run` is the one place that reads the Namespace: it hands each value, typed, to the
    command's function, so the command's body never sees argparse."""

    __slots__ = ("arguments", "description", "run")

    def __init__(
        self,
        description: str | None,
        arguments: Callable[[argparse.ArgumentParser], None],
        run: Callable[[argparse.Namespace], None],
    ) -> None:
        self.description = description
        self.arguments = arguments
        self.run = run

    def parser(self, prog: str) -> argparse.ArgumentParser:
        parser = argparse.ArgumentParser(
            prog=prog,
            description=self.description,
            formatter_class=Formatter,
            allow_abbrev=False,  # an option is named whole, never by a prefix
        )
        self.arguments(parser)
        return parser


class Formatter(argparse.RawDescriptionHelpFormatter):
    """argparse's help, laid out as the docstrings are: prose paragraphs re-filled to the
    terminal, and every paragraph with an indented line (the examples) kept as it is."""

    def __init__(self, prog: str) -> None:
        # argparse makes a formatter for every argument added, to check its metavar: the
        # width is found as shutil.get_terminal_size finds it, without importing shutil
        # (and with it bz2, lzma and fnmatch) into every command's start-up.
        super().__init__(
            prog, max_help_position=HELP_POSITION, width=min(_columns(), HELP_WIDTH) - 2
        )

    def _format_action_invocation(self, action: argparse.Action) -> str:
        """`-f, --filename PATH`: the metavar once, after the last name."""
        if not action.option_strings or action.nargs == 0:
            return super()._format_action_invocation(action)
        value = self._format_args(action, self._get_default_metavar_for_optional(action))
        return f"{', '.join(action.option_strings)} {value}"

    def _split_lines(self, text: str, width: int) -> list[str]:
        """Option help wrapped at spaces only: `--log-dir` and `podwall-system` stay whole."""
        import textwrap

        return textwrap.wrap(" ".join(text.split()), width, break_on_hyphens=False)

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        return "\n\n".join(_paragraphs(text, width - len(indent), indent))


def _columns() -> int:
    """The terminal's width: $COLUMNS, else stdout's terminal, else 80."""
    try:
        return int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        pass
    try:
        return os.get_terminal_size(1).columns
    except OSError:
        return 80


def _paragraphs(text: str, width: int, indent: str) -> Iterator[str]:
    import textwrap as tw

    first, _, rest = text.strip("\n").partition("\n")
    body = first.strip() + "\n" + tw.dedent(rest)
    for paragraph in body.strip().split("\n\n"):
        lines = paragraph.strip("\n").splitlines()
        if any(line.startswith(" ") for line in lines):
            yield "\n".join(indent + line.rstrip() for line in lines)
        else:
            yield tw.fill(
                " ".join(lines),
                width,
                initial_indent=indent,
                subsequent_indent=indent,
                break_on_hyphens=False,
            )


def int_range(low: int, high: int | None = None) -> Callable[[str], int]:
    """An integer from `low` to `high` (None: no upper bound)."""

    def convert(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a valid integer") from None
        if value < low or (high is not None and value > high):
            bounds = f"{low}<=x" + ("" if high is None else f"<={high}")
            raise argparse.ArgumentTypeError(f"{value} is not in the range {bounds}")
        return value

    convert.__name__ = "integer"
    return convert


def file_path(text: str) -> Path:
    """A file that may not exist yet, but is not a directory."""
    from pathlib import Path

    if os.path.isdir(text):
        raise argparse.ArgumentTypeError(f"file {text!r} is a directory")
    return Path(text)


def dir_path(text: str) -> Path:
    """A directory that may not exist yet, but is not a file."""
    from pathlib import Path

    if os.path.exists(text) and not os.path.isdir(text):
        raise argparse.ArgumentTypeError(f"directory {text!r} is a file")
    return Path(text)
