"""Terminal and JSON output: colours only on a terminal, JSON always plain and stable."""

from __future__ import annotations

import json
import sys
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from podwall.engine import ConnectivityMap, PortMatrix

_out = Console(highlight=False, soft_wrap=True)
if not _out.is_terminal:
    # Piped output is read by scripts and pagers: never truncate a pod name to fit 80 columns.
    _out = Console(highlight=False, soft_wrap=True, width=4096)
_err = Console(stderr=True, highlight=False, soft_wrap=True)


def emit_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2) + "\n")


def line(text: str, style: str | None = None) -> None:
    _out.print(Text(text, style=style or ""))


def verdict_line(text: str) -> None:
    style = "bold green" if text.startswith("ALLOWED") else "bold red"
    word, _, rest = text.partition("  ")
    _out.print(Text.assemble((word, style), "  ", rest))


def print_table(table: Table) -> None:
    _out.print(table)


def note(text: str) -> None:
    _err.print(Text(text, style="dim"))


def error(text: str) -> None:
    _err.print(Text("error: ", style="bold red") + Text(text))


def port_matrix_table(m: PortMatrix) -> None:
    # Names go in as Text, never as markup: a `[` in a manifest must not restyle or crash.
    table = Table(
        title=Text(f"reachability on {m.protocol} {m.port} (rows: from, columns: to)"),
        title_justify="left",
        show_lines=False,
    )
    table.add_column("from \\ to", style="bold")
    for pod in m.pods:
        table.add_column(Text(pod), justify="center")
    for pod, row in zip(m.pods, m.allowed, strict=True):
        table.add_row(Text(pod), *[_cell(v) for v in row])
    _out.print(table)
    allowed = sum(v for row in m.allowed for v in row)
    note(f"{allowed} of {len(m.pods) ** 2} pairs allowed (a pod can always reach itself)")


def _cell(allowed: bool) -> Text:
    return Text("✓", style="green") if allowed else Text("✗", style="bold red")


def group_name(cmap: ConnectivityMap, index: int) -> str:
    ident = cmap.identities[index]
    pods = [cmap.pods[i] for i in cmap.groups[index]]
    if len(pods) == 1:
        return pods[0].key
    return f"{ident.namespace}/{ident.labels.render()} ({len(pods)} pods)"


def connectivity_table(cmap: ConnectivityMap, max_names: int = 6) -> None:
    data = cmap.to_json()
    table = Table(title="allowed connections between pods", title_justify="left")
    table.add_column("from")
    table.add_column("to")
    table.add_column("ports", style="green")
    rows = sorted(data["connections"], key=lambda c: (c["to"], c["from"]))
    for conn in rows:
        table.add_row(
            Text(_names(cmap, conn["from"], max_names)),
            Text(_names(cmap, conn["to"], max_names)),
            Text(conn["text"]),
        )
    _out.print(table)
    note(
        f"{len(cmap.pods)} pods in {len(cmap.groups)} groups; pairs not listed have no "
        "connection; a pod can always reach itself"
    )


def _names(cmap: ConnectivityMap, indices: list[int], limit: int) -> str:
    if len(indices) == len(cmap.groups) and len(indices) > 1:
        return "every pod"
    names = [group_name(cmap, i) for i in indices[:limit]]
    if len(indices) > limit:
        names.append(f"... and {len(indices) - limit} more groups")
    return "\n".join(names)
