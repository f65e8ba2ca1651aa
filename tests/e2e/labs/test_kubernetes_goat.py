"""Kubernetes Goat, scenario 20 *Secure Network Boundaries using NSP*, its solution's
walkthrough verbatim with the real kubectl: an nginx `website` Pod exposed on port 80, a
temporary Alpine pod whose shell the reader types `wget` at, before and after the
`website-deny` policy (`ingress: []`), then the clean-up.

Source: https://madhuakula.com/kubernetes-goat/docs/scenarios/scenario-20/secure-kubernetes-using-network-security-policy/welcome
(github.com/madhuakula/kubernetes-goat, guide/docs/scenarios/scenario-20/scenario-20.md, commit
56e60a29ed66fda476fa4794b41749e953cbd60f). The page shows the probes' outputs as screenshots:
nginx's page first, then nothing but busybox's timeout. The reader leaves each temporary shell
with `exit` (the page's "retry" starts the same `temp` pod again, which `--rm` deleted).
"""

from __future__ import annotations

import re

import pytest

from tests.e2e.labs.conftest import Lab

pytestmark = [pytest.mark.kubectl, pytest.mark.netns, pytest.mark.slow]

WELCOME = "<title>Welcome to nginx!</title>"
TEMP = "kubectl run --rm -it --image=alpine temp -- sh"
WEBSITE_DENY = """\
kind: NetworkPolicy
apiVersion: networking.k8s.io/v1
metadata:
  name: website-deny
spec:
  podSelector:
    matchLabels:
      app: website
  ingress: []
"""


def test_scenario_20_secure_network_boundaries_using_nsp(lab: Lab) -> None:
    out = lab.sh("kubectl run --image=nginx website --labels app=website --expose --port 80")
    assert out.splitlines() == ["service/website created", "pod/website created"], out
    lab.wait_ready()

    out = lab.session(TEMP, ["wget -qO- http://website"], tty=True)
    assert WELCOME in out, out
    assert out.endswith('pod "temp" deleted\n'), out

    (lab.work / "website-deny.yaml").write_text(WEBSITE_DENY)
    out = lab.sh("kubectl apply -f website-deny.yaml")
    assert out == "networkpolicy.networking.k8s.io/website-deny created\n", out

    out = lab.session(TEMP, ["wget -qO- --timeout=2 http://website"], tty=True)
    assert WELCOME not in out, out
    # The shell's prompt precedes the echoed command when kubectl attached before it printed.
    timed_out = r"^(/ \$ )?wget -qO- --timeout=2 http://website\nwget: download timed out$"
    assert re.search(timed_out, out, re.MULTILINE), out
    assert out.endswith('pod "temp" deleted\n'), out

    out = lab.sh("kubectl delete pod website\nkubectl delete service website\n"
                 "kubectl delete networkpolicy website-deny\n")  # fmt: skip
    assert out.splitlines() == [
        'pod "website" deleted',
        'service "website" deleted',
        'networkpolicy.networking.k8s.io "website-deny" deleted',
    ], out
