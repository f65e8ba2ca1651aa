"""Every command's --help, as a newcomer reads it in an 80-column terminal: nothing runs past
the edge (click wraps prose, never the example blocks), every command shows an example, and
`podwall --help` lists each command's summary whole instead of cut off with "..."."""

from __future__ import annotations

import click
import pytest
from click.testing import CliRunner

from podwall.cli.main import cli

WIDTH = 80
_CTX = click.Context(cli)
COMMANDS = sorted(
    name
    for name in cli.list_commands(_CTX)
    if not getattr(cli.get_command(_CTX, name), "hidden", True)  # `apiserver` is internal
)


def _help(*args: str) -> str:
    result = CliRunner().invoke(cli, [*args, "--help"], terminal_width=WIDTH)
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.parametrize(
    "args", [(), *[(name,) for name in COMMANDS]], ids=lambda a: " ".join(a) or "podwall"
)
def test_help_fits_80_columns(args: tuple[str, ...]) -> None:
    long = [line for line in _help(*args).splitlines() if len(line) > WIDTH]
    assert long == []


@pytest.mark.parametrize("name", COMMANDS)
def test_help_shows_an_example(name: str) -> None:
    text = _help(name)
    description = text.split("Options:")[0].split("\n", 1)[1]  # past the Usage line
    assert f"podwall {name}" in description or "kubectl apply" in description


def test_command_list_has_whole_summaries() -> None:
    listing = _help().split("Commands:")[1]
    cut = [line for line in listing.splitlines() if line.rstrip().endswith("...")]
    assert cut == []


@pytest.mark.parametrize(
    ("typed", "hint"),
    [("chek", " Did you mean 'check'?"), ("obsreve", " Did you mean 'observe'?"), ("apiservr", "")],
    ids=["check", "observe", "a hidden command is never suggested"],
)
def test_a_mistyped_command_gets_the_nearest(typed: str, hint: str) -> None:
    result = CliRunner().invoke(cli, [typed])
    assert result.exit_code == 2
    assert result.stderr.splitlines()[-1] == f"Error: No such command '{typed}'.{hint}"
