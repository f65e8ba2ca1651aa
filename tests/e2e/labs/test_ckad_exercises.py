"""dgkanatsios/CKAD-exercises, *Services and Networking*, its NetworkPolicy exercise, verbatim
with the real kubectl: an nginx Deployment of 2 behind a ClusterIP Service, the solution's
`access-nginx` policy (ingress from `access: granted` pods only) and its two one-shot BusyBox
probes, `kubectl run busybox --image=busybox --rm -it --restart=Never -- wget -O- http://nginx:80
--timeout 2`, without and with the label.

Source: https://github.com/dgkanatsios/CKAD-exercises/blob/main/f.services.md (commit
54e5f2dda65eec7522803cf5a386fe4123a8e6e9), "Create an nginx deployment of 2 replicas, expose it
via a ClusterIP service on port 80. Create a NetworkPolicy so that only pods with labels 'access:
granted' can access the pods in this deployment and apply it". The solution's `vi policy.yaml`
is the file written here with the page's YAML (its comments kept).
"""

from __future__ import annotations

import pytest

from tests.e2e.labs.conftest import Lab

pytestmark = [pytest.mark.kubectl, pytest.mark.netns, pytest.mark.slow]

WELCOME = "<title>Welcome to nginx!</title>"
POLICY = """\
kind: NetworkPolicy
apiVersion: networking.k8s.io/v1
metadata:
  name: access-nginx # pick a name
spec:
  podSelector:
    matchLabels:
      app: nginx # selector for the pods
  ingress: # allow ingress traffic
  - from:
    - podSelector: # from pods
        matchLabels: # with this label
          access: granted
"""
# The solution's two probes (their comments left out).
NOT_GRANTED = (
    "kubectl run busybox --image=busybox --rm -it --restart=Never"
    " -- wget -O- http://nginx:80 --timeout 2"
)
GRANTED = (
    "kubectl run busybox --image=busybox --rm -it --restart=Never --labels=access=granted"
    " -- wget -O- http://nginx:80 --timeout 2"
)


def test_networkpolicy_access_granted_only(lab: Lab) -> None:
    out = lab.kubectl("create", "deployment", "nginx", "--image=nginx", "--replicas=2")
    assert out.strip() == "deployment.apps/nginx created"
    assert (
        lab.kubectl("expose", "deployment", "nginx", "--port=80").strip() == "service/nginx exposed"
    )
    out = lab.kubectl("describe", "svc", "nginx")
    assert "\nSelector:                 app=nginx\n" in out, out
    out = lab.kubectl("get", "svc", "nginx", "-o", "yaml")
    assert "    app: nginx" in out, out
    lab.kubectl("rollout", "status", "deployment/nginx", "--timeout=120s")
    # Before the policy (not on the page): both probes get the page.
    assert_page(lab.typed_nothing(NOT_GRANTED))

    (lab.work / "policy.yaml").write_text(POLICY)
    out = lab.kubectl("create", "-f", "policy.yaml")
    assert out.strip() == "networkpolicy.networking.k8s.io/access-nginx created"

    # "This should not work."
    out = lab.typed_nothing(NOT_GRANTED)
    assert WELCOME not in out, out
    assert out.splitlines()[-4:] == [
        "Connecting to nginx:80 (" + service_ip(lab) + ":80)",
        "wget: download timed out",
        'pod "busybox" deleted',
        "pod default/busybox terminated (Error)",
    ], out
    # "This should be fine"
    assert_page(lab.typed_nothing(GRANTED))


def service_ip(lab: Lab) -> str:
    return lab.kubectl("get", "svc", "nginx", "-o", "jsonpath={.spec.clusterIP}")


def assert_page(out: str) -> None:
    """busybox's `wget -O-`: the page on stdout, then the pod deleted (exit status 0)."""
    assert WELCOME in out, out
    assert "wget: download timed out" not in out, out
    assert out.splitlines()[-2:] == ["written to stdout", 'pod "busybox" deleted'], out
