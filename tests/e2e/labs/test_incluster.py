"""The API from inside pods, as on a real cluster: `kubernetes.default.svc` reaches the API
server, with the pod's service account token and the cluster's CA where client libraries read
them, and an in-cluster kubectl works with no kubeconfig at all, with what RBAC grants the
pod's ServiceAccount."""

from __future__ import annotations

import json
import time

import pytest

from tests.e2e.labs.conftest import Lab

pytestmark = [pytest.mark.kubectl, pytest.mark.netns, pytest.mark.slow]

SA = "/var/run/secrets/kubernetes.io/serviceaccount"
FORBIDDEN = (
    "Error from server (Forbidden): pods is forbidden: "
    'User "system:serviceaccount:default:default" cannot list resource "pods" in API group "" '
    'in the namespace "default"'
)
NO_ACCOUNT = (
    'MountVolume.SetUp failed for volume "kube-api-access" : failed to fetch token: '
    'serviceaccounts "nobody" not found'
)
WAIT_SECONDS = 60
CURL_VERSION = (
    f'curl -sS --max-time 5 --cacert {SA}/ca.crt -H "Authorization: Bearer $(cat {SA}/token)" '
    "https://kubernetes.default.svc/version"
)
DENY_EGRESS = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: no-egress
spec:
  podSelector:
    matchLabels:
      app: client
  policyTypes:
  - Egress
"""


def test_a_pod_reaches_the_api_server_by_its_service_name(lab: Lab) -> None:
    lab.kubectl("run", "client", "--image=curlimages/curl", "--labels=app=client",
                "--command", "--", "sleep", "3600")  # fmt: skip
    lab.wait_ready()
    version = json.loads(lab.kubectl("exec", "client", "--", "sh", "-c", CURL_VERSION))
    assert version["major"] == "1"
    listing = lab.kubectl("exec", "client", "--", "sh", "-c", f"ls {SA}; cat {SA}/namespace")
    assert listing.split() == ["ca.crt", "namespace", "token", "default"]
    env = lab.kubectl("exec", "client", "--", "env")
    assert "KUBERNETES_SERVICE_HOST=198.19.0.1" in env.splitlines()
    assert "KUBERNETES_SERVICE_PORT=443" in env.splitlines()
    # kubectl with no kubeconfig: the in-cluster configuration, as in any pod; what it may do
    # is what RBAC grants the pod's ServiceAccount: nothing, until a tutorial's RoleBinding.
    denied = lab.kubectl("exec", "client", "--", "kubectl", "get", "pods", check=False)
    assert FORBIDDEN in denied, denied
    lab.kubectl("create", "rolebinding", "default-view", "--clusterrole=view",
                "--serviceaccount=default:default")  # fmt: skip
    assert lab.kubectl("exec", "client", "--", "kubectl", "get", "pods", "-o", "name") == (
        "pod/client\n"
    )
    # The token is the pod's own: read-only. Without it a request is system:anonymous, which
    # reads the public version and nothing else (system:public-info-viewer, as upstream).
    write = lab.kubectl("exec", "client", "--", "touch", f"{SA}/token", check=False)
    assert "Read-only file system" in write

    def anonymous(path: str) -> dict[str, object]:
        url = f"https://kubernetes.default.svc{path}"
        curl = ["curl", "-sS", "--max-time", "5", "--cacert", f"{SA}/ca.crt", url]
        return dict(json.loads(lab.kubectl("exec", "client", "--", *curl)))

    assert anonymous("/version")["major"] == "1"
    refused = anonymous("/api/v1/namespaces/default/pods")
    assert refused["code"] == 403
    assert 'User "system:anonymous" cannot list resource "pods"' in str(refused["message"])


def test_a_pod_whose_egress_is_denied_cannot_reach_the_api_server(lab: Lab) -> None:
    lab.kubectl("run", "client", "--image=curlimages/curl", "--labels=app=client",
                "--command", "--", "sleep", "3600")  # fmt: skip
    lab.wait_ready()
    (lab.work / "no-egress.yaml").write_text(DENY_EGRESS)
    lab.kubectl("apply", "-f", "no-egress.yaml")
    out = lab.kubectl(
        "exec", "client", "--", "sh", "-c",
        CURL_VERSION.replace("kubernetes.default.svc", "198.19.0.1"), check=False,
    )  # fmt: skip
    assert "timed out" in out or "Connection refused" in out, out


def test_a_kubectl_image_lists_the_pods_with_its_service_account(lab: Lab) -> None:
    lab.kubectl("create", "serviceaccount", "lister")
    lab.kubectl("create", "rolebinding", "lister-view", "--clusterrole=view",
                "--serviceaccount=default:lister")  # fmt: skip
    lister = '{"spec": {"serviceAccountName": "lister"}}'
    lab.kubectl("run", "k", "--image=bitnami/kubectl", "--restart=Never", "--overrides", lister,
                "--", "get", "pods", "-o", "name")  # fmt: skip
    lab.kubectl("wait", "--for=jsonpath={.status.phase}=Succeeded", "pod/k", "--timeout=120s")
    assert lab.kubectl("logs", "k") == "pod/k\n"


def test_a_pod_of_a_missing_service_account_waits_and_says_why(lab: Lab) -> None:
    nobody = '{"spec": {"serviceAccountName": "nobody"}}'
    lab.kubectl("run", "k", "--image=bitnami/kubectl", "--restart=Never", "--overrides", nobody,
                "--", "get", "pods")  # fmt: skip
    deadline = time.monotonic() + WAIT_SECONDS
    described = lab.kubectl("describe", "pod", "k")
    while NO_ACCOUNT not in described and time.monotonic() < deadline:
        time.sleep(0.5)
        described = lab.kubectl("describe", "pod", "k")
    assert NO_ACCOUNT in described, described
    assert lab.kubectl("get", "pod", "k", "-o", "jsonpath={.status.phase}") == "Pending"
    lab.kubectl("create", "serviceaccount", "nobody")
    lab.kubectl("wait", "--for=jsonpath={.status.phase}=Failed", "pod/k", "--timeout=120s")
    assert 'User "system:serviceaccount:default:nobody" cannot list' in lab.kubectl("logs", "k")
