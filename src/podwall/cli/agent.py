"""`podwall agent`: enforce NetworkPolicies on this node of a Kubernetes cluster.

Exit status: 0 after SIGTERM or SIGINT (the rules stay in force) and after `--cleanup`;
2 when something the agent needs is missing (one line on stderr says what), before anything
is applied.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import socket
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any

from podwall.agent.client import Target
from podwall.agent.lease import AGENT_LABEL, NAMESPACE, AgentStatus
from podwall.agent.run import Agent, Options, StartupError, cleanup, where
from podwall.cli import output
from podwall.cli.command import Command, dir_path
from podwall.cli.options import add_kubeconfig_file

EXIT_MISSING = 2
METRICS_PORT = 9474


def _holder() -> str:
    """The Lease's holderIdentity: the pod's name in a DaemonSet, else host and pid."""
    return os.environ.get("POD_NAME") or f"{socket.gethostname()}-{os.getpid()}"


def _arguments(parser: argparse.ArgumentParser) -> None:
    add = parser.add_argument
    add_kubeconfig_file(
        parser,
        "Kubeconfig to use (default: the pod's service account, else $KUBECONFIG, "
        "else ~/.kube/config).",
    )
    add(
        "--context",
        default=None,
        metavar="TEXT",
        help="Kubeconfig context (default: its current one).",
    )
    add(
        "--node-name",
        default=None,
        metavar="TEXT",
        help="The node whose pods this agent isolates; pods of other nodes are peers only. "
        "[default: $NODE_NAME, else the hostname]",
    )
    add(
        "--netns",
        default=None,
        metavar="NAME",
        help="Program the named network namespace (/run/netns/NAME) instead of this one.",
    )
    add(
        "--metrics-bind",
        default="127.0.0.1",
        metavar="TEXT",
        help="Address of the HTTP port. [default: %(default)s]",
    )
    add(
        "--metrics-port",
        type=int,
        default=METRICS_PORT,
        metavar="INTEGER",
        help="Port of /healthz, /readyz and /metrics (0: any free port, logged). "
        "[default: %(default)s]",
    )
    add(
        "--service-dnat",
        action="store_true",
        help="Also DNAT ClusterIPs to pods (only where no kube-proxy or CNI does it).",
    )
    add(
        "--lease-namespace",
        default=NAMESPACE,
        metavar="TEXT",
        help="Namespace of the Leases. [default: %(default)s]",
    )
    add(
        "--startup-timeout",
        type=float,
        default=30.0,
        metavar="FLOAT",
        help="Seconds to reach the API server and list everything before giving up. "
        "[default: %(default)s]",
    )
    add(
        "--max-backoff",
        type=float,
        default=30.0,
        metavar="FLOAT",
        help="Longest wait, in seconds, before retrying a failed watch or a refused batch. "
        "[default: %(default)s]",
    )
    add(
        "--flows",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="Log each new connection's verdict (rate-limited), serve them on GET /flows and "
        "count them per policy and rule on /metrics. [default: --flows]",
    )
    add("--cleanup", dest="remove", action="store_true", help="Remove the agent's table and exit.")
    add(
        "--sandbox",
        action="store_true",
        help="Be a whole node of `podwall up`'s local cluster: its namespace, pods and Node "
        "object (needs --cluster-id, --node-index, --run-dir, --log-dir).",
    )
    add(
        "--cluster-id",
        default=None,
        metavar="TEXT",
        help="The local cluster's id (with --sandbox).",
    )
    add(
        "--node-index",
        type=int,
        default=0,
        metavar="INTEGER",
        help="The node's place (with --sandbox).",
    )
    add(
        "--run-dir",
        type=dir_path,
        default=None,
        metavar="DIRECTORY",
        help="The node's run directory (with --sandbox).",
    )
    add(
        "--log-dir",
        type=dir_path,
        default=None,
        metavar="DIRECTORY",
        help="Where pod logs go (with --sandbox).",
    )
    add("--log-level", choices=["debug", "info", "warning", "error"], default="info",
        help="[default: %(default)s]")  # fmt: skip


def _run(args: argparse.Namespace) -> None:
    node_name: str | None = args.node_name
    agent(
        kubeconfig=args.kubeconfig,
        context=args.context,
        node_name=node_name or os.environ.get("NODE_NAME") or socket.gethostname(),
        netns=args.netns,
        metrics_bind=args.metrics_bind,
        metrics_port=args.metrics_port,
        service_dnat=args.service_dnat,
        lease_namespace=args.lease_namespace,
        startup_timeout=args.startup_timeout,
        max_backoff=args.max_backoff,
        flows=args.flows,
        remove=args.remove,
        sandbox=args.sandbox,
        cluster_id=args.cluster_id,
        node_index=args.node_index,
        run_dir=args.run_dir,
        log_dir=args.log_dir,
        log_level=args.log_level,
    )


def agent(
    *,
    kubeconfig: Path | None,
    context: str | None,
    node_name: str,
    netns: str | None,
    metrics_bind: str,
    metrics_port: int,
    service_dnat: bool,
    lease_namespace: str,
    startup_timeout: float,
    max_backoff: float,
    flows: bool,
    remove: bool,
    sandbox: bool,
    cluster_id: str | None,
    node_index: int,
    run_dir: Path | None,
    log_dir: Path | None,
    log_level: str,
) -> None:
    """Enforce the cluster's NetworkPolicies on this node, in nftables table `inet podwall`.

    Lists and watches namespaces, pods, NetworkPolicies and nodes, and keeps the node's
    ruleset in line with them: the pods of --node-name are isolated as their policies say,
    host-network pods never are. Runs as a DaemonSet (deploy/), or by hand with --kubeconfig.
    SIGTERM leaves the rules in force; a new agent replaces them in one atomic batch.

      kubectl apply -f deploy/     # as a DaemonSet: every node
      podwall agent --kubeconfig ~/.kube/config --node-name node-1  # by hand
    """
    if sandbox and (cluster_id is None or run_dir is None or log_dir is None):
        # Said before logging is set up: a usage error, as argparse's own.
        raise argparse.ArgumentError(None, "--sandbox needs --cluster-id, --run-dir and --log-dir")
    logging.basicConfig(
        level=log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
        force=True,
    )
    if remove:
        _cleanup(netns)
        return
    options = Options(
        target=Target(kubeconfig=kubeconfig, context=context),
        node=node_name,
        holder=_holder(),
        netns=netns,
        metrics_bind=metrics_bind,
        metrics_port=metrics_port,
        service_dnat=service_dnat,
        lease_namespace=lease_namespace,
        startup_seconds=startup_timeout,
        backoff_cap=max_backoff,
        flows=flows,
    )
    if sandbox:
        assert cluster_id is not None
        assert run_dir is not None
        assert log_dir is not None
        from podwall.agent.sandbox import SandboxOptions, serve

        where_ = SandboxOptions(
            cluster_id=cluster_id,
            index=node_index,
            run_dir=run_dir,
            log_dir=log_dir,
        )
        raise SystemExit(serve(options, where_))
    raise SystemExit(run(options))


AGENT = Command(agent.__doc__, _arguments, _run)


def run(options: Options) -> int:
    node = Agent(options)

    def on_signal(signum: int, frame: FrameType | None) -> None:
        node.stop()

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, on_signal)
    logging.getLogger(__name__).info(
        "podwall agent for node %s in %s", options.node, where(options.netns)
    )
    try:
        node.start()
    except StartupError as exc:
        output.error(str(exc))
        return EXIT_MISSING
    try:
        node.wait()
    finally:
        node.close()
    logging.getLogger(__name__).info("stopped; the loaded rules stay in force")
    return 0


def _cleanup(netns: str | None) -> None:
    try:
        cleanup(netns)
    except StartupError as exc:
        output.error(str(exc))
        raise SystemExit(EXIT_MISSING) from None
    except Exception as exc:  # NftError from the delete itself
        output.error(f"cannot remove table inet podwall in {where(netns)}: {exc}")
        raise SystemExit(EXIT_MISSING) from None
    output.note(f"removed table inet podwall from {where(netns)}")


# `podwall status`: every node's agent, from its Lease.

LEASE_NAMESPACE = NAMESPACE
LEASES = "/apis/coordination.k8s.io/v1/namespaces/{namespace}/leases"
AGENT_SELECTOR = "{}={}".format(*AGENT_LABEL)
COLUMNS = ("NODE", "AGENT", "RENEWED", "SYNCED", "LAG", "POLICIES", "PODS", "LAST ERROR")


def leases_path(namespace: str = NAMESPACE) -> str:
    return LEASES.format(namespace=namespace) + f"?labelSelector={AGENT_SELECTOR}"


def _ago(when: datetime | None, now: datetime) -> str:
    # Imported here: the agent itself never prints a table, and starts ~0.07 s sooner.
    from podwall.apiserver.tables import human_duration

    if when is None:
        return "never"
    return f"{human_duration((now - when).total_seconds())} ago"


def agent_rows(leases: list[dict[str, Any]], now: datetime) -> list[tuple[str, ...]]:
    """One row per node agent, sorted by node: alive or not, what it enforces."""
    rows: list[tuple[str, ...]] = []
    for status in sorted((AgentStatus.parse(x) for x in leases), key=lambda s: s.node):
        alive, e = status.alive(now), status.enforcement
        state = ("alive" if e.ready else "starting") if alive else "down"
        synced = f"rv {e.synced_resource_version}" if e.synced_resource_version else "-"
        rows.append(
            (
                status.node,
                state,
                _ago(status.renewed, now),
                synced + (f", {_ago(e.synced_at, now)}" if e.synced_at else ""),
                f"{e.lag_seconds:.1f}s" if alive else "-",
                str(e.policies),
                str(e.pods),
                e.last_error or "-",
            )
        )
    return rows


def agents_lines(leases: list[dict[str, Any]], now: datetime, namespace: str) -> list[str]:
    rows = agent_rows(leases, now)
    if not rows:
        return [f"agents: none (no agent Lease in namespace {namespace})"]
    down = sum(1 for r in rows if r[1] == "down")
    head = f"agents: {len(rows)}, {down} down" if down else f"agents: {len(rows)}, all alive"
    table = [COLUMNS, *rows]
    widths = [max(len(r[i]) for r in table) for i in range(len(COLUMNS))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in table]
    return [head, *lines]


def cluster_agents(kubeconfig: Path, context: str | None, namespace: str) -> list[str]:
    """The agents of the cluster a kubeconfig names (`podwall status --kubeconfig`)."""
    from podwall.agent.client import ApiError, ClientError, Connection, Unreachable

    # A ConfigError (no usable kubeconfig) goes up as it is: bad input, exit 2, as in the
    # review commands.
    connection = Connection.open(Target(kubeconfig=kubeconfig, context=context))
    try:
        leases = connection.request("GET", leases_path(namespace))["items"]
    except (ApiError, Unreachable) as exc:
        raise ClientError(
            f"cannot list Leases in {namespace} from {connection.host}: {exc}"
        ) from None
    finally:
        connection.close()
    return [f"cluster: {connection.host}", *agents_lines(leases, datetime.now(UTC), namespace)]
