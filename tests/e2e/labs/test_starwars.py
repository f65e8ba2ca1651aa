"""Cilium's Star Wars demo, its L3/L4 part, on `podwall up` with the real kubectl.

The demo's application (starwars/http-sw-app.yaml, saved from Cilium's repository: the demo
creates it from its URL) runs as the demo shows: the deathstar Deployment and Service, the
tiefighter and xwing pods. Both ships land (`Ship landed`). Then the L3/L4 rule: the demo's
`sw_l3_l4_policy.yaml` is a CiliumNetworkPolicy (cilium.io/v2), not a Kubernetes
NetworkPolicy, so podwall does not serve it; the same rule (only `org: empire` pods may reach
the deathstar, on TCP 80) is applied as a standard NetworkPolicy. The tiefighter still lands;
the xwing's request hangs, as the demo says it will: here curl gets `--max-time 3` so that the
hang ends, as a timeout (exit code 28). The demo's L7 part (HTTP paths) has no NetworkPolicy
equivalent and is not run.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.labs.conftest import Lab

pytestmark = [pytest.mark.kubectl, pytest.mark.netns, pytest.mark.slow]

APP = Path(__file__).parent / "starwars" / "http-sw-app.yaml"
LANDING = "deathstar.default.svc.cluster.local/v1/request-landing"

# sw_l3_l4_policy.yaml's CiliumNetworkPolicy `rule1` (endpointSelector org=empire,
# class=deathstar; ingress fromEndpoints org=empire, toPorts 80/TCP), as a NetworkPolicy.
RULE1 = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: rule1
spec:
  podSelector:
    matchLabels:
      org: empire
      class: deathstar
  ingress:
  - from:
    - podSelector:
        matchLabels:
          org: empire
    ports:
    - port: 80
      protocol: TCP
"""


def land(lab: Lab, ship: str, *curl_flags: str) -> str:
    command = ["curl", "-s", *curl_flags, "-XPOST", LANDING]
    return lab.kubectl("exec", ship, "--", *command, check=False)


def test_starwars_demo_l3_l4(lab: Lab) -> None:
    (lab.work / "http-sw-app.yaml").write_text(APP.read_text())
    out = lab.kubectl("create", "-f", "http-sw-app.yaml")
    assert out.splitlines() == [
        "service/deathstar created",
        "deployment.apps/deathstar created",
        "pod/tiefighter created",
        "pod/xwing created",
    ]
    lab.kubectl("rollout", "status", "deployment/deathstar", "--timeout=120s")
    lab.wait_ready()
    out = lab.kubectl("get", "pods,svc")
    assert out.count("1/1     Running") == 4
    assert "service/deathstar" in out

    assert land(lab, "xwing") == "Ship landed\n"
    assert land(lab, "tiefighter") == "Ship landed\n"

    (lab.work / "sw_l3_l4_policy.yaml").write_text(RULE1)
    out = lab.kubectl("create", "-f", "sw_l3_l4_policy.yaml")
    assert out.strip() == "networkpolicy.networking.k8s.io/rule1 created"

    assert land(lab, "tiefighter") == "Ship landed\n"
    out = land(lab, "xwing", "--max-time", "3")
    assert "Ship landed" not in out
    assert "command terminated with exit code 28" in out
