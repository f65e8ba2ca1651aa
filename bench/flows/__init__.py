"""Helpers of bench_flows: a bounded SYN flood sent from inside a sandbox pod."""
