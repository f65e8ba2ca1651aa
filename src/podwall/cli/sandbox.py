"""`podwall down`: stop the local cluster and remove what podwall left on this host."""

from __future__ import annotations

import argparse
import contextlib
from pathlib import Path

from podwall.cli import daemon, output
from podwall.cli.command import Command
from podwall.cli.up import add_state_dir

FORCE_HELP = (
    "Also remove every other podwall namespace on this host (pw-...): those of sandboxes whose "
    "podwall died, but also of any still running (a probe, another state dir's cluster)."
)


def _arguments(parser: argparse.ArgumentParser) -> None:
    add_state_dir(parser)
    parser.add_argument("--force", action="store_true", help=FORCE_HELP)
    parser.add_argument(
        "--keep-state",
        action="store_true",
        help="Keep the store, so `podwall up` brings it back.",
    )


def _run(args: argparse.Namespace) -> None:
    down(state_dir=args.state_dir, force=args.force, keep_state=args.keep_state)


def down(*, state_dir: Path | None, force: bool, keep_state: bool) -> None:
    """Stop the local cluster (`podwall up`) and remove every pod, namespace and file it made.

    Then podwall's other sandboxes: only podwall's own namespaces (named pw-...) are touched,
    and only with --force; no process is killed by name.

      podwall down                # the cluster of the default state directory
      podwall down --keep-state   # stop it; `podwall up` brings it back
    """
    from podwall.runtime.netns import leftovers, remove_leftovers
    from podwall.runtime.process import remove_pod_files

    state = (state_dir or daemon.default_state_dir()).absolute()
    stopped = _stop_cluster(state, keep_state)
    found = leftovers()
    if not found:
        if not stopped:
            output.note("nothing to remove")
        return
    if not force:
        if not stopped:  # else the list below reads as if it were this state dir's cluster
            output.note(f"no cluster in {state}")
        output.note("other podwall namespaces on this host: " + ", ".join(found))
        output.note(
            "run `podwall down --force` to remove them, if no other podwall sandbox is running"
        )
        raise SystemExit(0 if stopped else 1)
    for name in remove_leftovers():
        remove_pod_files(name)
        output.line(f"removed network namespace {name}")


DOWN = Command(down.__doc__, _arguments, _run)


def _stop_cluster(state: Path, keep_state: bool) -> bool:
    """Stop the cluster of `state` if one runs; clear what a killed one left. True if found."""
    if not (state / "cluster-id").exists():
        return False
    from podwall.cluster.agents import stop_leftovers
    from podwall.cluster.local import RUN_ROOT, cluster_id, remove_state
    from podwall.runtime.node import Node

    pid = daemon.locked_pid(state)
    if pid is not None:
        clean = daemon.terminate(pid, state)
        output.line(f"stopped podwall (pid {pid})" + ("" if clean else ", killed"))
    for agent in stop_leftovers(state):
        output.line(f"stopped a leftover node agent (pid {agent})")
    ident = cluster_id(state)
    node = Node(ident, run_dir=RUN_ROOT / ident, log_dir=state / "pods")
    for name in node.adopt_leftovers():
        output.line(f"removed network namespace {name}")
    node.stop()
    with contextlib.suppress(OSError):
        RUN_ROOT.rmdir()  # only when empty: no other cluster runs
    if not keep_state and remove_state(state):
        output.line(f"removed the cluster's state in {state}")
    return True
