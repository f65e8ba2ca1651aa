"""Benchmark: podwall's full connectivity map against IBM's network-config-analyzer (NCA).

For clusters of growing size (made by bench/gen_cluster.py, cached in bench/out/),
run, each in its own subprocess, on the same YAML files:

    nca --connectivity policies.yaml -n namespaces.yaml -p pods.yaml -o txt_no_fw_rules
    podwall matrix -f DIR -o json

measuring wall time and peak RSS (`os.wait4` rusage of that one child), then compare the two
answers pair by pair (bench/compare.py) and print a table. A last run times podwall alone on
~10,000 pods and ~2,000 policies against its goals (10 s, 1 GiB).

Usage (from the repository root, after `bash bench/setup.sh`):

    .venv/bin/python -m bench.bench_engine               # all sizes, NCA included (~3 min)
    .venv/bin/python -m bench.bench_engine --quick       # 74 and 361 pods only
    .venv/bin/python -m bench.bench_engine --skip-nca    # podwall only

The table goes to stdout, progress to stderr; results also land in bench/out/results.json.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import signal
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bench.compare import Comparison, check_podwall_file, compare, load_podwall_file, report
from bench.nca_output import parse_nca_file

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
GENERATOR = ROOT / "bench" / "gen_cluster.py"
NCA = ROOT / ".venv-bench" / "bin" / "nca"
PODWALL = ROOT / ".venv" / "bin" / "podwall"
GOAL_SECONDS = 10.0
GOAL_MIB = 1024.0
# main when issue 14 was filed ("the 10k-pod, 2k-policy map at least twice as fast as today's
# main measured side by side"): its podwall runs from its own source, with today's .venv.
BASELINE = "bc01724"
BASELINE_GOAL = 2.0
BASELINE_ROUNDS = 5


@dataclass(frozen=True)
class Size:
    """gen_cluster.py parameters; `pods` and `policies` are per namespace."""

    namespaces: int
    pods: str = "5-10"
    policies: str = "1-3"
    seed: int = 1

    @property
    def name(self) -> str:
        return f"ns{self.namespaces}-pods{self.pods}-pol{self.policies}-seed{self.seed}"


# 74, 361, 753 and 1,500 pods; then 9,996 pods and 2,002 policies.
COMPARED_SIZES = (Size(10), Size(50), Size(100), Size(200))
BIG_SIZE = Size(1325, policies="1-2")
SIZE_SETS = {"quick": COMPARED_SIZES[:2], "small": COMPARED_SIZES[:3], "all": COMPARED_SIZES}


@dataclass
class Measured:
    """Wall seconds (fastest run), peak RSS in MiB (largest), exit code; `error` if one failed."""

    seconds: float
    mib: float
    returncode: int
    error: str | None = None
    runs: int = 1
    cpu_seconds: float = 0.0  # user + system time of the fastest run


@dataclass
class Row:
    size: Size
    pods: int
    policies: int
    nca: Measured | None = None
    podwall: Measured | None = None
    comparison: Comparison | None = field(default=None, repr=False)
    compare_error: str | None = None


def log(message: str) -> None:
    load = os.getloadavg()[0]
    print(f"[{time.strftime('%H:%M:%S')} load {load:.2f}] {message}", file=sys.stderr, flush=True)


# ------------------------------------------------------------------------------ measuring
# A child's ru_maxrss counts the pages it had before exec, a copy of its parent's: measured from
# a big parent (a test runner), every child would look as big. So a small spawner runs the
# command and reports the command's own peak.
_SPAWNER = (
    "import os, sys\n"
    "pid = os.fork()\n"
    "if pid == 0:\n"
    "    os.execvp(sys.argv[2], sys.argv[2:])\n"
    "_, status, usage = os.wait4(pid, 0)\n"
    "with open(sys.argv[1], 'w') as f:\n"
    "    f.write(f'{usage.ru_maxrss} {usage.ru_utime + usage.ru_stime}')\n"
    "sys.exit(os.waitstatus_to_exitcode(status) & 0xFF)\n"
)


def measure(cmd: list[str], stdout: Path, stderr: Path, timeout: float) -> Measured:
    """Run `cmd` with output to files; wall time and this command's own peak RSS."""
    report = stdout.with_suffix(stdout.suffix + ".rusage")
    spawner = [sys.executable, "-S", "-c", _SPAWNER, str(report), *cmd]
    with stdout.open("wb") as out, stderr.open("wb") as err:
        start = time.perf_counter()
        proc = subprocess.Popen(
            spawner, stdin=subprocess.DEVNULL, stdout=out, stderr=err, start_new_session=True
        )
        expired = threading.Event()
        timer = threading.Timer(timeout, _kill, (proc, expired))
        timer.start()
        _, status, _ = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
        timer.cancel()
    proc.returncode = code = os.waitstatus_to_exitcode(status)
    error = f"timeout after {timeout:.0f} s" if expired.is_set() else None
    if error is None and code != 0:
        error = f"exit code {code} (see {stderr})"
    kib, cpu = ([*report.read_text().split(), "0", "0"])[:2] if report.exists() else ("0", "0")
    report.unlink(missing_ok=True)
    return Measured(seconds, int(kib) / 1024, code, error, 1, float(cpu))  # ru_maxrss: KiB


