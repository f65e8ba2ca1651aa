"""Google Cloud's demo *How to use a Network Policy in Kubernetes Engine*
(github.com/GoogleCloudPlatform/gke-network-policy-demo, README.md and manifests/), its kubectl
steps verbatim with the real kubectl.

Two alpine clients call `hello-server.default.svc:8080` every two seconds; the reader tails
their logs in two more terminals, left open while the policies change: first by pod label
(`app=hello`), then by namespace label (`team=hello`, the namespace `hello-apps` the second
policy's file creates). The demo's Terraform, bastion and gcloud steps make the cluster and
have no podwall counterpart. The manifests are the repository's, without their license header.
"""

from __future__ import annotations

import pytest

from tests.e2e.labs.conftest import Lab, Terminal

pytestmark = [pytest.mark.kubectl, pytest.mark.netns, pytest.mark.slow]

HELLO = "Hello, world!\nVersion: 1.0.0\nHostname: hello-server-"
TIMED_OUT = "wget: download timed out"
CTRL_C = "\x03"

# The clients' loop (one line in their manifest, too long for this file's lines).
LOOP = "while true; do wget -qO- --timeout=2 http://hello-server.default.svc:8080; sleep 2; done"
HELLO_CLIENT = f"""\
# The deployments below both run a simple loop that attempts to access the hello-server
# endpoint:
#
# hello-client-allowed:
#   Runs a single pod labeled with app=hello, which matches the ingress rule for
#   the hello-server service defined in the network policy and will therefore still be
#   able to access the service when the network policy is enabled.
#
# hello-client-blocked:
#   Runs a single pod lacking the app=hello label, which does not match the ingress rule
#   for the hello-server service defined in the network policy. Once the network policy
#   is enabled, the pod will lose access to the service.

# hello-client-allowed deployment
apiVersion: apps/v1
kind: Deployment
metadata:
  name: hello-client-allowed
spec:
  # Only run a single pod
  replicas: 1

  # Control any pod labeled with app=hello
  selector:
    matchLabels:
      app: hello

  # Define pod properties
  template:

    # Ensure created pods are labeled with app=hello to match the deployment selector
    metadata:
      labels:
        app: hello
    spec:
      # This pod does not require access to the Kubernetes API server, so we prevent
      # even the default token from being mounted
      automountServiceAccountToken: false

      # Pod-level security context to define the default UID and GIDs under which to
      # run all container processes. We use 9999 for all IDs since it is unprivileged
      # and known to be unallocated on the node instances.
      securityContext:
        runAsUser: 9999
        runAsGroup: 9999
        fsGroup: 9999

      # Define container properties
      containers:
      - image: alpine:3.7
        name: hello-client-allowed

        # A simple while loop that attempts to access the hello-server service every
        # two seconds.
        command: ["sh", "-c"]
        args: ["{LOOP}"]

        # Container-level security settings
        # Note, containers are unprivileged by default
        securityContext:
          # Prevents the container from writing to its filesystem
          readOnlyRootFilesystem: true

---
# hello-client-blocked deployment
apiVersion: apps/v1
kind: Deployment
metadata:
  name: hello-client-blocked
spec:

  # Only run a single pod
  replicas: 1

  # Control any pod labeled with app=hello
  selector:
    matchLabels:
      app: not-hello

  # Define pod properties
  template:

    # Ensure created pods are labeled with app=hello to match the deployment selector
    metadata:
      labels:
        app: not-hello
    spec:
      # This pod does not require access to the Kubernetes API server, so we prevent
      # even the default token from being mounted
      automountServiceAccountToken: false

      # Pod-level security context to define the default UID and GIDs under which to
      # run all container processes. We use 9999 for all IDs since it is unprivileged
      # and known to be unallocated on the node instances.
      securityContext:
        runAsUser: 9999
        runAsGroup: 9999
        fsGroup: 9999

      # Define container properties
      containers:
      - image: alpine:3.7
        name: hello-client-blocked

        # A simple while loop that attempts to access the hello-server service every
        # two seconds.
        command: ["sh", "-c"]
        args: ["{LOOP}"]

        # Container-level security settings
        # Note, containers are unprivileged by default
        securityContext:
          # Prevents the container from writing to its filesystem
          readOnlyRootFilesystem: true
"""
HELLO_SERVER = """\
# The manifest exposes a simple hello-server service and deployment with a single pod
# The pod is labeled with app=hello server, which will be matched and filtered by
# our network policy.

# Makes the hello-server pod addressable within the cluster
kind: Service
apiVersion: v1
metadata:
  # Label and name the service
  labels:
    app: hello-server
  name: hello-server
spec:
  ports:
    # Listens on port 8080 and routes to targetPort 8080 on backend pods
  - port: 8080
    protocol: TCP
    targetPort: 8080

  # Load balance requests across all pods labeled with app=hello-server
  selector:
    app: hello-server

  # Disable session affinity, each request may be routed to a new pod
  sessionAffinity: None

  # Expose the service internally only
  type: ClusterIP

---

# Deploys a pod to service hello-server requests
apiVersion: apps/v1
kind: Deployment
metadata:
  # Label and name the deployment
  labels:
    app: hello-server
  name: hello-server
spec:

  # Only run a single pod
  replicas: 1

  # Control any pod labeled with app=hello
  selector:
    matchLabels:
      app: hello-server

  # Define pod properties
  template:
    # Ensure created pods are labeld with hello-server to match the deployment selector
    metadata:
      labels:
        app: hello-server
    spec:
      # This pod does not require access to the Kubernetes API server, so we prevent
      # even the default token from being mounted
      automountServiceAccountToken: false

      # Pod-level security context to define the default UID and GIDs under which to
      # run all container processes. We use 9999 for all IDs since it is unprivileged
      # and known to be unallocated on the node instances.
      securityContext:
        runAsUser: 9999
        runAsGroup: 9999
        fsGroup: 9999

      # Define container properties
      containers:
      - image: gcr.io/google-samples/hello-app:1.0
        name: hello-server

        # Describes the ports exposed on the service
        ports:
        - containerPort: 8080
          protocol: TCP

        # Container-level security settings
        # Note, containers are unprivileged by default
        securityContext:
          # Prevents the container from writing to its filesystem
          readOnlyRootFilesystem: true
"""
NETWORK_POLICY = """\
# This network policy places restrictions on which pods can communicate to the
# hello-server service. Network policies can be thought of as in-cluster firewall
# rules, where the source and destination are specified as selectors. In this case
# we use labels as the selection criteria.
# See https://kubernetes.io/docs/concepts/services-networking/network-policies/
kind: NetworkPolicy
apiVersion: networking.k8s.io/v1
metadata:
  # Name the network policy
  name: hello-server-allow-from-hello-client
spec:

  # Define this as an ingress rule which allows us to restrict access to a set of pods.
  policyTypes:
  - Ingress

  # Defines the set of pods to which this policy applies
  # In this case, we apply the policy to pods labeled as app=hello-server
  podSelector:
    matchLabels:
      app: hello-server

  # Define the sources allowed by this policy
  # In this case, we allow ingress from all pods labeled as app=hello
  ingress:
  - from:
    - podSelector:
        matchLabels:
          app: hello
"""
NETWORK_POLICY_NAMESPACED = """\
# Defines a new namespace used to demonstrate whitelisting an entire namespace
# See https://kubernetes.io/docs/concepts/overview/working-with-objects/namespaces/
kind: Namespace
apiVersion: v1
metadata:
  name: hello-apps
  labels:
    team: "hello"

---

# This network policy places restrictions on which pods can communicate to the
# hello-server service. Network policies can be thought of as in-cluster firewall
# rules, where the source and destination are specified as selectors. In this case
# we use labels as the selection criteria for namespaces.
# See https://kubernetes.io/docs/concepts/services-networking/network-policies/
kind: NetworkPolicy
apiVersion: networking.k8s.io/v1
metadata:
  # Name the network policy
  name: hello-server-allow-from-hello-client
spec:

  # Define this as an ingress rule which allows us to restrict access to a set of pods.
  policyTypes:
  - Ingress

  # Defines the set of pods to which this policy applies
  # In this case, we apply the policy to pods labeled as app=hello-server
  podSelector:
    matchLabels:
      app: hello-server

  # Define the sources allowed by this policy
  # In this case, we allow ingress from all pods the namespace labeled as team=hello
  # Note: as of Kubernetes 1.10. It is not possible to restrict connections
  # by both namespace and pod labels simultaneously. However support is
  # expected to be added in the future.
  ingress:
  - from:
    - namespaceSelector:
        matchLabels:
          team: hello
"""


