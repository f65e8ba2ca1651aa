"""`podwall observe`: the flows of the local cluster, every node merged, as `hubble observe`.

The nodes of `podwall up` write their flows to ring files in the cluster's run directory
(`podwall.flows.files`); this reads them, so it needs no connection to the API server and
sees the flows of a node whichever process runs it. With `--agent URL` (once per node) it
reads running agents' `GET /flows` instead (`podwall.flows.remote`), merged the same way:
the agents of a real cluster, reached directly or through `kubectl port-forward`.
"""

from __future__ import annotations

import argparse
import datetime
import re
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

from podwall.cli import options, output
from podwall.cli.command import Command, int_range
from podwall.cli.up import _state, add_state_dir
from podwall.flows import files, render
from podwall.flows.filters import EndMatch, FilterError, FlowFilter, parse_policy, parse_verdict
from podwall.flows.flow import Flow
from podwall.flows.remote import AgentsFollower, AgentUnreachable, base_url

EXIT_UNREACHABLE = 1
EXIT_BAD_INPUT = 2
DEFAULT_LAST = 20
POLL_SECONDS = 0.2
_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d)")
_UNIT_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_since(text: str, now: float) -> float:
    """`30s`, `5m`, `1h30m`, `2d` ago, or an RFC 3339 time; seconds since the epoch."""
    parts = _DURATION.findall(text)
    if parts and "".join(n + u for n, u in parts) == text:
        return now - sum(float(n) * _UNIT_SECONDS[u] for n, u in parts)
    try:
        moment = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise FilterError(
            f"--since {text!r}: expected a duration (30s, 5m, 1h) or a time (2025-01-02T15:04:05Z)"
        ) from None
    if moment.tzinfo is None:
        moment = moment.astimezone()  # a time without a zone is local, as `date` prints it
    return moment.timestamp()


def add_filters(parser: argparse.ArgumentParser) -> None:
    """--since, --pod, --namespace, --from, --to, --port, --verdict and --policy; `flow_filter`
    reads them."""
    add = parser.add_argument
    add("--since", metavar="WHEN", help="Only flows since WHEN: 30s, 5m, 1h, or a time.")
    add(
        "--pod",
        dest="pods",
        action="append",
        default=[],
        metavar="[NS/]POD|IP",
        help="Either end is it.",
    )
    add(
        "--namespace",
        dest="namespaces",
        action="append",
        default=[],
        metavar="NS",
        help="Either end is in NS.",
    )
    add(
        "--from",
        dest="sources",
        action="append",
        default=[],
        metavar="[NS/]POD|IP|CIDR",
        help="The source.",
    )
    add(
        "--to",
        dest="destinations",
        action="append",
        default=[],
        metavar="[NS/]POD|IP|CIDR",
        help="The destination.",
    )
    add(
        "--port",
        dest="ports",
        action="append",
        default=[],
        type=int_range(0, 65535),
        metavar="PORT",
        help="Destination port.",
    )
    add(
        "--verdict",
        dest="verdicts",
        action="append",
        default=[],
        metavar="ALLOWED|DENIED|AUDIT",
        help="The verdict.",
    )
    add("--policy", dest="policies", action="append", default=[], metavar="[NS/]NAME",
        help="It decided.")  # fmt: skip


def flow_filter(args: argparse.Namespace) -> FlowFilter:
    """The filter the options of `add_filters` ask for; one that does not parse is exit
    status 2, saying why."""
    since: str | None = args.since
    try:
        return FlowFilter(
            pods=tuple(EndMatch.parse(p, "--pod") for p in args.pods),
            namespaces=tuple(args.namespaces),
            sources=tuple(EndMatch.parse(s, "--from") for s in args.sources),
            destinations=tuple(EndMatch.parse(d, "--to") for d in args.destinations),
            ports=tuple(args.ports),
            verdicts=tuple(parse_verdict(v) for v in args.verdicts),
            policies=tuple(parse_policy(p) for p in args.policies),
            since=None if since is None else parse_since(since, time.time()),
        )
    except FilterError as exc:
        output.error(str(exc))
        raise SystemExit(EXIT_BAD_INPUT) from None


def _cluster_flows(state: Path, run_root: Path) -> Path:
    id_file = state / "cluster-id"
    if not id_file.exists():
        output.error(f"no local cluster in {state}: start one with `podwall up`")
        raise SystemExit(EXIT_BAD_INPUT)
    return files.flows_dir(id_file.read_text().strip(), run_root)


