"""A one-process Kubernetes-compatible API server (see ../shared/design/kubectl-api.md).

Modules, one job each: `tls` and `kubeconfig` (credentials), `resources` (the served kinds),
`discovery` and `openapi` (what kubectl reads before it acts), `store` (SQLite objects, resource
versions and watch history), `selectors`, `errors` (metav1.Status bodies), `admission`
(defaults and validation), `tables` (server-side printing), `handlers` and `app` (HTTP),
`server` (uvicorn over HTTPS on loopback).
"""
