"""Flow reporting's cost and its behaviour under a flood, measured side by side.

1. New connections per second (short TCP connections, `tcp crr`) from the bench client to the
   bench server of the 1k cluster (bench/dataplane/clusters.py: both pods isolated, each new
   connection through both class chains), with the same ruleset compiled three ways, each in a
   fresh node namespace: without flow reporting; with it (default rate limits) and a reader
   bound in the node; with limits no run reaches (every connection reported and read); and
   without it again (a control: the noise between two equal setups). Interleaved rounds; each
   configuration's rate is divided by the plain one's of the same round, and the median of
   those ratios is reported. Goal: reporting >= 0.95x without.
2. A SYN flood at a port the server's policies deny, from a pod no policy isolates, bounded to
   FLOOD_SECONDS and FLOOD_PACKETS, while the client opens ALLOWED allowed connections at a
   rate under the limit. Reported: the reader thread's CPU time over the flood's wall time
   (goal < 1 core; the whole bench process's too, for scale), allowed flows recorded over
   allowed connections made, for ingress and egress (goal: 1.0), the flood's flows read and
   the events lost to the rate limit (the ruleset's counters) and to the socket (gaps in the
   kernel's sequence numbers), each counted.

Run as root from the repository root: `.venv/bin/python -m bench.bench_flows [--quick]`
(`--flood-only`: the flood alone).
Everything is made in throw-away namespaces (`pw-b...`) and removed by name or PID.
"""

from __future__ import annotations

import argparse
import contextlib
import ipaddress
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from bench.dataplane import clusters, sandbox, traffic
from bench.dataplane.clusters import PORT_BULK, PORT_CLOSED, PORT_CRR
from podwall.flows.flow import Flow, Verdict
from podwall.model.cluster import Cluster, Pod
from podwall.model.labels import Labels
from podwall.nft import fragments, runner
from podwall.nft.compile import Compiler
from podwall.nft.flowlog import FlowLog
from podwall.runtime.flowlog import NodeFlows
from podwall.runtime.namespaces import run_in_netns

ROOT = Path(__file__).resolve().parent.parent
FLOODER_KEY = "pwflood/flooder"
FLOODER_IP = "198.18.250.4"
FLOOD_SECONDS = 3.0
FLOOD_PACKETS = 400_000
ALLOWED = 60  # allowed connections during the flood: 20 a second, under the 100/s limit
UNLIMITED = FlowLog(rate=10_000_000, burst=10_000_000)
CONFIGS: dict[str, FlowLog | None] = {
    "no flow reporting": None,
    "flow reporting": FlowLog(),
    "flow reporting, unlimited": UNLIMITED,
    # The same as the first, in a namespace of its own: how far apart two equal setups measure
    # on this machine, the noise any other ratio must be read against.
    "no flow reporting (control)": None,
}


def progress(message: str) -> None:
    print(f"[bench_flows] {message}", file=sys.stderr, flush=True)


def compiled(cluster: Cluster, flow_log: FlowLog | None) -> tuple[str, Compiler]:
    compiler = Compiler(flow_log=flow_log)
    script, _ = fragments.full_text(compiler.compile(cluster))
    return script, compiler


@dataclass
class Ready:
    name: str
    agent: sandbox.Agent
    flows: NodeFlows | None
    rates: list[float] = field(default_factory=list)


@contextlib.contextmanager
def _set_up(name: str, cluster: Cluster, procs: int) -> Iterator[Ready]:
    config = CONFIGS[name]
    script, compiler = compiled(cluster, config)
    with sandbox.pair(script) as pair, contextlib.ExitStack() as stack:
        flows = None
        if config is not None:
            flows = NodeFlows(pair.node, "bench", compiler.tags, config)
            stack.callback(flows.stop)
        stack.enter_context(sandbox.server(pair.server.netns, PORT_CRR, "crr", procs))
        target = str(sandbox.SERVER_IP)
        agent = stack.enter_context(
            sandbox.agent(pair.client.netns, target, (PORT_CRR, PORT_BULK), procs)
        )
        yield Ready(name, agent, flows)