def _arguments(parser: argparse.ArgumentParser) -> None:
    add_state_dir(parser)
    parser.add_argument(
        "--agent",
        dest="agents",
        action="append",
        default=[],
        metavar="URL",
        help="Read a running agent's GET /flows (its metrics port, e.g. http://127.0.0.1:9474) "
        "instead of the local cluster; once per node, merged.",
    )
    parser.add_argument(
        "-f", "--follow", action="store_true", help="Keep printing flows as they come."
    )
    parser.add_argument(
        "--last",
        type=int_range(0),
        default=None,
        metavar="N",
        help=f"The last N flows first (default {DEFAULT_LAST}; 0 with --follow: none).",
    )
    add_filters(parser)
    options.add_output(
        parser, ("text", "json"), help="One line of text, or one JSON object, per flow."
    )


def _run(args: argparse.Namespace) -> None:
    observe(
        state_dir=args.state_dir,
        agents=args.agents,
        follow=args.follow,
        last=args.last,
        wanted=flow_filter(args),
        fmt=args.fmt,
    )


def observe(
    *,
    state_dir: Path | None,
    agents: Sequence[str],
    follow: bool,
    last: int | None,
    wanted: FlowFilter,
    fmt: str,
) -> None:
    """The flows of the local cluster: each new connection a NetworkPolicy decided.

    Every node reports the first packet of each new connection that a policy isolating one
    of its pods allowed, denied, or (in audit mode) would have denied, with the pods, the
    Service dialled, and the policy and rule that decided, in the words of `podwall explain`.
    Connections between pods no policy isolates are not reported. Filters combine with AND;
    a filter given twice matches either value. A pod is named as `kubectl get pods` names it
    (a Deployment's pods have generated names: filter them by --namespace or address).

      podwall observe --last 50 --verdict DENIED
      podwall observe -f --namespace default --port 8080
      podwall observe --policy backend-ingress-deny -o json | jq .reason
    """
    source: Path | list[str]
    try:
        source = [base_url(url) for url in agents]
    except AgentUnreachable as exc:
        output.error(str(exc))
        raise SystemExit(EXIT_BAD_INPUT) from None
    if not agents:
        source = _cluster_flows(_state(state_dir), files.RUN_ROOT)
    try:
        run_observe(source, wanted, follow=follow, last=last, show=_printer(fmt))
    except AgentUnreachable as exc:
        output.error(str(exc))
        raise SystemExit(EXIT_UNREACHABLE) from None


OBSERVE = Command(observe.__doc__, _arguments, _run)


def _printer(fmt: str) -> Callable[[Flow], None]:
    line = render.json_line if fmt == "json" else render.text
    return lambda flow: _echo(line(flow))


def _echo(text: str) -> None:
    """One flow a line, flushed at once: `observe -f | grep` sees each flow as it comes."""
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


class _Source(Protocol):
    def poll(self) -> list[Flow]: ...

    def close(self) -> None: ...


def _follower(source: Path | Sequence[str]) -> _Source:
    if isinstance(source, Path):
        return files.Follower(source, from_start=True)
    return AgentsFollower(source)


def _lost(follower: _Source) -> str | None:
    if isinstance(follower, files.Follower) and follower.missed_files:
        return f"{follower.missed_files} ring file(s) went by unread: flows lost"
    if isinstance(follower, AgentsFollower) and follower.missed:
        return f"{follower.missed} flow(s) left the agents' rings before they were read"
    return None


def run_observe(
    source: Path | Sequence[str],
    wanted: FlowFilter,
    *,
    follow: bool,
    last: int | None,
    show: Callable[[Flow], None],
    polls: int | None = None,
) -> None:
    """Print the last flows, then (with `follow`) new ones until interrupted or `polls` ran.
    `source` is the local cluster's flows directory, or the URLs of running agents.

    Following reads the history as its first poll, so no flow falls between the two."""
    count = last if last is not None else (0 if follow else DEFAULT_LAST)
    if isinstance(source, Path) and not source.exists():
        output.note(f"no flows yet: {source} does not exist")
    if not follow and isinstance(source, Path):
        past = [f for f in files.history(source) if wanted.matches(f)]
        for flow in past[len(past) - count :] if count else []:
            show(flow)
        return
    follower = _follower(source)
    try:
        past = [f for f in follower.poll() if wanted.matches(f)]
        for flow in past[len(past) - count :] if count else []:
            show(flow)
        while follow and (polls is None or polls > 0):
            time.sleep(POLL_SECONDS)
            for flow in follower.poll():
                if wanted.matches(flow):
                    show(flow)
            if polls is not None:
                polls -= 1
    except KeyboardInterrupt:
        pass
    finally:
        follower.close()
        lost = _lost(follower)
        if lost is not None:
            output.note(lost)
