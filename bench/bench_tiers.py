"""Benchmark: the full map with ClusterNetworkPolicy tiers, side by side with the map without.

On bench_engine's big cluster (9,996 pods, 2,002 NetworkPolicies, made by gen_cluster.py)
plus 200 ClusterNetworkPolicies (100 Admin, 100 Baseline, made by gen_tiers.py), each run in
its own subprocess:

    podwall matrix -f cluster/ -o json               # NetworkPolicies only
    podwall matrix -f cluster/ -f tiers/ -o json     # with the tiers

measuring wall time and the command's own peak RSS (fastest of up to three runs), against the
goals (< 10 s, < 1 GiB) and as a ratio to the run without tiers. Then a sample of pod pairs
and ports is decided one by one with `decide()` and held to the map the tiered run printed.

Last, the dataplane (needs root): as bench_dataplane measures a NetworkPolicy change, one
`Dataplane` in a fresh node namespace loads the same cluster with its 200 ClusterNetworkPolicies,
then syncs, in cycles after a pause, the snapshot with one ClusterNetworkPolicy changed (an
Accept or Deny rule flipped: its policy's chain is rewritten; a Pass rule made a Deny: the tier
chain too) and, beside them, the snapshot with one NetworkPolicy changed (a port added to its
first rule), each back to the base snapshot in between (not measured): `SyncResult.seconds`,
compile + transaction + `nft -f`, medians against the < 50 ms goal.

Usage (from the repository root): .venv/bin/python -m bench.bench_tiers [--samples N]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

from bench.bench_engine import (
    BIG_SIZE,
    GOAL_MIB,
    GOAL_SECONDS,
    PODWALL,
    ROOT,
    Measured,
    generate,
    log,
    machine_lines,
    measure_best,
)
from podwall.model.record import replace

GENERATOR = ROOT / "bench" / "gen_tiers.py"
COUNT = 200
GOAL_CHANGE_MS = 50.0
CYCLES = 7
SETTLE_S = 1.0  # the kernel settles after the 10k full load (see dataplane/loadtime.py)
PROBE_PORTS = ((53, "UDP"), (80, "TCP"), (443, "TCP"), (5432, "TCP"), (8080, "TCP"), (9090, "TCP"))


def tiers(folder: Path) -> Path:
    """The folder holding the 200 ClusterNetworkPolicies (cached beside the cluster)."""
    out = folder / "tiers"
    target = out / "cluster-policies.yaml"
    if not target.exists():
        out.mkdir(parents=True, exist_ok=True)
        log(f"generating {COUNT} ClusterNetworkPolicies")
        cmd = [sys.executable, str(GENERATOR), "--count", str(COUNT), "--out", str(target)]
        subprocess.run(cmd, check=True)
    return out


def run(folder: Path, extra: list[str], name: str, args: argparse.Namespace) -> Measured:
    cmd = [str(PODWALL), "matrix", "-f", str(folder / "cluster"), *extra, "-o", "json"]
    measured = measure_best(cmd, folder / f"{name}.json", folder / f"{name}.err", args)
    log(f"{name}: {measured.seconds:.2f} s, {measured.mib:.0f} MiB ({measured.error or 'ok'})")
    return measured


def cross_check(folder: Path, tiers_dir: Path, samples: int) -> tuple[int, list[str]]:
    """`samples` (pair, port) cells of the printed map against decide(), pod by pod."""
    sys.path.insert(0, str(ROOT / "src"))
    from podwall.cli.loading import load
    from podwall.engine import Endpoint, Traffic, decide
    from podwall.model.ports import Protocol

    cluster = load([str(folder / "cluster"), str(tiers_dir)]).cluster
    printed = json.loads((folder / "with-tiers.json").read_text())
    names = printed["pods"]
    group_of = {pod: g for g, members in enumerate(printed["groups"]) for pod in members}
    by_key = cluster.pods_by_key
    rnd = random.Random(7)
    wrong = []
    for _ in range(samples):
        src, dst = rnd.randrange(len(names)), rnd.randrange(len(names))
        port, proto = rnd.choice(PROBE_PORTS)
        traffic = Traffic(
            src=Endpoint.of_pod(by_key[names[src]]),
            dst=Endpoint.of_pod(by_key[names[dst]]),
            port=port,
            protocol=Protocol(proto),
        )
        expected = decide(cluster, traffic).allowed
        if _printed(printed, group_of, src, dst, port, proto) != expected:
            wrong.append(traffic.render())
    return samples, wrong


def connected(path: Path) -> int:
    """Pairs of distinct pods with at least one allowed port in a printed map."""
    printed = json.loads(path.read_text())
    sizes = [len(group) for group in printed["groups"]]
    return sum(
        sum(sizes[i] for i in conn["from"]) * sum(sizes[j] for j in conn["to"])
        for conn in printed["connections"]
    )


def _printed(
    printed: dict[str, object], group_of: dict[int, int], src: int, dst: int, port: int, proto: str
) -> bool:
    """Whether the printed map allows `src` -> `dst` on `port`/`proto`."""
    if src == dst:
        return True
    for conn in printed["connections"]:  # type: ignore[attr-defined]
        if group_of[src] in conn["from"] and group_of[dst] in conn["to"]:
            return any(lo <= port <= hi for lo, hi in conn["ports"].get(proto, ()))
    return False


def dataplane_changes(folder: Path, tiers_dir: Path) -> tuple[dict[str, list[float]], int]:
    """Milliseconds of each measured sync, by change: a ClusterNetworkPolicy's Accept or Deny
    rule flipped (its chain rewritten), a Pass rule made a Deny (the tier chain rewritten
    too), a NetworkPolicy given one more port; and the number of tier rules loaded."""
    sys.path.insert(0, str(ROOT / "src"))
    from bench.dataplane import sandbox
    from podwall.cli.loading import load
    from podwall.model.addressing import with_addresses
    from podwall.model.cluster import Cluster
    from podwall.model.clusterpolicy import Action, ClusterNetworkPolicy
    from podwall.model.policy import NetworkPolicy
    from podwall.model.ports import PolicyPort, Protocol
    from podwall.runtime.dataplane import Dataplane

    base = with_addresses(load([str(folder / "cluster"), str(tiers_dir)]).cluster)

    def flipped(pass_rule: bool) -> Cluster:
        """The first policy with such an ingress rule, that rule's action changed."""
        for cnp in base.cluster_policies:
            for i, rule in enumerate(cnp.ingress):
                if (rule.action is Action.PASS) is pass_rule:
                    action = Action.ACCEPT if rule.action is Action.DENY else Action.DENY
                    rules = list(cnp.ingress)
                    rules[i] = replace(rule, action=action)
                    new: ClusterNetworkPolicy = replace(cnp, ingress=tuple(rules))
                    cnps = tuple(new if p is cnp else p for p in base.cluster_policies)
                    return replace(base, cluster_policies=cnps)
        raise AssertionError("no such rule")

    np_ = next(p for p in base.policies if p.ingress)
    rule = np_.ingress[0]
    port = PolicyPort(protocol=Protocol.TCP, port=31337)
    changed_np: NetworkPolicy = replace(
        np_, ingress=(replace(rule, ports=(*rule.ports, port)), *np_.ingress[1:])
    )
    nps = tuple(changed_np if p is np_ else p for p in base.policies)
    changes = {
        "cnp-rule": flipped(pass_rule=False),
        "cnp-pass": flipped(pass_rule=True),
        "np": replace(base, policies=nps),
    }
    ms: dict[str, list[float]] = {name: [] for name in changes}
    with sandbox.node() as node:
        dp = Dataplane(node.netns)
        log(f"full load: {dp.sync(base).seconds:.2f} s")
        assert dp.loaded is not None
        rules = sum(f.rule_count() for k, f in dp.loaded.items() if k[0] in ("tier", "cnp"))
        time.sleep(SETTLE_S)
        for _ in range(CYCLES):
            for name, changed in changes.items():
                ms[name].append(dp.sync(changed).seconds * 1000)
                dp.sync(base)
                time.sleep(0.2)  # a cluster's changes do not come back to back
    return ms, rules


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=3, help="runs per map, fastest kept")
    ap.add_argument("--budget", type=float, default=60.0, help="no further run past this")
    ap.add_argument("--timeout", type=float, default=900.0, help="seconds per run")
    ap.add_argument("--samples", type=int, default=2000, help="cells held to decide()")
    args = ap.parse_args(sys.argv[1:] if argv is None else argv)
    for line in machine_lines():
        print(line, flush=True)
    folder, meta = generate(BIG_SIZE)
    tiers_dir = tiers(folder)
    counts = meta["counts"]
    without = run(folder, [], "without-tiers", args)
    with_tiers = run(folder, ["-f", str(tiers_dir)], "with-tiers", args)
    head = f"podwall matrix, {counts['pods']:,} pods, {counts['policies']:,} NetworkPolicies"
    if without.error or with_tiers.error:
        print(f"{head}: FAILED: {without.error or with_tiers.error}")
        return 1
    print(f"{head}: {without.seconds:.2f} s, {without.mib:.0f} MiB", flush=True)
    time_ok = "met" if with_tiers.seconds < GOAL_SECONDS else "MISSED"
    mem_ok = "met" if with_tiers.mib < GOAL_MIB else "MISSED"
    print(
        f"{head} and {COUNT} ClusterNetworkPolicies: {with_tiers.seconds:.2f} s "
        f"(goal < {GOAL_SECONDS:.0f} s: {time_ok}), {with_tiers.mib:.0f} MiB "
        f"(goal < {GOAL_MIB:.0f} MiB: {mem_ok}); {with_tiers.seconds / without.seconds:.2f}x "
        f"the time and {with_tiers.mib / without.mib:.2f}x the memory without them",
        flush=True,
    )
    for name in ("without-tiers", "with-tiers"):
        print(f"{name}: {connected(folder / f'{name}.json'):,} pod pairs with a connection")
    samples, wrong = cross_check(folder, tiers_dir, args.samples)
    if wrong:
        print(f"the map disagrees with decide() on {len(wrong)} of {samples} sampled cells:")
        for text in wrong[:20]:
            print(f"  {text}")
        return 1
    print(f"the map agrees with decide() on {samples:,} sampled (pair, port) cells", flush=True)
    change_ok = "met"
    if os.geteuid() != 0:
        print("one ClusterNetworkPolicy change -> nft update: not measured (needs root)")
    else:
        ms, rules = dataplane_changes(folder, tiers_dir)
        med = {name: statistics.median(values) for name, values in ms.items()}
        worst = max(med["cnp-rule"], med["cnp-pass"])
        change_ok = "met" if worst < GOAL_CHANGE_MS else "MISSED"
        print(
            f"one ClusterNetworkPolicy change -> nft update ({counts['pods']:,} pods, "
            f"{counts['policies']:,} NetworkPolicies, {COUNT} ClusterNetworkPolicies, {rules:,} "
            f"tier rules; a node namespace, medians of {CYCLES}): an Accept/Deny rule "
            f"{med['cnp-rule']:.1f} ms, a Pass rule {med['cnp-pass']:.1f} ms (goal < "
            f"{GOAL_CHANGE_MS:.0f} ms: {change_ok}); one NetworkPolicy change on the same "
            f"ruleset {med['np']:.1f} ms ({med['cnp-rule'] / med['np']:.2f}x, "
            f"{med['cnp-pass'] / med['np']:.2f}x)",
            flush=True,
        )
    return 0 if time_ok == mem_ok == change_ok == "met" else 1


if __name__ == "__main__":
    sys.exit(main())
