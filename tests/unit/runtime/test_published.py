"""What a sandbox node publishes per pod: written whole, read back equal, private, removable."""

from __future__ import annotations

import stat
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from podwall.runtime import published
from podwall.runtime.published import PublishedContainer, PublishedPod

names = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=20)
containers = st.dictionaries(
    names,
    st.builds(
        PublishedContainer,
        image=names,
        env=st.dictionaries(names, st.text(max_size=20), max_size=3),
        log_path=st.text(max_size=30),
    ),
    min_size=1,
    max_size=3,
)


@given(netns=names, hostname=names, containers=containers)
def test_a_pod_reads_back_as_it_was_written(
    netns: str, hostname: str, containers: dict[str, PublishedContainer]
) -> None:
    pod = PublishedPod(netns=netns, hostname=hostname, containers=containers)
    assert PublishedPod.from_json(pod.as_json()) == pod
    assert list(PublishedPod.from_json(pod.as_json()).containers) == list(containers)


def test_the_file_is_private_and_goes_with_its_pod(tmp_path: Path) -> None:
    pod = PublishedPod(
        netns="pw-t1-p1", hostname="web", containers={"c": PublishedContainer(image="i")}
    )
    published.write(tmp_path, "default", "web", pod)
    path = published.path_of(tmp_path, "default", "web")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert published.read(tmp_path, "default", "web") == pod
    published.remove(tmp_path, "default", "web")
    assert published.read(tmp_path, "default", "web") is None
    assert not path.parent.exists()


def test_a_damaged_file_is_no_pod(tmp_path: Path) -> None:
    path = published.path_of(tmp_path, "default", "web")
    path.parent.mkdir(parents=True)
    path.write_text('{"netns": "x"}')
    assert published.read(tmp_path, "default", "web") is None
