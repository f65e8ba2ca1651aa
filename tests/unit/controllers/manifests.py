"""The seed tutorial's objects (network-policies-lab.txt, simple-app.yaml) as JSON dicts."""

from __future__ import annotations

from typing import Any

CURL = "docker.io/byrnedo/alpine-curl:0.1.8"
JSON_MOCK = "docker.io/cilium/json-mock:1.2"


def client_deployment(name: str) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": "default", "labels": {"app": name}},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {
                    "containers": [
                        {
                            "name": f"{name}-container",
                            "image": CURL,
                            "imagePullPolicy": "IfNotPresent",
                            "command": ["/bin/ash", "-c", "sleep 1000000000"],
                        }
                    ]
                },
            },
        },
    }


def backend_deployment() -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "backend", "namespace": "default", "labels": {"app": "backend"}},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": "backend"}},
            "template": {
                "metadata": {"labels": {"app": "backend"}},
                "spec": {
                    "containers": [
                        {
                            "name": "backend-container",
                            "env": [{"name": "PORT", "value": "8080"}],
                            "ports": [{"containerPort": 8080}],
                            "image": JSON_MOCK,
                            "imagePullPolicy": "IfNotPresent",
                        }
                    ]
                },
            },
        },
    }


def backend_service() -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "backend", "namespace": "default", "labels": {"app": "backend"}},
        "spec": {
            "type": "ClusterIP",
            "selector": {"app": "backend"},
            "ports": [{"name": "http", "port": 8080}],
        },
    }


def simple_app() -> list[dict[str, Any]]:
    return [client_deployment("frontend"), client_deployment("not-frontend"), backend_deployment()]
