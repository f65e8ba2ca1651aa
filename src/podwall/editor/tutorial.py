"""The guided tutorial, built from the lab (tasks 10.1.3 to 10.1.5): deny, then allow.

Each step says what to do on the page, and `policy` (when set) is the YAML the step arrives
at, so "show me" can load it. Pure: no I/O here.
"""

from __future__ import annotations

from podwall.editor.form import JSON

DENY = """\
---
kind: NetworkPolicy
apiVersion: networking.k8s.io/v1
metadata:
  name: backend-ingress-deny
spec:
  podSelector:
    matchLabels:
      app: backend
  policyTypes:
  - Ingress
"""

ALLOW = """\
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: "backend-allow-ingress-frontend"
spec:
  podSelector:
    matchLabels:
      app: backend
  policyTypes:
    - Ingress
  ingress:
    - from:
        - podSelector:
            matchLabels:
              app: frontend
"""

STEPS: list[JSON] = [
    {
        "title": "1. The app: frontend, not-frontend, backend",
        "text": (
            "Load the lab's manifests (the files podwall editor was started with, or import "
            "simple-app.yaml). Until a NetworkPolicy selects a pod, the pod is not isolated: "
            "both frontend and not-frontend reach backend:8080. Check it in Try a connection."
        ),
        "policy": None,
    },
    {
        "title": "2. Default deny for app=backend",
        "text": (
            "Name the policy backend-ingress-deny, add the label app=backend to the selected "
            "pods and switch Ingress to default deny. A policy of type Ingress without rules "
            "isolates the pods it selects and admits nothing: both clients are now denied. "
            "Add it to the cluster to keep it while you write the next one."
        ),
        "policy": DENY,
    },
    {
        "title": "3. Allow from app=frontend",
        "text": (
            "Start a new policy named backend-allow-ingress-frontend with app=backend as pod "
            "selector and ingress default deny. On the ingress side, add app=frontend under "
            "Pods in this namespace. The ingress flows turn green for app=frontend only."
        ),
        "policy": ALLOW,
    },
    {
        "title": "4. Why this works: policies are additive",
        "text": (
            "backend-ingress-deny is still there and still denies by default, yet frontend "
            "gets through. A pod selected by several policies is allowed whatever any one "
            "of them allows: the allowed connections are the union of their rules. Deny "
            "policies do not exist; a policy can only isolate a pod and then allow. Try "
            "frontend to backend:8080 (allowed, by backend-allow-ingress-frontend ingress[0]) "
            "and not-frontend to backend:8080 (denied: no rule of either policy admits it)."
        ),
        "policy": None,
    },
]


def steps() -> list[JSON]:
    return STEPS
