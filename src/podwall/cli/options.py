"""Options shared by several commands, declared once so they read the same everywhere: each
`add_...` adds its arguments to a command's parser, and the typed readers below turn what was
parsed into what the commands take (`live_target`: a LiveTarget or None).

It must not import what only a cluster needs: LiveTarget loads only when one is named.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from podwall.cli.command import file_path
from podwall.model.ports import Protocol

if TYPE_CHECKING:  # a cluster to read: only when --cluster, --kubeconfig or --context is given
    from podwall.cli.livetarget import LiveTarget

FILES_HELP = "Manifest file, directory or - for stdin (YAML or JSON, multi-document, kind: List)."
PROTOCOLS = tuple(p.value for p in Protocol)


def add_filename(parser: argparse.ArgumentParser, help: str = FILES_HELP) -> None:
    """-f/--filename PATH, repeatable, as `paths`; `help` says what the command reads."""
    parser.add_argument(
        "-f", "--filename", dest="paths", action="append", default=[], metavar="PATH", help=help
    )


def add_kubeconfig_file(parser: argparse.ArgumentParser, help: str) -> None:
    """--kubeconfig FILE as a Path (None when not given); `help` says which default applies."""
    parser.add_argument("--kubeconfig", type=file_path, default=None, metavar="FILE", help=help)


def add_git(parser: argparse.ArgumentParser, help: str | None = None) -> None:
    parser.add_argument(
        "--git",
        dest="revisions",
        action="append",
        default=[],
        metavar="REV:PATH",
        help=help
        or "Manifests at a git revision (a file or directory), read without checking it out.",
    )


def add_output(
    parser: argparse.ArgumentParser, choices: tuple[str, ...], help: str = "Output format."
) -> None:
    """-o/--output as `fmt`, one of `choices` (the first by default)."""
    parser.add_argument(
        "-o",
        "--output",
        dest="fmt",
        choices=choices,
        default=choices[0],
        help=f"{help} [default: %(default)s]",
    )


def protocol(text: str) -> str:
    """A protocol in any case (`tcp`), as its canonical name (`TCP`)."""
    return text.upper()


def add_protocol(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--protocol",
        type=protocol,
        choices=PROTOCOLS,
        default="TCP",
        help="Protocol of --port. [default: %(default)s]",
    )


def add_port(parser: argparse.ArgumentParser) -> None:
    """--port PORT (a number or a name) and --protocol."""
    parser.add_argument(
        "--port",
        default=None,
        metavar="PORT",
        help="One port (number, or a name resolved on each destination pod).",
    )
    add_protocol(parser)


def add_live(parser: argparse.ArgumentParser) -> None:
    """--cluster, --kubeconfig and --context; `live_target` reads them."""
    parser.add_argument(
        "--cluster",
        dest="up",
        action="store_true",
        help="Read the running `podwall up` cluster (the files given are layered on top).",
    )
    parser.add_argument(
        "--kubeconfig",
        metavar="PATH",
        help="Read the cluster this kubeconfig names (the files given are layered on top).",
    )
    parser.add_argument(
        "--context", metavar="NAME", help="The kubeconfig context to read (implies a cluster)."
    )


def live_target(args: argparse.Namespace) -> LiveTarget | None:
    """The cluster that --cluster, --kubeconfig or --context name; None for files only."""
    kubeconfig: str | None = args.kubeconfig
    context: str | None = args.context
    up: bool = args.up
    if not up and kubeconfig is None and context is None:
        return None  # files only, the common case: the cluster's types are never imported
    from podwall.cli.livetarget import LiveTarget

    return LiveTarget.of(kubeconfig, context, up)


def add_namespace(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-n",
        "--namespace",
        default="default",
        metavar="TEXT",
        help="Namespace for references without one. [default: %(default)s]",
    )


def add_connection(parser: argparse.ArgumentParser) -> None:
    """--from SRC, --to DST and -n/--namespace, as `src`, `dst` and `namespace`."""
    parser.add_argument(
        "--from",
        dest="src",
        required=True,
        metavar="SRC",
        help="Source: POD, NS/POD, KIND/NAME or an IP address outside the cluster.",
    )
    parser.add_argument(
        "--to",
        dest="dst",
        required=True,
        metavar="DST[:PORT[/PROTO]]",
        help="Destination: POD, NS/POD, KIND/NAME (deploy, sts, ds, job, ...), "
        "svc/NAME (port mapped through targetPort) or an IP address.",
    )
    add_namespace(parser)
