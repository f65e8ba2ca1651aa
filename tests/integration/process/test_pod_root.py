"""A pod's own root: the image's files at the image's paths, the host's root untouched.

An agnhost pod (`pod_netns`) runs bash, as `kubectl run -it client --image=.../agnhost -- bash`
does; a second pod (`other_netns`) runs agnhost serve. The two namespaces are joined by a veth
pair of the test's own (198.18.250.0/30), which goes with them.
"""

from __future__ import annotations

import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from podwall.runtime import imagefiles
from podwall.runtime.images import ContainerSpec, Launch, resolve
from podwall.runtime.process import PodProcess, hosts_file, resolv_conf, start_container
from tests.integration.process.helpers import in_netns, run_in_pod, wait_for_log

pytestmark = pytest.mark.netns

AGNHOST = "registry.k8s.io/e2e-test-images/agnhost:2.33"
ALPINE = "docker.io/library/alpine:3.20"
CLIENT_IP, SERVER_IP = "198.18.250.1", "198.18.250.2"


def _start(
    netns: str, workdir: Path, pods: list[PodProcess], spec: ContainerSpec, name: str
) -> PodProcess:
    launch = resolve(spec)
    assert isinstance(launch, Launch), launch
    pod = start_container(
        netns=netns, hostname=name, launch=launch, resolv_conf=resolv_conf("default"),
        hosts=hosts_file(name), log_dir=workdir / netns, container=name,
        pod_images=[spec.image],
    )  # fmt: skip
    pods.append(pod)
    return pod


@pytest.fixture
def linked(pod_netns: str, other_netns: str) -> None:
    """A veth pair between the two pods (deleted with their namespaces)."""
    peer = f"pw-v{secrets.token_hex(3)}"
    commands = [
        (
            pod_netns,
            "ip",
            "link",
            "add",
            "eth0",
            "type",
            "veth",
            "peer",
            peer,
            "netns",
            other_netns,
        ),
        (pod_netns, "ip", "addr", "add", f"{CLIENT_IP}/30", "dev", "eth0"),
        (pod_netns, "ip", "link", "set", "eth0", "up"),
        (other_netns, "ip", "link", "set", peer, "name", "eth0"),
        (other_netns, "ip", "addr", "add", f"{SERVER_IP}/30", "dev", "eth0"),
        (other_netns, "ip", "link", "set", "eth0", "up"),
    ]
    for netns, *argv in commands:
        done = in_netns(netns, *argv)
        assert done.returncode == 0, done.stderr


@pytest.fixture
def client(pod_netns: str, workdir: Path, pods: list[PodProcess]) -> str:
    spec = ContainerSpec(image=AGNHOST, command=("bash", "-c", "sleep 1000"))
    pod = _start(pod_netns, workdir, pods, spec, "client")
    assert pod.wait(0.2) is None, pod.log_path.read_text()
    return pod_netns


@pytest.fixture
def server(other_netns: str, workdir: Path, pods: list[PodProcess], linked: None) -> str:
    spec = ContainerSpec(image=AGNHOST, args=("serve", "--tcp-ports", "80"))
    pod = _start(other_netns, workdir, pods, spec, "server")
    wait_for_log(pod.log_path, "Serving TCP on port 80")
    return other_netns


def _bash(netns: str, line: str, image: str = AGNHOST) -> tuple[int, str, str]:
    """`line` typed in bash in the pod (the host's bash, run as the pod's user)."""
    return run_in_pod(netns, ["bash", "-c", line], image, hostname="client")


@pytest.mark.parametrize(
    "line",
    [
        f"/agnhost connect {SERVER_IP}:80 --timeout=3s --protocol=tcp",
        f"sh -c '/agnhost connect {SERVER_IP}:80 --timeout=3s --protocol=tcp'",
        f"exec /agnhost connect {SERVER_IP}:80 --timeout=3s",
    ],
    ids=["bash", "sh -c", "exec"],
)
def test_agnhost_typed_in_a_shell_connects_to_another_pod(
    client: str, server: str, line: str
) -> None:
    assert _bash(client, line) == (0, "", "")


def test_agnhost_typed_in_a_shell_is_refused_by_a_closed_port(client: str, server: str) -> None:
    code, _, err = _bash(client, f"/agnhost connect {SERVER_IP}:81 --timeout=3s --protocol=tcp")
    assert code == 1
    assert err.startswith("REFUSED"), err


def test_agnhost_runs_as_the_pods_user(client: str) -> None:
    code, out, err = _bash(client, "ls -ln /agnhost | cut -d' ' -f1,3; id -u")
    assert code == 0, err
    mode_owner, uid = out.splitlines()
    assert mode_owner == "-rwxr-xr-x 0"
    assert uid != "0"


def test_the_image_file_is_the_pods_alone(client: str, other_netns: str, workdir: Path) -> None:
    assert not Path(imagefiles.AGNHOST_PATH).exists()  # the host's root
    other: list[PodProcess] = []
    try:
        _start(
            other_netns, workdir, other, ContainerSpec(image=ALPINE, command=("sleep", "99")), "a"
        )
        code, _, err = run_in_pod(other_netns, ["sh", "-c", "ls /agnhost"], ALPINE)
    finally:
        for pod in other:
            pod.stop(grace=0.5)
    assert code != 0
    assert "No such file" in err


