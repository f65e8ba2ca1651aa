"""`podwall apiserver`: the Kubernetes-compatible API server in the foreground (a dev command)."""

from __future__ import annotations

from pathlib import Path

import click

from podwall.apiserver.server import Server


@click.command("apiserver", hidden=True)
@click.option(
    "--state-dir",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Directory for the store, certificates, token and kubeconfig (created 0700).",
)
@click.option("--port", type=int, default=6443, show_default=True, help="Port on 127.0.0.1.")
def apiserver(state_dir: Path, port: int) -> None:
    """Serve the API on https://127.0.0.1:PORT until interrupted."""
    server = Server(state_dir, port)
    server.bind()
    click.echo(f"podwall API server on {server.url}", err=True)
    click.echo(f"export KUBECONFIG={server.kubeconfig_path}", err=True)
    server.run_forever()
