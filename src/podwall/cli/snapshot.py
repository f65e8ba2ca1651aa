"""Inputs to a snapshot for a command, or exit 2 with every error: the commands' common front.

Files (`-f`), a git revision (`--git REV:PATH`) and, for the live commands, a cluster all end
here as a `Loaded`, are validated and converted once, and the notes a user should see (ignored
kinds, objects given twice) go to stderr.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, NoReturn

from podwall.cli import output
from podwall.cli.loading import InvalidManifests, LoadError, convert
from podwall.manifests.reader import Loaded, load_paths
from podwall.model.cluster import Cluster

if TYPE_CHECKING:
    from podwall.cli.livetarget import LiveTarget

EXIT_BAD_INPUT = 2


def fail(message: str) -> NoReturn:
    output.error(message)
    raise SystemExit(EXIT_BAD_INPUT)


# A record read field by field, never compared, hashed or printed, written out: a dataclass
# compiles each method it generates at import, which every command's start-up pays for.
class Input:
    """A snapshot and the texts it was read from (file name -> text), to find field lines."""

    __slots__ = ("cluster", "texts")

    def __init__(self, *, cluster: Cluster, texts: dict[str, str]) -> None:
        self.cluster = cluster
        self.texts = texts


def from_paths(
    paths: Sequence[str], live: LiveTarget | None = None, revisions: Sequence[str] = ()
) -> Cluster:
    return read_inputs(paths, live, revisions=revisions).cluster


def read_inputs(
    paths: Sequence[str], live: LiveTarget | None, label: str = "", revisions: Sequence[str] = ()
) -> Input:
    """The files and git revisions given, layered on the cluster given if any."""
    if live is None:
        return read_paths(paths, revisions)
    state = _cluster(live)
    return _layered(state, paths, label, revisions)


def read_paths(paths: Sequence[str], revisions: Sequence[str] = ()) -> Input:
    if not paths and not revisions:
        fail("no manifests given: use -f FILE (or -f DIR, or -f - for stdin)")
    return read(lambda: _files(paths, revisions))


def _files(paths: Sequence[str], revisions: Sequence[str]) -> Loaded:
    """Git revisions first, then files: a file's object replaces a revision's of that name."""
    loaded = Loaded()
    for spec in revisions:
        part = _revision(spec)
        loaded.objects += part.objects
        loaded.texts.update(part.texts)
    if paths:
        part = load_paths(paths)
        loaded.objects += part.objects
        loaded.texts.update(part.texts)
        loaded.empty_directories += part.empty_directories
    return loaded


def _revision(spec: str) -> Loaded:
    from podwall.manifests.git import load_revision  # subprocess and git: only when asked

    return load_revision(spec)


def live_and_applied(
    live: LiveTarget, paths: Sequence[str], revisions: Sequence[str] = ()
) -> tuple[Cluster, Cluster]:
    """The cluster as it is and with the files (and git revisions) applied, from one listing."""
    state = _cluster(live)
    before = read(lambda: state, "before").cluster
    return before, _layered(state, paths, "after", revisions).cluster


def _cluster(live: LiveTarget) -> Loaded:
    # Imported here: the kubernetes client is paid for only by commands given a cluster.
    from podwall.live.reader import read_cluster

    try:
        return read_cluster(live.kubeconfig, live.context, progress=output.note)
    except LoadError as exc:
        fail(str(exc))


def _layered(
    state: Loaded, paths: Sequence[str], label: str, revisions: Sequence[str] = ()
) -> Input:
    from podwall.live.layer import layer

    replaced: list[str] = []

    def applied() -> Loaded:
        result = layer(state, _files(paths, revisions))
        replaced.extend(result.replaced)
        return result.loaded

    given = read(applied, label)
    if replaced:
        prefix = f"{label}: " if label else ""
        output.note(
            f"{prefix}the files replace {len(replaced)} object(s) of the cluster: "
            f"{', '.join(replaced)}"
        )
    return given


def from_loaded(read_loaded: Callable[[], Loaded], label: str = "") -> Cluster:
    return read(read_loaded, label).cluster


def read(read_loaded: Callable[[], Loaded], label: str = "") -> Input:
    """Read, validate and convert; `label` prefixes the notes when a command reads two inputs."""
    try:
        loaded = read_loaded()
        conversion = convert(loaded)
    except LoadError as exc:
        fail(str(exc))
    except InvalidManifests as exc:
        for text in exc.lines:
            output.error(text)
        output.note(f"{len(exc.lines)} error(s); nothing was evaluated")
        raise SystemExit(EXIT_BAD_INPUT) from None
    prefix = f"{label}: " if label else ""
    for directory in loaded.empty_directories:
        output.note(f"{prefix}{directory}: no manifests in this directory (.yaml, .yml, .json)")
    if conversion.redeclared:
        output.note(
            f"{prefix}{len(conversion.redeclared)} object(s) given more than once, the last "
            f"declaration is used: {', '.join(conversion.redeclared)}"
        )
    if conversion.ignored:
        kinds = ", ".join(f"{n} {k}" for k, n in sorted(conversion.ignored.items()))
        output.note(
            f"{prefix}ignored {sum(conversion.ignored.values())} object(s) podwall does not "
            f"model: {kinds}"
        )
    return Input(cluster=conversion.cluster, texts=loaded.texts)
