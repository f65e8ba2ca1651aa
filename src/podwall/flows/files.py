"""Where a cluster's nodes keep their flow rings, and reading them as one stream.

Each node of a `podwall up` cluster writes `<run root>/<cluster id>/flows/<node>.jsonl` (see
`ring`); `podwall observe` reads every node's ring there, merged by time with Services joined
across nodes (`merge`): the nodes' history (`history`) or what they add from now on
(`Follower`). A node that appears later (a new agent) is picked up at its next poll.
"""

from __future__ import annotations

from pathlib import Path

from podwall.flows.flow import Flow
from podwall.flows.merge import Joiner, by_time
from podwall.flows.ring import SUFFIX, Entry, Tail, read_ring

RUN_ROOT = Path("/run/podwall")  # podwall up's runtime files, one directory per cluster id
FLOWS = "flows"


def flows_dir(cluster_id: str, run_root: Path = RUN_ROOT) -> Path:
    return run_root / cluster_id / FLOWS


def ring_path(directory: Path, node: str) -> Path:
    return directory / f"{node}{SUFFIX}"


def rings(directory: Path) -> list[Path]:
    """The current file of every node's ring, by node name."""
    return sorted(directory.glob(f"*{SUFFIX}"))


def history(directory: Path) -> list[Flow]:
    """Every flow the nodes' rings hold, oldest first."""
    streams = [sorted(read_ring(path), key=lambda e: e.time) for path in rings(directory)]
    return Joiner().feed(by_time(streams))


class Follower:
    """The flows every node adds after this is made (with `from_start`, the first poll
    also returns all they hold), oldest first at each poll."""

    def __init__(self, directory: Path, *, from_start: bool = False) -> None:
        self.directory = directory
        self._tails = {path: Tail(path, from_start=from_start) for path in rings(directory)}
        self._joiner = Joiner()

    @property
    def missed_files(self) -> int:
        return sum(t.missed_files for t in self._tails.values())

    def poll(self) -> list[Flow]:
        for path in rings(self.directory):
            if path not in self._tails:  # a node that began after us: all it wrote is new
                self._tails[path] = Tail(path, from_start=True)
        entries: list[Entry] = []
        for tail in self._tails.values():
            entries += tail.poll()
        return self._joiner.feed(sorted(entries, key=lambda e: e.time))

    def close(self) -> None:
        for tail in self._tails.values():
            tail.close()
