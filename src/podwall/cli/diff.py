"""`podwall diff`: what a change to the manifests newly allows and newly denies.

Exit status: 0 no change, 1 changes, 2 bad input, so CI can require a review.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import TYPE_CHECKING

from podwall.cli import options, output, snapshot
from podwall.cli.command import Command
from podwall.engine.targets import TargetError, parse_port
from podwall.manifests.reader import LoadError, load_paths
from podwall.model.cluster import Cluster
from podwall.model.ports import Protocol
from podwall.review import diffreport
from podwall.review.diff import Diff, Focus
from podwall.review.diff import diff as compare

if TYPE_CHECKING:
    from pathlib import Path

    from podwall.cli.livetarget import LiveTarget

EXIT_SAME, EXIT_CHANGED = 0, 1


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "sides", nargs="*", metavar="PATH", help="[BEFORE] AFTER: files or directories."
    )
    options.add_git(
        parser,
        "BEFORE is PATH at git revision REV (AFTER defaults to PATH in the working tree); "
        "given twice, the second is AFTER. With a cluster: applied on it, as AFTER.",
    )
    options.add_live(parser)
    options.add_port(parser)
    options.add_output(parser, ("text", "markdown", "json", "dot", "svg"))


def _run(args: argparse.Namespace) -> None:
    diff(
        sides=args.sides,
        revisions=args.revisions,
        live=options.live_target(args),
        port=args.port,
        protocol=args.protocol,
        fmt=args.fmt,
    )


def diff(
    *,
    sides: Sequence[str],
    revisions: Sequence[str],
    live: LiveTarget | None,
    port: str | None,
    protocol: str,
    fmt: str,
) -> None:
    """The connections a change newly allows and newly denies.

      podwall diff old/ new/                  # two files or directories
      podwall diff --git origin/main:k8s k8s  # a pull request against its base
      podwall diff --git HEAD:k8s             # uncommitted changes under k8s/
      podwall diff --git v1:k8s --git v2:k8s  # two revisions
      podwall diff --cluster k8s/             # the cluster, and with k8s/ applied
      podwall diff --cluster --git HEAD:k8s   # the same with k8s/ at HEAD

    Connections are grouped by workload and port ranges, each with the policy and rule
    responsible on the side where it is allowed. With a cluster, a workload of the files and
    the pods it runs there are one endpoint: the manifests it runs print no change.
    -o markdown is for a pull-request comment; -o json is a stable contract:

      {"newly_allowed": [{"src": "ns/pod", "dst": "ns/pod",
                          "ports": "TCP 8080"}],
       "newly_denied": [...]}

    -o dot draws the changes for Graphviz (newly allowed green, newly denied red), -o svg
    runs Graphviz's `dot` when it is installed. Exit status: 0 no change, 1 changes, 2 bad
    input.
    """
    focus = _focus(port, protocol)
    before, after = _sides(sides, revisions, live)
    result = compare(before, after, focus=focus)
    _print(result, fmt, focus)
    raise SystemExit(EXIT_CHANGED if result.changed else EXIT_SAME)


DIFF = Command(diff.__doc__, _arguments, _run)


def _focus(port: str | None, protocol: str) -> Focus | None:
    if port is None:
        return None
    try:
        return Focus(port=parse_port(port, f"--port {port}"), protocol=Protocol(protocol.upper()))
    except TargetError as exc:
        snapshot.fail(str(exc))


def _sides(
    sides: Sequence[str], revisions: Sequence[str], live: LiveTarget | None
) -> tuple[Cluster, Cluster]:
    if live is not None:
        if not sides and not revisions:
            snapshot.fail("with a cluster, give what to apply on it: AFTER paths or --git REV:PATH")
        return snapshot.live_and_applied(live, sides, revisions)
    if len(revisions) > 2:
        snapshot.fail(f"--git is BEFORE, or BEFORE and AFTER; got {len(revisions)} revisions")
    if len(revisions) == 2:
        if sides:
            snapshot.fail("with two --git revisions, give no paths: the second revision is AFTER")
        return _revision(revisions[0], "before"), _revision(revisions[1], "after")
    if revisions:
        if len(sides) > 1:
            snapshot.fail("with --git, give at most one AFTER path (BEFORE is the revision)")
        after_path = sides[0] if sides else str(_worktree(revisions[0]))
        return _revision(revisions[0], "before"), _files(after_path, "after")
    if len(sides) != 2:
        snapshot.fail(
            "give BEFORE and AFTER (files or directories), or --git REV:PATH and AFTER; "
            f"got {len(sides)} path(s)"
        )
    return _files(sides[0], "before"), _files(sides[1], "after")


def _files(path: str, label: str) -> Cluster:
    return snapshot.from_loaded(lambda: load_paths([path]), label)


def _revision(spec: str, label: str) -> Cluster:
    # Imported here: git runs in a subprocess, which a diff of two paths never needs.
    from podwall.manifests.git import load_revision

    return snapshot.from_loaded(lambda: load_revision(spec), label)


def _worktree(spec: str) -> Path:
    from podwall.manifests.git import worktree_path

    try:
        return worktree_path(spec)
    except LoadError as exc:
        snapshot.fail(str(exc))


def _print(result: Diff, fmt: str, focus: Focus | None) -> None:
    if fmt == "json":
        output.emit_json(result.to_json(with_ports=focus is None))
        return
    if fmt in ("dot", "svg"):
        from podwall.review.graph import diff_dot

        text = diff_dot(result)
        if fmt == "svg":
            from podwall.cli.graphviz import svg

            text = svg(text)
        output.write(text)
        return
    lines = diffreport.markdown(result) if fmt == "markdown" else diffreport.text(result)
    for text in lines:
        output.line(text)