def measure_best(cmd: list[str], stdout: Path, stderr: Path, args: argparse.Namespace) -> Measured:
    """Up to `args.repeat` runs, fewer once they took `args.budget` seconds: the fastest."""
    best = measure(cmd, stdout, stderr, args.timeout)
    total = best.seconds
    while best.error is None and best.runs < args.repeat and total < args.budget:
        again = measure(cmd, stdout, stderr, args.timeout)
        total += again.seconds
        if again.error is not None:
            return again
        fast = again if again.seconds < best.seconds else best
        mib = max(best.mib, again.mib)
        best = Measured(fast.seconds, mib, 0, None, best.runs + 1, fast.cpu_seconds)
    return best


def _kill(proc: subprocess.Popen[bytes], expired: threading.Event) -> None:
    """Kill the spawner's process group (its own session): the command goes with it."""
    expired.set()
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)


# ----------------------------------------------------------------------------- generating
def generate(size: Size) -> tuple[Path, dict[str, Any]]:
    """The run's folder and the cluster's meta.json; the cluster (cached) is in `cluster/`.

    Only the three YAML files stay in `cluster/`: podwall reads every .yaml/.yml/.json file
    under `-f DIR`, so meta.json and the outputs are kept beside it.
    """
    folder = OUT / size.name
    meta_path = folder / "meta.json"
    if not meta_path.exists():
        log(f"generating {size.name}")
        cmd = [sys.executable, str(GENERATOR), "--namespaces", str(size.namespaces)]
        cmd += ["--pods", size.pods, "--policies", size.policies, "--seed", str(size.seed)]
        cmd += ["--out", str(folder / "cluster")]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        (folder / "cluster" / "meta.json").rename(meta_path)
    meta: dict[str, Any] = json.loads(meta_path.read_text())
    return folder, meta


# -------------------------------------------------------------------------------- running
def run_nca(folder: Path, args: argparse.Namespace) -> Measured:
    saved = folder / "nca.measured.json"
    if args.reuse_nca and saved.exists() and (folder / "nca.txt").exists():
        log(f"NCA: reusing {saved}")
        return Measured(**json.loads(saved.read_text()))
    cluster = folder / "cluster"
    cmd = [str(NCA), "--connectivity", str(cluster / "policies.yaml")]
    cmd += ["-n", str(cluster / "namespaces.yaml"), "-p", str(cluster / "pods.yaml")]
    cmd += ["-o", "txt_no_fw_rules"]
    measured = measure_best(cmd, folder / "nca.txt", folder / "nca.err", args)
    if measured.error is None:
        saved.write_text(json.dumps(asdict(measured)))
    return measured


def run_podwall(folder: Path, args: argparse.Namespace) -> Measured:
    cmd = [str(PODWALL), "matrix", "-f", str(folder / "cluster"), "-o", "json"]
    return measure_best(cmd, folder / "podwall.json", folder / "podwall.err", args)


def run_size(size: Size, args: argparse.Namespace, with_nca: bool) -> Row:
    folder, meta = generate(size)
    counts = meta["counts"]
    row = Row(size, counts["pods"], counts["policies"])
    if with_nca:
        log(f"NCA on {row.pods} pods, {row.policies} policies")
        row.nca = run_nca(folder, args)
        log(f"NCA: {_measured_text(row.nca)}")
    log(f"podwall on {row.pods} pods, {row.policies} policies")
    row.podwall = run_podwall(folder, args)
    log(f"podwall: {_measured_text(row.podwall)}")
    if _ok(row.nca) and _ok(row.podwall):
        _compare(row, folder)
    elif _ok(row.podwall):
        _check_podwall(row, folder)
    return row


def _check_podwall(row: Row, folder: Path) -> None:
    """Without NCA, at least check that podwall's map is well formed and has every pod."""
    try:
        pods = check_podwall_file(folder / "podwall.json")
    except (ValueError, KeyError, TypeError) as exc:
        row.compare_error = f"bad podwall map: {type(exc).__name__}: {exc}"
        return
    if pods != row.pods:
        row.compare_error = f"podwall's map has {pods} pods, the cluster {row.pods}"