def connection_rates(cluster: Cluster, rounds: int, seconds: float) -> dict[str, list[float]]:
    rng = random.Random(1)
    with contextlib.ExitStack() as stack:
        ready = [stack.enter_context(_set_up(name, cluster, 2)) for name in CONFIGS]
        for n in range(rounds):
            for r in rng.sample(ready, len(ready)):
                answer = r.agent.ask(f"crr {seconds}", timeout=seconds + 30)
                if int(answer["errors"]):
                    raise RuntimeError(f"{r.name}: {answer['errors']} connections failed")
                r.rates.append(float(answer["per_second"]))
            rates = ", ".join(f"{r.name} {r.rates[-1]:,.0f}/s" for r in ready)
            progress(f"round {n + 1}/{rounds}: {rates}")
        return {r.name: r.rates for r in ready}


def rate_lines(rates: dict[str, list[float]]) -> tuple[list[str], float]:
    base = rates["no flow reporting"]
    lines = ["| configuration | new connections/s (median) | ratio to none (median, paired) |"]
    lines.append("| --- | ---: | ---: |")
    ratio = 1.0
    for name, values in rates.items():
        paired = traffic.paired_ratio(values, base)
        if name == "flow reporting":
            ratio = paired
        lines.append(f"| {name} | {statistics.median(values):,.0f} | {paired:.3f} |")
    return lines, ratio


# --- the flood ------------------------------------------------------------------------------


def _thread_cpu(native_id: int) -> float:
    fields = Path(f"/proc/self/task/{native_id}/stat").read_text().rpartition(")")[2].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks  # utime + stime


def _flood(netns: str) -> subprocess.Popen[bytes]:
    argv = ["ip", "netns", "exec", netns, sys.executable, "-m", "bench.flows.flood"]
    argv += ["--dst", str(sandbox.SERVER_IP), "--port", str(PORT_CLOSED)]
    argv += ["--seconds", str(FLOOD_SECONDS), "--max-packets", str(FLOOD_PACKETS)]
    return subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.PIPE, start_new_session=True)


def _allowed_connections(netns: str, count: int, seconds: float) -> set[int]:
    """Connections to the server's allowed port, spread over `seconds`: their source ports."""

    def work() -> set[int]:
        ports = set()
        for _ in range(count):
            started = time.monotonic()
            with (
                contextlib.suppress(OSError),
                socket.create_connection((str(sandbox.SERVER_IP), PORT_CRR), 2.0) as conn,
            ):
                ports.add(conn.getsockname()[1])
            time.sleep(max(0.0, seconds / count - (time.monotonic() - started)))
        return ports

    return run_in_netns(netns, work)


@dataclass
class FloodResult:
    sent: int
    seconds: float
    reader_cpu: float
    process_cpu: float
    allowed_made: int
    allowed_ingress: int
    allowed_egress: int
    denied_flows: int
    lost: dict[str, int]
    socket_lost: int

    @property
    def recorded(self) -> float:
        """Allowed flows recorded over allowed connections made (both directions)."""
        made = 2 * self.allowed_made
        return (self.allowed_ingress + self.allowed_egress) / made if made else 0.0


def flood_run(cluster: Cluster) -> FloodResult:
    config = FlowLog()
    script, compiler = compiled(cluster, config)
    with sandbox.node() as node, contextlib.ExitStack() as stack:
        server = node.add_pod(sandbox.SERVER_KEY, sandbox.SERVER_IP)
        client = node.add_pod(sandbox.CLIENT_KEY, sandbox.CLIENT_IP)
        flooder = node.add_pod(FLOODER_KEY, ipaddress.IPv4Address(FLOODER_IP))
        runner.run(script, netns=node.netns)
        flows = NodeFlows(node.netns, "bench", compiler.tags, config)
        stack.callback(flows.stop)
        flows.update(cluster)
        stack.enter_context(sandbox.server(server.netns, PORT_CRR, "crr", 1))
        tid = flows.collector.thread_id
        assert tid is not None
        cpu_before, wall_before = _thread_cpu(tid), time.monotonic()
        process_before = time.process_time()
        proc = _flood(flooder.netns)
        made = _allowed_connections(client.netns, ALLOWED, FLOOD_SECONDS)
        out, _ = proc.communicate(timeout=FLOOD_SECONDS + 60)
        time.sleep(1.0)  # the last batches reach the reader
        wall = time.monotonic() - wall_before
        reader_cpu = (_thread_cpu(tid) - cpu_before) / wall
        process_cpu = (time.process_time() - process_before) / wall
        entries = [e for e in flows.entries() if isinstance(e, Flow)]
        lost = flows.lost_to_limits()
        socket_lost = flows.collector.reader.stats.lost
    sent = json.loads(out.decode().strip().splitlines()[-1])
    return FloodResult(
        sent=int(sent["sent"]),
        seconds=float(sent["seconds"]),
        reader_cpu=reader_cpu,
        process_cpu=process_cpu,
        allowed_made=len(made),
        allowed_ingress=_allowed(entries, made, "ingress"),
        allowed_egress=_allowed(entries, made, "egress"),
        denied_flows=sum(1 for f in entries if f.verdict is Verdict.DENIED),
        lost=lost,
        socket_lost=socket_lost,
    )


