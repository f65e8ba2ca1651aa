"""`podwall matrix`: reachability between every pair of pods, as a table, JSON or a drawing."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import TYPE_CHECKING

from podwall.cli import options, output, snapshot
from podwall.cli.command import Command
from podwall.engine.connectivity import ConnectivityMap, connectivity
from podwall.engine.matrix import port_matrix
from podwall.engine.targets import TargetError, parse_port
from podwall.model.ports import Protocol

if TYPE_CHECKING:
    from podwall.cli.livetarget import LiveTarget


def _arguments(parser: argparse.ArgumentParser) -> None:
    options.add_filename(parser)
    options.add_git(parser)
    options.add_live(parser)
    options.add_port(parser)
    options.add_output(parser, ("table", "json", "dot", "svg"))


def _run(args: argparse.Namespace) -> None:
    matrix(
        paths=args.paths,
        revisions=args.revisions,
        live=options.live_target(args),
        port=args.port,
        protocol=args.protocol,
        fmt=args.fmt,
    )


def matrix(
    *,
    paths: Sequence[str],
    revisions: Sequence[str],
    live: LiveTarget | None,
    port: str | None,
    protocol: str,
    fmt: str,
) -> None:
    """Reachability between every pair of pods.

      podwall matrix -f k8s/ --port 8080     # pod-by-pod table for one port
      podwall matrix -f k8s/                 # every allowed port range
      podwall matrix -f k8s/ -o svg > map.svg

    With --port: a pod-by-pod matrix for that port. Its JSON is a stable contract:

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


MATRIX = Command(matrix.__doc__, _arguments, _run)


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
