"""DOT to SVG with Graphviz's `dot`, when it is installed."""

from __future__ import annotations

import shutil
import subprocess

from podwall.cli import snapshot

DOT_TIMEOUT = 120.0  # seconds: a large map takes dot a while, never this long


def svg(dot_text: str) -> str:
    """`dot -Tsvg`; exits 2 (bad input) when Graphviz is missing or refuses the graph."""
    program = shutil.which("dot")
    if program is None:
        snapshot.fail("-o svg needs Graphviz (the `dot` program): install graphviz, or use -o dot")
    try:
        done = subprocess.run(
            [program, "-Tsvg"],
            input=dot_text,
            capture_output=True,
            text=True,
            timeout=DOT_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        snapshot.fail(f"Graphviz did not finish within {DOT_TIMEOUT:.0f} s; use -o dot")
    if done.returncode != 0:
        snapshot.fail(f"Graphviz failed: {done.stderr.strip() or done.returncode}")
    return done.stdout
