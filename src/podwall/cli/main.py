"""`podwall`: verdicts, explanations and maps for Kubernetes NetworkPolicies.

Exit codes: 0 allowed / success, 1 denied, 2 bad input, 70 a bug (EX_SOFTWARE); `probe` adds 3.
Bad input is any PodwallError that reaches the command line: its message is printed as it is.

Every command lives in its own module and is imported only when it runs, so a command pays
only for what it uses (`podwall check` never imports the engine's maps, rich, or a server).
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar, NoReturn

import click

from podwall import __version__
from podwall.cli import output
from podwall.errors import PodwallError

if TYPE_CHECKING:
    from podwall.cli.livetarget import LiveTarget
    from podwall.model.cluster import Cluster

EXIT_ALLOWED, EXIT_DENIED, EXIT_BAD_INPUT = 0, 1, 2


def _fail(message: str) -> NoReturn:
    output.error(message)
    raise SystemExit(EXIT_BAD_INPUT)


def _snapshot(
    paths: Sequence[str], live: LiveTarget | None = None, revisions: Sequence[str] = ()
) -> Cluster:
    from podwall.cli import snapshot

    return snapshot.from_paths(paths, live, revisions)


class LazyGroup(click.Group):
    """Commands of other modules load when used: `podwall matrix` never imports a web server."""

    LAZY: ClassVar[dict[str, str]] = {
        "agent": "podwall.cli.agent:agent",
        "check": "podwall.cli.verdicts:check",
        "explain": "podwall.cli.verdicts:explain",
        "matrix": "podwall.cli.matrix:matrix",
        "probe": "podwall.cli.probe:probe",
        "observe": "podwall.cli.observe:observe",
        "editor": "podwall.cli.editor:editor",
        "down": "podwall.cli.sandbox:down",
        "apiserver": "podwall.cli.apiserver:apiserver",
        "up": "podwall.cli.up:up",
        "status": "podwall.cli.up:status",
        "kubeconfig": "podwall.cli.up:kubeconfig",
        "diff": "podwall.cli.diff:diff",
        "lint": "podwall.cli.lint:lint",
        "exposure": "podwall.cli.exposure:exposure",
    }

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.LAZY})

    def invoke(self, ctx: click.Context) -> Any:
        """Run the command; an error podwall raised on purpose is bad input (exit 2)."""
        try:
            return super().invoke(ctx)
        except PodwallError as exc:
            _fail(str(exc))

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        """As click's, and a mistyped command gets the nearest one (`chek`: did you mean check?),
        as a mistyped option already does."""
        try:
            return super().resolve_command(ctx, args)
        except click.UsageError as exc:
            import difflib  # only on this error

            near = difflib.get_close_matches(args[0], self.list_commands(ctx)) if args else []
            near = [n for n in near if not getattr(self.get_command(ctx, n), "hidden", True)]
            if near:
                exc.message += f" Did you mean '{near[0]}'?"
            raise

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


EXIT_INTERNAL = 70  # EX_SOFTWARE: never 0 or 1, which scripts read as allowed or denied


def main() -> None:
    try:
        cli(prog_name="podwall", standalone_mode=True)
    except Exception as exc:  # a bug must not look like a verdict
        output.error(f"internal error: {type(exc).__name__}: {exc} (please report it)")
        raise SystemExit(EXIT_INTERNAL) from exc
