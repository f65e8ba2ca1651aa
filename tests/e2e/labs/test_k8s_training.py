"""StenlyTU/K8s-training-official, *Networking*, tasks 42-45, verbatim with the real kubectl:
`kubectl run nginx-1 --port=80 --expose`, a temporary BusyBox pod's `wget -O-` to the
ClusterIP, then to a node's IP and the NodePort after `kubectl edit` made the Service a
NodePort, and the `access-nginx` policy (ingress to `app: nginx-last` from `access: granted`
pods only) probed by `kubectl run busybox --rm -it -- wget -O- http://nginx-last:80
--timeout 2`, without and with `--labels=access=granted`.

Source: https://github.com/StenlyTU/K8s-training-official/blob/master/README.md#networking
(commit 08c9b0647b96f4873e196ec1adfeee345f0388c1). Task 1 makes the `practice` namespace
every task runs in. Task 45 says "Create the deployment and expose it" without the commands:
the test uses the ones of task 10 and 42 (`kubectl create deployment ... --replicas=2`,
`kubectl expose`). Its probes have no `--restart=Never`: the pod restarts its container
(restartPolicy Always), so kubectl shows the first run's output and deletes the pod. Task 44's
`kubectl edit` is done by an editor that changes `type: ClusterIP` to `type: NodePort`, as
the reader does by hand.
"""

from __future__ import annotations

import pytest

from tests.e2e.labs.conftest import Lab

pytestmark = [pytest.mark.kubectl, pytest.mark.netns, pytest.mark.slow]

WELCOME = "<title>Welcome to nginx!</title>"
TEMP_BUSYBOX = "kubectl -n practice run busybox-1 --rm --image=busybox -it -- sh"
ACCESS_NGINX = """\
kind: NetworkPolicy
apiVersion: networking.k8s.io/v1
metadata:
  name: access-nginx
spec:
  podSelector:
    matchLabels:
      app: nginx-last # selector for the pods
  ingress:            # allow ingress traffic
  - from:
    - podSelector:    # from pods
        matchLabels:  # with this label
          access: granted
"""
FAILS = (
    "kubectl -n practice run busybox --image=busybox --rm -it"
    " -- wget -O- http://nginx-last:80 --timeout 2 # This should fail"
)
WORKS = (
    "kubectl -n practice run busybox --image=busybox --rm -it --labels=access=granted"
    " -- wget -O- http://nginx-last:80 --timeout 2 # This should work"
)


def test_networking(lab: Lab) -> None:
    assert lab.sh("kubectl create ns practice") == "namespace/practice created\n"

    # 42. "Create a pod with image nginx called nginx-1 and expose its port 80."
    out = lab.sh("kubectl -n practice run nginx-1 --image=nginx --port=80 --expose")
    assert out.splitlines() == ["service/nginx-1 created", "pod/nginx-1 created"], out
    lab.wait_ready("practice")

    # 43. "Get service's ClusterIP, create a temp busybox-1 pod and 'hit' that IP with wget."
    out = lab.sh("kubectl -n practice get svc nginx-1")
    header, row = out.splitlines()
    assert header.split() == ["NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE"]
    assert row.split()[:5] == ["nginx-1", "ClusterIP", row.split()[2], "<none>", "80/TCP"]
    cluster_ip = row.split()[2]
    out = lab.session(TEMP_BUSYBOX, [f"wget -O- {cluster_ip}:80"], tty=True)
    assert_page(out, f"Connecting to {cluster_ip}:80 ({cluster_ip}:80)", "busybox-1")

    # 44. "Convert the ClusterIP to NodePort for the same service and find the NodePort."
    lab.env["KUBE_EDITOR"] = "sed -i s/type:.ClusterIP/type:\\ NodePort/"
    out = lab.sh("kubectl -n practice edit svc nginx-1 # ClusterIP -> NodePort")
    assert out == "service/nginx-1 edited\n", out
    out = lab.sh("kubectl -n practice describe svc nginx-1 # find NodePort")
    assert "\nType:                     NodePort\n" in out, out
    node_port = next(
        line.split()[2] for line in out.splitlines() if line.startswith("NodePort:")
    ).removesuffix("/TCP")
    node_ip = lab.kubectl("get", "nodes", "-o", "jsonpath={.items[0].status.addresses[0].address}")
    address = f"{node_ip}:{node_port}"
    out = lab.session(TEMP_BUSYBOX, [f"wget -O- {address}"], tty=True)
    assert_page(out, f"Connecting to {address} ({address})", "busybox-1")

    # 45. nginx-last, its Service, and the policy.
    out = lab.sh(
        "kubectl -n practice create deployment nginx-last --image=nginx --replicas=2\n"
        "kubectl -n practice expose deployment nginx-last --port=80\n"
    )
    assert out.splitlines() == [
        "deployment.apps/nginx-last created",
        "service/nginx-last exposed",
    ], out
    lab.kubectl("-n", "practice", "rollout", "status", "deployment/nginx-last", "--timeout=60s")
    (lab.work / "access-nginx.yaml").write_text(ACCESS_NGINX)
    out = lab.sh("kubectl -n practice apply -f access-nginx.yaml")
    assert out == "networkpolicy.networking.k8s.io/access-nginx created\n", out

    ip = lab.kubectl("-n", "practice", "get", "svc", "nginx-last", "-o",
                     "jsonpath={.spec.clusterIP}")  # fmt: skip
    connecting = f"Connecting to nginx-last:80 ({ip}:80)"
    out = lab.typed_nothing(FAILS)
    assert WELCOME not in out, out
    assert out.splitlines()[-4:] == [
        connecting,
        "wget: download timed out",
        session_ended("busybox"),
        'pod "busybox" deleted',
    ], out
    assert_page(lab.typed_nothing(WORKS), connecting, "busybox")


def session_ended(pod: str) -> str:
    """kubectl's words when a pod that restarts its containers (restartPolicy Always) ends
    the session."""
    return (
        f"Session ended, resume using 'kubectl attach {pod} -c {pod} -i -t' command"
        " when the pod is running"
    )


def assert_page(out: str, connecting: str, pod: str) -> None:
    """busybox's `wget -O-` got the welcome page, and kubectl deleted the temporary pod."""
    lines = out.splitlines()
    assert connecting in lines, out
    assert WELCOME in out, out
    assert lines[-1] == f'pod "{pod}" deleted', out
    assert "written to stdout" in lines, out
