"""podwall: Kubernetes NetworkPolicy, implemented for real."""

__version__ = "0.1.0"
