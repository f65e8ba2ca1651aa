"""New connections per second and bulk TCP throughput, server and client pods on one node.

Every configuration is a ruleset script for a node namespace of its own (None: no ruleset, so
no netfilter hook and no conntrack at all). All configurations are set up side by side first:
one fresh node namespace each (so conntrack starts empty), the script loaded, a server and a
client pod, and in the server pod two `tcp serve` process groups (short connections on one
port, a byte sink on another). Then rounds: in each round, every configuration in a shuffled
order gets one slice of short connections (`tcp crr`), one of sequential connections timed
one by one (`lat`), and one bulk transfer (`tcp bulk`).

The machine may be shared, so slices are short and interleaved, and each configuration is
compared with the baselines *of the same round* (paired ratios); the median over rounds is
reported, with the median rates beside it.
"""

from __future__ import annotations

import contextlib
import random
import statistics
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from bench.dataplane import sandbox
from bench.dataplane.clusters import PORT_BULK, PORT_CLOSED, PORT_CRR, SERVICE_IP

CONNTRACK_ONLY = """\
table inet pwbench {
  chain forward {
    type filter hook forward priority 0; policy accept;
    ct state established,related accept
    ct state invalid drop
  }
}
"""


def linear_script(rules: int, seed: int = 1) -> str:
    """`rules` rules `ip saddr X ip daddr Y tcp dport P accept`, the one matching last."""
    rng = random.Random(seed)
    lines = [
        "table inet pwbench {",
        "  chain forward {",
        "    type filter hook forward priority 0; policy drop;",
        "    ct state established,related accept",
        "    ct state invalid drop",
    ]
    for _ in range(rules - 1):
        src = f"198.18.{rng.randrange(0, 200)}.{rng.randrange(2, 255)}"
        dst = f"198.18.{rng.randrange(0, 200)}.{rng.randrange(2, 255)}"
        port = rng.choice((53, 80, 443, 5432, 6379, 8080, 9090))
        lines.append(f"    ip saddr {src} ip daddr {dst} tcp dport {port} accept")
    match = f"ip saddr {sandbox.CLIENT_IP} ip daddr {sandbox.SERVER_IP}"
    lines.append(f"    {match} tcp dport {{ {PORT_CRR}, {PORT_BULK} }} accept")
    lines += ["  }", "}", ""]
    return "\n".join(lines)


@dataclass(frozen=True)
class Config:
    name: str
    script: str | None
    target: str  # the address the client connects to
    expect_closed: str  # what a probe of the server pod's PORT_CLOSED should find


def direct(name: str, script: str | None, expect_closed: str) -> Config:
    return Config(name, script, str(sandbox.SERVER_IP), expect_closed)


def via_service(name: str, script: str) -> Config:
    return Config(name, script, SERVICE_IP, "timeout")


@dataclass
class Figures:
    """Per round, in round order (so two configurations' lists pair up)."""

    conn_per_s: list[float] = field(default_factory=list)
    conn_errors: list[int] = field(default_factory=list)
    latency_p10_us: list[float] = field(default_factory=list)
    latency_p50_us: list[float] = field(default_factory=list)
    gbit_per_s: list[float] = field(default_factory=list)
    probe: str = ""

    def median_conn(self) -> float:
        return statistics.median(self.conn_per_s) if self.conn_per_s else 0.0

    def median_p10(self) -> float:
        return statistics.median(self.latency_p10_us) if self.latency_p10_us else 0.0

    def median_gbit(self) -> float:
        return statistics.median(self.gbit_per_s) if self.gbit_per_s else 0.0

    def conn_spread(self) -> float:
        """(max - min) / median of the connection rates: how noisy the slices were."""
        rates = self.conn_per_s
        return (max(rates) - min(rates)) / self.median_conn() if len(rates) > 1 else 0.0


def paired_ratios(values: list[float], base: list[float]) -> list[float]:
    """value / baseline of the same round, for every round."""
    return [v / b for v, b in zip(values, base, strict=True) if b > 0]


def paired_ratio(values: list[float], base: list[float]) -> float:
    """Median over rounds of value / baseline of the same round."""
    ratios = paired_ratios(values, base)
    return statistics.median(ratios) if ratios else 0.0


def quartiles(values: list[float]) -> tuple[float, float]:
    """First and third quartile (the middle half of the rounds lies between them)."""
    if len(values) < 2:
        return (values[0], values[0]) if values else (0.0, 0.0)
    q = statistics.quantiles(values, n=4)
    return q[0], q[2]


@dataclass(frozen=True)
class Load:
    rounds: int = 30
    seconds: float = 0.5  # one slice of short connections
    latency_seconds: float = 0.25  # one slice of sequential connections, timed one by one
    bulk_seconds: float = 0.25
    client_procs: int = 2
    server_procs: int = 2


@dataclass(frozen=True)
class Ready:
    config: Config
    client_netns: str
    agent: sandbox.Agent


@contextlib.contextmanager
def _set_up(config: Config, load: Load) -> Iterator[Ready]:
    with sandbox.pair(config.script) as pair:
        server = pair.server.netns
        with (
            sandbox.server(server, PORT_CRR, "crr", load.server_procs),
            sandbox.server(server, PORT_BULK, "sink", 1),
            sandbox.agent(
                pair.client.netns, config.target, (PORT_CRR, PORT_BULK), load.client_procs
            ) as agent,
        ):
            yield Ready(config, pair.client.netns, agent)


def _probe(ready: Ready) -> str:
    args = ("probe", "--host", str(sandbox.SERVER_IP), "--port", str(PORT_CLOSED))
    return str(sandbox.client(ready.client_netns, *args, timeout=10)["probe"])


def _slice(ready: Ready, load: Load, figures: Figures) -> None:
    crr = ready.agent.ask(f"crr {load.seconds}", timeout=load.seconds + 30)
    figures.conn_per_s.append(float(crr["per_second"]))
    figures.conn_errors.append(int(crr["errors"]))
    lat = ready.agent.ask(f"lat {load.latency_seconds}", timeout=load.latency_seconds + 30)
    figures.latency_p10_us.append(float(lat["p10_us"]))
    figures.latency_p50_us.append(float(lat["p50_us"]))
    figures.conn_errors[-1] += int(lat["errors"])
    bulk = ready.agent.ask(f"bulk {load.bulk_seconds}", timeout=load.bulk_seconds + 30)
    figures.gbit_per_s.append(float(bulk["gbit_per_second"]))


def measure(
    configs: list[Config], load: Load, progress: Callable[[str], None]
) -> dict[str, Figures]:
    figures = {c.name: Figures() for c in configs}
    rng = random.Random(1)
    with contextlib.ExitStack() as stack:
        ready = []
        for config in configs:
            ready.append(stack.enter_context(_set_up(config, load)))
            figures[config.name].probe = _probe(ready[-1])
            progress(f"traffic: {config.name} set up, closed port {figures[config.name].probe}")
        for n in range(load.rounds):
            order = rng.sample(ready, len(ready))
            for r in order:
                _slice(r, load, figures[r.config.name])
            rates = ", ".join(f"{c.name} {figures[c.name].conn_per_s[-1]:,.0f}/s" for c in configs)
            progress(f"traffic round {n + 1}/{load.rounds}: {rates}")
    return figures