def _allowed(flows: list[Flow], ports: set[int], direction: str) -> int:
    return len(
        {
            f.source.port
            for f in flows
            if f.verdict is Verdict.ALLOWED
            and f.direction == direction
            and f.source.ip == str(sandbox.CLIENT_IP)
            and f.source.port in ports
        }
    )


def with_flooder(cluster: Cluster) -> Cluster:
    """The cluster and a pod in a namespace of its own that no policy isolates."""
    flooder = Pod(
        namespace="pwflood",
        name="flooder",
        labels=Labels({"app": "flooder"}),
        ips=(ipaddress.IPv4Address(FLOODER_IP),),
    )
    return Cluster.build(
        namespaces=cluster.namespaces.values(),
        pods=(*cluster.pods, flooder),
        services=cluster.services,
        policies=cluster.policies,
    )


def flood_lines(r: FloodResult) -> list[str]:
    return [
        f"SYN flood at a denied port: {r.sent:,} SYNs in {r.seconds:.1f} s "
        f"({r.sent / max(r.seconds, 1e-9):,.0f}/s) from a pod no policy isolates",
        f"- reader CPU: {r.reader_cpu:.2f} core(s) over the flood (thread time / wall time; "
        f"the whole bench process: {r.process_cpu:.2f})",
        f"- allowed connections during the flood: {r.allowed_made}; their ingress flows read: "
        f"{r.allowed_ingress}, egress flows read: {r.allowed_egress}; allowed flows recorded / "
        f"allowed flows made: {r.recorded:.3f}",
        f"- denied flows read: {r.denied_flows}; events lost to the rate limit (nft counters): "
        + ", ".join(f"{k} {v:,}" for k, v in r.lost.items())
        + f"; lost to the socket (sequence gaps): {r.socket_lost:,}",
    ]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="fewer and shorter rounds")
    ap.add_argument("--rounds", type=int, help="rounds of connections (40; quick 8)")
    ap.add_argument("--seconds", type=float, help="seconds per slice (0.5; quick 0.3)")
    ap.add_argument("--flood-only", action="store_true", help="the flood alone, no rate rounds")
    args = ap.parse_args(argv)
    if os.geteuid() != 0:
        print("bench_flows: needs root (network namespaces)", file=sys.stderr)
        return 2
    rounds = args.rounds or (8 if args.quick else 40)
    seconds = args.seconds or (0.3 if args.quick else 0.5)
    folder = clusters.prepare(clusters.SIZES["1k"])
    cluster = clusters.load(folder, clusters.BASE_FILES)
    progress(f"1k cluster: {len(cluster.pods)} pods, {len(cluster.policies)} policies")
    lines = ["# Flow reporting", ""]
    goals = []
    if not args.flood_only:
        lines += [f"New connections, {rounds} rounds of {seconds:g} s each:"]
        rate_table, ratio = rate_lines(connection_rates(cluster, rounds, seconds))
        lines += ["", *rate_table, ""]
        goals += [
            (f"new connections/s with reporting >= 0.95x without: {ratio:.3f}", ratio >= 0.95)
        ]
    result = flood_run(with_flooder(cluster))
    lines += flood_lines(result)
    goals += [
        (f"reader under one core in the flood: {result.reader_cpu:.2f}", result.reader_cpu < 1),
        (
            f"allowed flows recorded / allowed flows made = 1.0: {result.recorded:.3f} "
            f"({result.allowed_ingress}/{result.allowed_made} ingress, "
            f"{result.allowed_egress}/{result.allowed_made} egress)",
            result.allowed_ingress == result.allowed_egress == result.allowed_made > 0,
        ),
        (
            "the flood's events past the limit are counted: "
            f"{result.lost.get('DENIED', 0):,} denied",
            result.lost.get("DENIED", 0) > 0 or result.sent <= FlowLog().burst,
        ),
    ]
    lines += ["", "Goals:", *(f"- [{'met' if ok else 'NOT MET'}] {text}" for text, ok in goals)]
    print("\n".join(lines))
    return 0 if all(ok for _, ok in goals) else 1


if __name__ == "__main__":
    raise SystemExit(main())
