"""Microsoft's AKS security basics workshop, part 2 *Network Policy Traffic Control*, verbatim
with the real kubectl: an nginx Pod and BusyBox Pods in their own namespaces, the reader in a
`kubectl exec -ti ... -- sh` shell typing `wget http://<nginx IP address>` (which saves
index.html in the shell's working directory), before and after the workshop's two policies,
then from a third namespace.

Source: https://github.com/pelithne/AKS-security-basics/blob/main/network-policy-traffic-control.md
(commit 3dff03765d6da4323953e9901872dbfcff5a91f9). The reader reads the nginx IP address from
`kubectl get pods --namespace nginx -o wide`, and so does the test. Where the page says the
request times out, busybox's wget (no --timeout) waits for minutes: the reader breaks out with
Ctrl-C, and so does the test, a few seconds after `Connecting to ...` shows.
"""

from __future__ import annotations

import time

import pytest

from tests.e2e.labs.conftest import Lab

pytestmark = [pytest.mark.kubectl, pytest.mark.netns, pytest.mark.slow]

PROMPT = "$ "
CTRL_C = "\x03"
# Long enough for nginx's page, which the same wget gets in well under a second.
HANGS_FOR = 5
# The page's blocks, with the trailing spaces some of its lines have.
DENY_INGRESS_NGINX = """\
cat <<EOF | kubectl apply -f -
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: deny-ingress-nginx
  namespace: nginx
spec:
  podSelector: {}
  ingress:
  - from:
    - podSelector:
        matchLabels: {}
EOF
"""
ALLOW_FROM_BUSYBOX = """\
cat <<EOF | kubectl apply -f -
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: allow-from-busybox
  namespace: nginx\x20
spec:
  podSelector:
    matchLabels:
      run: nginx
  ingress:
  - from:
    - namespaceSelector:
        matchLabels:
          kubernetes.io/metadata.name: busybox\x20
      podSelector:
        matchLabels:
          run: busybox
EOF
"""


def nginx_ip(lab: Lab) -> str:
    """The IP column of `kubectl get pods --namespace nginx -o wide`, as the reader reads it."""
    out = lab.sh("kubectl get pods --namespace nginx -o wide")
    header, row = out.splitlines()
    assert header.split()[:6] == ["NAME", "READY", "STATUS", "RESTARTS", "AGE", "IP"], out
    assert row.split()[:3] == ["nginx", "1/1", "Running"], out
    return row.split()[5]


def wget_saves(lab: Lab, namespace: str, ip: str, *, remove: bool) -> str:
    """In `kubectl exec -ti busybox --namespace NAMESPACE -- sh`: `wget http://IP`, then (as
    the page's first time) `rm index.html`, then `exit`; what wget printed."""
    with lab.shell(f"kubectl exec -ti busybox --namespace {namespace} -- sh") as shell:
        shell.wait_for(PROMPT)
        out = shell.run(f"wget http://{ip}", PROMPT)
        if remove:
            assert "No such file" not in shell.run("rm index.html", PROMPT)
            assert "index.html" not in shell.run("ls", PROMPT)
    return out


def wget_hangs(lab: Lab, namespace: str, ip: str) -> str:
    """As `wget_saves`, where the request times out: Ctrl-C once `Connecting to` has shown and
    nothing more for a few seconds; what the terminal showed from the wget line on."""
    with lab.shell(f"kubectl exec -ti busybox --namespace {namespace} -- sh") as shell:
        shell.wait_for(PROMPT)
        shell.type(f"wget http://{ip}\n")
        shell.wait_for(f"Connecting to {ip} ({ip}:80)")
        time.sleep(HANGS_FOR)
        shown = shell.wait_for(f"Connecting to {ip} ({ip}:80)")
        shell.type(CTRL_C)
        shell.wait_for(PROMPT)
    return shown


def assert_saved(out: str, ip: str) -> None:
    lines = [line.rstrip() for line in out.splitlines()]
    assert f"Connecting to {ip} ({ip}:80)" in lines, out
    assert "saving to 'index.html'" in lines, out
    assert "'index.html' saved" in lines, out


def test_network_policy_traffic_control(lab: Lab) -> None:
    out = lab.sh(
        "kubectl create namespace nginx \nkubectl run nginx --image=nginx --namespace nginx \n"
    )
    assert out.splitlines() == ["namespace/nginx created", "pod/nginx created"], out
    out = lab.sh(
        "kubectl create namespace busybox \n"
        "kubectl run busybox --image=busybox --namespace busybox -- sleep 3600\n"
    )
    assert out.splitlines() == ["namespace/busybox created", "pod/busybox created"], out
    lab.wait_ready("nginx")
    lab.wait_ready("busybox")

    # 2.3: allowed, as every pod may reach every other by default.
    ip = nginx_ip(lab)
    assert_saved(wget_saves(lab, "busybox", ip, remove=True), ip)

    # 2.4: "the request now times out".
    out = lab.sh(DENY_INGRESS_NGINX)
    assert out == "networkpolicy.networking.k8s.io/deny-ingress-nginx created\n", out
    shown = wget_hangs(lab, "busybox", ip)
    assert "saving to" not in shown, shown

    # 2.5: from `run: busybox` pods in the namespace busybox, allowed again.
    out = lab.sh(ALLOW_FROM_BUSYBOX)
    assert out == "networkpolicy.networking.k8s.io/allow-from-busybox created\n", out
    assert_saved(wget_saves(lab, "busybox", ip, remove=False), ip)

    # 2.6: the same pod name and labels in the namespace busybox2 times out.
    out = lab.sh("kubectl create namespace busybox2 \nkubectl run busybox --image=busybox "
                 "--namespace busybox2 --namespace busybox2 -- sleep 3600\n")  # fmt: skip
    assert out.splitlines() == ["namespace/busybox2 created", "pod/busybox created"], out
    lab.wait_ready("busybox2")
    shown = wget_hangs(lab, "busybox2", ip)
    assert "saving to" not in shown, shown
