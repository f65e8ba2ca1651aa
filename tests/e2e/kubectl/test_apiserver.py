"""The real kubectl against the podwall API server: the tutorial's API commands, verbatim.

Each test starts its own server on a free loopback port and runs kubectl with that server's
kubeconfig and a fresh `--cache-dir`, as a new user would. Pods are not created here (the
controllers come later), so these tests check the API objects and what kubectl prints for them.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from podwall import __version__
from podwall.apiserver.server import Server

pytestmark = pytest.mark.kubectl

TUTORIAL = Path(__file__).resolve().parents[3] / "examples" / "tutorial"
DENY = TUTORIAL / "backend-ingress-deny.yaml"
ALLOW = TUTORIAL / "backend-allow-ingress-frontend.yaml"
SIMPLE_APP = TUTORIAL / "simple-app.yaml"


def kubectl_binary(version: str | None = None) -> str:
    """`kubectl` (the dispatcher), or `kubectl.1.NN` from the directory it really lives in."""
    dispatcher = shutil.which("kubectl")
    assert dispatcher is not None, "kubectl is not on PATH"
    if version is None:
        return dispatcher
    versioned = Path(os.path.realpath(dispatcher)).parent / f"kubectl.{version}"
    assert versioned.exists(), f"{versioned} is missing"
    return str(versioned)


@dataclass
class Result:
    code: int
    out: str
    err: str


@dataclass
class Cluster:
    server: Server
    tmp: Path

    def kubectl(
        self,
        *args: str,
        binary: str | None = None,
        kubeconfig: Path | None = None,
        cache: str = "cache",
    ) -> Result:
        command = [
            binary or kubectl_binary(),
            "--kubeconfig",
            str(kubeconfig or self.server.kubeconfig_path),
            "--cache-dir",
            str(self.tmp / cache),
            *args,
        ]
        env = {k: v for k, v in os.environ.items() if k != "KUBECONFIG"}
        done = subprocess.run(
            command,
            capture_output=True,
            text=True,
            timeout=60,
            stdin=subprocess.DEVNULL,
            env=env,
            check=False,
        )
        return Result(done.returncode, done.stdout, done.stderr)

    def ok(self, *args: str, **kwargs: str) -> str:
        result = self.kubectl(*args, **kwargs)  # type: ignore[arg-type]
        assert result.code == 0, f"kubectl {' '.join(args)} failed: {result.err}"
        return result.out

    def write(self, name: str, text: str) -> Path:
        path = self.tmp / name
        path.write_text(text)
        return path


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    server = Server(tmp_path / "state", port=0)
    server.start()
    try:
        yield Cluster(server, tmp_path)
    finally:
        server.stop()


def table(text: str) -> list[list[str]]:
    """kubectl's columns, split on runs of two or more spaces."""
    return [re.split(r"\s{2,}", line.strip()) for line in text.splitlines() if line.strip()]


def test_version_reports_the_server_as_1_32_built_by_podwall(cluster: Cluster) -> None:
    out = cluster.ok("version")
    assert f"Server Version: v1.32.0+podwall.{__version__}\n" in out


@pytest.mark.parametrize(
    ("version", "warned"),
    [
        pytest.param("1.27", True, id="1.27 is 5 minors away: warned, so both versions parsed"),
        pytest.param("1.33", False, id="1.33 is within one minor: no warning"),
    ],
)
def test_other_kubectl_versions_read_the_version_and_compare_it(
    cluster: Cluster, version: str, warned: bool
) -> None:
    result = cluster.kubectl("version", "-o", "json", binary=kubectl_binary(version))
    assert result.code == 0, result.err
    server = json.loads(result.out)["serverVersion"]
    assert (server["major"], server["minor"]) == ("1", "32")
    assert server["gitVersion"] == f"v1.32.0+podwall.{__version__}"
    assert server["goVersion"] == server["buildDate"] == ""  # no Go build is claimed
    assert ("exceeds the supported minor version skew" in result.err) is warned


def test_api_resources_lists_networkpolicies_as_netpol(cluster: Cluster) -> None:
    rows = table(cluster.ok("api-resources"))
    assert rows[0] == ["NAME", "SHORTNAMES", "APIVERSION", "NAMESPACED", "KIND"]
    assert ["networkpolicies", "netpol", "networking.k8s.io/v1", "true", "NetworkPolicy"] in rows
    assert ["deployments", "deploy", "apps/v1", "true", "Deployment"] in rows
    assert ["statefulsets", "sts", "apps/v1", "true", "StatefulSet"] in rows
    assert ["controllerrevisions", "apps/v1", "true", "ControllerRevision"] in rows  # no short
    assert ["namespaces", "ns", "v1", "false", "Namespace"] in rows


