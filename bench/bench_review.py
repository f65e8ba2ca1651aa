"""Benchmark: how fast the review commands start, and `diff` on two 10k-pod states.

Printed as ratios of figures measured side by side in one run:

1. start-up: `podwall check`, `lint`, `diff` and `matrix` on the tutorial against a bare
   `python -c 'import yaml'`, each the fastest of N runs, interleaved so a busy machine slows
   all alike (goal: `check` within 2x); `import yaml, argparse` and an argparse command with
   check's options that reads the same YAML without podwall (bench/review_floor.py) are
   printed as the floor of a command built on argparse;
2. diff at scale: in one process, the connectivity map of a ~10,000-pod cluster, then
   `diff()` of that cluster and three reviews of it (both maps and the comparison; goal:
   each within 2x one map): every 50th policy removed; the same with a label added to every
   100th pod too (a canary rollout), where the second side has identities the first lacks;
   and the same with the value of a label changed on every 100th pod instead (a new
   version). Loading the YAML is timed apart. CPU seconds are
   printed beside the wall clock: on a shared machine they move less.

Usage (from the repository root):

    .venv/bin/python -m bench.bench_review                 # both parts
    .venv/bin/python -m bench.bench_review --skip-big      # start-up only
    .venv/bin/python -m bench.bench_review --big DIR       # a cluster already generated
    .venv/bin/python -m bench.bench_review --skip-big --instructions   # + callgrind counts
"""

from __future__ import annotations

import argparse
import gc
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out" / "review"
TUTORIAL = ROOT / "examples" / "tutorial"
STARTUP_GOAL = 2.0
DIFF_GOAL = 2.0


def _startup_commands() -> dict[str, list[str]]:
    py = sys.executable
    podwall = [py, "-m", "podwall"]
    return {
        "python -c 'import yaml'": [py, "-c", "import yaml"],
        "python -c 'import yaml, argparse'": [py, "-c", "import yaml, argparse"],
        # The floor: an argparse command with check's options reading the same YAML, no podwall
        # code (bench/review_floor.py); what `check` costs above it is podwall's own.
        "argparse + yaml command (floor)": [
            py, "-m", "bench.review_floor", "check", "-f", str(TUTORIAL), "--from",
            "deploy/frontend", "--to", "svc/backend:8080",
        ],
        "podwall check": [
            *podwall, "check", "-f", str(TUTORIAL), "--from", "deploy/frontend",
            "--to", "svc/backend:8080",
        ],
        "podwall lint": [*podwall, "lint", str(TUTORIAL)],
        "podwall diff": [*podwall, "diff", str(TUTORIAL / "simple-app.yaml"), str(TUTORIAL)],
        "podwall matrix": [*podwall, "matrix", "-f", str(TUTORIAL)],
    }  # fmt: skip


def startup(runs: int) -> bool:
    commands = _startup_commands()
    best = dict.fromkeys(commands, float("inf"))
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    for cmd in commands.values():  # once to write the bytecode caches
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, cwd=ROOT)
    for _ in range(runs):
        for name, cmd in commands.items():
            started = time.perf_counter()
            subprocess.run(
                cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, cwd=ROOT
            )
            best[name] = min(best[name], time.perf_counter() - started)
    base = best["python -c 'import yaml'"]
    print(f"start-up, fastest of {runs} interleaved runs (load {os.getloadavg()[0]:.1f})")
    print(f"  {'command':<34} {'ms':>7} {'x yaml':>7}")
    for name, seconds in best.items():
        print(f"  {name:<34} {seconds * 1000:7.1f} {seconds / base:7.2f}")
    ratio = best["podwall check"] / base
    met = ratio <= STARTUP_GOAL
    print(f"  goal: check within {STARTUP_GOAL}x: {'met' if met else 'NOT met'} ({ratio:.2f}x)")
    return met


def instructions() -> None:
    """The same commands counted in user-space instructions (valgrind's callgrind, one run
    each): unlike the wall clock, the count does not move with the load of a shared machine."""
    valgrind = shutil.which("valgrind")
    if valgrind is None:
        print("instructions: valgrind is not installed, skipped")
        return
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    counts: dict[str, int] = {}
    for name, cmd in _startup_commands().items():
        done = subprocess.run(
            [valgrind, "--tool=callgrind", "--callgrind-out-file=/dev/null", *cmd],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT,
        )  # fmt: skip
        found = re.search(r"Collected : (\d+)", done.stderr)
        counts[name] = int(found.group(1)) if found else 0
    base = counts["python -c 'import yaml'"] or 1
    print("start-up in instructions (callgrind, one run each)")
    print(f"  {'command':<34} {'M instr':>8} {'x yaml':>7}")
    for name, count in counts.items():
        print(f"  {name:<34} {count / 1e6:8.0f} {count / base:7.2f}")


