"""What the node writes for a pod's volumes: each volume's files with their modes, an emptyDir's
mount point, and the mount list the pod's PID 1 reads; all of it gone with the pod."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from podwall.runtime import podvolumes
from podwall.runtime.podvolumes import Mount, PodVolumes, Volume, VolumeFile

NETNS = "pw-test-pod"


@pytest.fixture(autouse=True)
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(podvolumes, "VOLUMES_ROOT", tmp_path / "volumes")
    return tmp_path / "volumes"


VOLUMES = PodVolumes(
    volumes=(
        Volume(name="cfg", files=(VolumeFile("a.conf", b"a"), VolumeFile("d/b", b"b", 0o400))),
        Volume(name="scratch", empty_dir_bytes=1024),
        Volume(name="node", host_path="/"),
    ),
    mounts=(
        Mount(volume="cfg", path="/config", read_only=True),
        Mount(volume="cfg", path="/etc/a.conf", sub_path="a.conf", read_only=True),
        Mount(volume="scratch", path="/data"),
        Mount(volume="node", path="/host"),
    ),
)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_volumes_files_are_written_with_their_modes(root: Path) -> None:
    podvolumes.write(NETNS, VOLUMES)
    cfg = root / NETNS / "v" / "cfg"
    assert (cfg / "a.conf").read_bytes() == b"a"
    assert (_mode(cfg / "a.conf"), _mode(cfg / "d" / "b")) == (0o644, 0o400)
    assert _mode(root) == 0o700  # only root traverses it


def test_an_empty_dir_and_a_host_path_get_an_empty_directory_here(root: Path) -> None:
    # The emptyDir's tmpfs is mounted on it; the hostPath's stands in for a path the host lacks.
    podvolumes.write(NETNS, VOLUMES)
    assert sorted(p.name for p in (root / NETNS / "v").iterdir()) == ["cfg", "node", "scratch"]
    assert not any((root / NETNS / "v" / "scratch").iterdir())
    assert not any((root / NETNS / "v" / "node").iterdir())


def test_the_mount_list_names_each_source(root: Path) -> None:
    manifest = podvolumes.write(NETNS, VOLUMES)
    entries = json.loads(manifest.read_text())
    said = [(e["volume"], e["kind"], e["path"], e["source"], e["subPath"]) for e in entries]
    v = str(root / NETNS / "v")
    assert said == [
        ("cfg", "files", "/config", f"{v}/cfg", ""),
        ("cfg", "files", "/etc/a.conf", f"{v}/cfg", "a.conf"),
        ("scratch", "emptyDir", "/data", f"{v}/scratch", ""),
        ("node", "hostPath", "/host", "/", ""),
    ]
    assert [e["readOnly"] for e in entries] == [True, True, False, False]
    assert entries[2]["sizeBytes"] == 1024


def test_a_rewrite_replaces_the_files_whole(root: Path) -> None:
    podvolumes.write(NETNS, VOLUMES)
    fewer = Volume(name="cfg", files=(VolumeFile("new", b"n"),))
    podvolumes.write(NETNS, PodVolumes((fewer,), (Mount(volume="cfg", path="/c"),)))
    assert [p.name for p in (root / NETNS / "v" / "cfg").iterdir()] == ["new"]
    assert not [p for p in (root / NETNS / "v").iterdir() if p.name.startswith(".")]


def test_the_volumes_go_with_the_pod(root: Path) -> None:
    podvolumes.write(NETNS, VOLUMES)
    podvolumes.remove(NETNS)
    assert not (root / NETNS).exists()


@pytest.mark.parametrize(
    ("path", "ok"),
    [("a", True), ("a/b", True), ("", False), ("/etc", False), ("../x", False), ("a/../b", False)],
)
def test_paths_inside_a_volume_are_relative_and_plain(path: str, ok: bool) -> None:
    assert podvolumes.is_relative_path(path) is ok


def test_an_update_rewrites_a_volumes_files_in_place(root: Path) -> None:
    podvolumes.write(NETNS, VOLUMES)
    cfg = root / NETNS / "v" / "cfg"
    before = cfg.stat().st_ino
    changed = Volume(name="cfg", files=(VolumeFile("a.conf", b"a2"), VolumeFile("c", b"c")))
    done = podvolumes.update(NETNS, PodVolumes((changed, *VOLUMES.volumes[1:]), ()), os.getuid())
    assert done == ["cfg"]
    assert cfg.stat().st_ino == before  # the pod's bind of the directory sees the change
    assert sorted(p.name for p in cfg.iterdir()) == ["a.conf", "c"]
    assert (cfg / "a.conf").read_bytes() == b"a2"


def test_an_update_of_a_pod_without_volumes_written_writes_nothing(root: Path) -> None:
    assert podvolumes.update(NETNS, VOLUMES, None) == []
    assert not (root / NETNS).exists()
