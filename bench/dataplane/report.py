"""The stdout table of bench_dataplane.py and its goals."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from bench.dataplane.loadtime import Round, Sync
from bench.dataplane.traffic import Figures, paired_ratio, paired_ratios, quartiles

GOAL_FULL_S = 2.0
GOAL_UPDATE_S = 0.050
STEPS = (("full load", "full"), ("policy change", "policy"), ("pod added", "pod"))


@dataclass(frozen=True)
class Goal:
    text: str
    met: bool
    figure: str


def step_syncs(rounds: Sequence[Round], step: str) -> list[Sync]:
    """Every sync of `step` (the full load once per round, updates once per cycle)."""
    out: list[Sync] = []
    for r in rounds:
        found = getattr(r, step)
        out += found if isinstance(found, list) else [found]
    return out


def median_sync(rounds: Sequence[Round], step: str) -> Sync:
    syncs = step_syncs(rounds, step)
    return Sync(
        compile=statistics.median(s.compile for s in syncs),
        transaction=statistics.median(s.transaction for s in syncs),
        nft=statistics.median(s.nft for s in syncs),
        total=statistics.median(s.total for s in syncs),
        operations=syncs[-1].operations,
        script_bytes=syncs[-1].script_bytes,
    )


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:,.1f} ms" if seconds < 1 else f"{seconds:,.2f} s"


def _size(n: int) -> str:
    return f"{n / 1e6:.1f} MB" if n >= 1e6 else f"{n / 1e3:.1f} kB"


def _table(head: list[str], rows: list[list[str]]) -> list[str]:
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]
    fmt = "  ".join(f"{{:{'<' if i == 0 else '>'}{w}}}" for i, w in enumerate(widths))
    return [fmt.format(*head), fmt.format(*("-" * w for w in widths))] + [
        fmt.format(*r) for r in rows
    ]


def ruleset_sizes(results: dict[str, list[Round]]) -> list[str]:
    head = ["size", "pods", "policies", "chains", "sets", "elements", "rules"]
    rows = []
    for label, rounds in results.items():
        c = rounds[0].counts
        values = (c.pods, c.policies, c.chains, c.sets, c.elements, c.rules)
        rows.append([label, *(f"{v:,}" for v in values)])
    return _table(head, rows)


def sync_times(results: dict[str, list[Round]]) -> list[str]:
    head = ["size", "step", "runs", "ops", "script", "compile", "tx+render", "nft -f", "total"]
    rows = []
    for label, rounds in results.items():
        for text, step in STEPS:
            s = median_sync(rounds, step)
            rows.append(
                [
                    label,
                    text,
                    str(len(step_syncs(rounds, step))),
                    f"{s.operations:,}",
                    _size(s.script_bytes),
                    _ms(s.compile),
                    _ms(s.transaction),
                    _ms(s.nft),
                    _ms(s.total),
                ]
            )
    return _table(head, rows)


def _paired(f: Figures, base: Figures, unit: str) -> float:
    if unit == "conn/s":
        return paired_ratio(f.conn_per_s, base.conn_per_s)
    return paired_ratio(f.gbit_per_s, base.gbit_per_s)


def traffic_table(figures: dict[str, Figures]) -> list[str]:
    none, ct = figures["no ruleset"], figures["conntrack only"]
    head = ["configuration", "conn/s", "vs none", "vs ct", "spread", "errors", "Gbit/s"]
    head += ["vs none", "vs ct", "p10 conn", "vs none", "vs ct", "closed port"]
    rows = []
    for name, f in figures.items():
        rows.append(
            [
                name,
                f"{f.median_conn():,.0f}",
                f"{_paired(f, none, 'conn/s'):.3f}x",
                f"{_paired(f, ct, 'conn/s'):.3f}x",
                f"{f.conn_spread():.0%}",
                str(sum(f.conn_errors)),
                f"{f.median_gbit():.2f}",
                f"{_paired(f, none, 'Gbit/s'):.3f}x",
                f"{_paired(f, ct, 'Gbit/s'):.3f}x",
                f"{f.median_p10():,.0f} us",
                f"{paired_ratio(f.latency_p10_us, none.latency_p10_us):.3f}x",
                f"{paired_ratio(f.latency_p10_us, ct.latency_p10_us):.3f}x",
                f.probe,
            ]
        )
    return _table(head, rows)


def load_goals(results: dict[str, list[Round]]) -> list[Goal]:
    goals = []
    if "10k" in results:
        s = median_sync(results["10k"], "full")
        # The load figures are `nft -f` times; the stricter reading, the whole first
        # sync with podwall's compile, is printed too.
        figure = f"{_ms(s.nft)} ({s.script_bytes / 1e6:.1f} MB script)"
        goals.append(Goal("full ruleset load at 10k < 2 s (nft -f)", s.nft < GOAL_FULL_S, figure))
        figure = f"{_ms(s.total)} (compile {_ms(s.compile)}, render {_ms(s.transaction)})"
        goals.append(
            Goal("whole first sync at 10k < 2 s (compile + nft -f)", s.total < GOAL_FULL_S, figure)
        )
    for label, rounds in results.items():
        for text, step in STEPS[1:]:
            s = median_sync(rounds, step)
            runs = step_syncs(rounds, step)
            slowest = max(r.total for r in runs)
            figure = (
                f"{_ms(s.total)} (compile {_ms(s.compile)}; slowest of {len(runs)} {_ms(slowest)})"
            )
            goals.append(Goal(f"{text} at {label} < 50 ms", s.total < GOAL_UPDATE_S, figure))
    return goals


TRAFFIC_GOALS = (
    ("podwall", "conn/s", "conntrack only", 0.95),
    ("podwall", "conn/s", "no ruleset", 0.85),
    ("podwall + services", "conn/s", "no ruleset", 0.80),
    ("podwall", "Gbit/s", "no ruleset", 0.90),
    ("podwall + services", "Gbit/s", "no ruleset", 0.90),
)


def traffic_goals(figures: dict[str, Figures]) -> list[Goal]:
    goals = []
    for name, unit, base, goal in TRAFFIC_GOALS:
        f, b = figures[name], figures[base]
        ratio = _paired(f, b, unit)
        pairs = (f.conn_per_s, b.conn_per_s) if unit == "conn/s" else (f.gbit_per_s, b.gbit_per_s)
        low, high = quartiles(paired_ratios(*pairs))
        text = f"{name} {unit} >= {goal:.2f}x {base}"
        figure = f"{ratio:.3f}x (same-round ratios: median; middle half {low:.2f}-{high:.2f})"
        goals.append(Goal(text, ratio >= goal, figure))
    return goals


def latency_lines(figures: dict[str, Figures]) -> list[str]:
    """The time a ruleset adds to one new connection, from the contention-robust p10."""
    none, ct = figures["no ruleset"], figures["conntrack only"]
    out = []
    for name, f in figures.items():
        if f is none:
            continue
        extra_none = f.median_p10() - none.median_p10()
        extra_ct = f.median_p10() - ct.median_p10()
        out.append(
            f"  {name}: {extra_none:+,.1f} us per new connection vs no ruleset, "
            f"{extra_ct:+,.1f} us vs conntrack only (p10 of sequential connections)"
        )
    return out


def goal_lines(goals: list[Goal]) -> list[str]:
    return [f"  [{'met' if g.met else 'NOT met'}] {g.text}: {g.figure}" for g in goals]
