"""Pod processes for real: namespaces, user, capabilities, files, stand-ins and cluster DNS.

Each test starts its processes in its own `pw-t<hex>` namespace and sends traffic only over
that namespace's loopback.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from podwall.runtime.images import ContainerSpec, Launch, Waiting, dns_launch, resolve
from podwall.runtime.podrecords import POD_UIDS
from podwall.runtime.process import (
    CommandNotFound,
    PodProcess,
    exec_in_pod,
    hosts_file,
    pod_uid,
    resolv_conf,
    start_container,
)
from tests.integration.process.helpers import HOSTNAME, in_netns, run_in_pod, wait_for_log

pytestmark = pytest.mark.netns

JSON_MOCK = "docker.io/cilium/json-mock:1.2"
ALPINE_CURL = "docker.io/byrnedo/alpine-curl:0.1.8"
AGNHOST = "registry.k8s.io/e2e-test-images/agnhost:2.47"
TUTORIAL_HEAD = """HTTP/1.1 200 OK
X-Powered-By: Express
Vary: Origin, Accept-Encoding
Access-Control-Allow-Credentials: true
Accept-Ranges: bytes
Cache-Control: public, max-age=0
Last-Modified: Sat, 26 Oct 1985 08:15:00 GMT
ETag: W/"83d-7438674ba0"
Content-Type: text/html; charset=UTF-8
Content-Length: 2109
"""


def launch_of(spec: ContainerSpec) -> Launch:
    result = resolve(spec)
    assert isinstance(result, Launch), result
    return result


def start(
    netns: str,
    workdir: Path,
    pods: list[PodProcess],
    launch: Launch,
    *,
    container: str = "main",
    hostname: str = HOSTNAME,
    dns_ip: str = "198.19.0.10",
) -> PodProcess:
    pod = start_container(
        netns=netns,
        hostname=hostname,
        launch=launch,
        resolv_conf=resolv_conf("default", dns_ip),
        hosts=hosts_file(hostname, "198.18.0.2"),
        log_dir=workdir / "logs",
        container=container,
    )
    pods.append(pod)
    return pod


def status_fields(pid: int) -> dict[str, str]:
    lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    return {key: value.strip() for key, _, value in (line.partition(":") for line in lines)}


def assert_unprivileged(pid: int, netns: str) -> None:
    """The process runs as its pod's own uid (one of podwall's), with no capabilities."""
    uid = pod_uid(netns)
    assert uid in POD_UIDS
    fields = status_fields(pid)
    assert fields["Uid"].split() == [str(uid)] * 4
    assert fields["Gid"].split() == [str(uid)] * 4
    assert fields["Groups"] == ""
    for key in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"):
        assert int(fields[key], 16) == 0, key
    assert fields["NoNewPrivs"] == "1"


def seen_by(pid: int, *argv: str, namespaces: str = "-m") -> str:
    """Output of `argv` run in the mount (or other) namespaces of process `pid`."""
    command = ["nsenter", "--target", str(pid), namespaces, *argv]
    return subprocess.run(command, capture_output=True, text=True, check=True).stdout


@pytest.fixture
def json_mock(pod_netns: str, workdir: Path, pods: list[PodProcess]) -> PodProcess:
    spec = ContainerSpec(image=JSON_MOCK, env={"PORT": "8080"}, ports=(8080,))
    pod = start(pod_netns, workdir, pods, launch_of(spec), container="backend-container")
    wait_for_log(pod.log_path, "running on port 8080")
    return pod


def test_json_mock_answers_curl_I_with_the_tutorials_headers(
    pod_netns: str, json_mock: PodProcess
) -> None:
    result = in_netns(pod_netns, "curl", "-sI", "http://127.0.0.1:8080")
    head = result.stdout.replace("\r\n", "\n")
    assert head.startswith(TUTORIAL_HEAD)
    assert re.search(
        r"\nDate: \w{3}, \d\d \w{3} \d{4} [\d:]{8} GMT\nConnection: keep-alive\n", head
    )


def test_json_mock_runs_as_the_pods_uid_without_capabilities(
    pod_netns: str, json_mock: PodProcess
) -> None:
    assert_unprivileged(json_mock.pid, pod_netns)


def test_json_mock_sees_the_pods_hostname_and_files(pod_netns: str, json_mock: PodProcess) -> None:
    assert seen_by(json_mock.pid, "hostname", namespaces="-u") == f"{HOSTNAME}\n"
    assert seen_by(json_mock.pid, "cat", "/etc/resolv.conf") == resolv_conf("default")
    assert seen_by(json_mock.pid, "cat", "/etc/hosts").endswith(f"198.18.0.2\t{HOSTNAME}\n")
    answer = in_netns(pod_netns, "curl", "-s", "http://127.0.0.1:8080/hostname").stdout
    assert json.loads(answer) == {"hostname": HOSTNAME}


def test_the_hosts_own_files_and_hostname_are_untouched(json_mock: PodProcess) -> None:
    assert Path("/etc/resolv.conf").read_text() != resolv_conf("default")
    assert subprocess.run(["hostname"], capture_output=True, text=True).stdout != HOSTNAME + "\n"


def test_container_output_goes_to_its_log(json_mock: PodProcess) -> None:
    assert json_mock.log_path.name == "backend-container.log"
    assert "JSON Server is running on port 8080" in json_mock.log_path.read_text()


def test_the_tutorials_client_pod_sleeps_unprivileged(
    pod_netns: str, workdir: Path, pods: list[PodProcess]
) -> None:
    spec = ContainerSpec(image=ALPINE_CURL, command=("/bin/ash", "-c", "sleep 1000000000"))
    pod = start(pod_netns, workdir, pods, launch_of(spec), hostname="frontend-1")
    assert pod.wait(0.3) is None
    assert_unprivileged(pod.pid, pod_netns)
    assert seen_by(pod.pid, "hostname", namespaces="-u") == "frontend-1\n"


def test_kubectl_exec_curl_reaches_json_mock_as_the_pods_user(
    pod_netns: str, json_mock: PodProcess
) -> None:
    code, out, _ = run_in_pod(pod_netns, ["curl", "-sI", "http://127.0.0.1:8080"], ALPINE_CURL)
    assert code == 0
    assert out.startswith("HTTP/1.1 200 OK")
    code, out, _ = run_in_pod(
        pod_netns, ["sh", "-c", "id -u; hostname; grep CapEff /proc/self/status"]
    )
    assert out.split("\n")[:2] == [str(pod_uid(pod_netns)), HOSTNAME]
    assert out.split()[-1] == "0000000000000000"


def test_exec_of_a_command_missing_on_the_host_raises(pod_netns: str) -> None:
    with pytest.raises(CommandNotFound, match="no-such-tool"):
        exec_in_pod(netns=pod_netns, hostname=HOSTNAME, argv=["no-such-tool"], image="alpine")


def test_alpine_without_a_command_runs_sh_which_exits(
    pod_netns: str, workdir: Path, pods: list[PodProcess]
) -> None:
    pod = start(pod_netns, workdir, pods, launch_of(ContainerSpec(image="alpine")))
    assert pod.wait(60) == 0  # a bound: it returns once sh has exited
    assert not pod.running()


def test_stop_kills_what_ignores_sigterm(
    pod_netns: str, workdir: Path, pods: list[PodProcess]
) -> None:
    spec = ContainerSpec(image="busybox", command=("sh", "-c", "trap '' TERM; sleep 100 & wait"))
    pod = start(pod_netns, workdir, pods, launch_of(spec))
    assert pod.wait(0.3) is None
    pod.stop(grace=0.3)
    assert pod.wait(0) == 128 + 9
    assert not pod.running()


@pytest.fixture
def agnhost(pod_netns: str, workdir: Path, pods: list[PodProcess]) -> PodProcess:
    args = ("serve", "--tcp-ports", "80,81", "--udp-ports", "80,81")
    pod = start(pod_netns, workdir, pods, launch_of(ContainerSpec(image=AGNHOST, args=args)))
    wait_for_log(pod.log_path, "Serving UDP on port 81")
    return pod


@pytest.mark.parametrize("protocol", ["tcp", "udp"])
@pytest.mark.parametrize("port", [80, 81])
def test_agnhost_connect_reaches_agnhost_serve(
    pod_netns: str, agnhost: PodProcess, protocol: str, port: int
) -> None:
    argv = ["/agnhost", "connect", f"127.0.0.1:{port}", "--protocol", protocol, "--timeout", "1s"]
    assert run_in_pod(pod_netns, argv, AGNHOST) == (0, "", "")


@pytest.mark.parametrize(
    ("protocol", "prefix"), [("tcp", "REFUSED"), ("udp", "REFUSED: ")], ids=["tcp", "udp"]
)
def test_agnhost_connect_to_a_closed_port_fails_like_upstream(
    pod_netns: str, agnhost: PodProcess, protocol: str, prefix: str
) -> None:
    argv = ["/agnhost", "connect", "127.0.0.1:82", f"--protocol={protocol}", "--timeout=1s"]
    code, _, err = run_in_pod(pod_netns, argv, AGNHOST)
    assert code == 1
    assert err.startswith(prefix)


def test_agnhost_serve_runs_unprivileged(pod_netns: str, agnhost: PodProcess) -> None:
    assert_unprivileged(agnhost.pid, pod_netns)


def write_records(path: Path, cluster_ip: str) -> None:
    records = {
        "namespaces": ["default"],
        "services": [
            {"namespace": "default", "name": "backend", "clusterIP": cluster_ip,
             "ports": [{"name": "http", "port": 8080}]},
        ],
    }  # fmt: skip
    staging = path.with_suffix(".tmp")
    staging.write_text(json.dumps(records))
    staging.chmod(0o644)
    staging.replace(path)


def query(netns: str, name: str, *, tcp: bool = False) -> dict[str, object]:
    """Ask the DNS server on the namespace's loopback with dnslib's client, as root."""
    script = (
        "import json, sys\n"
        "from dnslib import DNSRecord\n"
        "q = DNSRecord.question(sys.argv[1])\n"
        "r = DNSRecord.parse(q.send('127.0.0.1', 53, tcp=sys.argv[2] == 'tcp', timeout=3))\n"
        "print(json.dumps({'rcode': r.header.rcode, 'a': [str(x.rdata) for x in r.rr]}))\n"
    )
    result = in_netns(netns, sys.executable, "-c", script, name, "tcp" if tcp else "udp")
    assert result.returncode == 0, result.stderr
    reply: dict[str, object] = json.loads(result.stdout)
    return reply


@pytest.fixture
def cluster_dns(pod_netns: str, workdir: Path, pods: list[PodProcess]) -> Path:
    records = workdir / "records.json"
    write_records(records, "127.0.0.1")
    # Pods here run the DNS server in their own namespace: their resolv.conf names loopback.
    pod = start(
        pod_netns, workdir, pods, dns_launch(str(records)), container="coredns", dns_ip="127.0.0.1"
    )
    wait_for_log(pod.log_path, "serving zone=cluster.local")
    assert_unprivileged(pod.pid, pod_netns)
    return records


@pytest.mark.parametrize("tcp", [False, True], ids=["udp", "tcp"])
def test_cluster_dns_answers_a_service(pod_netns: str, cluster_dns: Path, tcp: bool) -> None:
    name = "backend.default.svc.cluster.local"
    assert query(pod_netns, name, tcp=tcp) == {"rcode": 0, "a": ["127.0.0.1"]}


def test_cluster_dns_refuses_names_outside_the_cluster(pod_netns: str, cluster_dns: Path) -> None:
    assert query(pod_netns, "example.com") == {"rcode": 5, "a": []}


def test_cluster_dns_rereads_its_records(pod_netns: str, cluster_dns: Path) -> None:
    write_records(cluster_dns, "198.19.0.20")
    assert query(pod_netns, "backend.default.svc.cluster.local")["a"] == ["198.19.0.20"]


def test_the_tutorials_curl_backend_8080_resolves_through_the_search_path(
    pod_netns: str, workdir: Path, pods: list[PodProcess], cluster_dns: Path
) -> None:
    spec = ContainerSpec(image=JSON_MOCK, env={"PORT": "8080"})
    backend = start(pod_netns, workdir, pods, launch_of(spec), dns_ip="127.0.0.1")
    wait_for_log(backend.log_path, "running on port 8080")
    argv = ["curl", "-I", "--connect-timeout", "5", "backend:8080"]
    code, out, _ = run_in_pod(pod_netns, argv, ALPINE_CURL)
    assert code == 0
    assert out.replace("\r\n", "\n").startswith(TUTORIAL_HEAD)


def test_an_unknown_image_waits_instead_of_running(pod_netns: str) -> None:
    result = resolve(ContainerSpec(image="docker.io/example/unknown-server:2.4", ports=(80,)))
    assert isinstance(result, Waiting)
    assert result.reason == "ImageNotSupported"
    assert "unknown-server:2.4" in result.message
