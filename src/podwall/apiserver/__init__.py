"""A one-process Kubernetes-compatible API server (see docs/kubectl-api.md).

Modules, one job each: `tls` and `kubeconfig` (credentials), `resources` (the served kinds),
`discovery`, `openapi` and `openapiv2` (what kubectl reads before it acts; `openapiv2proto`
encodes v2 in gnostic's protobuf), `store` (SQLite objects, resource
versions and watch history), `bootstrap` (the namespaces and `kubernetes` Service a cluster starts
with), `selectors`, `errors` (metav1.Status bodies), `admission` (decoding, defaults and
validation), `protobuf` (the protobuf bodies `kubectl create namespace` sends), `tables`
(server-side printing), `handlers` and `app` (HTTP), `exec` and `logs` (pods/exec over
WebSocket, pods/log), `server` (uvicorn over HTTPS on loopback). `patch/` applies PATCH bodies;
`controllers/` reconcile workloads as pure functions, which `mutating` applies at admission
(with `scheduler` placing pods on Nodes) and `reconciler` runs as client-go controllers
(`informers`, `workqueue`, `loops`, `collector` the garbage collector, `writes`, `recorder` for
Events); `deletion` is DELETE's half of garbage collection; `podruntime` is what exec and logs
ask of the node side, and `sandboxpods` answers it for the local cluster's pods. The pods
themselves run in the node agents (`podwall.agent.kubelet`); `podwall.cluster` is `podwall up`:
all of it, started in order.
"""