def _compare(row: Row, folder: Path) -> None:
    log("comparing answers")
    try:
        row.comparison = compare(
            parse_nca_file(folder / "nca.txt"), load_podwall_file(folder / "podwall.json")
        )
    except (ValueError, KeyError, TypeError) as exc:
        row.compare_error = f"{type(exc).__name__}: {exc}"
        log(f"cannot compare: {row.compare_error}")
        return
    with (folder / "compare.txt").open("w") as out:
        report(row.comparison, out)
    log(
        f"pairs compared: {row.comparison.pairs_compared}, "
        f"differences: {row.comparison.differences}"
    )


def _ok(measured: Measured | None) -> bool:
    return measured is not None and measured.error is None


def _measured_text(measured: Measured) -> str:
    text = (
        f"{measured.seconds:.2f} s ({measured.cpu_seconds:.2f} s CPU), {measured.mib:.0f} MiB "
        f"(fastest of {measured.runs})"
    )
    return text if measured.error is None else f"{text}, FAILED: {measured.error}"


# ------------------------------------------------------------------------------- printing
HEADER = (
    f"{'pods':>6}  {'policies':>8}  {'nca_s':>8}  {'podwall_s':>9}  {'speedup':>8}  "
    f"{'nca_MiB':>8}  {'podwall_MiB':>11}  {'pairs_compared':>14}  identical"
)


def machine_lines() -> list[str]:
    cpus = len(os.sched_getaffinity(0))
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return [
        f"machine: nproc={cpus} cpu={_cpu_model()!r} memory={_mem_total_gib():.1f} GiB "
        f"load average={load}",
        f"python: {platform.python_version()} ({sys.executable}); NCA: {_nca_version()}",
    ]


def _cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def _mem_total_gib() -> float:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) / 1024 / 1024
    return 0.0


def _nca_version() -> str:
    if not NCA.exists():
        return "not installed (run bench/setup.sh)"
    done = subprocess.run([str(NCA), "--version"], capture_output=True, text=True, check=False)
    return (done.stdout.strip() or done.stderr.strip()).splitlines()[-1]


def format_row(row: Row) -> str:
    nca, pw = row.nca, row.podwall
    speedup = "-"
    if nca is not None and pw is not None and _ok(nca) and _ok(pw):
        speedup = f"{nca.seconds / pw.seconds:.1f}x"
    return (
        f"{row.pods:>6}  {row.policies:>8}  {_cell(nca, 's'):>8}  {_cell(pw, 's'):>9}  "
        f"{speedup:>8}  {_cell(nca, 'mib'):>8}  {_cell(pw, 'mib'):>11}  "
        f"{_pairs_cell(row):>14}  {_identical_cell(row)}"
    )


def _cell(measured: Measured | None, what: str) -> str:
    if measured is None:
        return "-"
    if measured.error is not None:
        return "timeout" if measured.error.startswith("timeout") else "error"
    return f"{measured.seconds:.2f}" if what == "s" else f"{measured.mib:.0f}"


def _pairs_cell(row: Row) -> str:
    return f"{row.comparison.pairs_compared:,}" if row.comparison else "-"


def _identical_cell(row: Row) -> str:
    if row.compare_error:
        return "cannot compare"
    if row.comparison is None:
        return "-"
    if row.comparison.identical:
        return "yes"
    return f"NO ({row.comparison.differences:,} differences)"


def big_line(row: Row) -> str:
    pw = row.podwall
    head = f"podwall alone, {row.pods:,} pods, {row.policies:,} policies:"
    if pw is None or pw.error is not None or row.compare_error:
        return f"{head} FAILED: {pw.error if pw and pw.error else row.compare_error}"
    time_ok = "met" if pw.seconds < GOAL_SECONDS else "MISSED"
    mem_ok = "met" if pw.mib < GOAL_MIB else "MISSED"
    return (
        f"{head} {pw.seconds:.2f} s (goal < {GOAL_SECONDS:.0f} s: {time_ok}), "
        f"{pw.mib:.0f} MiB (goal < {GOAL_MIB:.0f} MiB: {mem_ok})"
    )


# ------------------------------------------------------------------- against the baseline
@dataclass
class SideBySide:
    """Interleaved runs of the baseline's map and today's on the same input: best of each."""

    baseline: list[float] = field(default_factory=list)
    now: list[float] = field(default_factory=list)
    error: str | None = None

    def ratio(self) -> float:
        return min(self.baseline) / min(self.now)


def baseline_source() -> Path | None:
    """The baseline's src/ (extracted once from git into bench/out/), or None without it."""
    target = OUT / f"baseline-{BASELINE}"
    if not (target / "src" / "podwall" / "__init__.py").exists():
        target.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(
            ["git", "-C", str(ROOT), "archive", BASELINE, "src/podwall"],
            capture_output=True,
            check=False,
        )
        if archive.returncode != 0:
            return None
        subprocess.run(["tar", "-x", "-C", str(target)], input=archive.stdout, check=True)
    return target / "src"


