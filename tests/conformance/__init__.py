"""Conformance scenarios translated from the upstream Kubernetes e2e NetworkPolicy tests."""
