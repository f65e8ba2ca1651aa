"""The Node a sandbox agent registers, and its Ready condition."""

from __future__ import annotations

import ipaddress
from datetime import UTC, datetime, timedelta

from podwall.agent.nodestatus import node_object, with_ready

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
SUBNET = ipaddress.IPv4Network("198.18.1.0/24")


def test_a_node_says_its_addresses_range_and_labels() -> None:
    node = node_object("node-2", SUBNET, ipaddress.IPv4Address("198.18.255.2"), False, NOW)
    assert node["metadata"]["labels"]["kubernetes.io/hostname"] == "node-2"
    assert node["spec"]["podCIDR"] == "198.18.1.0/24"
    assert node["status"]["addresses"] == [
        {"type": "InternalIP", "address": "198.18.255.2"},
        {"type": "Hostname", "address": "node-2"},
    ]
    (ready,) = node["status"]["conditions"]
    assert (ready["type"], ready["status"], ready["reason"]) == (
        "Ready",
        "False",
        "KubeletNotReady",
    )


def test_ready_keeps_its_transition_time_while_it_holds() -> None:
    node = with_ready(node_object("node-1", SUBNET, None, False, NOW), True, NOW)
    later = with_ready(node, True, NOW + timedelta(seconds=10))
    (condition,) = later["status"]["conditions"]
    assert condition["status"] == "True"
    assert condition["lastTransitionTime"] == "2026-01-02T03:04:05Z"
    assert condition["lastHeartbeatTime"] == "2026-01-02T03:04:15Z"
    (again,) = with_ready(later, False, NOW + timedelta(seconds=20))["status"]["conditions"]
    assert again["lastTransitionTime"] == "2026-01-02T03:04:25Z"
