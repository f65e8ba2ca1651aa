"""`podwall editor`: serve the visual policy editor on loopback, with a token in its URL."""

from __future__ import annotations

import argparse
import sys
import threading
import webbrowser
from collections.abc import Sequence
from pathlib import Path

from podwall.cli import options, output
from podwall.cli.command import Command, int_range
from podwall.cli.livetarget import up_kubeconfig
from podwall.editor.app import LOOPBACK_HOSTS, bind, create_app, serve, url
from podwall.editor.attached import Attached
from podwall.editor.cluster import ClusterError, ClusterSource
from podwall.editor.security import BindError, check_bind, new_token
from podwall.editor.sources import FileSource, Source
from podwall.editor.workspace import Workspace
from podwall.manifests.reader import LoadError

EXIT_BAD_INPUT = 2
LIVE_MAX_AGE = 2.0  # seconds: how stale the page's view of a live cluster may get


def _cluster(kubeconfig: Path | None) -> ClusterSource:
    path = kubeconfig or up_kubeconfig()
    try:
        source = ClusterSource(path)
        source.load()  # reachable now, or say so here and not on the page
    except (ClusterError, LoadError) as exc:
        hint = "" if kubeconfig else " (start one with `podwall up`, or give --kubeconfig)"
        output.error(f"{exc}{hint}")
        raise SystemExit(EXIT_BAD_INPUT) from None
    return source


def _workspace(paths: Sequence[str], cluster: ClusterSource | None) -> Workspace:
    """The files given, read once now so a wrong path fails here and not on the page."""
    source = FileSource(paths)
    try:
        source.load()
    except LoadError as exc:
        output.error(str(exc))
        raise SystemExit(EXIT_BAD_INPUT) from None
    sources: list[Source] = [source] if paths else []
    if cluster is not None:
        sources.insert(0, cluster)
    workspace = Workspace(sources, max_age=LIVE_MAX_AGE if cluster is not None else None)
    for problem in workspace.snapshot().errors:
        output.note(problem)
    return workspace


def _arguments(parser: argparse.ArgumentParser) -> None:
    options.add_filename(
        parser,
        "Manifest file or directory to load (YAML or JSON); more can be imported on the page.",
    )
    parser.add_argument(
        "--port",
        type=int_range(0, 65535),
        default=0,
        metavar="PORT",
        help="Port (default: a free one).",
    )
    parser.add_argument(
        "--host", default=None, metavar="ADDR", help="Address to listen on [127.0.0.1]."
    )
    parser.add_argument(
        "--open", dest="open_browser", action="store_true", help="Open the editor in a browser."
    )
    parser.add_argument(
        "--cluster",
        dest="attach",
        action="store_true",
        help="Attach to the running `podwall up` cluster: show its objects, apply the draft, "
        "run connection checks in its pods.",
    )
    options.add_kubeconfig_file(
        parser,
        "Attach to the cluster this kubeconfig names (implies --cluster; "
        "default: the one `podwall kubeconfig` prints).",
    )
    parser.add_argument(
        "--listen-any",
        action="store_true",
        help="Allow listening beyond loopback (0.0.0.0 unless --host); prints a warning.",
    )


def _run(args: argparse.Namespace) -> None:
    editor(
        paths=args.paths,
        port=args.port,
        host=args.host,
        open_browser=args.open_browser,
        attach=args.attach,
        kubeconfig=args.kubeconfig,
        listen_any=args.listen_any,
    )


def editor(
    *,
    paths: Sequence[str],
    port: int,
    host: str | None,
    open_browser: bool,
    attach: bool,
    kubeconfig: Path | None,
    listen_any: bool,
) -> None:
    """A visual NetworkPolicy editor that shows the real verdicts.

    Serves the editor on 127.0.0.1 and prints its URL, which carries a random token: requests
    without it get 403. Load manifests with -f (or import them on the page) to see which pods
    the selectors match, try connections and compare connectivity matrices before and after
    the draft. With --cluster, the editor shows a running `podwall up` cluster as it is,
    applies the draft to it, and runs the lab's curl checks in its pods.

      podwall editor -f examples/tutorial --open
      podwall editor --cluster --open
    """
    address = host or ("0.0.0.0" if listen_any else "127.0.0.1")
    try:
        warning = check_bind(address, listen_any=listen_any)
    except BindError as exc:
        output.error(str(exc))
        raise SystemExit(EXIT_BAD_INPUT) from None
    if warning:
        output.note(warning)
    cluster = _cluster(kubeconfig) if attach or kubeconfig is not None else None
    workspace = _workspace(paths, cluster)
    attached = Attached(cluster, workspace) if cluster is not None else None
    token = new_token()
    app = create_app(
        workspace,
        token,
        allowed_hosts=None if listen_any else LOOPBACK_HOSTS,
        attached=attached,
    )
    try:
        sock = bind(address, port)
    except OSError as exc:
        output.error(f"cannot listen on {address}:{port}: {exc.strerror or exc}")
        raise SystemExit(EXIT_BAD_INPUT) from None
    link = url(address, sock.getsockname()[1], token)
    if cluster is not None:
        output.line(f"attached to {cluster.server} (kubeconfig {cluster.kubeconfig})")
    output.line(f"podwall editor: {link}")
    output.line("(the token in the URL is the key to the editor; press Ctrl+C to stop)")
    sys.stdout.flush()
    if open_browser:
        threading.Timer(0.5, webbrowser.open, args=(link,)).start()
    serve(app, sock)


EDITOR = Command(editor.__doc__, _arguments, _run)

if __name__ == "__main__":  # `python -m podwall.cli.editor ARGS`, as `podwall editor ARGS`
    from podwall.cli.main import main

    main(["editor", *sys.argv[1:]])
