"""`podwall observe`: the flows of the local cluster, every node merged, as `hubble observe`.

The nodes of `podwall up` write their flows to ring files in the cluster's run directory
(`podwall.flows.files`); this reads them, so it needs no connection to the API server and
sees the flows of a node whichever process runs it. With `--agent URL` (once per node) it
reads running agents' `GET /flows` instead (`podwall.flows.remote`), merged the same way:
the agents of a real cluster, reached directly or through `kubectl port-forward`.
"""

from __future__ import annotations

import datetime
import functools
import re
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol

import click

from podwall.cli import output
from podwall.cli.options import output_option
from podwall.cli.up import _state, state_dir_option
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


def filter_options(f: Callable[..., Any]) -> Callable[..., Any]:
    """--since, --pod, --namespace, --from, --to, --port, --verdict and --policy, handed to
    the command as `wanted: FlowFilter`; one that does not parse is exit status 2, saying why."""

    @functools.wraps(f)
    def command(
        *args: Any,
        since: str | None,
        pods: tuple[str, ...],
        namespaces: tuple[str, ...],
        sources: tuple[str, ...],
        destinations: tuple[str, ...],
        ports: tuple[int, ...],
        verdicts: tuple[str, ...],
        policies: tuple[str, ...],
        **kwargs: Any,
    ) -> Any:
        try:
            wanted = FlowFilter(
                pods=tuple(EndMatch.parse(p, "--pod") for p in pods),
                namespaces=namespaces,
                sources=tuple(EndMatch.parse(s, "--from") for s in sources),
                destinations=tuple(EndMatch.parse(d, "--to") for d in destinations),
                ports=ports,
                verdicts=tuple(parse_verdict(v) for v in verdicts),
                policies=tuple(parse_policy(p) for p in policies),
                since=None if since is None else parse_since(since, time.time()),
            )
        except FilterError as exc:
            output.error(str(exc))
            raise SystemExit(EXIT_BAD_INPUT) from None
        return f(*args, wanted=wanted, **kwargs)

    for option in reversed(_FILTER_OPTIONS):
        command = option(command)
    return command


_FILTER_OPTIONS = (
    click.option("--since", metavar="WHEN", help="Only flows since WHEN: 30s, 5m, 1h, or a time."),
    click.option("--pod", "pods", multiple=True, metavar="[NS/]POD|IP", help="Either end is it."),
    click.option(
        "--namespace", "namespaces", multiple=True, metavar="NS", help="Either end is in NS."
    ),
    click.option(
        "--from", "sources", multiple=True, metavar="[NS/]POD|IP|CIDR", help="The source."
    ),
    click.option(
        "--to", "destinations", multiple=True, metavar="[NS/]POD|IP|CIDR", help="The destination."
    ),
    click.option(
        "--port", "ports", multiple=True, type=click.IntRange(0, 65535), help="Destination port."
    ),
    click.option(
        "--verdict", "verdicts", multiple=True, metavar="ALLOWED|DENIED|AUDIT", help="The verdict."
    ),
    click.option("--policy", "policies", multiple=True, metavar="[NS/]NAME", help="It decided."),
)


def _cluster_flows(state: Path, run_root: Path) -> Path:
    id_file = state / "cluster-id"
    if not id_file.exists():
        output.error(f"no local cluster in {state}: start one with `podwall up`")
        raise SystemExit(EXIT_BAD_INPUT)
    return files.flows_dir(id_file.read_text().strip(), run_root)


@click.command(short_help="Each new connection a policy decided, and which rule.")
@state_dir_option
@click.option(
    "--agent",
    "agents",
    multiple=True,
    metavar="URL",
    help="Read a running agent's GET /flows (its metrics port, e.g. http://127.0.0.1:9474) "
    "instead of the local cluster; once per node, merged.",
)
@click.option("-f", "--follow", is_flag=True, help="Keep printing flows as they come.")
@click.option(
    "--last",
    type=click.IntRange(min=0),
    default=None,
    metavar="N",
    help=f"The last N flows first (default {DEFAULT_LAST}; 0 with --follow: none).",
)
@filter_options
@output_option(("text", "json"), help="One line of text, or one JSON object, per flow.")
def observe(
    state_dir: Path | None,
    agents: tuple[str, ...],
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

    \b
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


def _printer(fmt: str) -> Callable[[Flow], None]:
    if fmt == "json":
        return lambda flow: click.echo(render.json_line(flow))
    return lambda flow: click.echo(render.text(flow))


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
