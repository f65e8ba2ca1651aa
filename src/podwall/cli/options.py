"""Options shared by several commands, declared once so they read the same everywhere."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click

from podwall.model.ports import Protocol

if TYPE_CHECKING:  # a cluster to read: only when --cluster, --kubeconfig or --context is given
    from podwall.cli.livetarget import LiveTarget

FILES_HELP = "Manifest file, directory or - for stdin (YAML or JSON, multi-document, kind: List)."

Decorator = Callable[[Callable[..., Any]], Callable[..., Any]]


def filename_option(help: str) -> Decorator:
    """-f/--filename PATH, repeatable, as `paths`; `help` says what the command reads."""
    return click.option("-f", "--filename", "paths", multiple=True, metavar="PATH", help=help)


def files_option(f: Callable[..., Any]) -> Callable[..., Any]:
    return filename_option(FILES_HELP)(f)


def kubeconfig_file_option(help: str) -> Decorator:
    """--kubeconfig FILE as a Path (None when not given); `help` says which default applies."""
    from pathlib import Path  # only the commands that take a kubeconfig file pay for pathlib

    return click.option(
        "--kubeconfig", type=click.Path(dir_okay=False, path_type=Path), default=None, help=help
    )


def git_option(f: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--git",
        "revisions",
        multiple=True,
        metavar="REV:PATH",
        help="Manifests at a git revision (a file or directory), read without checking it out.",
    )(f)


def output_option(choices: tuple[str, ...], help: str = "Output format.") -> Decorator:
    """-o/--output as `fmt`, one of `choices` (the first by default)."""
    return click.option(
        "-o",
        "--output",
        "fmt",
        type=click.Choice(choices),
        default=choices[0],
        show_default=True,
        help=help,
    )


def port_options(f: Callable[..., Any]) -> Callable[..., Any]:
    f = click.option(
        "--protocol",
        type=click.Choice([p.value for p in Protocol], case_sensitive=False),
        default="TCP",
        show_default=True,
        help="Protocol of --port.",
    )(f)
    return click.option(
        "--port",
        default=None,
        metavar="PORT",
        help="One port (number, or a name resolved on each destination pod).",
    )(f)


def live_options(f: Callable[..., Any]) -> Callable[..., Any]:
    """--cluster, --kubeconfig and --context, handed to the command as `live: LiveTarget | None`."""

    @functools.wraps(f)
    def command(
        *args: Any, kubeconfig: str | None, context: str | None, up: bool, **kwargs: Any
    ) -> Any:
        return f(*args, live=_live_target(kubeconfig, context, up), **kwargs)

    command = click.option(
        "--context", metavar="NAME", help="The kubeconfig context to read (implies a cluster)."
    )(command)
    command = click.option(
        "--kubeconfig",
        metavar="PATH",
        help="Read the cluster this kubeconfig names (the files given are layered on top).",
    )(command)
    return click.option(
        "--cluster",
        "up",
        is_flag=True,
        help="Read the running `podwall up` cluster (the files given are layered on top).",
    )(command)


def _live_target(kubeconfig: str | None, context: str | None, up: bool) -> LiveTarget | None:
    if not up and kubeconfig is None and context is None:
        return None  # files only, the common case: the cluster's types are never imported
    from podwall.cli.livetarget import LiveTarget

    return LiveTarget.of(kubeconfig, context, up)


def connection_options(f: Callable[..., Any]) -> Callable[..., Any]:
    f = click.option(
        "-n",
        "--namespace",
        default="default",
        show_default=True,
        help="Namespace for references without one.",
    )(f)
    f = click.option(
        "--to",
        "dst",
        required=True,
        metavar="DST[:PORT[/PROTO]]",
        help="Destination: POD, NS/POD, KIND/NAME (deploy, sts, ds, job, ...), "
        "svc/NAME (port mapped through targetPort) or an IP address.",
    )(f)
    f = click.option(
        "--from",
        "src",
        required=True,
        metavar="SRC",
        help="Source: POD, NS/POD, KIND/NAME or an IP address outside the cluster.",
    )(f)
    return f
