"""`podwall exposure`: who can reach a pod, from which namespaces and from outside the cluster."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from podwall.cli import output, snapshot
from podwall.cli.options import (
    files_option,
    git_option,
    live_options,
    output_option,
)
from podwall.engine import connectivity
from podwall.engine.targets import TargetError, resolve
from podwall.model.cluster import Cluster, Pod
from podwall.review import exposurereport
from podwall.review.exposure import exposure as expose
from podwall.review.exposure import ranked

if TYPE_CHECKING:
    from podwall.cli.livetarget import LiveTarget


@click.command(short_help="Who can reach a pod, from where, on which ports.")
@click.argument("target", required=False, metavar="[POD|KIND/NAME]")
@files_option
@git_option
@live_options
@click.option("--all", "everything", is_flag=True, help="Every pod, most exposed first.")
@click.option(
    "-n",
    "--namespace",
    default="default",
    show_default=True,
    help="Namespace for references without one.",
)
@output_option(("text", "json"))
def exposure(
    target: str | None,
    paths: tuple[str, ...],
    revisions: tuple[str, ...],
    live: LiveTarget | None,
    everything: bool,
    namespace: str,
    fmt: str,
) -> None:
    """Who can reach a pod: from which namespaces and pods, from outside the cluster, on which
    ports.

    \b
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


def _pods(cluster: Cluster, target: str, namespace: str) -> list[Pod]:
    try:
        resolved = resolve(cluster, target, namespace)
    except TargetError as exc:
        snapshot.fail(str(exc))
    pods = [e.pod for e in resolved.endpoints if e.pod is not None]
    if not pods:
        snapshot.fail(f"{target}: is not a pod of the cluster")
    return pods
