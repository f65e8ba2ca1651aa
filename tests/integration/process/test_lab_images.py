"""The labs' images for real: Debian's nginx and busybox's applets in a pod, as its own user.

Each test starts its processes in its own `pw-t<hex>` namespace and sends traffic only over
that namespace's loopback.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from podwall.runtime import imagefiles
from podwall.runtime.images import ContainerSpec, Launch, dns_launch, resolve
from podwall.runtime.podrecords import POD_UIDS
from podwall.runtime.process import PodProcess, hosts_file, pod_uid, resolv_conf, start_container
from tests.integration.process.helpers import HOSTNAME, in_netns, run_in_pod, wait_for_log

pytestmark = [
    pytest.mark.netns,
    pytest.mark.skipif(
        shutil.which("nginx") is None or shutil.which("busybox") is None,
        reason="needs Debian's nginx-light and busybox (make deps)",
    ),
]


@pytest.fixture(autouse=True)
def image_files() -> None:
    imagefiles.install()


def start(netns: str, workdir: Path, pods: list[PodProcess], image: str) -> PodProcess:
    launch = resolve(ContainerSpec(image=image))
    assert isinstance(launch, Launch), launch
    pod = start_container(
        netns=netns,
        hostname=HOSTNAME,
        launch=launch,
        resolv_conf=resolv_conf("default", "127.0.0.1"),
        hosts=hosts_file(HOSTNAME, "198.18.0.2"),
        log_dir=workdir / "logs",
        container="main",
    )
    pods.append(pod)
    return pod


@pytest.fixture
def nginx(pod_netns: str, workdir: Path, pods: list[PodProcess]) -> PodProcess:
    pod = start(pod_netns, workdir, pods, "nginx")
    wait_for_log(pod.log_path, "start worker process")
    return pod


def test_nginx_serves_its_welcome_page_to_busybox_wget(pod_netns: str, nginx: PodProcess) -> None:
    code, out, _ = run_in_pod(pod_netns, ["wget", "-qO-", "http://127.0.0.1"], "busybox")
    assert code == 0
    assert "<title>Welcome to nginx!</title>" in out


def test_nginx_runs_as_the_pods_user(pod_netns: str, nginx: PodProcess) -> None:
    uid = pod_uid(pod_netns)
    assert uid is not None
    assert uid >= POD_UIDS.start
    owner = Path(f"/proc/{nginx.pid}/status").read_text()
    assert f"Uid:\t{uid}\t{uid}\t{uid}\t{uid}" in owner


def test_nginx_logs_each_request_on_stdout(pod_netns: str, nginx: PodProcess) -> None:
    run_in_pod(pod_netns, ["wget", "-qO-", "http://127.0.0.1/"], "busybox")
    log = wait_for_log(nginx.log_path, '"GET / HTTP/1.1" 200')
    assert "Wget" in log


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        pytest.param(["wget", "--spider", "--timeout=1", "http://127.0.0.1"], "remote file exists",
                     id="wget --spider says busybox's remote file exists"),
        pytest.param(["/bin/sh", "-c", "wget --help 2>&1 | head -1"], "BusyBox",
                     id="/bin/sh is busybox's ash, and its wget is busybox's"),
        pytest.param(["busybox", "nc", "-h"], "BusyBox",
                     id="busybox names its applets"),
    ],
)  # fmt: skip
def test_alpine_and_busybox_get_busybox_applets(
    pod_netns: str, nginx: PodProcess, argv: list[str], words: str
) -> None:
    for image in ("busybox:1.28", "alpine"):
        _, out, err = run_in_pod(pod_netns, argv, image)
        assert words in out + err, (image, out, err)


def test_busybox_wget_to_a_closed_port_says_connection_refused(pod_netns: str) -> None:
    code, _, err = run_in_pod(pod_netns, ["wget", "-q", "http://127.0.0.1:81"], "busybox")
    assert code == 1
    assert "Connection refused" in err


def test_busybox_wget_timeout_says_download_timed_out(pod_netns: str) -> None:
    drop = "add table ip t; add chain ip t c { type filter hook output priority 0; }; "
    assert in_netns(pod_netns, "nft", drop + "add rule ip t c tcp dport 81 drop").returncode == 0
    argv = ["wget", "--spider", "--timeout=1", "http://127.0.0.1:81"]
    code, out, err = run_in_pod(pod_netns, argv, "busybox:1.28")
    assert (code, out) == (1, "")
    assert err.splitlines() == [
        "Connecting to 127.0.0.1:81 (127.0.0.1:81)",
        "wget: download timed out",
    ]


@pytest.fixture
def cluster_dns(pod_netns: str, workdir: Path, pods: list[PodProcess]) -> None:
    """The DNS stand-in on the pod's loopback, with a Service `nginx` in `default` there."""
    records = workdir / "records.json"
    service = {"namespace": "default", "name": "nginx", "clusterIP": "127.0.0.1",
               "ports": [{"name": "http", "port": 80}]}  # fmt: skip
    records.write_text(json.dumps({"namespaces": ["default"], "services": [service]}))
    records.chmod(0o644)
    pod = start_container(
        netns=pod_netns,
        hostname=HOSTNAME,
        launch=dns_launch(str(records)),
        resolv_conf=resolv_conf("default", "127.0.0.1"),
        hosts=hosts_file(HOSTNAME, "198.18.0.2"),
        log_dir=workdir / "logs",
        container="coredns",
    )
    pods.append(pod)
    wait_for_log(pod.log_path, "serving zone=cluster.local")


@pytest.mark.parametrize(
    "name", ["nginx", "nginx.default", "nginx.default.svc", "nginx.default.svc.cluster.local"]
)
def test_a_service_answers_by_each_of_its_cluster_names(
    pod_netns: str, cluster_dns: None, nginx: PodProcess, name: str
) -> None:
    argv = ["wget", "-qO-", "--timeout=2", f"http://{name}"]
    code, out, err = run_in_pod(pod_netns, argv, "busybox")
    assert code == 0, err
    assert "<title>Welcome to nginx!</title>" in out


def test_busybox_nslookup_finds_a_service_through_the_search_list(
    pod_netns: str, cluster_dns: None
) -> None:
    _, out, _ = run_in_pod(pod_netns, ["nslookup", "nginx"], "busybox:1.28")
    assert out.startswith("Server:\t\t127.0.0.1\nAddress:\t127.0.0.1:53\n\n")
    assert "Name:\tnginx.default.svc.cluster.local\nAddress: 127.0.0.1\n" in out