def write_manifests(lab: Lab) -> None:
    manifests = lab.work / "manifests"
    (manifests / "hello-app").mkdir(parents=True)
    (manifests / "hello-app" / "hello-client.yaml").write_text(HELLO_CLIENT)
    (manifests / "hello-app" / "hello-server.yaml").write_text(HELLO_SERVER)
    (manifests / "network-policy.yaml").write_text(NETWORK_POLICY)
    (manifests / "network-policy-namespaced.yaml").write_text(NETWORK_POLICY_NAMESPACED)


def new_output(terminal: Terminal, shown: str) -> str:
    """Wait until a tailing terminal prints `shown` after what it has shown so far."""
    terminal.mark()
    return terminal.wait_for(shown)


def tail_once(lab: Lab, command: str, shown: str) -> str:
    """`kubectl logs -f` in a terminal until it shows `shown`, then Ctrl-C; what it showed."""
    with lab.shell(command, exit_typed=False) as terminal:
        terminal.wait_for(shown)
        terminal.type(CTRL_C)
    return terminal.seen


def test_gke_network_policy_demo(lab: Lab) -> None:
    write_manifests(lab)
    out = lab.kubectl("apply", "-f", "./manifests/hello-app/")
    assert out.splitlines() == [
        "deployment.apps/hello-client-allowed created",
        "deployment.apps/hello-client-blocked created",
        "service/hello-server created",
        "deployment.apps/hello-server created",
    ]
    lab.wait_ready()
    rows = lab.kubectl("get", "pods").splitlines()[1:]
    assert [row.split()[1:3] for row in rows] == [["1/1", "Running"]] * 3, rows
    assert [row.rsplit("-", 2)[0] for row in rows] == [
        "hello-client-allowed",
        "hello-client-blocked",
        "hello-server",
    ], rows

    allowed_logs = "kubectl logs --tail 10 -f $(kubectl get pods -oname -l app=hello)"
    blocked_logs = "kubectl logs --tail 10 -f $(kubectl get pods -oname -l app=not-hello)"
    with (
        lab.shell(allowed_logs, exit_typed=False) as allowed,
        lab.shell(blocked_logs, exit_typed=False) as blocked,
    ):
        # Both clients reach the server: no policy yet.
        allowed.wait_for(HELLO)
        blocked.wait_for(HELLO)

        out = lab.kubectl("apply", "-f", "./manifests/network-policy.yaml")
        assert out.strip() == (
            "networkpolicy.networking.k8s.io/hello-server-allow-from-hello-client created"
        )
        new_output(blocked, f"{TIMED_OUT}\n{TIMED_OUT}\n")
        new_output(allowed, HELLO)  # the app=hello client still gets through
        assert TIMED_OUT not in allowed.seen, allowed.seen

        out = lab.kubectl("delete", "-f", "./manifests/network-policy.yaml")
        assert out.strip() == (
            'networkpolicy.networking.k8s.io "hello-server-allow-from-hello-client" deleted'
        )
        out = lab.kubectl("create", "-f", "./manifests/network-policy-namespaced.yaml")
        assert out.splitlines() == [
            "namespace/hello-apps created",
            "networkpolicy.networking.k8s.io/hello-server-allow-from-hello-client created",
        ]
        # "You will notice it is no longer able to connect to the hello-server."
        new_output(allowed, f"{TIMED_OUT}\n{TIMED_OUT}\n")
        new_output(blocked, TIMED_OUT)
        for terminal in (allowed, blocked):
            terminal.type(CTRL_C)

    out = lab.kubectl("-n", "hello-apps", "apply", "-f", "./manifests/hello-app/hello-client.yaml")
    assert out.splitlines() == [
        "deployment.apps/hello-client-allowed created",
        "deployment.apps/hello-client-blocked created",
    ]
    lab.wait_ready("hello-apps")
    # "both clients are able to connect successfully": the whole namespace is let in.
    command = (
        "kubectl logs --tail 10 -f -n hello-apps "
        "$(kubectl get pods -oname -l app=hello -n hello-apps)"
    )
    out = tail_once(lab, command, HELLO)
    assert TIMED_OUT not in out, out
    out = tail_once(lab, command.replace("app=hello", "app=not-hello"), HELLO)
    assert TIMED_OUT not in out, out
