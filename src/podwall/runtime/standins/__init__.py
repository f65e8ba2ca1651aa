"""Stand-ins for container images podwall does not pull: small stdlib servers run as pod processes.

Each stand-in is started as root inside the pod's namespaces (the venv's interpreter lives under
/root, which uid 65534 cannot reach) and drops to uid/gid 65534 with no capabilities as its first
act after importing what it needs; see `privileges`.
"""
