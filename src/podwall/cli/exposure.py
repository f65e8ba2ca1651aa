"""`podwall exposure`: who can reach a pod, from which namespaces and from outside the cluster."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import TYPE_CHECKING

from podwall.cli import options, output, snapshot
from podwall.cli.command import Command
from podwall.engine import connectivity
from podwall.engine.targets import TargetError, resolve
from podwall.model.cluster import Cluster, Pod
from podwall.review import exposurereport
from podwall.review.exposure import exposure as expose
from podwall.review.exposure import ranked

if TYPE_CHECKING:
    from podwall.cli.livetarget import LiveTarget


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "target", nargs="?", metavar="POD|KIND/NAME", help="The pod (POD, NS/POD, KIND/NAME)."
    )
    options.add_filename(parser)
    options.add_git(parser)
    options.add_live(parser)
    parser.add_argument(
        "--all", dest="everything", action="store_true", help="Every pod, most exposed first."
    )
    options.add_namespace(parser)
    options.add_output(parser, ("text", "json"))


def _run(args: argparse.Namespace) -> None:
    exposure(
        target=args.target,
        paths=args.paths,
        revisions=args.revisions,
        live=options.live_target(args),
        everything=args.everything,
        namespace=args.namespace,
        fmt=args.fmt,
    )


def exposure(
    *,
    target: str | None,
    paths: Sequence[str],
    revisions: Sequence[str],
    live: LiveTarget | None,
    everything: bool,
    namespace: str,
    fmt: str,
) -> None:
    """Who can reach a pod: from which namespaces and pods, from outside the cluster, on which
    ports.

      podwall exposure -f k8s/ deploy/backend
      podwall exposure -f k8s/ svc/backend
      podwall exposure -f k8s/ --all    # every pod, the most exposed first

    A pod is reachable from another when the source's egress and its ingress both allow it;
    from outside the cluster only its ingress counts.
    """
    if (target is None) == (not everything):
        snapshot.fail("name a pod (POD, NS/POD, KIND/NAME, svc/NAME) or give --all")
    cluster = snapshot.from_paths(paths, live, revisions)
    cmap = connectivity(cluster)
    if everything:
        found = ranked(cluster, cmap)
    else:
        assert target is not None
        found = expose(cluster, _pods(cluster, target, namespace), cmap)
    if fmt == "json":
        output.emit_json({"pods": [e.to_json() for e in found]})
        return
    if everything:
        for text in exposurereport.summary(found, len({p.namespace for p in cluster.pods})):
            output.line(text)
        return
    for i, e in enumerate(found):
        if i:
            output.line("")
        for text in exposurereport.text(e):
            output.line(text)


EXPOSURE = Command(exposure.__doc__, _arguments, _run)


def _pods(cluster: Cluster, target: str, namespace: str) -> list[Pod]:
    try:
        resolved = resolve(cluster, target, namespace)
    except TargetError as exc:
        snapshot.fail(str(exc))
    pods = [e.pod for e in resolved.endpoints if e.pod is not None]
    if not pods:
        snapshot.fail(f"{target}: is not a pod of the cluster")
    return pods
