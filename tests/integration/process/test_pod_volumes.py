"""A pod's volumes, mounted by its real PID 1: files at /config, an emptyDir two containers
share, a file over one of the host's, a directory spliced into a host directory, a hostPath.

Two alpine containers start in one pod with the same `PodVolumes` (as the kubelet passes them);
what each sees is read with `kubectl exec`'s path (`run_in_pod`). The host's files and mount
table are compared before and after: nothing of the pod's reaches the host.
"""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest

from podwall.runtime import podvolumes
from podwall.runtime.images import ContainerSpec, Launch, resolve
from podwall.runtime.podvolumes import Mount, PodVolumes, Volume, VolumeFile
from podwall.runtime.process import PodProcess, hosts_file, resolv_conf, start_container
from tests.integration.process.helpers import run_in_pod

pytestmark = pytest.mark.netns

ALPINE = "docker.io/library/alpine:3.20"
OVER = "/etc/os-release"  # a host file (a symlink into /usr/lib on Debian) a volume covers
SPLICED = f"/usr/share/podwall-test-{secrets.token_hex(3)}/html"  # its parents: not on the host
MISSING = f"/var/lib/podwall-test-{secrets.token_hex(3)}"  # a hostPath the host lacks
NEW_FILE = f"/etc/podwall-test-{secrets.token_hex(3)}.conf"  # a file /etc lacks: /etc spliced


def _volumes() -> PodVolumes:
    return PodVolumes(
        volumes=(
            Volume(
                name="config",
                files=(
                    VolumeFile("key", b"value-1"),
                    VolumeFile("nested/other", b"other", 0o600),
                    VolumeFile("os-release", b"ID=podwall\n"),
                ),
            ),
            Volume(name="shared", empty_dir_bytes=1024 * 1024),
            Volume(name="html", empty_dir_bytes=1024 * 1024),
            Volume(name="node", host_path="/usr/share", host_type="Directory"),
            Volume(name="made", host_path=MISSING, host_type="DirectoryOrCreate"),
        ),
        mounts=(
            Mount(volume="config", path="/config", read_only=True),
            Mount(volume="config", path=OVER, sub_path="os-release", read_only=True),
            Mount(volume="shared", path="/shared"),
            Mount(volume="html", path=SPLICED),
            Mount(volume="node", path="/host/share", read_only=True),
            Mount(volume="made", path="/made"),
            Mount(volume="config", path=NEW_FILE, sub_path="key", read_only=True),
        ),
    )


def _start(netns: str, workdir: Path, name: str, volumes: PodVolumes) -> PodProcess:
    launch = resolve(ContainerSpec(image=ALPINE, command=("sleep", "1000")))
    assert isinstance(launch, Launch), launch
    return start_container(
        netns=netns, hostname="web", launch=launch, resolv_conf=resolv_conf("default"),
        hosts=hosts_file("web"), log_dir=workdir / netns, container=name,
        volumes=volumes, pod_images=[ALPINE],
    )  # fmt: skip


def _sh(netns: str, line: str) -> tuple[int, str, str]:
    return run_in_pod(netns, ["sh", "-c", line], ALPINE, hostname="web")


def _mount_table() -> list[str]:
    return sorted(line.split()[4] for line in Path("/proc/self/mountinfo").read_text().splitlines())


@pytest.fixture
def pod(pod_netns: str, workdir: Path, pods: list[PodProcess]) -> str:
    volumes = _volumes()
    for name in ("writer", "reader"):
        process = _start(pod_netns, workdir, name, volumes)
        pods.append(process)
        assert process.wait(0.2) is None, process.log_path.read_text()
    return pod_netns


def test_a_volumes_files_are_at_its_mount_path_read_only(pod: str) -> None:
    code, out, err = _sh(pod, "cat /config/key; echo; cat /config/nested/other; touch /config/x")
    assert out == "value-1\nother", err
    assert code != 0
    assert "Read-only file system" in err, err


def test_a_files_mode_is_kept_and_the_pods_user_owns_it(pod: str) -> None:
    code, out, err = _sh(pod, "stat -c '%a %u' /config/nested/other; id -u")
    assert code == 0, err
    mode_owner, uid = out.splitlines()
    assert mode_owner == f"600 {uid}"