def _variant(source: Path, name: str, edited: str, edit: Callable[[list[str]], list[str]]) -> Path:
    """`source`'s three files in `OUT/name`, the documents of `edited` passed through `edit`."""
    out = OUT / name
    out.mkdir(parents=True, exist_ok=True)
    for file in ("namespaces.yaml", "pods.yaml", "policies.yaml"):
        text = (source / file).read_text()
        if file == edited:
            text = "\n---\n".join(edit(text.split("\n---\n")))
        (out / file).write_text(text)
    return out


def _after(before: Path) -> Path:
    """The same cluster with every 50th policy removed."""
    return _variant(
        before,
        "after",
        "policies.yaml",
        lambda docs: [d for i, d in enumerate(docs) if i % 50 != 7],
    )


def _relabelled(after: Path) -> Path:
    """`_after` with a label added to every 100th pod."""
    label = "\n  labels:\n    rollout: canary\n"

    def edit(docs: list[str]) -> list[str]:
        return [
            d.replace("\n  labels:\n", label, 1) if i % 100 == 3 else d for i, d in enumerate(docs)
        ]

    return _variant(after, "relabelled", "pods.yaml", edit)


def _revalued(after: Path) -> Path:
    """`_after` with the first label's value changed on every 100th pod (a new version)."""

    def edit(docs: list[str]) -> list[str]:
        return [
            re.sub(r'(\n  labels:\n    [^:]+: "[^"]*)"', r'\1-v2"', d, count=1)
            if i % 100 == 3
            else d
            for i, d in enumerate(docs)
        ]

    return _variant(after, "revalued", "pods.yaml", edit)


def big(folder: Path, rounds: int = 7) -> bool:
    from podwall.cli.loading import load
    from podwall.engine import connectivity
    from podwall.review.diff import diff

    after = _after(folder)
    # As `podwall matrix` and `podwall diff` run: one-shot commands turn the cycle collector off
    # (cli/main.py), and its passes over two loaded 10k-pod states would weigh on the diff,
    # which allocates more, more than on the map.
    gc.disable()
    started = time.perf_counter()
    one = load([str(folder)]).cluster
    reviews = {
        "every 50th policy removed": load([str(after)]).cluster,
        "+ every 100th pod relabelled": load([str(_relabelled(after))]).cluster,
        "+ every 100th pod's label changed": load([str(_revalued(after))]).cluster,
    }
    loaded = time.perf_counter()
    wall = dict.fromkeys(["map", *reviews], float("inf"))
    cpu = dict(wall)
    pairs = {}
    for _ in range(rounds):  # alternated, the fastest of each kept
        for name in wall:
            began, began_cpu = time.perf_counter(), time.process_time()
            if name == "map":
                connectivity(one)
            else:
                result = diff(one, reviews[name])
            wall[name] = min(wall[name], time.perf_counter() - began)
            cpu[name] = min(cpu[name], time.process_time() - began_cpu)
            if name != "map":
                changes = (*result.newly_allowed, *result.newly_denied)
                pairs[name] = sum(1 for c in changes for _ in c.pairs())
    print(f"diff at scale: {len(one.pods)} pods, {len(one.policies)} policies")
    print(f"  load the states       {loaded - started:6.2f} s (YAML, validation, conversion)")
    print("  (in one process, the cycle collector off as in the commands; fastest of each)")
    print(f"  {'one map':<40}  {wall['map']:6.2f} s   CPU {cpu['map']:5.2f} s")
    met = True
    for name in reviews:
        ratio, cpu_ratio = wall[name] / wall["map"], cpu[name] / cpu["map"]
        met = met and ratio <= DIFF_GOAL
        print(
            f"  diff: {name:<34}  {wall[name]:6.2f} s   CPU {cpu[name]:5.2f} s  "
            f"{ratio:.2f}x one map (CPU {cpu_ratio:.2f}x), {pairs[name]} pod pairs changed"
        )
    gc.enable()
    print(f"  goal: each diff within {DIFF_GOAL}x one map: {'met' if met else 'NOT met'}")
    return met


def _generated() -> Path:
    from bench.bench_engine import BIG_SIZE, generate

    folder, _ = generate(BIG_SIZE)
    return folder / "cluster"


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=15, help="start-up runs per command")
    ap.add_argument("--skip-big", action="store_true", help="no 10k-pod diff")
    ap.add_argument("--big", type=Path, help="a generated cluster folder to use")
    ap.add_argument(
        "--instructions", action="store_true", help="also count start-up instructions (valgrind)"
    )
    args = ap.parse_args(argv)
    met = startup(args.runs)
    if args.instructions:
        instructions()
    if not args.skip_big:
        met = big(args.big or _generated()) and met
    return 0 if met else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
