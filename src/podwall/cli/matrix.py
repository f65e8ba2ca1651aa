"""`podwall matrix`: reachability between every pair of pods, as a table, JSON or a drawing."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from podwall.cli import output, snapshot
from podwall.cli.options import (
    files_option,
    git_option,
    live_options,
    output_option,
    port_options,
)
from podwall.engine.connectivity import ConnectivityMap, connectivity
from podwall.engine.matrix import port_matrix
from podwall.engine.targets import TargetError, parse_port
from podwall.model.ports import Protocol

if TYPE_CHECKING:
    from podwall.cli.livetarget import LiveTarget


@click.command()
@files_option
@git_option
@live_options
@port_options
@output_option(("table", "json", "dot", "svg"))
def matrix(
    paths: tuple[str, ...],
    revisions: tuple[str, ...],
    live: LiveTarget | None,
    port: str | None,
    protocol: str,
    fmt: str,
) -> None:
    """Reachability between every pair of pods.

    \b
      podwall matrix -f k8s/ --port 8080     # pod-by-pod table for one port
      podwall matrix -f k8s/                 # every allowed port range
      podwall matrix -f k8s/ -o svg > map.svg

    With --port: a pod-by-pod matrix for that port. Its JSON is a stable contract:

    \b
      {"pods": ["ns/name", ...], "allowed": [[true, false, ...], ...]}

    rows are sources and columns destinations, in the order of "pods".

    Without --port: the full connectivity map, every allowed protocol and port range
    (`TCP 80-81, UDP 53`) between groups of pods that behave alike.

    -o dot draws it for Graphviz (workloads as nodes, allowed ports on the edges); -o svg
    runs Graphviz's `dot` when it is installed.
    """
    try:
        value = None if port is None else parse_port(port, f"--port {port}")
    except TargetError as exc:
        snapshot.fail(str(exc))
    cluster = snapshot.from_paths(paths, live, revisions)
    cmap = connectivity(cluster)
    proto = Protocol(protocol.upper())
    if fmt in ("dot", "svg"):
        _graph(cmap, value, proto, fmt)
    elif value is None:
        if fmt == "json":
            output.emit_json(cmap.to_json())
        else:
            output.connectivity_table(cmap)
    else:
        m = port_matrix(cluster, value, proto, cmap=cmap)
        if fmt == "json":
            output.emit_json(m.to_json())
        else:
            output.port_matrix_table(m)


def _graph(cmap: ConnectivityMap, port: int | str | None, protocol: Protocol, fmt: str) -> None:
    from podwall.review.graph import connectivity_dot

    def window(identity: int) -> int:
        number = port
        if isinstance(number, str):
            number = cmap.identities[identity].named_port(number, protocol)
        return 0 if number is None else cmap.atoms.port_mask(protocol, number)

    text = connectivity_dot(cmap, window=None if port is None else window)
    if fmt == "svg":
        from podwall.cli.graphviz import svg

        text = svg(text)
    output.write(text)
