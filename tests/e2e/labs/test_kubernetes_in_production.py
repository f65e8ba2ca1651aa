"""Michael Levan's *Kubernetes in Production* examples, security/networkpolicy/example.md,
verbatim with the real kubectl: two BusyBox Pods, `kubectl exec -ti busybox2 -- ping -c3
<busybox1's IP>` before and after a policy denying all ingress to busybox1.

Source: https://github.com/AdminTurnedDevOps/kubernetes-in-production-examples/blob/main/security/networkpolicy/example.md
(commit 99da6edbb92ee28f23c0d94784d0b82041529a89). The reader reads busybox1's IP from
`kubectl get pods -o wide`, and so does the test. The page expects "the Ping worked", then
"100% packet loss": busybox's ping sends its three echo requests a second apart, then waits
for replies (10 seconds when none came), and says so in its statistics.
"""

from __future__ import annotations

import pytest

from tests.e2e.labs.conftest import Lab

pytestmark = [pytest.mark.kubectl, pytest.mark.netns, pytest.mark.slow]

WEB_DENY_ALL = """\
kubectl apply -f - <<EOF
kind: NetworkPolicy
apiVersion: networking.k8s.io/v1
metadata:
  name: web-deny-all
spec:
  podSelector:
    matchLabels:
      app: busybox1
  ingress: []
EOF
"""


def busybox1_ip(lab: Lab) -> str:
    out = lab.sh("kubectl get pods -o wide")
    rows = {line.split()[0]: line.split() for line in out.splitlines()[1:]}
    assert rows["busybox1"][1:3] == ["1/1", "Running"], out
    return rows["busybox1"][5]


def test_network_policy_example(lab: Lab) -> None:
    out = lab.sh(
        "kubectl run busybox1 --image=busybox --labels app=busybox1 -- sleep 3600\n"
        "kubectl run busybox2 --image=busybox --labels app=busybox2 -- sleep 3600\n"
    )
    assert out.splitlines() == ["pod/busybox1 created", "pod/busybox2 created"], out
    lab.wait_ready()
    ip = busybox1_ip(lab)
    ping = f"kubectl exec -ti busybox2 -- ping -c3 {ip}"

    # "You should see that the Ping worked."
    out = lab.typed_nothing(ping)
    lines = out.splitlines()
    assert lines[0] == f"PING {ip} ({ip}): 56 data bytes", out
    # One hop: the pods' node routes between them (as Calico's and most CNIs' nodes do).
    assert [line.split(" time=")[0] for line in lines[1:4]] == [
        f"64 bytes from {ip}: seq={seq} ttl=63" for seq in range(3)
    ], out
    assert lines[5:7] == [
        f"--- {ip} ping statistics ---",
        "3 packets transmitted, 3 packets received, 0% packet loss",
    ], out
    assert lines[7].startswith("round-trip min/avg/max = "), out

    out = lab.sh(WEB_DENY_ALL)
    assert out == "networkpolicy.networking.k8s.io/web-deny-all created\n", out

    # "There should now be 100% packet loss."
    out = lab.typed_nothing(ping)
    assert out.splitlines() == [
        f"PING {ip} ({ip}): 56 data bytes",
        "",
        f"--- {ip} ping statistics ---",
        "3 packets transmitted, 0 packets received, 100% packet loss",
        "command terminated with exit code 1",
    ], out
