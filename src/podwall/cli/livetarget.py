"""The running cluster a review command reads (`--cluster`, `--kubeconfig`, `--context`).

Imported only when one of those options is given: commands on files never build it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True, kw_only=True)
class LiveTarget:
    """A running cluster to read: a kubeconfig (None: the client's default) and a context."""

    kubeconfig: Path | None
    context: str | None

    @staticmethod
    def of(kubeconfig: str | None, context: str | None, up: bool) -> LiveTarget | None:
        if up and kubeconfig is None:
            path = up_kubeconfig()
            if not path.exists():  # said here: the client would only name a missing file
                from podwall.manifests.reader import LoadError

                raise LoadError(
                    f"{path}: no kubeconfig there: no local cluster runs in {path.parent}"
                    " (--cluster: start one with `podwall up`, or set PODWALL_STATE_DIR to"
                    " its state directory)"
                )
            return LiveTarget(kubeconfig=path, context=context)
        if up or kubeconfig is not None or context is not None:
            return LiveTarget(
                kubeconfig=None if kubeconfig is None else Path(kubeconfig), context=context
            )
        return None


def up_kubeconfig() -> Path:
    """The kubeconfig of the running `podwall up` (as `podwall kubeconfig` prints it)."""
    from podwall.cli import daemon

    state = daemon.default_state_dir().absolute()
    running = daemon.read_ready(state)
    return Path(running.kubeconfig) if running is not None else state / "kubeconfig"
