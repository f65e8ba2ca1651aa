"""`podwall check` and `podwall explain`: the verdict on one connection, and why.

Exit status: 0 allowed, 1 denied, 2 bad input.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from podwall.cli import options, output, snapshot
from podwall.cli.command import Command
from podwall.cli.resolve import connections
from podwall.engine import explain as explaining
from podwall.engine.decide import decide
from podwall.engine.decision import Decision
from podwall.engine.targets import TargetError

if TYPE_CHECKING:
    from podwall.cli.livetarget import LiveTarget

EXIT_ALLOWED, EXIT_DENIED = 0, 1


def _decisions(
    paths: Sequence[str],
    revisions: Sequence[str],
    live: LiveTarget | None,
    src: str,
    dst: str,
    namespace: str,
) -> list[Decision]:
    cluster = snapshot.from_paths(paths, live, revisions)
    try:
        traffic, missing = connections(cluster, src, dst, namespace)
    except TargetError as exc:
        snapshot.fail(str(exc))
    for item in missing:
        output.note(f"{item.src.key} -> {item.reason}: no connection possible")
    if not traffic:
        snapshot.fail(f"{dst}: no destination pod has that port")
    return [decide(cluster, t) for t in traffic]


def _report(decisions: list[Decision], fmt: str, render: Callable[[Decision], list[str]]) -> None:
    allowed = all(d.allowed for d in decisions)
    if fmt == "json":
        output.emit_json(
            {"allowed": allowed, "decisions": [explaining.to_json(d) for d in decisions]}
        )
    else:
        for i, decision in enumerate(decisions):
            if i:
                output.line("")
            lines = render(decision)
            output.verdict_line(lines[0])
            for text in lines[1:]:
                output.line(text)
    raise SystemExit(EXIT_ALLOWED if allowed else EXIT_DENIED)


def _verdict_command(render: Callable[[Decision], list[str]], doc: str) -> Command:
    """A command that decides one connection and prints each decision with `render`."""

    def arguments(parser: argparse.ArgumentParser) -> None:
        options.add_filename(parser)
        options.add_git(parser)
        options.add_live(parser)
        options.add_connection(parser)
        options.add_output(parser, ("text", "json"))

    def run(args: argparse.Namespace) -> None:
        verdict(
            paths=args.paths,
            revisions=args.revisions,
            live=options.live_target(args),
            src=args.src,
            dst=args.dst,
            namespace=args.namespace,
            fmt=args.fmt,
            render=render,
        )

    return Command(doc, arguments, run)


def verdict(
    *,
    paths: Sequence[str],
    revisions: Sequence[str],
    live: LiveTarget | None,
    src: str,
    dst: str,
    namespace: str,
    fmt: str,
    render: Callable[[Decision], list[str]],
) -> None:
    _report(_decisions(paths, revisions, live, src, dst, namespace), fmt, render)


CHECK = _verdict_command(
    explaining.brief,
    """Is a connection allowed? Prints ALLOWED or DENIED and why.

    Exit status: 0 allowed, 1 denied, 2 bad input, so it fits CI scripts:

      podwall check -f k8s/ --from frontend --to svc/backend:8080 || exit 1

    A connection needs the source's egress and the destination's ingress to allow it. When a
    reference stands for several pods (a Deployment, a Service), every pair is checked and the
    answer is ALLOWED only if all are.
    """,
)
EXPLAIN = _verdict_command(
    explaining.full,
    """The full reasoning for one connection.

    For the source's egress and the destination's ingress: whether the pod is isolated and by
    which policies, and for each of their rules whether its ports and each peer match, and
    why not. Exit status as for `check`:

      podwall explain -f k8s/ --from deploy/not-frontend --to svc/backend:8080
    """,
)
