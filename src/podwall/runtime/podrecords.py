"""The host's record of each pod's user and PID 1, kept in /run/podwall-pods/<netns>.

A pod (a network namespace made by `netns`) gets its own unprivileged uid, used as its gid too:
the pod's securityContext.runAsUser when set, else the lowest free one of `POD_UIDS`
(200000-265535: far above login users; podwall does not check /etc/subuid, whose ranges for
rootless containers may overlap it on a host that has several such users).
Two pods never share an allocated uid while both exist, whichever podwall process (`podwall up`,
`podwall probe`, a test) made them: allocation holds an flock on `RECORDS_DIR/.lock`.

A record also names the pod's PID 1 (`podinit`) by its host pid and start time, so a pid reused
by another process is never taken for it. Records live on tmpfs (/run): a reboot forgets them,
as it forgets the namespaces. A record whose namespace is gone and whose init is dead is stale,
and its uid is free again. The directory is mode 700: pods cannot read it.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from podwall.runtime.errors import SandboxError
from podwall.runtime.procstat import start_time

RECORDS_DIR = Path("/run/podwall-pods")
POD_UIDS = range(200_000, 265_536)
_LOCK = threading.Lock()  # flock() is per open file: this orders the threads of one process


class UidsExhausted(SandboxError, RuntimeError):
    """Every uid of POD_UIDS belongs to a pod that still exists."""


@dataclass(frozen=True, slots=True)
class PodRecord:
    netns: str
    uid: int
    init_pid: int = 0
    init_start: int = 0  # clock ticks after boot (/proc/PID/stat field 22); 0: no init yet

    def init_running(self) -> bool:
        """Whether the process recorded as this pod's init still runs (not a reused pid)."""
        return self.init_pid > 0 and start_time(self.init_pid) == self.init_start


@contextlib.contextmanager
def locked() -> Iterator[None]:
    """Hold the records' lock, across threads and processes."""
    RECORDS_DIR.mkdir(mode=0o700, parents=True, exist_ok=True)
    with _LOCK, (RECORDS_DIR / ".lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def read(netns: str) -> PodRecord | None:
    try:
        data = json.loads((RECORDS_DIR / netns).read_text())
    except (OSError, ValueError):
        return None
    return PodRecord(**data)


def write(record: PodRecord) -> None:
    """Replace the pod's record atomically (call while holding `locked()`)."""
    staging = RECORDS_DIR / f".{record.netns}.new"
    staging.write_text(json.dumps(asdict(record)))
    staging.replace(RECORDS_DIR / record.netns)


def remove(netns: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        (RECORDS_DIR / netns).unlink()


def allocate_uid(netns_exists: Callable[[str], bool]) -> int:
    """The lowest uid of POD_UIDS no existing pod holds (call while holding `locked()`); stale
    records found on the way are removed."""
    used = set()
    for path in RECORDS_DIR.iterdir():
        record = read(path.name) if not path.name.startswith(".") else None
        if record is None:
            continue
        if not netns_exists(record.netns) and not record.init_running():
            remove(record.netns)
            continue
        used.add(record.uid)
    for uid in POD_UIDS:
        if uid not in used:
            return uid
    raise UidsExhausted(f"all {len(POD_UIDS)} pod uids from {POD_UIDS.start} are in use")
