"""The Lease an agent keeps: renewed with what it enforces, read back by `podwall status`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from podwall.agent.lease import (
    DURATION_SECONDS,
    AgentStatus,
    Enforcement,
    lease_body,
    micro_time,
    newest_resource_version,
)

NOW = datetime(2026, 12, 1, 12, 0, 0, 123456, tzinfo=UTC)
ENFORCING = Enforcement(
    ready=True,
    synced_resource_version="1234",
    synced_at=NOW - timedelta(seconds=2),
    lag_seconds=0.5,
    policies=12,
    pods=34,
    cluster_pods=5600,
)


def test_a_new_lease_is_acquired_now_by_its_holder() -> None:
    body = lease_body("node-1", "podwall-agent-x", ENFORCING, NOW, None)
    assert body["metadata"]["name"] == "node-1"
    assert body["spec"] == {
        "acquireTime": "2026-12-01T12:00:00.123456Z",
        "leaseTransitions": 0,
        "holderIdentity": "podwall-agent-x",
        "leaseDurationSeconds": DURATION_SECONDS,
        "renewTime": "2026-12-01T12:00:00.123456Z",
    }
    assert body["metadata"]["annotations"]["podwall.io/policies"] == "12"


def test_a_renewal_keeps_the_acquire_time_and_the_stored_version() -> None:
    first = lease_body("node-1", "a", ENFORCING, NOW, None)
    stored = {**first, "metadata": {**first["metadata"], "resourceVersion": "77"}}
    later = NOW + timedelta(seconds=10)
    renewed = lease_body("node-1", "a", ENFORCING, later, stored)
    assert renewed["spec"]["acquireTime"] == first["spec"]["acquireTime"]
    assert renewed["spec"]["renewTime"] == micro_time(later)
    assert renewed["spec"]["leaseTransitions"] == 0
    assert renewed["metadata"]["resourceVersion"] == "77"


def test_a_new_agent_process_takes_the_lease_over() -> None:
    stored = lease_body("node-1", "old-pod", ENFORCING, NOW, None)
    taken = lease_body("node-1", "new-pod", ENFORCING, NOW + timedelta(minutes=1), stored)
    assert taken["spec"]["leaseTransitions"] == 1
    assert taken["spec"]["acquireTime"] == micro_time(NOW + timedelta(minutes=1))


def test_status_reads_back_what_the_agent_wrote() -> None:
    status = AgentStatus.parse(lease_body("node-1", "a", ENFORCING, NOW, None))
    assert status.node == "node-1"
    assert status.holder == "a"
    assert status.enforcement == ENFORCING


def test_an_agent_is_alive_until_its_lease_duration_has_passed() -> None:
    status = AgentStatus.parse(lease_body("node-1", "a", ENFORCING, NOW, None))
    assert status.alive(NOW + timedelta(seconds=DURATION_SECONDS - 1))
    assert not status.alive(NOW + timedelta(seconds=DURATION_SECONDS))


def test_a_lease_without_renew_time_or_annotations_is_not_alive() -> None:
    status = AgentStatus.parse({"metadata": {"name": "node-9"}, "spec": {}})
    assert not status.alive(NOW)
    assert status.enforcement == Enforcement()


@given(
    versions=st.dictionaries(
        st.sampled_from(["pods", "namespaces", "networkpolicies"]),
        st.integers(min_value=0, max_value=10**12).map(str),
    )
)
def test_the_synced_version_is_the_newest_of_the_kinds(versions: dict[str, str]) -> None:
    newest = newest_resource_version(versions)
    assert newest == (str(max(int(v) for v in versions.values())) if versions else "")
