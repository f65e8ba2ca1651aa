"""`podwall probe`: the same manifests as real pods, with real packets deciding the matrix."""

from __future__ import annotations

import argparse
import os
import shutil
from collections import defaultdict
from collections.abc import Sequence
from typing import TYPE_CHECKING

from rich.table import Table
from rich.text import Text

from podwall.cli import options, output
from podwall.cli.command import Command, int_range
from podwall.model.ports import Protocol
from podwall.runtime.addressplan import MAX_NODES  # pure: no netlink is loaded

if TYPE_CHECKING:
    from podwall.runtime.probe import Probe, ProbeResult

EXIT_AGREE, EXIT_DISAGREE, EXIT_BAD_INPUT, EXIT_UNSUPPORTED = 0, 1, 2, 3
NEEDS = ("nft", "ip", "unshare", "setpriv")


def _arguments(parser: argparse.ArgumentParser) -> None:
    options.add_filename(parser, "Manifest file, directory or - for stdin.")
    parser.add_argument(
        "--port",
        type=int,
        default=None,
        metavar="PORT",
        help="Serve and probe this port on every pod (default: each pod's declared ports).",
    )
    options.add_protocol(parser)
    parser.add_argument(
        "--timeout",
        type=float,
        default=1.0,
        metavar="FLOAT",
        help="Seconds to wait for each connection (failures are tried twice). "
        "[default: %(default)s]",
    )
    parser.add_argument(
        "--nodes",
        type=int_range(1, MAX_NODES),
        default=1,
        metavar="N",
        help="Sandbox nodes (node-1 … node-N); pods are spread over them, round-robin in file "
        "order unless spec.nodeName names one. [default: %(default)s]",
    )
    parser.add_argument(
        "--flows",
        dest="show_flows",
        action="store_true",
        help="Also print the flows the nodes reported: each connection's verdict and the policy "
        "and rule that decided it, as `podwall observe` shows them.",
    )
    options.add_output(parser, ("table", "json"))


def _run(args: argparse.Namespace) -> None:
    probe(
        paths=args.paths,
        port=args.port,
        protocol=args.protocol,
        timeout=args.timeout,
        nodes=args.nodes,
        show_flows=args.show_flows,
        fmt=args.fmt,
    )


def probe(
    *,
    paths: Sequence[str],
    port: int | None,
    protocol: str,
    timeout: float,
    nodes: int,
    show_flows: bool,
    fmt: str,
) -> None:
    """Run the manifests as real pods and measure what really connects.

      sudo podwall probe -f k8s/ --port 8080
      sudo podwall probe -f k8s/ --nodes 2 --flows

    Builds a throwaway sandbox (network namespaces, nftables, cluster DNS), runs a server on
    every declared container port of every pod (or on --port), connects from every pod to
    every other pod, tears everything down and prints what it saw next to what the engine
    predicts. Every disagreement is marked. Needs root. ClusterNetworkPolicies (Admin and
    Baseline tiers) and Nodes in the manifests are enforced and predicted as NetworkPolicies
    are; host-network pods are not run in the sandbox.

    With --nodes N the sandbox has N nodes joined by a routed underlay; each node enforces
    the egress and ingress of its own pods, so a connection between nodes is checked by both.

    With --flows the nodes also report what they decided (their flow logs), printed after the
    matrix, one line per verdict (under "flows" with -o json).

    With --port and -o json the output is the `podwall matrix` contract:
      {"pods": ["ns/name", ...], "allowed": [[true, false, ...], ...]}

    Exit status: 0 observed = predicted, 1 a disagreement, 2 bad input, 3 a probe this
    kernel cannot run (SCTP).
    """
    # Imported here: the runtime (netlink, processes) is not needed by the other commands.
    from podwall.cli.snapshot import from_paths
    from podwall.runtime.probe import run_probe

    proto = Protocol(protocol.upper())
    cluster = from_paths(paths, None, ())
    _preflight(proto)
    result = run_probe(
        cluster,
        port=port,
        protocol=proto,
        timeout=timeout,
        nodes=nodes,
        flows=show_flows,
        progress=output.note,
    )
    for warning in result.warnings:
        output.note(f"warning: {warning}")
    if fmt == "json":
        data = _json(result, port)
        if show_flows:
            data["flows"] = [f.to_json() for f in result.flows]
        output.emit_json(data)
    else:
        _table(result, port)
        if show_flows:
            _flows(result)
    for text in result.unsupported:
        output.error(text)
    if result.unsupported:
        raise SystemExit(EXIT_UNSUPPORTED)
    raise SystemExit(EXIT_DISAGREE if result.disagreements else EXIT_AGREE)


