"""AKS's "Secure traffic between pods using network policies", section "Verify network policy
setup", verbatim with the real kubectl: an agnhost server, a client running bash in the agnhost
image, in which the reader types `/agnhost connect <server-ip>:80 --timeout=3s --protocol=tcp`
before and after the page's policy, and after labelling the client.

Source: https://learn.microsoft.com/en-us/azure/aks/use-network-policies
(MicrosoftDocs/azure-aks-docs, articles/aks/use-network-policies.md). The page writes
`kubectl apply -f demo-policy.yaml` with an en dash (U+2013) for the hyphen, which kubectl takes
for a file name: the reader's `-f` is typed here. The terminal is 80 columns wide: bash
scrolls the long `/agnhost connect` line sideways as it echoes it, so what the command printed
is read between the echo's line and the next prompt.
"""

from __future__ import annotations

import pytest

from tests.e2e.labs.conftest import Lab, Terminal

pytestmark = [pytest.mark.kubectl, pytest.mark.netns, pytest.mark.slow]

DEMO_POLICY = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: demo-policy
  namespace: demo
spec:
  podSelector:
    matchLabels:
      app: server
  ingress:
  - from:
    - podSelector:
        matchLabels:
          app: client
    ports:
    - port: 80
      protocol: TCP
"""


def server_ip(lab: Lab) -> str:
    """The server's IP, as the reader reads it from `kubectl get pod --output=wide -n demo`."""
    out = lab.kubectl("get", "pod", "--output=wide", "-n", "demo")
    header, *rows = out.splitlines()
    assert header.split()[:6] == ["NAME", "READY", "STATUS", "RESTARTS", "AGE", "IP"], out
    return next(row.split()[5] for row in rows if row.split()[0] == "server")


# bash's prompt (Debian's /etc/bash.bashrc) for a uid without a passwd entry, in pod `client`.
PROMPT = "I have no name!@client:/$ "


def typed(shell: Terminal, line: str) -> list[str]:
    """`line` typed at the client's shell; the lines it printed, between its echo and the
    next prompt."""
    shell.type(f"{line}\n")
    shown = shell.wait_for(f"\n{PROMPT}")
    return [text for text in shown.splitlines()[1:-1] if text.strip()]


def test_aks_verify_network_policy_setup(lab: Lab) -> None:
    assert lab.kubectl("create", "namespace", "demo").strip() == "namespace/demo created"
    out = lab.kubectl(
        "run", "server", "-n", "demo", "--image=k8s.gcr.io/e2e-test-images/agnhost:2.33",
        "--labels=app=server", "--port=80", "--command", "--",
        "/agnhost", "serve-hostname", "--tcp", "--http=false", "--port", "80",
    )  # fmt: skip
    assert out.strip() == "pod/server created"
    lab.wait_ready("demo")
    client = (
        "kubectl run -it client -n demo --image=k8s.gcr.io/e2e-test-images/agnhost:2.33 "
        "--command -- bash"
    )
    with lab.shell(client) as shell:
        shell.press_enter(PROMPT)
        ip = server_ip(lab)
        connect = f"/agnhost connect {ip}:80 --timeout=3s --protocol=tcp"
        # "If the connection is successful, there's no output."
        assert typed(shell, connect) == []

        out = lab.kubectl("apply", "-f", "-", stdin=DEMO_POLICY)
        assert out.strip() == "networkpolicy.networking.k8s.io/demo-policy created"
        # "The preceding connect command yields this output: TIMEOUT"
        assert typed(shell, connect) == ["TIMEOUT"]

        out = lab.kubectl("label", "pod", "client", "-n", "demo", "app=client")
        assert out.strip() == "pod/client labeled"
        # "The output should return nothing."
        assert typed(shell, connect) == []
    out = lab.kubectl("delete", "namespace", "demo")
    assert out.strip() == 'namespace "demo" deleted'
