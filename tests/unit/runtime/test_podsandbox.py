"""The pod's PID 1 as the host starts it, and the uids pods get, without root."""

from __future__ import annotations

from pathlib import Path

import pytest

from podwall.runtime import podrecords, podsandbox, procstat
from podwall.runtime.podinit import host_pid
from podwall.runtime.podrecords import PodRecord
from podwall.runtime.podsandbox import SandboxStartError, check_uid, init_argv, ready_pid


def test_the_init_gets_its_own_pid_mount_uts_and_ipc_namespaces_inside_the_pods_network() -> None:
    argv = init_argv("pw-a-p1", "web", 200003)
    assert argv[0].endswith("setsid")
    assert argv[1] == "--fork"
    assert argv[3:6] == ["netns", "exec", "pw-a-p1"]
    assert argv[6].endswith("unshare")
    assert argv[7:15] == [
        "--pid", "--fork", "--mount", "--uts", "--ipc", "--propagation", "private", "--",
    ]  # fmt: skip
    assert argv[16:18] == ["-I", "-c"]
    assert argv[19:] == [
        podsandbox.SOURCE_ROOT, "--uid", "200003", "--gid", "200003", "--hostname", "web",
    ]  # fmt: skip
    assert Path(podsandbox.SOURCE_ROOT, "podwall", "runtime", "podinit.py").is_file()


@pytest.mark.parametrize(
    ("said", "pid"),
    [
        ("ready 4242\n", 4242),
        ("a warning first\nready 17\n", 17),
        ("podinit: making / read-only: Operation not permitted\n", None),
        ("ready\n", None),
    ],
    ids=["ready", "ready after other output", "an error", "ready without a pid"],
)
def test_the_inits_ready_line_names_its_host_pid(said: str, pid: int | None) -> None:
    assert ready_pid(said) == pid


def test_the_init_reads_its_host_pid_first_in_nspid() -> None:
    assert host_pid("Name:\tpython\nNSpid:\t31337\t1\nPPid:\t0\n") == 31337


@pytest.mark.parametrize(
    ("uid", "message"),
    [(0, "never runs a pod as root"), (-1, "not a valid uid"), (2**31, "not a valid uid")],
    ids=["root", "negative", "beyond 2^31-1"],
)
def test_run_as_user_must_be_an_unprivileged_uid(uid: int, message: str) -> None:
    with pytest.raises(SandboxStartError, match=message):
        check_uid(uid)


def test_run_as_user_1000_is_kept() -> None:
    assert check_uid(1000) == 1000


@pytest.fixture
def records(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(podrecords, "RECORDS_DIR", tmp_path)
    return tmp_path


def test_uids_are_given_lowest_first_and_never_twice(records: Path) -> None:
    with podrecords.locked():
        first = podrecords.allocate_uid(lambda _: True)
        podrecords.write(PodRecord(netns="pw-a-p1", uid=first))
        second = podrecords.allocate_uid(lambda _: True)
    assert (first, second) == (podrecords.POD_UIDS[0], podrecords.POD_UIDS[1])


def test_a_pod_whose_namespace_and_init_are_gone_frees_its_uid(records: Path) -> None:
    with podrecords.locked():
        podrecords.write(PodRecord(netns="pw-gone", uid=podrecords.POD_UIDS[0]))
        podrecords.write(PodRecord(netns="pw-here", uid=podrecords.POD_UIDS[1]))
        uid = podrecords.allocate_uid(lambda name: name == "pw-here")
    assert uid == podrecords.POD_UIDS[0]
    assert podrecords.read("pw-gone") is None
    assert podrecords.read("pw-here") == PodRecord(netns="pw-here", uid=podrecords.POD_UIDS[1])


def test_a_record_of_a_pid_now_used_by_another_process_is_not_a_running_init() -> None:
    me = procstat.start_time(1)
    assert me is not None
    assert PodRecord(netns="x", uid=200000, init_pid=1, init_start=me).init_running()
    assert not PodRecord(netns="x", uid=200000, init_pid=1, init_start=me + 1).init_running()


def test_stopping_a_pod_without_a_record_does_nothing(records: Path) -> None:
    podsandbox.stop("pw-never-started")
    assert list(records.iterdir()) == [records / ".lock"]


@pytest.mark.parametrize(
    ("files", "flags"),
    [
        ({}, []),
        ({"/agnhost": "/run/i/agnhost"}, ["--file=/agnhost=/run/i/agnhost"]),
        ({"/b": "/run/b", "/a": "/run/a"}, ["--file=/a=/run/a", "--file=/b=/run/b"]),
    ],
    ids=["none", "one", "each, in path order"],
)
def test_the_init_is_told_the_pods_image_files(files: dict[str, str], flags: list[str]) -> None:
    argv = init_argv("pw-a-p1", "web", 200003, {k: Path(v) for k, v in files.items()})
    assert argv[19:26] == [
        podsandbox.SOURCE_ROOT, "--uid", "200003", "--gid", "200003", "--hostname", "web",
    ]  # fmt: skip
    assert argv[26:] == flags
