"""The argparse side of every command: usage errors exit 2 naming the option, choices that
click took in any case still do, and the help formatter keeps a docstring's examples as
written while it re-fills the prose."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from podwall.cli.command import Formatter, dir_path, file_path, int_range
from podwall.cli.main import COMMANDS
from tests.clirunner import invoke

ROOT = Path(__file__).parents[3]
TUTORIAL = str(ROOT / "examples" / "tutorial")

USAGE_ERRORS = [
    ("an unknown option", ["check", "-f", TUTORIAL, "--from", "a", "--to", "b", "--frm", "x"],
     "podwall check: error: unrecognized arguments: --frm x"),
    ("a prefix of an option, which click never took either", ["lint", "--lis"],
     "podwall lint: error: unrecognized arguments: --lis"),
    ("a required option missing", ["explain", "-f", TUTORIAL, "--to", "b:80"],
     "podwall explain: error: the following arguments are required: --from"),
    ("an output format podwall has not", ["matrix", "-f", TUTORIAL, "-o", "yaml"],
     "podwall matrix: error: argument -o/--output: invalid choice: 'yaml' "
     "(choose from 'table', 'json', 'dot', 'svg')"),
    ("a protocol podwall has not", ["diff", "a", "b", "--protocol", "icmp"],
     "podwall diff: error: argument --protocol: invalid choice: 'ICMP' "
     "(choose from 'TCP', 'UDP', 'SCTP')"),
    ("a port out of range", ["observe", "--port", "65536"],
     "podwall observe: error: argument --port: 65536 is not in the range 0<=x<=65535"),
    ("a port that is no number", ["editor", "--port", "http"],
     "podwall editor: error: argument --port: 'http' is not a valid integer"),
    ("no nodes", ["probe", "-f", "-", "--nodes", "0"],
     "podwall probe: error: argument --nodes: 0 is not in the range 1<=x<=253"),
    ("a timeout that is no number", ["up", "--timeout", "soon"],
     "podwall up: error: argument --timeout: invalid float value: 'soon'"),
    ("a flag given a value", ["lint", "--list=yes"],
     "podwall lint: error: argument --list: ignored explicit argument 'yes'"),
    ("the sandbox without its directories", ["agent", "--sandbox", "--node-name", "n"],
     "podwall agent: error: --sandbox needs --cluster-id, --run-dir and --log-dir"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("args", "message"), [c[1:] for c in USAGE_ERRORS], ids=[c[0] for c in USAGE_ERRORS]
)
def test_a_usage_error_exits_2_naming_the_option(args: list[str], message: str) -> None:
    result = invoke(args)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.startswith(f"usage: podwall {args[0]} ")
    assert result.stderr.splitlines()[-1] == message


# Two pods; the policy isolates b and admits UDP 53 only: on TCP 53 nothing reaches it.
PODS = "".join(
    f"kind: Pod\nmetadata: {{name: {n}, labels: {{app: {n}}}}}\n---\n" for n in ("a", "b")
)
UDP_ONLY = (
    "kind: NetworkPolicy\nmetadata: {name: dns-only}\nspec:\n"
    "  podSelector: {matchLabels: {app: b}}\n"
    "  ingress: [{ports: [{port: 53, protocol: UDP}]}]\n"
)


@pytest.mark.parametrize("spelled", ["udp", "Udp", "UDP"])
@pytest.mark.parametrize("command", ["matrix", "diff"])
def test_protocol_is_read_in_any_case(command: str, spelled: str, tmp_path: Path) -> None:
    before, after = tmp_path / "before.yaml", tmp_path / "after.yaml"
    before.write_text(PODS)
    after.write_text(PODS + "---\n" + UDP_ONLY)
    paths = ["-f", str(after)] if command == "matrix" else [str(before), str(after)]
    args = [command, *paths, "--port", "53", "-o", "json"]
    result = invoke([*args, "--protocol", spelled])
    assert result.exit_code in (0, 1), result.output
    assert result.stdout == invoke([*args, "--protocol", "UDP"]).stdout
    assert result.stdout != invoke([*args, "--protocol", "TCP"]).stdout


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_command_has_help(name: str) -> None:
    result = invoke([name, "-h"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"usage: podwall {name} ")
    assert "-h, --help" in result.stdout


def test_the_formatter_keeps_examples_and_refills_prose() -> None:
    doc = """First line.

    A paragraph of prose written over
    three short lines, as a docstring wraps it.

      podwall check -f k8s/ --from a --to b:80   # an example, kept as written
      podwall explain -f k8s/ --from a --to b:80

    Last words.
    """
    parser = argparse.ArgumentParser(prog="x", description=doc, formatter_class=Formatter)
    text = parser.format_help()
    assert (
        "\n\nFirst line.\n\nA paragraph of prose written over three short lines, as a docstring"
        " wraps it.\n\n"
        "  podwall check -f k8s/ --from a --to b:80   # an example, kept as written\n"
        "  podwall explain -f k8s/ --from a --to b:80\n\nLast words.\n\n"
    ) in text


def test_option_help_breaks_at_spaces_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "60")
    parser = argparse.ArgumentParser(prog="x", formatter_class=Formatter)
    parser.add_argument("--log-dir", metavar="DIR", help="words " * 5 + "podwall-system --log-dir")
    lines = parser.format_help().splitlines()
    assert any(line.strip() == "podwall-system --log-dir" for line in lines)
    assert all(len(line) <= 60 for line in lines)


@pytest.mark.parametrize(
    ("low", "high", "text", "error"),
    [
        (0, 65535, "-1", "-1 is not in the range 0<=x<=65535"),
        (0, None, "-3", "-3 is not in the range 0<=x"),
        (1, 9, "x", "'x' is not a valid integer"),
    ],
)
def test_int_range_refuses_with_the_range(
    low: int, high: int | None, text: str, error: str
) -> None:
    with pytest.raises(argparse.ArgumentTypeError, match=f"^{error}$"):
        int_range(low, high)(text)


def test_int_range_takes_its_bounds() -> None:
    assert [int_range(1, 3)(t) for t in ("1", "3")] == [1, 3]


def test_paths_are_refused_only_when_they_are_the_other_kind(tmp_path: Path) -> None:
    a_file = tmp_path / "kubeconfig"
    a_file.write_text("")
    assert file_path(str(a_file)) == a_file
    assert file_path(str(tmp_path / "not-yet")) == tmp_path / "not-yet"
    assert dir_path(str(tmp_path)) == tmp_path
    assert dir_path(str(tmp_path / "not-yet")) == tmp_path / "not-yet"
    with pytest.raises(argparse.ArgumentTypeError, match="is a directory"):
        file_path(str(tmp_path))
    with pytest.raises(argparse.ArgumentTypeError, match="is a file"):
        dir_path(str(a_file))