def test_the_pods_root_takes_files_that_stay_the_pods(client: str) -> None:
    # As a container's root file system: `wget` saves index.html in `/`. The file is in the
    # pod's own tmpfs, never in the host's root.
    name = f"/podwall-root-{secrets.token_hex(4)}"
    assert _bash(client, f"echo x > {name} && cat {name}")[:2] == (0, "x\n")
    assert not Path(name).exists()


@pytest.mark.parametrize("path", ["/usr/podwall-x", "/etc/hostname", "/agnhost"])
def test_the_pod_cannot_write_to_the_hosts_files_or_its_own(client: str, path: str) -> None:
    before = Path(path).read_bytes() if Path(path).exists() else None
    code, _, err = _bash(client, f"echo x >> {path}")
    assert code != 0
    # A new file's directory is read-only; an existing root-owned file is not the pod user's.
    assert "Read-only file system" in err or "Permission denied" in err, err
    assert (Path(path).read_bytes() if Path(path).exists() else None) == before


def test_the_pods_tmp_is_still_private_and_writable(client: str) -> None:
    name = f"/tmp/podwall-root-{secrets.token_hex(4)}"
    assert _bash(client, f"echo hi > {name} && cat {name}")[:2] == (0, "hi\n")
    assert not Path(name).exists()


def test_the_pod_sees_the_hosts_mounts_and_files(client: str) -> None:
    """The bound mounts are there: /sys, /dev, the pod's /etc/hosts over the host's."""
    code, out, err = _bash(client, "cat /etc/hosts; ls -d /dev/null /sys/class/net/lo /usr/bin/env")
    assert code == 0, err
    assert out.startswith("# Kubernetes-managed hosts file.")
    assert "/sys/class/net/lo" in out


def test_the_hosts_root_gets_no_new_file(
    pod_netns: str, workdir: Path, pods: list[PodProcess]
) -> None:
    before = set(Path("/").iterdir())
    spec = ContainerSpec(image=AGNHOST, command=("bash", "-c", "sleep 1000"))
    _start(pod_netns, workdir, pods, spec, "client")
    assert _bash(pod_netns, "test -x /agnhost")[0] == 0
    assert set(Path("/").iterdir()) == before


def test_podwall_from_a_checkout_under_tmp_starts_an_agnhost_pod(pod_netns: str) -> None:
    """A copy of this checkout's source under /tmp runs the pod's PID 1 and its /agnhost."""
    checkout = Path(f"/tmp/podwall-root-checkout-{secrets.token_hex(4)}")
    source = Path(imagefiles.__file__).resolve().parents[2]
    try:
        subprocess.run(["cp", "-a", str(source), str(checkout)], check=True)
        script = (
            "from podwall.runtime import podsandbox, process, images;"
            f"assert podsandbox.SOURCE_ROOT == {str(checkout)!r}, podsandbox.SOURCE_ROOT;"
            "p = process.exec_in_pod(netns=sys.argv[1], hostname='client', image=sys.argv[2],"
            " argv=['bash', '-c', '/agnhost connect 127.0.0.1:1 --timeout=1s']);"
            "out, err = p.communicate(timeout=20); print(p.returncode, err.decode())"
        )
        done = subprocess.run(
            [sys.executable, "-I", "-c", f"import sys; sys.path.insert(0, {str(checkout)!r});"
             + script, pod_netns, AGNHOST],
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
    finally:
        subprocess.run(["rm", "-rf", "--one-file-system", str(checkout)], check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("1 REFUSED"), done.stdout


# PID 1 in a mount and PID namespace of its own (gone with it), with one step made to fail.
_BROKEN_INIT = """
import ast
import sys
sys.path.insert(0, sys.argv.pop(1))
from podwall.runtime import podinit
setattr(podinit, sys.argv.pop(1), ast.literal_eval(sys.argv.pop(1)))
podinit.main(sys.argv[1:])
"""
BROKEN = [
    ("the host's trees cannot be copied", "_SYS_OPEN_TREE", "-1", "/agnhost",
     "podinit: copying the host's /"),
    ("pivot_root fails last", "_SYS_PIVOT_ROOT", "{}", "/agnhost",
     "podinit: pivot_root: no syscall number known for"),
    ("no mount point", "NEW_ROOT", "'/podwall-no-such-dir'", "/agnhost",
     "podinit: mounting tmpfs on /podwall-no-such-dir"),
    ("an image file over a host directory", "PRIVATE_TMPFS", "()", "/usr",
     "podinit: making the pod's root: image file '/usr': /usr is the host's"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("name", "value", "path", "words"), [b[1:] for b in BROKEN], ids=[b[0] for b in BROKEN]
)
def test_a_root_that_cannot_be_made_stops_the_pod_before_ready(
    tmp_path: Path, name: str, value: str, path: str, words: str
) -> None:
    source = str(Path(imagefiles.__file__).resolve().parents[2])
    program = imagefiles.pod_files([AGNHOST], tmp_path)["/agnhost"]
    done = subprocess.run(
        ["unshare", "--pid", "--fork", "--mount", "--uts", "--ipc", "--propagation", "private",
         sys.executable, "-I", "-c", _BROKEN_INIT, source, name, value,
         "--uid", "4321", "--gid", "4321", "--hostname", "client", f"--file={path}={program}"],
        capture_output=True, text=True, timeout=30, cwd="/",
    )  # fmt: skip
    assert done.returncode == 1
    assert "ready" not in done.stdout
    assert done.stderr.startswith(words), done.stderr
    assert not Path("/podwall-no-such-dir").exists()