PROBE = Command(probe.__doc__, _arguments, _run)


def _preflight(proto: Protocol) -> None:
    from podwall.runtime.connect import sctp_supported

    if proto is Protocol.SCTP and not sctp_supported():
        output.error("SCTP is not available in this kernel: no SCTP probe can run")
        raise SystemExit(EXIT_UNSUPPORTED)
    if os.geteuid() != 0:
        output.error("podwall probe needs root: it creates network namespaces and nftables rules")
        raise SystemExit(EXIT_BAD_INPUT)
    missing = [tool for tool in NEEDS if shutil.which(tool) is None]
    if missing:
        output.error(
            f"podwall probe needs {', '.join(missing)} (Debian: nftables iproute2 util-linux)"
        )
        raise SystemExit(EXIT_BAD_INPUT)


def _json(result: ProbeResult, port: int | None) -> dict[str, object]:
    if port is not None:
        cells = {(p.src, p.dst): bool(p.observed) for p in result.probes}
        return {
            "pods": result.pods,
            "allowed": [[s == d or cells[(s, d)] for d in result.pods] for s in result.pods],
        }
    return {
        "pods": result.pods,
        "probes": [
            {"from": p.src, "to": p.dst, "port": p.port, "protocol": p.protocol.value,
             "observed": p.observed, "predicted": p.predicted}
            for p in result.probes
        ],
        "services": [
            {"from": s.src, "service": s.service, "name": s.name, "port": s.port,
             "protocol": s.protocol.value, "observed": s.observed, "predicted": s.predicted}
            for s in result.services
        ],
        "unsupported": result.unsupported,
        "seconds": round(result.seconds, 2),
    }  # fmt: skip


def _table(result: ProbeResult, port: int | None) -> None:
    from podwall.runtime.probe import ServiceProbe

    cells: dict[tuple[str, str], list[Probe]] = defaultdict(list)
    for p in result.probes:
        cells[(p.src, p.dst)].append(p)
    what = f"{port}" if port is not None else "declared ports"
    table = Table(
        title=f"observed (predicted) on {what}: rows from, columns to", title_justify="left"
    )
    table.add_column("from \\ to", style="bold", overflow="fold")
    for pod in result.pods:
        table.add_column(pod, justify="center", overflow="fold")
    for src in result.pods:
        table.add_row(src, *[_cell(cells[(src, dst)], src == dst) for dst in result.pods])
    output.print_table(table)
    if result.services:
        _services_table(result)
    bad = result.disagreements
    output.note(
        f"{len(result.probes)} connections probed in {result.seconds:.1f}s; "
        f"{len(bad)} disagreement(s) with the engine"
    )
    for item in bad:
        target = item.name if isinstance(item, ServiceProbe) else item.dst
        where = f"{item.src} -> {target}:{item.port}/{item.protocol}"
        output.error(
            f"DISAGREE {where}: observed {item.observed}, engine predicts {item.predicted}"
        )


def _flows(result: ProbeResult) -> None:
    from podwall.flows import render

    output.line("")
    output.line(f"flows the nodes reported ({len(result.flows)}):", style="bold")
    for flow in result.flows:
        output.line(render.text(flow))


def _cell(probes: list[Probe], self_pair: bool) -> Text:
    if self_pair:
        return Text("·", style="dim")
    if not probes:
        return Text("-", style="dim")
    run = [p for p in probes if p.observed is not None]
    if not run:
        return Text("n/a", style="yellow")
    ok = sum(bool(p.observed) for p in run)
    agree = all(p.observed == p.predicted for p in run)
    text = ("✓" if ok else "✗") if len(run) == 1 else f"{ok}/{len(run)}"
    if not agree:
        return Text(f"{text}!", style="bold yellow reverse")
    return Text(text, style="green" if ok == len(run) else "red" if ok == 0 else "yellow")


def _services_table(result: ProbeResult) -> None:
    table = Table(title="services by name, through cluster DNS", title_justify="left")
    for column in ("from", "dialled", "observed", "predicted"):
        table.add_column(column, overflow="fold")
    for s in result.services:
        mark = "" if s.predicted is None or s.predicted == s.observed else " !"
        table.add_row(
            s.src,
            f"{s.name}:{s.port}",
            Text(
                "connected" if s.observed else "timed out", style="green" if s.observed else "red"
            ),
            ("mixed" if s.predicted is None else "allowed" if s.predicted else "denied") + mark,
        )
    output.print_table(table)
