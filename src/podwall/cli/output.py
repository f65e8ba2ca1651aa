"""Terminal and JSON output: colours only on a terminal, JSON always plain and stable.

Lines are written as they are, with ANSI colours on a terminal (none under NO_COLOR or
TERM=dumb); rich is imported only to draw tables, so the commands that print lines (check,
explain, diff, lint) start without it, and json only to write JSON.
"""

from __future__ import annotations

import os
import sys
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from podwall.engine import ConnectivityMap, PortMatrix

_CODES = {"bold green": "1;32", "bold red": "1;31", "green": "32", "red": "31", "dim": "2"}


def _coloured(stream: IO[str]) -> bool:
    if os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def _styled(text: str, style: str | None, stream: IO[str]) -> str:
    if not style or style not in _CODES or not _coloured(stream):
        return text
    return f"\x1b[{_CODES[style]}m{text}\x1b[0m"


# Above this much compact JSON, indenting it with msgspec saves more than importing it costs.
_REINDENT_BYTES = 256 * 1024


def emit_json(data: Any) -> None:
    """`json.dumps(data, indent=2)` and a newline, to stdout.

    The standard library indents in Python, not in C: a 10k-pod map took ~0.4 s. A large
    document is therefore written compact by the C encoder and indented by msgspec, which only
    re-spaces the text it is given: the bytes are json.dumps's with indent=2 (tests compare).
    """
    import json

    compact = json.dumps(data)
    if len(compact) >= _REINDENT_BYTES:
        import msgspec

        try:
            text = msgspec.json.format(compact, indent=2)
        except msgspec.DecodeError:  # NaN or Infinity: Python writes them, JSON has no such words
            text = json.dumps(data, indent=2)
    else:
        text = json.dumps(data, indent=2)
    sys.stdout.write(text + "\n")


def write(text: str) -> None:
    """Text as it is (DOT, SVG): no wrapping, no markup."""
    sys.stdout.write(text)


def line(text: str, style: str | None = None) -> None:
    sys.stdout.write(_styled(text, style, sys.stdout) + "\n")


def verdict_line(text: str) -> None:
    style = "bold green" if text.startswith("ALLOWED") else "bold red"
    word, _, rest = text.partition("  ")
    sys.stdout.write(_styled(word, style, sys.stdout) + "  " + rest + "\n")


def note(text: str) -> None:
    """A line on stderr, after everything already printed to stdout: a terminal or a log that
    shows both streams gets the table, its newline, then the note on a line of its own."""
    sys.stdout.flush()
    sys.stderr.write(_styled(text, "dim", sys.stderr) + "\n")


def error(text: str) -> None:
    sys.stderr.write(_styled("error: ", "bold red", sys.stderr) + text + "\n")


def _console() -> Console:
    from rich.console import Console

    # emoji=False: no `:name:` codes in podwall's tables, and a header as str then never loads
    # rich's table of every emoji name (~11M instructions of `podwall matrix`).
    console = Console(highlight=False, soft_wrap=True, emoji=False)
    if not console.is_terminal:
        # Piped output is read by scripts and pagers: never truncate a pod name to fit 80 columns.
        console = Console(highlight=False, soft_wrap=True, width=4096, emoji=False)
    return console


def print_table(table: Table) -> None:
    _console().print(table)


def port_matrix_table(m: PortMatrix) -> None:
    from rich.table import Table
    from rich.text import Text

    # Names go in as Text, never as markup: a `[` in a manifest must not restyle or crash.
    table = Table(
        title=Text(f"reachability on {m.protocol} {m.port} (rows: from, columns: to)"),
        title_justify="left",
        show_lines=False,
    )
    table.add_column("from \\ to", style="bold", overflow="fold")
    for pod in m.pods:
        table.add_column(Text(pod), justify="center", overflow="fold")
    for pod, row in zip(m.pods, m.allowed, strict=True):
        table.add_row(Text(pod), *[_cell(v) for v in row])
    _console().print(table)
    allowed = sum(v for row in m.allowed for v in row)
    note(f"{allowed} of {len(m.pods) ** 2} pairs allowed (a pod can always reach itself)")


def _cell(allowed: bool) -> Text:
    from rich.text import Text

    return Text("✓", style="green") if allowed else Text("✗", style="bold red")


def group_name(cmap: ConnectivityMap, index: int) -> str:
    ident = cmap.identities[index]
    pods = [cmap.pods[i] for i in cmap.groups[index]]
    if len(pods) == 1:
        return pods[0].key
    return f"{ident.namespace}/{ident.labels.render()} ({len(pods)} pods)"


def connectivity_table(cmap: ConnectivityMap, max_names: int = 6) -> None:
    from rich.table import Table
    from rich.text import Text

    data = cmap.to_json()
    table = Table(title="allowed connections between pods", title_justify="left")
    table.add_column("from", overflow="fold")
    table.add_column("to", overflow="fold")
    table.add_column("ports", style="green", overflow="fold")
    rows = sorted(data["connections"], key=lambda c: (c["to"], c["from"]))
    for conn in rows:
        table.add_row(
            Text(_names(cmap, conn["from"], max_names)),
            Text(_names(cmap, conn["to"], max_names)),
            Text(conn["text"]),
        )
    _console().print(table)
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
