"""The plan of a pod's own root: the host's root entries again, and the image's files beside
them, never through one of the host's directories."""

from __future__ import annotations

import pytest

from podwall.runtime.podroot import Entry, Kind, PodRootError, RootPlan, plan_root

USR = Entry("usr", Kind.DIRECTORY)
TMP = Entry("tmp", Kind.DIRECTORY)
BIN = Entry("bin", Kind.SYMLINK, "usr/bin")
LIB = Entry("lib", Kind.SYMLINK, "usr/lib")
DOCKERENV = Entry(".dockerenv", Kind.FILE)
HOST = [USR, BIN, TMP, DOCKERENV, LIB]

PLANS = [
    (
        "no image file: the host's entries, bound in name order, symlinks made again",
        HOST,
        [],
        RootPlan(binds=(DOCKERENV, TMP, USR), symlinks=(BIN, LIB), files=()),
    ),
    (
        "/agnhost beside them",
        HOST,
        ["/agnhost"],
        RootPlan(binds=(DOCKERENV, TMP, USR), symlinks=(BIN, LIB), files=("/agnhost",)),
    ),
    (
        "a file in a directory of the image's own",
        [USR],
        ["/app/run", "/agnhost"],
        RootPlan(binds=(USR,), symlinks=(), files=("/agnhost", "/app/run")),
    ),
    ("an empty host root", [], [], RootPlan(binds=(), symlinks=(), files=())),
]


@pytest.mark.parametrize(
    ("entries", "files", "plan"), [p[1:] for p in PLANS], ids=[p[0] for p in PLANS]
)
def test_plan_root(entries: list[Entry], files: list[str], plan: RootPlan) -> None:
    assert plan_root(entries, files) == plan


REFUSED = [
    ("inside a host directory: it would write to the host", "/usr/share/x", "/usr is the host's"),
    ("through a host symlink", "/bin/agnhost", "/bin is the host's"),
    ("over a host file", "/.dockerenv", "/.dockerenv is the host's"),
    ("over the host's directory itself", "/tmp", "/tmp is the host's"),
    ("relative", "agnhost", "not a plain absolute path"),
    ("with ..", "/app/../usr/x", "not a plain absolute path"),
    ("not normalised", "/app//x", "not a plain absolute path"),
    ("the root itself", "/", "not a plain absolute path"),
]


@pytest.mark.parametrize(("path", "words"), [r[1:] for r in REFUSED], ids=[r[0] for r in REFUSED])
def test_an_image_file_that_would_touch_the_host_is_refused(path: str, words: str) -> None:
    with pytest.raises(PodRootError, match=words) as raised:
        plan_root(HOST, [path])
    assert repr(path) in str(raised.value)


@pytest.mark.parametrize("name", ["", ".", "..", "a/b"], ids=["empty", "dot", "dotdot", "slash"])
def test_a_host_entry_that_is_no_name_is_refused(name: str) -> None:
    with pytest.raises(PodRootError, match="the host's root has an entry named"):
        plan_root([Entry(name, Kind.DIRECTORY)], [])
