"""Every command's --help, as a newcomer reads it in an 80-column terminal: nothing runs past
the edge (prose is re-filled, the example blocks kept as written), every command shows an
example, and `podwall --help` lists each command's summary whole instead of cut off with "..."."""

from __future__ import annotations

import pytest

from podwall.cli.main import COMMANDS, listed
from tests.clirunner import invoke

WIDTH = 80
COMMANDS_SHOWN = sorted(listed())  # `apiserver` is internal: hidden


@pytest.fixture(autouse=True)
def _terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", str(WIDTH))


def _help(*args: str) -> str:
    result = invoke([*args, "--help"])
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    return result.stdout


@pytest.mark.parametrize(
    "args", [(), *[(name,) for name in COMMANDS]], ids=lambda a: " ".join(a) or "podwall"
)
def test_help_fits_80_columns(args: tuple[str, ...]) -> None:
    long = [line for line in _help(*args).splitlines() if len(line) > WIDTH]
    assert long == []


@pytest.mark.parametrize("name", COMMANDS_SHOWN)
def test_help_shows_an_example(name: str) -> None:
    text = _help(name)
    description = text.split("\noptions:")[0].split("\n\n", 1)[1]  # past the usage lines
    assert f"podwall {name}" in description or "kubectl apply" in description


def test_command_list_has_whole_summaries() -> None:
    listing = _help().split("\ncommands:\n")[1]
    cut = [line for line in listing.splitlines() if line.rstrip().endswith("...")]
    assert cut == []
    assert [line.split()[0] for line in listing.splitlines()] == COMMANDS_SHOWN


@pytest.mark.parametrize(
    ("typed", "hint"),
    [("chek", " Did you mean 'check'?"), ("obsreve", " Did you mean 'observe'?"), ("apiservr", "")],
    ids=["check", "observe", "a hidden command is never suggested"],
)
def test_a_mistyped_command_gets_the_nearest(typed: str, hint: str) -> None:
    result = invoke([typed])
    assert result.exit_code == 2
    assert result.stderr.splitlines()[-1] == f"podwall: error: no such command '{typed}'.{hint}"
