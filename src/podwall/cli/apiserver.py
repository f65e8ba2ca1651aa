"""`podwall apiserver`: the Kubernetes-compatible API server in the foreground (a dev command)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from podwall.apiserver.server import Server
from podwall.cli.command import Command, dir_path


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--state-dir",
        type=dir_path,
        required=True,
        metavar="DIRECTORY",
        help="Directory for the store, certificates, token and kubeconfig (created 0700).",
    )
    parser.add_argument(
        "--port",
        type=int,
        default=6443,
        metavar="INTEGER",
        help="Port on 127.0.0.1. [default: %(default)s]",
    )


def apiserver(*, state_dir: Path, port: int) -> None:
    """Serve the API on https://127.0.0.1:PORT until interrupted."""
    server = Server(state_dir, port)
    server.bind()
    sys.stderr.write(f"podwall API server on {server.url}\n")
    sys.stderr.write(f"export KUBECONFIG={server.kubeconfig_path}\n")
    sys.stderr.flush()
    server.run_forever()


APISERVER = Command(
    apiserver.__doc__,
    _arguments,
    lambda args: apiserver(state_dir=args.state_dir, port=args.port),
)
