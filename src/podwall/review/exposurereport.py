"""Exposure in words: one block per pod, or one line per pod for the cluster-wide summary.

Pure: no I/O here; the caller prints the lines.
"""

from __future__ import annotations

from podwall.model.ports import PortSet
from podwall.review.exposure import Exposure, Sources


def _ports(ports: PortSet) -> str:
    text = ports.render()
    return "all ports" if text == "all" else text


def _who(s: Sources) -> str:
    if s.every_pod:
        return f"every pod ({len(s.pods)})" if len(s.pods) > 1 else s.pods[0]
    names = [p.split("/", 1)[1] for p in s.pods]
    shown = ", ".join(names[:6]) + (f" and {len(names) - 6} more" if len(names) > 6 else "")
    return shown


def text(e: Exposure) -> list[str]:
    kind = f" ({e.pod.workload[0].lower()} {e.pod.workload[1]})" if e.pod.workload else ""
    lines = [f"{e.pod.key}{kind} is reachable"]
    if e.outside:
        lines.append("  from outside the cluster:")
        lines += [f"    {o.block}: {_ports(o.ports)}" for o in e.outside]
    else:
        lines.append("  from outside the cluster: no")
    if not e.sources:
        lines.append("  from pods: none")
    for s in e.sources:
        lines.append(f"  from namespace {s.namespace}: {_who(s)}: {_ports(s.ports)}")
    return lines


def summary(found: list[Exposure], namespaces: int) -> list[str]:
    """One line per pod, most exposed first: outside, namespaces, pods, ports."""
    rows = [("POD", "FROM OUTSIDE", "FROM NAMESPACES", "PODS", "PORTS")]
    for e in found:
        outside = "anywhere" if e.anywhere else ("some addresses" if e.outside else "no")
        spaces = e.namespaces
        ns_text = "all" if namespaces > 1 and len(spaces) == namespaces else ",".join(spaces) or "-"
        rows.append((e.pod.key, outside, ns_text, str(e.source_count), _all_ports(e)))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]) - 1)]
    return [
        "  ".join(cell.ljust(w) for cell, w in zip(r[:-1], widths, strict=True)) + "  " + r[-1]
        for r in rows
    ]


def _all_ports(e: Exposure) -> str:
    """Every port something reaches the pod on."""
    items = [
        (proto, lo, hi)
        for ports in [*(o.ports for o in e.outside), *(s.ports for s in e.sources)]
        for proto, ranges in ports.ranges
        for lo, hi in ranges
    ]
    return _ports(PortSet.of(items)) if items else "none"
