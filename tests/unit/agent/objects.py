"""Kubernetes JSON as an API server sends it to the agent, for the agent's tests."""

from __future__ import annotations

from typing import Any

Object = dict[str, Any]


def namespace(name: str, rv: str = "1", **labels: str) -> Object:
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": name, "resourceVersion": rv, "labels": labels},
    }


def pod(
    name: str,
    ip: str | None = None,
    *,
    namespace: str = "default",
    node: str = "node-1",
    rv: str = "1",
    phase: str = "Running",
    host_network: bool = False,
    **labels: str,
) -> Object:
    status: Object = {"phase": phase, "conditions": [{"type": "Ready", "status": "True"}]}
    if ip is not None:
        status |= {"podIP": ip, "podIPs": [{"ip": ip}]}
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "resourceVersion": rv,
            "labels": labels,
            "managedFields": [{"manager": "kubectl", "fieldsV1": {"f:spec": {}}}],
        },
        "spec": {
            "nodeName": node,
            "hostNetwork": host_network,
            "containers": [{"name": "c", "image": "nginx", "ports": [{"containerPort": 80}]}],
        },
        "status": status,
    }


def policy(name: str, spec: Object, *, namespace: str = "default", rv: str = "1") -> Object:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": name, "namespace": namespace, "resourceVersion": rv},
        "spec": spec,
    }


DENY_ALL: Object = {"podSelector": {}, "policyTypes": ["Ingress"]}


def node(name: str, rv: str = "1", *addresses: str) -> Object:
    body: Object = {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": name, "resourceVersion": rv},
    }
    if addresses:
        body["status"] = {"addresses": [{"type": "InternalIP", "address": a} for a in addresses]}
    return body


def cluster_policy(name: str, spec: Object | None = None, *, rv: str = "1") -> Object:
    """A ClusterNetworkPolicy; by default an Admin one denying ingress from everywhere to
    namespaces labelled team=a."""
    default: Object = {
        "tier": "Admin",
        "priority": 10,
        "subject": {"namespaces": {"matchLabels": {"team": "a"}}},
        "ingress": [{"name": "deny", "action": "Deny", "from": [{"namespaces": {}}]}],
    }
    return {
        "apiVersion": "policy.networking.k8s.io/v1alpha2",
        "kind": "ClusterNetworkPolicy",
        "metadata": {"name": name, "resourceVersion": rv},
        "spec": default if spec is None else spec,
    }


def admin_network_policy(name: str, spec: Object | None = None, *, rv: str = "1") -> Object:
    """An AdminNetworkPolicy (v1alpha1); by default denying ingress from everywhere to
    namespaces labelled team=a, at priority 10."""
    default: Object = {
        "priority": 10,
        "subject": {"namespaces": {"matchLabels": {"team": "a"}}},
        "ingress": [{"name": "deny", "action": "Deny", "from": [{"namespaces": {}}]}],
    }
    return {
        "apiVersion": "policy.networking.k8s.io/v1alpha1",
        "kind": "AdminNetworkPolicy",
        "metadata": {"name": name, "resourceVersion": rv},
        "spec": default if spec is None else spec,
    }


def baseline_admin_network_policy(spec: Object | None = None, *, rv: str = "1") -> Object:
    """The BaselineAdminNetworkPolicy; by default allowing ingress from everywhere to every
    namespace."""
    default: Object = {
        "subject": {"namespaces": {}},
        "ingress": [{"name": "allow", "action": "Allow", "from": [{"namespaces": {}}]}],
    }
    return {
        "apiVersion": "policy.networking.k8s.io/v1alpha1",
        "kind": "BaselineAdminNetworkPolicy",
        "metadata": {"name": "default", "resourceVersion": rv},
        "spec": default if spec is None else spec,
    }
