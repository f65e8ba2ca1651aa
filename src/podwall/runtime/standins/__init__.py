"""Stand-ins for container images podwall does not pull: small stdlib servers run as pod processes.

Each stand-in is started as root inside the pod's namespaces (the venv's interpreter lives under
/root, which the pod's user cannot reach) and drops to the pod's uid and gid with no capabilities
as its first act after importing what it needs; see `privileges`.
"""