NODE_AND_LEASE = """\
apiVersion: v1
kind: Node
metadata:
  name: node-1
  labels: {node-role.kubernetes.io/worker: ""}
status:
  addresses: [{type: InternalIP, address: 198.18.255.1}]
  conditions: [{type: Ready, status: "True"}]
  nodeInfo: {kubeletVersion: v1.32.0}
---
apiVersion: v1
kind: Namespace
metadata: {name: podwall-system}
---
apiVersion: coordination.k8s.io/v1
kind: Lease
metadata: {name: node-1, namespace: podwall-system}
spec: {holderIdentity: podwall-agent-x2x, leaseDurationSeconds: 40}
"""


def test_nodes_and_leases_print_as_kubectl_prints_them(cluster: Cluster) -> None:
    cluster.ok("apply", "-f", str(cluster.write("node.yaml", NODE_AND_LEASE)))
    nodes = table(cluster.ok("get", "nodes", "-o", "wide"))
    assert nodes[0][:6] == ["NAME", "STATUS", "ROLES", "AGE", "VERSION", "INTERNAL-IP"]
    assert nodes[1][:3] == ["node-1", "Ready", "worker"]  # a kubelet registers with its status
    assert nodes[1][4:7] == ["v1.32.0", "198.18.255.1", "<none>"]
    leases = table(cluster.ok("get", "leases", "-A"))
    assert leases[0] == ["NAMESPACE", "NAME", "HOLDER", "AGE"]
    assert leases[1][:3] == ["podwall-system", "node-1", "podwall-agent-x2x"]


def test_apply_get_reapply_change_and_delete_a_policy(cluster: Cluster) -> None:
    assert cluster.ok("apply", "-f", str(DENY)) == (
        "networkpolicy.networking.k8s.io/backend-ingress-deny created\n"
    )
    rows = table(cluster.ok("get", "netpol"))
    assert rows[0] == ["NAME", "POD-SELECTOR", "AGE"]
    assert rows[1][:2] == ["backend-ingress-deny", "app=backend"]
    assert re.fullmatch(r"\d+s", rows[1][2])
    assert cluster.ok("apply", "-f", str(DENY)) == (
        "networkpolicy.networking.k8s.io/backend-ingress-deny unchanged\n"
    )
    changed = cluster.write("changed.yaml", DENY.read_text().replace("app: backend", "app: web"))
    assert cluster.ok("apply", "-f", str(changed)) == (
        "networkpolicy.networking.k8s.io/backend-ingress-deny configured\n"
    )
    assert table(cluster.ok("get", "netpol"))[1][:2] == ["backend-ingress-deny", "app=web"]
    assert cluster.ok("delete", "-f", str(changed)) == (
        'networkpolicy.networking.k8s.io "backend-ingress-deny" deleted\n'
    )
    empty = cluster.kubectl("get", "netpol")
    assert (empty.code, empty.out, empty.err) == (
        0,
        "",
        "No resources found in default namespace.\n",
    )


def test_both_tutorial_policies_are_listed(cluster: Cluster) -> None:
    cluster.ok("apply", "-f", str(DENY))
    cluster.ok("apply", "-f", str(ALLOW))
    rows = table(cluster.ok("get", "netpol"))
    assert [r[:2] for r in rows] == [
        ["NAME", "POD-SELECTOR"],
        ["backend-allow-ingress-frontend", "app=backend"],
        ["backend-ingress-deny", "app=backend"],
    ]


def test_apply_simple_app_prints_the_tutorials_created_lines(cluster: Cluster) -> None:
    assert cluster.ok("apply", "-f", str(SIMPLE_APP)) == (
        "deployment.apps/frontend created\n"
        "deployment.apps/not-frontend created\n"
        "deployment.apps/backend created\n"
        "service/backend created\n"
    )
    deployments = table(cluster.ok("get", "deploy"))
    assert deployments[0] == ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"]
    assert [r[0] for r in deployments[1:]] == ["backend", "frontend", "not-frontend"]
    services = table(cluster.ok("get", "svc"))
    assert services[0] == ["NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE"]
    backend, kubernetes = services[1], services[2]
    assert (backend[0], backend[1], backend[4]) == ("backend", "ClusterIP", "8080/TCP")
    assert kubernetes[:5] == ["kubernetes", "ClusterIP", "198.19.0.1", "<none>", "443/TCP"]
    assert cluster.ok("apply", "-f", str(SIMPLE_APP)).count("unchanged") == 4


def test_get_namespaces(cluster: Cluster) -> None:
    rows = table(cluster.ok("get", "ns"))
    assert [r[:2] for r in rows] == [
        ["NAME", "STATUS"],
        ["default", "Active"],
        ["kube-node-lease", "Active"],
        ["kube-public", "Active"],
        ["kube-system", "Active"],
    ]


