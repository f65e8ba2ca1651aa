"""`podwall editor`: serve the visual policy editor on loopback, with a token in its URL."""

from __future__ import annotations

import sys
import threading
import webbrowser

import click

from podwall.cli import output
from podwall.editor.app import LOOPBACK_HOSTS, bind, create_app, serve, url
from podwall.editor.security import BindError, check_bind, new_token
from podwall.editor.sources import FileSource
from podwall.editor.workspace import Workspace
from podwall.manifests.reader import LoadError

EXIT_BAD_INPUT = 2


def _workspace(paths: tuple[str, ...]) -> Workspace:
    """The files given, read once now so a wrong path fails here and not on the page."""
    source = FileSource(paths)
    try:
        source.load()
    except LoadError as exc:
        output.error(str(exc))
        raise SystemExit(EXIT_BAD_INPUT) from None
    workspace = Workspace([source] if paths else [])
    for problem in workspace.snapshot().errors:
        output.note(problem)
    return workspace


@click.command()
@click.option(
    "-f",
    "--filename",
    "paths",
    multiple=True,
    metavar="PATH",
    help="Manifest file or directory to load (YAML or JSON); more can be imported on the page.",
)
@click.option(
    "--port", type=click.IntRange(0, 65535), default=0, help="Port (default: a free one)."
)
@click.option("--host", default=None, metavar="ADDR", help="Address to listen on [127.0.0.1].")
@click.option("--open", "open_browser", is_flag=True, help="Open the editor in a browser.")
@click.option(
    "--listen-any",
    is_flag=True,
    help="Allow listening beyond loopback (0.0.0.0 unless --host); prints a warning.",
)
def editor(
    paths: tuple[str, ...], port: int, host: str | None, open_browser: bool, listen_any: bool
) -> None:
    """A visual NetworkPolicy editor that shows the real verdicts.

    Serves the editor on 127.0.0.1 and prints its URL, which carries a random token: requests
    without it get 403. Load manifests with -f (or import them on the page) to see which pods
    the selectors match, try connections and compare connectivity matrices before and after
    the draft.

    \b
      podwall editor -f examples/tutorial --open
    """
    address = host or ("0.0.0.0" if listen_any else "127.0.0.1")
    try:
        warning = check_bind(address, listen_any=listen_any)
    except BindError as exc:
        output.error(str(exc))
        raise SystemExit(EXIT_BAD_INPUT) from None
    if warning:
        output.note(warning)
    workspace = _workspace(paths)
    token = new_token()
    app = create_app(workspace, token, allowed_hosts=None if listen_any else LOOPBACK_HOSTS)
    try:
        sock = bind(address, port)
    except OSError as exc:
        output.error(f"cannot listen on {address}:{port}: {exc.strerror or exc}")
        raise SystemExit(EXIT_BAD_INPUT) from None
    link = url(address, sock.getsockname()[1], token)
    output.line(f"podwall editor: {link}")
    output.line("(the token in the URL is the key to the editor; press Ctrl+C to stop)")
    sys.stdout.flush()
    if open_browser:
        threading.Timer(0.5, webbrowser.open, args=(link,)).start()
    serve(app, sock)


if __name__ == "__main__":  # `python -m podwall.cli.editor`, until `podwall editor` is wired
    editor()
