"""Options shared by several commands, declared once so they read the same everywhere."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from podwall.model.ports import Protocol

FILES_HELP = "Manifest file, directory or - for stdin (YAML or JSON, multi-document, kind: List)."

Decorator = Callable[[Callable[..., Any]], Callable[..., Any]]


def files_option(f: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "-f", "--filename", "paths", multiple=True, metavar="PATH", help=FILES_HELP
    )(f)


def output_option(choices: tuple[str, ...]) -> Decorator:
    return click.option(
        "-o",
        "--output",
        "fmt",
        type=click.Choice(choices),
        default=choices[0],
        show_default=True,
        help="Output format.",
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
