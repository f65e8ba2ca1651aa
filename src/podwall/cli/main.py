"""`podwall`: verdicts, explanations and maps for Kubernetes NetworkPolicies.

Exit codes: 0 allowed / success, 1 denied, 2 bad input, 70 a bug (EX_SOFTWARE); `probe` adds 3.
Bad input is any PodwallError that reaches the command line: its message is printed as it is.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from typing import Any, ClassVar, NoReturn

import click

from podwall import __version__
from podwall.cli import output
from podwall.cli.loading import InvalidManifests, load
from podwall.cli.resolve import connections
from podwall.engine import Decision, connectivity, decide, port_matrix
from podwall.engine import explain as explaining
from podwall.engine.targets import TargetError, parse_port
from podwall.errors import PodwallError
from podwall.model.cluster import Cluster
from podwall.model.ports import Protocol

EXIT_ALLOWED, EXIT_DENIED, EXIT_BAD_INPUT = 0, 1, 2

FILES_HELP = "Manifest file, directory or - for stdin (YAML or JSON, multi-document, kind: List)."


def _fail(message: str) -> NoReturn:
    output.error(message)
    raise SystemExit(EXIT_BAD_INPUT)


def _snapshot(paths: Sequence[str]) -> Cluster:
    if not paths:
        _fail("no manifests given: use -f FILE (or -f DIR, or -f - for stdin)")
    try:
        conversion = load(paths)
    except InvalidManifests as exc:
        for text in exc.lines:
            output.error(text)
        output.note(f"{len(exc.lines)} error(s); nothing was evaluated")
        raise SystemExit(EXIT_BAD_INPUT) from None
    if conversion.redeclared:
        output.note(
            f"{len(conversion.redeclared)} object(s) given more than once, the last declaration "
            f"is used: {', '.join(conversion.redeclared)}"
        )
    if conversion.ignored:
        kinds = ", ".join(f"{n} {k}" for k, n in sorted(conversion.ignored.items()))
        output.note(
            f"ignored {sum(conversion.ignored.values())} object(s) podwall does not model: {kinds}"
        )
    return conversion.cluster


def files_option(f: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "-f", "--filename", "paths", multiple=True, metavar="PATH", help=FILES_HELP
    )(f)


def output_option(choices: tuple[str, ...]) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    return click.option(
        "-o",
        "--output",
        "fmt",
        type=click.Choice(choices),
        default=choices[0],
        show_default=True,
        help="Output format.",
    )


def connection_options(f: Callable[..., Any]) -> Callable[..., Any]:
    f = click.option(
        "-n",
        "--namespace",
        default="default",
        show_default=True,
        help="Namespace for references without one.",
    )(f)
    f = click.option(
        "--to",
        "dst",
        required=True,
        metavar="DST[:PORT[/PROTO]]",
        help="Destination: POD, NS/POD, KIND/NAME (deploy, sts, ds, job, ...), "
        "svc/NAME (port mapped through targetPort) or an IP address.",
    )(f)
    f = click.option(
        "--from",
        "src",
        required=True,
        metavar="SRC",
        help="Source: POD, NS/POD, KIND/NAME or an IP address outside the cluster.",
    )(f)
    return f


class LazyGroup(click.Group):
    """Commands of other modules load when used: `podwall matrix` never imports a web server."""

    LAZY: ClassVar[dict[str, str]] = {
        "probe": "podwall.cli.probe:probe",
        "observe": "podwall.cli.observe:observe",
        "editor": "podwall.cli.editor:editor",
        "down": "podwall.cli.sandbox:down",
        "apiserver": "podwall.cli.apiserver:apiserver",
        "up": "podwall.cli.up:up",
        "status": "podwall.cli.up:status",
        "kubeconfig": "podwall.cli.up:kubeconfig",
    }

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.LAZY})

    def invoke(self, ctx: click.Context) -> Any:
        """Run the command; an error podwall raised on purpose is bad input (exit 2)."""
        try:
            return super().invoke(ctx)
        except PodwallError as exc:
            _fail(str(exc))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.LAZY:
            module, _, attr = self.LAZY[cmd_name].partition(":")
            command: click.Command = getattr(importlib.import_module(module), attr)
            return command
        return super().get_command(ctx, cmd_name)


@click.group(
    cls=LazyGroup,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.version_option(__version__, prog_name="podwall")
def cli() -> None:
    """Kubernetes NetworkPolicy, implemented for real.

    Ask what your NetworkPolicies allow, before you apply them:

    \b
      podwall check   -f app/ --from frontend --to svc/backend:8080
      podwall explain -f app/ --from deploy/not-frontend --to backend:8080
      podwall matrix  -f app/ --port 8080

    Manifests are any mix of files, directories and stdin; Deployments and other workloads
    stand for the pods they would create.
    """


def _decisions(paths: Sequence[str], src: str, dst: str, namespace: str) -> list[Decision]:
    cluster = _snapshot(paths)
    try:
        traffic, missing = connections(cluster, src, dst, namespace)
    except TargetError as exc:
        _fail(str(exc))
    for item in missing:
        output.note(f"{item.src.key} -> {item.reason}: no connection possible")
    if not traffic:
        _fail(f"{dst}: no destination pod has that port")
    return [decide(cluster, t) for t in traffic]


def _report(decisions: list[Decision], fmt: str, render: Callable[[Decision], list[str]]) -> None:
    allowed = all(d.allowed for d in decisions)
    if fmt == "json":
        output.emit_json(
            {"allowed": allowed, "decisions": [explaining.to_json(d) for d in decisions]}
        )
    else:
        for i, decision in enumerate(decisions):
            if i:
                output.line("")
            lines = render(decision)
            output.verdict_line(lines[0])
            for text in lines[1:]:
                output.line(text)
    raise SystemExit(EXIT_ALLOWED if allowed else EXIT_DENIED)


@cli.command()
@files_option
@connection_options
@output_option(("text", "json"))
def check(paths: tuple[str, ...], src: str, dst: str, namespace: str, fmt: str) -> None:
    """Is a connection allowed? Prints ALLOWED or DENIED and why.

    Exit status: 0 allowed, 1 denied, 2 bad input, so it fits CI scripts:

    \b
      podwall check -f k8s/ --from frontend --to svc/backend:8080 || exit 1

    A connection needs the source's egress and the destination's ingress to allow it. When a
    reference stands for several pods (a Deployment, a Service), every pair is checked and the
    answer is ALLOWED only if all are.
    """
    _report(_decisions(paths, src, dst, namespace), fmt, explaining.brief)


@cli.command()
@files_option
@connection_options
@output_option(("text", "json"))
def explain(paths: tuple[str, ...], src: str, dst: str, namespace: str, fmt: str) -> None:
    """The full reasoning for one connection.

    For the source's egress and the destination's ingress: whether the pod is isolated and by
    which policies, and for each of their rules whether its ports and each peer match, and
    why not. Exit status as for `check`.
    """
    _report(_decisions(paths, src, dst, namespace), fmt, explaining.full)


@cli.command()
@files_option
@click.option(
    "--port",
    default=None,
    metavar="PORT",
    help="One port (number, or a name resolved on each destination pod).",
)
@click.option(
    "--protocol",
    type=click.Choice([p.value for p in Protocol], case_sensitive=False),
    default="TCP",
    show_default=True,
    help="Protocol of --port.",
)
@output_option(("table", "json"))
def matrix(paths: tuple[str, ...], port: str | None, protocol: str, fmt: str) -> None:
    """Reachability between every pair of pods.

    With --port: a pod-by-pod matrix for that port. Its JSON is a stable contract:

    \b
      {"pods": ["ns/name", ...], "allowed": [[true, false, ...], ...]}

    rows are sources and columns destinations, in the order of "pods".

    Without --port: the full connectivity map, every allowed protocol and port range
    (`TCP 80-81, UDP 53`) between groups of pods that behave alike.
    """
    try:
        value = None if port is None else parse_port(port, f"--port {port}")
    except TargetError as exc:
        _fail(str(exc))
    cluster = _snapshot(paths)
    cmap = connectivity(cluster)
    if value is None:
        if fmt == "json":
            output.emit_json(cmap.to_json())
        else:
            output.connectivity_table(cmap)
        return
    m = port_matrix(cluster, value, Protocol(protocol.upper()), cmap=cmap)
    if fmt == "json":
        output.emit_json(m.to_json())
    else:
        output.port_matrix_table(m)


EXIT_INTERNAL = 70  # EX_SOFTWARE: never 0 or 1, which scripts read as allowed or denied


def main() -> None:
    try:
        cli(prog_name="podwall", standalone_mode=True)
    except Exception as exc:  # a bug must not look like a verdict
        output.error(f"internal error: {type(exc).__name__}: {exc} (please report it)")
        raise SystemExit(EXIT_INTERNAL) from exc
