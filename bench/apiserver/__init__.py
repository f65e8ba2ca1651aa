"""Helpers of bench/bench_apiserver.py: the server process, an HTTPS client, the objects."""