def side_by_side(big: Row, args: argparse.Namespace) -> SideBySide:
    out = SideBySide()
    source = baseline_source()
    if source is None:
        out.error = f"commit {BASELINE} is not in this clone (a shallow clone?)"
        return out
    folder = OUT / big.size.name
    cluster = str(folder / "cluster")
    python = str(ROOT / ".venv" / "bin" / "python")
    then = ["env", f"PYTHONPATH={source}", python, "-m", "podwall", "matrix", "-f", cluster]
    now = [str(PODWALL), "matrix", "-f", cluster]
    for round_ in range(BASELINE_ROUNDS):
        log(f"side by side with {BASELINE}, round {round_ + 1} of {BASELINE_ROUNDS}")
        for cmd, times, name in ((then, out.baseline, "baseline"), (now, out.now, "now")):
            measured = measure(
                [*cmd, "-o", "json"], folder / f"{name}.json", folder / f"{name}.err", args.timeout
            )
            if measured.error is not None:
                out.error = f"{name}: {measured.error}"
                return out
            times.append(measured.seconds)
    return out


def baseline_line(result: SideBySide) -> str:
    head = f"the same map, side by side with main when issue 14 was filed ({BASELINE}):"
    if result.error is not None:
        return f"{head} not measured: {result.error}"
    met = "met" if result.ratio() >= BASELINE_GOAL else "NOT met"
    return (
        f"{head} {BASELINE} {min(result.baseline):.2f} s, now {min(result.now):.2f} s, best of "
        f"{len(result.now)} interleaved: {result.ratio():.2f}x (goal {BASELINE_GOAL:.0f}x: {met})"
    )


def print_differences(rows: list[Row]) -> None:
    for row in rows:
        if row.comparison is not None and not row.comparison.identical:
            print(f"\n== differences at {row.pods} pods ({row.size.name}) ==")
            report(row.comparison)
        if row.compare_error:
            print(f"\n== cannot compare at {row.pods} pods: {row.compare_error} ==")


def save_results(rows: list[Row], big: Row | None) -> None:
    def as_dict(row: Row) -> dict[str, Any]:
        data = {k: v for k, v in asdict(row).items() if k != "comparison"}
        data["size"] = row.size.name
        if row.comparison is not None:
            data["pairs_compared"] = row.comparison.pairs_compared
            data["differences"] = row.comparison.differences
        return data

    results = {"rows": [as_dict(r) for r in rows], "big": as_dict(big) if big else None}
    (OUT / "results.json").write_text(json.dumps(results, indent=1) + "\n")


# ----------------------------------------------------------------------------------- main
def parse_args(argv: list[str]) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--sizes",
        choices=["small", "all"],
        default="all",
        help="small: 74, 361, 753 pods; all: also 1,500 (default)",
    )
    ap.add_argument(
        "--quick", action="store_true", help="74 and 361 pods only, no 10k run (for development)"
    )
    ap.add_argument("--skip-nca", action="store_true", help="time podwall only")
    ap.add_argument("--skip-big", action="store_true", help="no 10k-pod podwall run")
    ap.add_argument("--reuse-nca", action="store_true", help="reuse cached NCA output and timing")
    ap.add_argument("--timeout", type=float, default=900.0, help="seconds per run (900)")
    ap.add_argument("--repeat", type=int, default=3, help="runs per tool and size, fastest kept")
    ap.add_argument(
        "--budget", type=float, default=30.0, help="no further run once a tool took this long"
    )
    return ap.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    OUT.mkdir(parents=True, exist_ok=True)
    with_nca = not args.skip_nca
    if with_nca and not NCA.exists():
        log(f"{NCA} missing: run `bash bench/setup.sh` first (or pass --skip-nca)")
        return 2
    for line in machine_lines():
        print(line, flush=True)
    rows = run_table(SIZE_SETS["quick" if args.quick else args.sizes], args, with_nca)
    big = None if args.quick or args.skip_big else run_size(BIG_SIZE, args, with_nca=False)
    if big is not None:
        print(big_line(big), flush=True)
        print(baseline_line(side_by_side(big, args)), flush=True)
    print_differences(rows)
    save_results(rows, big)
    return exit_code(rows + ([big] if big else []), with_nca)


def run_table(sizes: tuple[Size, ...], args: argparse.Namespace, with_nca: bool) -> list[Row]:
    print(HEADER, flush=True)
    rows = []
    for size in sizes:
        rows.append(run_size(size, args, with_nca))
        print(format_row(rows[-1]), flush=True)
    return rows


def exit_code(rows: list[Row], with_nca: bool) -> int:
    """1 if a run failed, a map was bad or the answers differ."""
    for row in rows:
        nca_failed = with_nca and row.nca is not None and not _ok(row.nca)
        differ = row.comparison is not None and not row.comparison.identical
        if not _ok(row.podwall) or nca_failed or differ or row.compare_error:
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
