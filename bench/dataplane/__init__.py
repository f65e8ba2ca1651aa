"""Helpers of bench/bench_dataplane.py: clusters, sandboxes, load timing, traffic, the table."""
