"""Benchmark: the editor's views at 1,500 pods, against `podwall diff` of the same change.

On the issue's cluster (`gen_cluster.py --namespaces 200 --pods 5-10 --policies 1-3 --seed 7`,
1,518 pods), in one process through the app's ASGI interface (no socket, no browser), each
request the page makes is timed, the fastest of N rounds, interleaved: the page's state, the
matrix's first window, a scrolled window, a filter, the window with a draft (two maps and the
diff, the draft's first request), a cell's pod pairs, and the draft's diff list. Beside them,
`review.diff()` of the same change as `podwall diff` computes it (both maps and the diff).
Goal: every view within 1 s, and the matrix with a draft within 2x `podwall diff`.

Before this bench's change, the tab's one request (`/api/diff`, pod by pod) took 62-74 s on the
same cluster and the page 271 s to attach its table (see the editor's commit message).

Usage (from the repository root):

    .venv/bin/python -m bench.bench_editor
    .venv/bin/python -m bench.bench_editor --cluster DIR     # a cluster already generated
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
GENERATOR = ROOT / "bench" / "gen_cluster.py"
ARGS = ["--namespaces", "200", "--pods", "5-10", "--policies", "1-3", "--seed", "7"]
TOKEN = "bench"
VIEW_GOAL = 1.0  # seconds
DIFF_GOAL = 2.0  # x podwall diff
DENY_DNS = {"name": "deny-dns", "namespace": "kube-system"}


def generate(out: Path) -> Path:
    subprocess.run([sys.executable, str(GENERATOR), *ARGS, "--out", str(out)], check=True)
    (out / "meta.json").unlink()  # podwall reads every .json under -f DIR
    return out


def client(folder: Path) -> Callable[[str, Any], Any]:
    from podwall.editor.app import create_app
    from podwall.editor.sources import FileSource
    from podwall.editor.workspace import Workspace

    app = create_app(Workspace([FileSource([str(folder)])]), TOKEN)

    def call(path: str, body: Any = None) -> Any:
        async def go() -> httpx.Response:
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as c:
                headers = {"x-podwall-token": TOKEN}
                if body is None:
                    return await c.get(path, headers=headers)
                return await c.post(path, json=body, headers=headers)

        response = asyncio.run(go())
        response.raise_for_status()
        return response.json()

    return call


def views(call: Callable[[str, Any], Any]) -> dict[str, Callable[[], Any]]:
    form = call("/api/new", {"namespace": ""})["form"]
    form.update(DENY_DNS)
    form["ingress"]["isolated"] = True
    window = {"offset": 0, "limit": 40}
    counter = iter(range(1, 1 << 30))

    def fresh_draft() -> Any:  # a new draft each time: two maps and the diff, not the cache
        return call("/api/grid", {"form": {**form, "name": f"deny-{next(counter)}"}})

    return {
        "page state": lambda: call("/api/state", None),
        "matrix window": lambda: call("/api/grid", {"rows": window, "cols": window}),
        "scrolled window": lambda: call(
            "/api/grid",
            {"rows": {"offset": 300, "limit": 40}, "cols": {"offset": 200, "limit": 40}},
        ),
        "filter text": lambda: call("/api/grid", {"text": "cache", "rows": window}),
        "matrix + new draft": fresh_draft,
        "cell pod pairs": lambda: call("/api/grid/cell", {"form": form, "row": 0, "col": 0}),
        "draft diff list": lambda: call("/api/diff", {"form": form}),
    }


def podwall_diff(folder: Path) -> Callable[[], Any]:
    from podwall.editor.drafts import render_form
    from podwall.editor.form import empty_form
    from podwall.editor.sources import FileSource
    from podwall.editor.workspace import Workspace, with_draft
    from podwall.review.diff import diff

    base = Workspace([FileSource([str(folder)])]).snapshot().cluster
    form = {**empty_form(namespace="kube-system"), **DENY_DNS}
    form["ingress"]["isolated"] = True
    after = with_draft(base, render_form(form).policy)
    return lambda: diff(base, after)


def run(folder: Path, rounds: int) -> bool:
    call = client(folder)
    steps = views(call)
    steps["podwall diff (same change)"] = podwall_diff(folder)
    for step in steps.values():  # once to warm the caches a page would have warmed
        step()
    best = dict.fromkeys(steps, float("inf"))
    for _ in range(rounds):
        for name, step in steps.items():
            started = time.perf_counter()
            step()
            best[name] = min(best[name], time.perf_counter() - started)
    pods = len(call("/api/state", None)["cluster"]["pods"])
    print(f"editor views at {pods} pods, fastest of {rounds} interleaved rounds")
    print(f"  {'view':<28} {'ms':>8}")
    for name, seconds in best.items():
        print(f"  {name:<28} {seconds * 1000:8.1f}")
    slowest = max(v for k, v in best.items() if not k.startswith("podwall"))
    ratio = best["matrix + new draft"] / best["podwall diff (same change)"]
    met = slowest <= VIEW_GOAL and ratio <= DIFF_GOAL
    print(
        f"  goal: every view within {VIEW_GOAL:.0f} s (slowest {slowest * 1000:.0f} ms), "
        f"matrix with a new draft within {DIFF_GOAL}x podwall diff ({ratio:.2f}x): "
        f"{'met' if met else 'NOT met'}"
    )
    return met


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--cluster", type=Path, help="a generated cluster folder to use")
    args = ap.parse_args(argv)
    if args.cluster:
        return 0 if run(args.cluster, args.rounds) else 1
    with tempfile.TemporaryDirectory(prefix="podwall-bench-editor-") as tmp:
        return 0 if run(generate(Path(tmp) / "cluster"), args.rounds) else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
