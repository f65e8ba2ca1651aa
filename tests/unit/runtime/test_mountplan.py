"""Where a pod's volume mounts go: over a path it has, in a directory of its own, or in a
spliced host directory; and the mount paths refused."""

from __future__ import annotations

import pytest

from podwall.runtime.mountplan import Bind, Make, MountPlanError, Splice, Step, Target, plan_mounts
from podwall.runtime.podroot import Kind

D, F, L = Kind.DIRECTORY, Kind.FILE, Kind.SYMLINK
HOST = frozenset({"etc", "usr", "tmp", "proc", "var", "bin", "run"})
OWN = frozenset({"/tmp", "/run/secrets"})


def t(mount: int, path: str, existing: tuple[Kind, ...], directory: bool = True) -> Target:
    return Target(mount, path, directory, existing)


CASES: list[tuple[str, list[Target], list[Step]]] = [
    ("nothing to mount", [], []),
    (
        "a path the host's root lacks",
        [t(0, "/config", ())],
        [Make("/config", True), Bind(0, "/config")],
    ),
    (
        "deep in the pod's root",
        [t(0, "/data/a/b", ())],
        [Make("/data/a/b", True), Bind(0, "/data/a/b")],
    ),
    (
        "a host file covered by a file",
        [t(0, "/etc/nginx/nginx.conf", (D, D, F), directory=False)],
        [Bind(0, "/etc/nginx/nginx.conf")],
    ),
    ("a host directory covered", [t(0, "/etc/nginx", (D, D))], [Bind(0, "/etc/nginx")]),
    (
        "a missing host directory: its parent spliced",
        [t(0, "/usr/share/nginx/html", (D, D))],
        [
            Splice("/usr/share"),
            Make("/usr/share/nginx/html", True),
            Bind(0, "/usr/share/nginx/html"),
        ],
    ),
    (
        "a missing file in a host directory",
        [t(0, "/etc/app.conf", (D,), directory=False)],
        [Splice("/etc"), Make("/etc/app.conf", False), Bind(0, "/etc/app.conf")],
    ),
    (
        "two mounts in one splice: spliced once",
        [t(1, "/etc/nginx/conf.d", (D,)), t(0, "/etc/app", (D,))],
        [
            Splice("/etc"),
            Make("/etc/app", True),
            Bind(0, "/etc/app"),
            Make("/etc/nginx/conf.d", True),
            Bind(1, "/etc/nginx/conf.d"),
        ],
    ),
    (
        "a splice inside a splice",
        [t(0, "/usr/x", (D,)), t(1, "/usr/share/y", (D, D))],
        [
            Splice("/usr"),
            Splice("/usr/share"),
            Make("/usr/share/y", True),
            Bind(1, "/usr/share/y"),
            Make("/usr/x", True),
            Bind(0, "/usr/x"),
        ],
    ),
    (
        "in the pod's private /tmp: no splice",
        [t(0, "/tmp/cache", (D,))],
        [Make("/tmp/cache", True), Bind(0, "/tmp/cache")],
    ),
    (
        "beside the service account: its tmpfs",
        [t(0, "/run/secrets/app", (D, D))],
        [Make("/run/secrets/app", True), Bind(0, "/run/secrets/app")],
    ),
    (
        "in the pod's root under an image's path",
        [t(0, "/opt/app/conf", (D,))],
        [Make("/opt/app/conf", True), Bind(0, "/opt/app/conf")],
    ),
]


@pytest.mark.parametrize(("targets", "steps"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_plan_mounts(targets: list[Target], steps: list[Step]) -> None:
    assert plan_mounts(HOST, OWN, targets) == steps


REFUSED = [
    ("the root", [t(0, "/", ())], "cannot replace the pod's root"),
    ("under /proc", [t(0, "/proc/sys/x", (D, D))], "the pod's /proc is its own"),
    ("not plain", [t(0, "/etc/../x", (D,))], "not a plain absolute path"),
    ("relative", [t(0, "etc/x", ())], "not a plain absolute path"),
    ("twice at one path", [t(0, "/config", ()), t(1, "/config", ())], "two volumes mounted"),
    ("nested", [t(0, "/config", ()), t(1, "/config/sub", ())], "does not nest volume mounts"),
    ("through a file", [t(0, "/etc/hosts/x", (D, F))], "/etc/hosts is not a directory"),
    ("a directory onto a file", [t(0, "/etc/hosts", (D, F))], "is a file in the pod"),
    (
        "a file onto a directory",
        [t(0, "/etc/nginx", (D, D), directory=False)],
        "is a directory in the pod",
    ),
    ("an unresolved symlink", [t(0, "/var/run", (D, L))], "a symlink"),
]


@pytest.mark.parametrize(("targets", "said"), [c[1:] for c in REFUSED], ids=[c[0] for c in REFUSED])
def test_refused_mount_paths_name_the_path_and_the_mount(targets: list[Target], said: str) -> None:
    with pytest.raises(MountPlanError, match=said) as raised:
        plan_mounts(HOST, OWN, targets)
    assert raised.value.index == targets[-1].mount
