"""The floor of `podwall check` in bench_review: a click command with check's options that reads
the same manifests with the same YAML loader, and nothing of podwall (no model, no validation,
no engine). Started as `python -m bench.review_floor check -f DIR --from A --to B`, like
`python -m podwall`, so both pay for runpy.

What `check` costs above this line is podwall's own: its modules, their dataclasses, validating
the objects and the verdict.
"""

from __future__ import annotations

import os

import click
import yaml


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option("0", prog_name="floor")
def cli() -> None:
    """A click group, as podwall's."""


@cli.command()
@click.option("-f", "--filename", "paths", multiple=True, metavar="PATH")
@click.option("--git", "revisions", multiple=True, metavar="REV:PATH")
@click.option("--cluster", "up", is_flag=True)
@click.option("--kubeconfig", metavar="PATH")
@click.option("--context", metavar="NAME")
@click.option("--from", "src", required=True, metavar="SRC")
@click.option("--to", "dst", required=True, metavar="DST")
@click.option("-n", "--namespace", default="default", show_default=True)
@click.option("-o", "--output", "fmt", type=click.Choice(["text", "json"]), default="text")
def check(
    paths: tuple[str, ...],
    revisions: tuple[str, ...],
    up: bool,
    kubeconfig: str | None,
    context: str | None,
    src: str,
    dst: str,
    namespace: str,
    fmt: str,
) -> None:
    """Read every manifest under `paths` and print how many documents they hold."""
    count = 0
    for folder in paths:
        for name in sorted(os.listdir(folder)):
            with open(os.path.join(folder, name), encoding="utf-8") as file:
                count += sum(1 for _ in yaml.load_all(file.read(), Loader=yaml.CSafeLoader))
    click.echo(f"{count} documents, {src} -> {dst}")


if __name__ == "__main__":
    cli(prog_name="floor")
