"""`podwall`: verdicts, explanations and maps for Kubernetes NetworkPolicies.

Exit codes: 0 allowed / success, 1 denied, 2 bad input (a usage error too), 70 a bug
(EX_SOFTWARE); `probe` adds 3. Bad input is any PodwallError that reaches the command line:
its message is printed as it is.

Every command lives in its own module and is imported only when it runs, so a command pays
only for what it uses (`podwall check` never imports the engine's maps, rich, or a server);
`podwall --help` lists them from the table below without importing any.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, NoReturn

from podwall import __version__
from podwall.cli import output
from podwall.errors import PodwallError

if TYPE_CHECKING:
    from podwall.cli.command import Command

EXIT_BAD_INPUT = 2
EXIT_INTERNAL = 70  # EX_SOFTWARE: never 0 or 1, which scripts read as allowed or denied

# The commands that read, print and end (see `program`).
ONE_SHOT = frozenset({"check", "explain", "matrix", "diff", "lint", "exposure"})
EXIT_UNFLUSHED = 120  # the interpreter's own status when stdout cannot be flushed at exit

# name -> (module:attribute of its Command, the one line `podwall --help` shows; None: hidden)
COMMANDS: dict[str, tuple[str, str | None]] = {
    "agent": ("podwall.cli.agent:AGENT", "Enforce the cluster's NetworkPolicies on this node."),
    "apiserver": ("podwall.cli.apiserver:APISERVER", None),
    "check": (
        "podwall.cli.verdicts:CHECK",
        "Is a connection allowed? Prints ALLOWED or DENIED and why.",
    ),
    "diff": ("podwall.cli.diff:DIFF", "The connections a change newly allows and newly denies."),
    "down": ("podwall.cli.sandbox:DOWN", "Stop the local cluster and remove what it made."),
    "editor": (
        "podwall.cli.editor:EDITOR",
        "A visual NetworkPolicy editor that shows the real verdicts.",
    ),
    "explain": ("podwall.cli.verdicts:EXPLAIN", "The full reasoning for one connection."),
    "exposure": (
        "podwall.cli.exposure:EXPOSURE",
        "Who can reach a pod, from where, on which ports.",
    ),
    "kubeconfig": (
        "podwall.cli.up:KUBECONFIG",
        "Print the path of the local cluster's kubeconfig.",
    ),
    "lint": ("podwall.cli.lint:LINT", "Policies that probably do not do what their author meant."),
    "matrix": ("podwall.cli.matrix:MATRIX", "Reachability between every pair of pods."),
    "observe": (
        "podwall.cli.observe:OBSERVE",
        "Each new connection a policy decided, and which rule.",
    ),
    "probe": ("podwall.cli.probe:PROBE", "Run the manifests as real pods: observed vs predicted."),
    "status": (
        "podwall.cli.up:STATUS",
        "Whether the local cluster runs; its nodes, pods and agents.",
    ),
    "up": ("podwall.cli.up:UP", "Start a local cluster the real kubectl works against."),
}

DESCRIPTION = """Kubernetes NetworkPolicy, implemented for real.

    Ask what your NetworkPolicies allow, before you apply them:

      podwall check   -f app/ --from frontend --to svc/backend:8080
      podwall explain -f app/ --from deploy/not-frontend --to backend:8080
      podwall matrix  -f app/ --port 8080

    Manifests are any mix of files, directories and stdin; Deployments and other workloads
    stand for the pods they would create.
    """


def _fail(message: str) -> NoReturn:
    output.error(message)
    raise SystemExit(EXIT_BAD_INPUT)


def listed() -> list[str]:
    """The commands `podwall --help` lists (the hidden ones are not)."""
    return [name for name, (_, summary) in COMMANDS.items() if summary is not None]


def command(name: str) -> Command:
    """The command `name`, its module imported now."""
    module, _, attr = COMMANDS[name][0].partition(":")
    found: Command = getattr(importlib.import_module(module), attr)
    return found


def _top_parser() -> argparse.ArgumentParser:
    """`podwall` itself: -h and --version, and the list of commands (none imported)."""
    from podwall.cli.command import Formatter

    class ListFormatter(Formatter):
        """The commands one a line under "commands:", without a line for COMMAND itself."""

        def _format_action(self, action: argparse.Action) -> str:
            if isinstance(action, argparse._SubParsersAction):
                return "".join(self._format_action(a) for a in action._get_subactions())
            return super()._format_action(action)

    parser = argparse.ArgumentParser(
        prog="podwall",
        description=DESCRIPTION,
        formatter_class=ListFormatter,
        usage="%(prog)s [-h] [--version] COMMAND [ARGS]...",
    )
    parser.add_argument("--version", action="version", version=f"podwall, version {__version__}")
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")
    for name in listed():  # empty parsers: only their names and summaries are shown
        commands.add_parser(name, help=COMMANDS[name][1], add_help=False)
    return parser


def _no_such_command(parser: argparse.ArgumentParser, typed: str) -> NoReturn:
    import difflib  # only on this error

    near = difflib.get_close_matches(typed, listed())  # a hidden command is never suggested
    hint = f" Did you mean '{near[0]}'?" if near else ""
    parser.error(f"no such command '{typed}'.{hint}")


def run(argv: Sequence[str]) -> NoReturn:
    """Parse `argv` (without the program's name), run its command, and exit with its status.

    A PodwallError is bad input (exit 2, its message on stderr); any other exception goes up."""
    if not argv or argv[0].startswith("-"):
        top = _top_parser()
        top.parse_args(argv[:1])  # -h and --version exit here; anything else is an error
        if argv:
            top.error(f"unrecognized arguments: {' '.join(argv)}")
        top.print_help(sys.stderr)
        raise SystemExit(EXIT_BAD_INPUT)  # no command given: the help, and status 2 (bad input)
    name, args = argv[0], list(argv[1:])
    if name not in COMMANDS:
        _no_such_command(_top_parser(), name)
    chosen = command(name)
    parser = chosen.parser(f"podwall {name}")
    parsed = parser.parse_intermixed_args(args)
    try:
        chosen.run(parsed)
    except PodwallError as exc:
        _fail(str(exc))
    except argparse.ArgumentError as exc:  # a usage error only the command can see
        parser.error(str(exc))
    raise SystemExit(0)


def main(argv: Sequence[str] | None = None) -> NoReturn:
    """The `podwall` program: `run`, and an exception that is no PodwallError is a bug."""
    try:
        run(sys.argv[1:] if argv is None else argv)
    except Exception as exc:  # a bug must not look like a verdict
        output.error(f"internal error: {type(exc).__name__}: {exc} (please report it)")
        raise SystemExit(EXIT_INTERNAL) from exc


def program() -> NoReturn:
    """The `podwall` executable (its console script and `python -m podwall`): `main`, and a
    one-shot command's process ends as soon as its output is written.

    A one-shot command reads its input, prints and returns: it leaves no server, child
    process, temporary file or buffered log behind. The interpreter's teardown after it (every
    module's objects freed one by one) is then pure cost: about 12 ms of `podwall check`'s
    ~85 ms on the tutorial, as much as its own work (bench/bench_review.py measures both), and
    these commands run in every CI job and editor keystroke. So their exit status is passed to
    os._exit once stdout and stderr are flushed. Every other command exits as usual.

    For the same reason a one-shot command runs without the cycle collector: it builds its
    objects once (a 10k-pod cluster parses to ~600k dicts and lists) and frees them at exit,
    the collector's passes over them found ~500 unreachable objects in a 10k-pod map and
    cost ~15% of its time."""
    one_shot = sys.argv[1:2] and sys.argv[1] in ONE_SHOT
    if one_shot:
        gc.disable()
    try:
        main()
    except SystemExit as exc:
        if not one_shot or not isinstance(exc.code, int):
            raise
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        except OSError:  # as the interpreter ends when it cannot write what stdout holds
            os._exit(EXIT_UNFLUSHED)
        os._exit(exc.code)