INVALID = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: bad-except
spec:
  podSelector: {}
  ingress:
  - from:
    - ipBlock:
        cidr: 10.0.0.0/24
        except: [10.1.0.0/24]
"""


def test_an_invalid_policy_is_rejected_with_the_field_named_and_not_stored(
    cluster: Cluster,
) -> None:
    result = cluster.kubectl("apply", "-f", str(cluster.write("bad.yaml", INVALID)))
    assert result.code == 1
    assert result.err == (
        'The NetworkPolicy "bad-except" is invalid: '
        'spec.ingress[0].from[0].ipBlock.except[0]: Invalid value: "10.1.0.0/24": '
        "must be a strict subset of `cidr`\n"
    )
    missing = cluster.kubectl("get", "netpol", "bad-except")
    assert missing.err == (
        'Error from server (NotFound): networkpolicies.networking.k8s.io "bad-except" not found\n'
    )


def test_a_misspelt_field_is_rejected_by_strict_validation(cluster: Cluster) -> None:
    typo = cluster.write("typo.yaml", DENY.read_text().replace("policyTypes", "policyTypos"))
    result = cluster.kubectl("apply", "-f", str(typo))
    assert result.code == 1
    assert result.err.startswith("Error from server (BadRequest): error when creating")
    assert 'strict decoding error: unknown field "spec.policyTypos"' in result.err
    assert cluster.kubectl("get", "netpol").err.startswith("No resources found")


def kubeconfig_with_user(cluster: Cluster, name: str, user: dict[str, str]) -> Path:
    config = yaml.safe_load(cluster.server.kubeconfig_path.read_text())
    config["users"][0]["user"] = user
    return cluster.write(name, yaml.safe_dump(config))


def test_a_wrong_token_must_log_in(cluster: Cluster) -> None:
    config = kubeconfig_with_user(cluster, "other.kubeconfig", {"token": "not-the-token"})
    result = cluster.kubectl("get", "pods", kubeconfig=config)
    assert result.code == 1
    assert result.err.endswith(
        "error: You must be logged in to the server "
        "(the server has asked for the client to provide credentials)\n"
    )


def test_no_token_is_anonymous_and_forbidden_but_reads_the_version(cluster: Cluster) -> None:
    # A user with a name but no token sends no bearer token: kube-apiserver (anonymous auth on,
    # its default) takes it as system:anonymous, whom RBAC lets read /version only.
    config = kubeconfig_with_user(cluster, "other.kubeconfig", {"username": "nobody"})
    raw = cluster.kubectl("get", "--raw", "/api/v1/pods", kubeconfig=config)
    assert (raw.code, raw.err) == (
        1,
        'Error from server (Forbidden): pods is forbidden: User "system:anonymous" cannot list '
        'resource "pods" in API group "" at the cluster scope\n',
    )
    # Discovery is for the authenticated (system:discovery), so kubectl cannot map "pods" and
    # prints what it prints against kube-apiserver 1.32.
    result = cluster.kubectl("get", "pods", kubeconfig=config)
    *discovery, last = result.err.splitlines()
    assert (result.code, last) == (1, "Error from server (Forbidden): unknown")
    assert discovery
    assert all("couldn't get current server API group list: unknown" in e for e in discovery)
    version = cluster.ok("version", "-o", "json", kubeconfig=config)
    assert json.loads(version)["serverVersion"]["minor"] == "32"


@pytest.mark.parametrize("version", ["1.27", "1.33"])
def test_apply_and_get_with_other_kubectl_versions(cluster: Cluster, version: str) -> None:
    binary = kubectl_binary(version)
    cache = f"cache-{version}"
    assert cluster.ok("apply", "-f", str(DENY), binary=binary, cache=cache) == (
        "networkpolicy.networking.k8s.io/backend-ingress-deny created\n"
    )
    assert cluster.ok("apply", "-f", str(DENY), binary=binary, cache=cache).endswith("unchanged\n")
    rows = table(cluster.ok("get", "netpol", binary=binary, cache=cache))
    assert rows[1][:2] == ["backend-ingress-deny", "app=backend"]
    assert (
        cluster.ok("apply", "-f", str(SIMPLE_APP), binary=binary, cache=cache).count("created") == 4
    )


def test_twenty_concurrent_applies_all_land(cluster: Cluster) -> None:
    paths = [
        cluster.write(
            f"p{i}.yaml",
            DENY.read_text().replace("backend-ingress-deny", f"policy-{i:02d}"),
        )
        for i in range(20)
    ]
    with ThreadPoolExecutor(max_workers=20) as pool:
        results = list(
            pool.map(
                lambda item: cluster.kubectl("apply", "-f", str(item[1]), cache=f"c{item[0]}"),
                enumerate(paths),
            )
        )
    assert [r.code for r in results] == [0] * 20, [r.err for r in results if r.code]
    rows = table(cluster.ok("get", "netpol"))
    assert [r[0] for r in rows[1:]] == [f"policy-{i:02d}" for i in range(20)]


def test_label_and_show_labels(cluster: Cluster) -> None:
    cluster.ok("apply", "-f", str(DENY))
    assert cluster.ok("label", "netpol", "backend-ingress-deny", "tier=web") == (
        "networkpolicy.networking.k8s.io/backend-ingress-deny labeled\n"
    )
    rows = table(cluster.ok("get", "netpol", "--show-labels"))
    assert rows[0] == ["NAME", "POD-SELECTOR", "AGE", "LABELS"]
    assert rows[1][-1] == "tier=web"
    assert cluster.ok("apply", "-f", str(DENY)).endswith("unchanged\n")  # labels: not in the file


def test_scale_a_deployment(cluster: Cluster) -> None:
    cluster.ok("apply", "-f", str(SIMPLE_APP))
    assert cluster.ok("scale", "deploy", "frontend", "--replicas=3") == (
        "deployment.apps/frontend scaled\n"
    )
    assert cluster.ok("get", "deploy", "frontend", "-o", "jsonpath={.spec.replicas}") == "3"


def test_policies_in_a_created_namespace_and_all_namespaces(cluster: Cluster) -> None:
    assert cluster.ok("create", "namespace", "team-a") == "namespace/team-a created\n"
    cluster.ok("apply", "-n", "team-a", "-f", str(DENY))
    cluster.ok("apply", "-f", str(ALLOW))
    rows = table(cluster.ok("get", "netpol", "-A"))
    assert [r[:3] for r in rows] == [
        ["NAMESPACE", "NAME", "POD-SELECTOR"],
        ["default", "backend-allow-ingress-frontend", "app=backend"],
        ["team-a", "backend-ingress-deny", "app=backend"],
    ]
    cluster.ok("delete", "namespace", "team-a")
    assert len(table(cluster.ok("get", "netpol", "-A"))) == 2


def test_get_watch_prints_changes_as_they_happen(cluster: Cluster) -> None:
    command = [
        kubectl_binary(),
        "--kubeconfig",
        str(cluster.server.kubeconfig_path),
        "--cache-dir",
        str(cluster.tmp / "cache-watch"),
        "get",
        "netpol",
        "-w",
    ]
    cluster.ok("apply", "-f", str(DENY))
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as watcher:
        try:
            assert watcher.stdout is not None
            header = watcher.stdout.readline()
            assert header.split() == ["NAME", "POD-SELECTOR", "AGE"]
            assert watcher.stdout.readline().split()[:2] == ["backend-ingress-deny", "app=backend"]
            cluster.ok("apply", "-f", str(ALLOW))
            line = watcher.stdout.readline()
            assert line.split()[:2] == ["backend-allow-ingress-frontend", "app=backend"]
        finally:
            watcher.kill()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_kill_9_loses_nothing_that_was_acknowledged(tmp_path: Path) -> None:

    state, port = tmp_path / "state", free_port()
    command = [sys.executable, "-m", "podwall", "apiserver", "--state-dir", str(state),
               "--port", str(port)]  # fmt: skip

    def start() -> subprocess.Popen[bytes]:
        process = subprocess.Popen(command, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 20
        while not (state / "kubeconfig").exists() or not _listening(port):
            assert process.poll() is None, "the API server exited"
            assert time.monotonic() < deadline, "the API server did not start"
            time.sleep(0.05)
        return process

    def kubectl(*args: str) -> str:
        done = subprocess.run(
            [kubectl_binary(), "--kubeconfig", str(state / "kubeconfig"),
             "--cache-dir", str(tmp_path / "cache"), *args],
            capture_output=True, text=True, timeout=60, check=True,
        )  # fmt: skip
        return done.stdout

    server = start()
    try:
        kubectl("apply", "-f", str(SIMPLE_APP))
        kubectl("apply", "-f", str(DENY))
        before = kubectl("get", "netpol,deploy,svc", "-o", "name")
    finally:
        server.send_signal(signal.SIGKILL)
        server.wait()
    server = start()
    try:
        assert kubectl("get", "netpol,deploy,svc", "-o", "name") == before
        assert kubectl("apply", "-f", str(DENY)).endswith("unchanged\n")
    finally:
        server.terminate()
        server.wait(timeout=20)


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0
