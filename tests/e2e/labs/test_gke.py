"""GKE's tutorial *Configure network policies for applications* (cloud.google.com/kubernetes-
engine/docs/tutorials/network-policy), verbatim, with the real kubectl.

The tutorial's server is Google's `hello-app` sample, which podwall runs as a stand-in saying
the sample's three lines. Its last try-out, `wget ... http://www.example.com`, needs the
Internet, which podwall's sandbox has not: the page expects it to fail and it does, but as a
name the cluster's DNS refuses (`bad address`) where the page's cluster resolves it and times
out; that line is left out.
"""

from __future__ import annotations

import pytest

from tests.e2e.labs.conftest import Lab

pytestmark = [pytest.mark.kubectl, pytest.mark.netns, pytest.mark.slow]

HELLO_APP = "us-docker.pkg.dev/google-samples/containers/gke/hello-app:1.0"
HELLO = "Hello, world!\nVersion: 1.0.0\nHostname: hello-web\n"
TIMED_OUT = "wget: download timed out"

HELLO_ALLOW_FROM_FOO = """\
kind: NetworkPolicy
apiVersion: networking.k8s.io/v1
metadata:
  name: hello-allow-from-foo
spec:
  policyTypes:
  - Ingress
  podSelector:
    matchLabels:
      app: hello
  ingress:
  - from:
    - podSelector:
        matchLabels:
          app: foo
"""
FOO_ALLOW_TO_HELLO = """\
kind: NetworkPolicy
apiVersion: networking.k8s.io/v1
metadata:
  name: foo-allow-to-hello
spec:
  policyTypes:
  - Egress
  podSelector:
    matchLabels:
      app: foo
  egress:
  - to:
    - podSelector:
        matchLabels:
          app: hello
  - to:
    ports:
    - protocol: UDP
      port: 53
"""


def apply(lab: Lab, name: str, manifest: str) -> str:
    (lab.work / name).write_text(manifest)
    return lab.kubectl("apply", "-f", name).strip()


def test_gke_network_policy_tutorial(lab: Lab) -> None:
    out = lab.kubectl("run", "hello-web", "--labels", "app=hello", f"--image={HELLO_APP}",
                      "--port", "8080", "--expose")  # fmt: skip
    assert out.splitlines() == ["service/hello-web created", "pod/hello-web created"]
    out = apply(lab, "hello-allow-from-foo.yaml", HELLO_ALLOW_FROM_FOO)
    assert out == "networkpolicy.networking.k8s.io/hello-allow-from-foo created"
    lab.wait_ready()

    wget_hello = "wget -qO- --timeout=2 http://hello-web:8080"
    foo = "kubectl run -l app=foo --image=alpine --restart=Never --rm -i -t test-1"
    out = lab.session(foo, [wget_hello], tty=True)
    assert HELLO in out, out
    assert TIMED_OUT not in out, out
    lab.kubectl("wait", "--for=delete", "pod/test-1", "--timeout=120s")
    other = "kubectl run -l app=other --image=alpine --restart=Never --rm -i -t test-1"
    out = lab.session(other, [wget_hello], tty=True)
    assert TIMED_OUT in out, out
    assert "Hello, world!" not in out, out

    out = apply(lab, "foo-allow-to-hello.yaml", FOO_ALLOW_TO_HELLO)
    assert out == "networkpolicy.networking.k8s.io/foo-allow-to-hello created"
    out = lab.kubectl("run", "hello-web-2", "--labels", "app=hello-2", f"--image={HELLO_APP}",
                      "--port", "8080", "--expose")  # fmt: skip
    assert out.splitlines() == ["service/hello-web-2 created", "pod/hello-web-2 created"]
    lab.wait_ready()
    test_3 = "kubectl run -l app=foo --image=alpine --rm -i -t --restart=Never test-3"
    out = lab.session(test_3, [wget_hello, "wget -qO- --timeout=2 http://hello-web-2:8080"],
                      tty=True)  # fmt: skip
    assert HELLO in out, out
    assert out.count(TIMED_OUT) == 1, out
    assert out.index(HELLO) < out.index(TIMED_OUT), out