def test_an_empty_dir_is_shared_by_the_pods_containers_and_writable(pod: str) -> None:
    assert _sh(pod, "echo hello > /shared/note")[0] == 0
    code, out, err = _sh(pod, "cat /shared/note; stat -c %a /shared")
    assert (code, out) == (0, "hello\n777\n"), err
    assert not any(Path(podvolumes.directory(pod), "v", "shared").iterdir())  # not on the host


def test_a_sub_path_covers_a_host_file_in_the_pod_only(pod: str) -> None:
    assert _sh(pod, f"cat {OVER}")[1] == "ID=podwall\n"
    assert "ID=podwall" not in Path(OVER).read_text()


def test_a_path_the_host_lacks_is_spliced_in_and_the_host_directory_still_shows(pod: str) -> None:
    host_entry = sorted(p.name for p in Path("/usr/share").iterdir())[0]
    code, out, err = _sh(pod, f"echo page > {SPLICED}/index.html && ls /usr/share")
    assert code == 0, err
    assert host_entry in out.split()
    assert not Path(SPLICED).parent.exists()
    code, _, err = _sh(pod, "mkdir /usr/share/other")
    assert code != 0
    assert "Read-only file system" in err, err


def test_a_file_the_host_lacks_splices_etc_keeping_the_pods_own_files(pod: str) -> None:
    code, out, err = _sh(pod, f"cat {NEW_FILE}; echo; head -1 /etc/hosts; cat /etc/hostname")
    assert code == 0, err
    assert out.splitlines() == ["value-1", "# Kubernetes-managed hosts file.", "web"]
    assert not Path(NEW_FILE).exists()


def test_a_host_path_is_the_hosts(pod: str) -> None:
    code, out, _ = _sh(pod, "ls /host/share")
    assert code == 0
    assert set(out.split()) == {p.name for p in Path("/usr/share").iterdir()}


def test_a_host_path_the_host_lacks_is_the_pods_own(pod: str) -> None:
    code, out, err = _sh(pod, "echo kept > /made/file && cat /made/file")
    assert (code, out) == (0, "kept\n"), err
    assert not Path(MISSING).exists()


def test_nothing_of_the_pods_reaches_the_hosts_mount_table(
    pod_netns: str, workdir: Path, pods: list[PodProcess]
) -> None:
    before, text = _mount_table(), Path(OVER).read_bytes()
    pods.append(_start(pod_netns, workdir, "one", _volumes()))
    assert _sh(pod_netns, f"cat {OVER}")[1] == "ID=podwall\n"
    assert (_mount_table(), Path(OVER).read_bytes()) == (before, text)


@pytest.mark.parametrize(
    ("mount", "said"),
    [
        (Mount(volume="config", path="/proc/x"), "the pod's /proc is its own"),
        (Mount(volume="config", path="/etc/hostname"), "is a file in the pod"),
        (Mount(volume="config", path="/config", sub_path="absent"), "does not exist"),
        (Mount(volume="file", path="/x"), "hostPath type check failed: /usr/share is not a file"),
        (Mount(volume="gone", path="/x"), f"type check failed: {MISSING} is not a directory"),
    ],
    ids=["under /proc", "a directory over a file", "a missing subPath", "not a file", "missing"],
)
def test_a_mount_that_cannot_be_made_keeps_the_pod_from_starting(
    pod_netns: str, workdir: Path, pods: list[PodProcess], mount: Mount, said: str
) -> None:
    checked = (
        Volume(name="file", host_path="/usr/share", host_type="File"),
        Volume(name="gone", host_path=MISSING, host_type="Directory"),
    )
    volumes = PodVolumes((*_volumes().volumes, *checked), (mount,))
    with pytest.raises(Exception, match=f"volume '{mount.volume}'") as raised:
        pods.append(_start(pod_netns, workdir, "one", volumes))
    assert said in str(raised.value)


def test_the_volumes_go_with_the_pod(pod: str) -> None:
    from podwall.runtime.process import remove_pod_files

    assert podvolumes.directory(pod).is_dir()
    remove_pod_files(pod)
    assert not podvolumes.directory(pod).exists()


def test_a_container_never_runs_without_its_volumes(
    pod_netns: str, workdir: Path, pods: list[PodProcess]
) -> None:
    # `kubectl exec` before any container ran starts the pod's PID 1, without volumes.
    assert _sh(pod_netns, "true")[0] == 0
    with pytest.raises(Exception, match="started without its volumes"):
        pods.append(_start(pod_netns, workdir, "late", _volumes()))
