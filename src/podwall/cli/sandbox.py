"""`podwall down`: remove what podwall left on this host."""

from __future__ import annotations

import click

from podwall.cli import output


@click.command()
@click.option(
    "--force", is_flag=True, help="Also remove leftovers of sandboxes whose podwall process died."
)
def down(force: bool) -> None:
    """Stop podwall's sandboxes and remove every namespace and link they created.

    Only podwall's own namespaces (named pw-...) are touched; no process is killed by name.
    """
    from podwall.runtime.netns import leftovers, remove_leftovers
    from podwall.runtime.process import remove_pod_files

    found = leftovers()
    if not found:
        output.note("nothing to remove")
        return
    if not force:
        output.note("leftover namespaces: " + ", ".join(found))
        output.note("run `podwall down --force` to remove them")
        raise SystemExit(1)
    for name in remove_leftovers():
        remove_pod_files(name)
        output.line(f"removed network namespace {name}")
