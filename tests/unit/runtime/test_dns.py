"""Cluster DNS answers: A, SRV, CNAME and pod names in cluster.local; NXDOMAIN; REFUSED outside."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from dnslib import QTYPE, RCODE, DNSRecord  # type: ignore[import-untyped]

from podwall.runtime.dns import Records, RecordsFile, answer, load_records, parse_records
from podwall.runtime.process import resolv_conf

DATA: dict[str, Any] = {
    "namespaces": ["default", "kube-system"],
    "services": [
        {
            "namespace": "default",
            "name": "backend",
            "clusterIP": "198.19.0.20",
            "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}, {"port": 9090}],
        },
        {
            "namespace": "default",
            "name": "db",
            "clusterIP": "None",
            "ports": [{"name": "pg", "port": 5432}],
            "endpoints": [{"ip": "198.18.0.7", "hostname": "db-0"}, {"ip": "198.18.0.8"}],
        },
        {
            "namespace": "kube-system",
            "name": "kube-dns",
            "clusterIP": "198.19.0.10",
            "ports": [{"name": "dns", "port": 53, "protocol": "UDP"}],
        },
        {"namespace": "default", "name": "web", "externalName": "example.com"},
    ],
}
RECORDS = parse_records(DATA)


def ask(name: str, qtype: str = "A", records: Records = RECORDS) -> Any:
    return DNSRecord.parse(answer(records, DNSRecord.question(name, qtype).pack()))


def values(reply: Any, section: str = "rr") -> list[str]:
    return [str(rr.rdata) for rr in getattr(reply, section)]


@pytest.mark.parametrize(
    ("name", "qtype", "expected"),
    [
        pytest.param("backend.default.svc.cluster.local", "A", ["198.19.0.20"],
                     id="a service name answers its ClusterIP"),
        pytest.param("backend.default.svc.cluster.local.", "A", ["198.19.0.20"],
                     id="a fully qualified name with its final dot answers the same"),
        pytest.param("BACKEND.Default.svc.cluster.local", "A", ["198.19.0.20"],
                     id="names match whatever their letter case"),
        pytest.param("kube-dns.kube-system.svc.cluster.local", "A", ["198.19.0.10"],
                     id="services in other namespaces answer too"),
        pytest.param("db.default.svc.cluster.local", "A", ["198.18.0.7", "198.18.0.8"],
                     id="a headless service answers every endpoint IP"),
        pytest.param("db-0.db.default.svc.cluster.local", "A", ["198.18.0.7"],
                     id="a headless endpoint's hostname answers its IP"),
        pytest.param("198-18-0-8.db.default.svc.cluster.local", "A", ["198.18.0.8"],
                     id="a headless endpoint without hostname answers by its dashed IP"),
        pytest.param("198-18-0-2.default.pod.cluster.local", "A", ["198.18.0.2"],
                     id="a dashed pod name answers that IP in a known namespace"),
        pytest.param("_http._tcp.backend.default.svc.cluster.local", "SRV",
                     ["0 100 8080 backend.default.svc.cluster.local."],
                     id="a named port answers SRV with the service name as target"),
        pytest.param("_dns._udp.kube-dns.kube-system.svc.cluster.local", "SRV",
                     ["0 100 53 kube-dns.kube-system.svc.cluster.local."],
                     id="SRV names carry the port's protocol"),
        pytest.param("_pg._tcp.db.default.svc.cluster.local", "SRV",
                     ["0 100 5432 db-0.db.default.svc.cluster.local.",
                      "0 100 5432 198-18-0-8.db.default.svc.cluster.local."],
                     id="a headless named port answers one SRV per endpoint"),
        pytest.param("web.default.svc.cluster.local", "A", ["example.com."],
                     id="an ExternalName service answers a CNAME, not followed"),
    ],
)  # fmt: skip
def test_answers(name: str, qtype: str, expected: list[str]) -> None:
    reply = ask(name, qtype)
    assert reply.header.rcode == RCODE.NOERROR
    assert reply.header.aa == 1
    assert values(reply) == expected


def test_answers_echo_the_question_name() -> None:
    reply = ask("BACKEND.default.svc.cluster.local")
    assert str(reply.rr[0].rname) == "BACKEND.default.svc.cluster.local."


def test_ipv6_addresses_answer_aaaa_only() -> None:
    records = parse_records({"services": [{"namespace": "d", "name": "s", "clusterIP": "fd00::1"}]})
    assert values(ask("s.d.svc.cluster.local", "AAAA", records)) == ["fd00::1"]
    assert values(ask("s.d.svc.cluster.local", "A", records)) == []


def test_srv_answers_carry_target_addresses() -> None:
    reply = ask("_http._tcp.backend.default.svc.cluster.local", "SRV")
    assert values(reply, "ar") == ["198.19.0.20"]


@pytest.mark.parametrize(
    ("name", "qtype"),
    [
        pytest.param("backend.default.svc.cluster.local", "AAAA", id="an IPv6 question"),
        pytest.param("backend.default.svc.cluster.local", "SRV", id="SRV on a service name"),
        pytest.param("default.svc.cluster.local", "A", id="a namespace's service suffix"),
        pytest.param("svc.cluster.local", "A", id="svc.cluster.local"),
    ],
)
def test_existing_names_without_such_records_answer_nodata(name: str, qtype: str) -> None:
    reply = ask(name, qtype)
    assert (reply.header.rcode, reply.rr) == (RCODE.NOERROR, [])
    assert reply.auth[0].rtype == QTYPE.SOA


@pytest.mark.parametrize(
    "name",
    [
        pytest.param("nope.default.svc.cluster.local", id="an unknown service"),
        pytest.param("backend.other.svc.cluster.local", id="a service in the wrong namespace"),
        pytest.param("backend.default.svc.cluster.local.default.svc.cluster.local",
                     id="a search-path expansion of a full name"),
        pytest.param("_grpc._tcp.backend.default.svc.cluster.local", id="an unknown port name"),
        pytest.param("198-18-0-2.nowhere.pod.cluster.local", id="a pod in an unknown namespace"),
        pytest.param("300-1-1-1.default.pod.cluster.local", id="a pod name that is no address"),
    ],
)  # fmt: skip
def test_unknown_names_in_the_zone_are_nxdomain(name: str) -> None:
    reply = ask(name)
    assert reply.header.rcode == RCODE.NXDOMAIN
    assert reply.header.aa == 1
    assert reply.auth[0].rtype == QTYPE.SOA


@pytest.mark.parametrize(
    "name",
    [
        pytest.param("example.com", id="an internet name"),
        pytest.param("backend", id="a bare single label"),
        pytest.param("evilcluster.local", id="a name that only ends like the zone"),
    ],
)
def test_names_outside_the_zone_are_refused_not_forwarded(name: str) -> None:
    reply = ask(name)
    assert reply.header.rcode == RCODE.REFUSED
    assert (reply.rr, reply.header.ra) == ([], 0)


def test_the_zone_apex_answers_its_soa() -> None:
    reply = ask("cluster.local", "SOA")
    assert reply.rr[0].rtype == QTYPE.SOA


def test_garbage_gets_formerr_with_the_same_id() -> None:
    reply = DNSRecord.parse(answer(RECORDS, b"\xab\xcd" + b"\x00" * 4 + b"\xff" * 20))
    assert (reply.header.id, reply.header.rcode) == (0xABCD, RCODE.FORMERR)


def test_too_short_garbage_gets_no_answer() -> None:
    assert answer(RECORDS, b"\x01\x02") == b""


def test_large_udp_answers_are_truncated() -> None:
    many = [{"ip": f"198.18.1.{i}"} for i in range(1, 60)]
    big = parse_records(
        {"services": [{"namespace": "d", "name": "s", "clusterIP": "None", "endpoints": many}]}
    )
    query = DNSRecord.question("s.d.svc.cluster.local").pack()
    assert len(answer(big, query)) > 512
    truncated = DNSRecord.parse(answer(big, query, udp=True))
    assert truncated.header.tc == 1


def test_a_bad_service_names_its_index() -> None:
    with pytest.raises(ValueError, match=r"services\[0\]"):
        parse_records({"services": [{"name": "x", "namespace": "d", "clusterIP": "nope"}]})


def test_records_file_is_reread_when_it_changes(tmp_path: Path) -> None:
    path = tmp_path / "records.json"
    path.write_text(json.dumps(DATA))
    records = RecordsFile(path)
    assert "backend.default.svc.cluster.local" in records.current().a
    path.write_text(json.dumps({"services": []}))
    os.utime(path, ns=(1, 1))
    assert "backend.default.svc.cluster.local" not in records.current().a


def test_a_broken_records_file_keeps_the_last_records(tmp_path: Path) -> None:
    path = tmp_path / "records.json"
    path.write_text(json.dumps(DATA))
    records = RecordsFile(path)
    first = records.current()
    path.write_text("{not json")
    os.utime(path, ns=(1, 1))
    assert records.current() is first


def test_load_records_uses_the_mtime_as_serial(tmp_path: Path) -> None:
    path = tmp_path / "records.json"
    path.write_text(json.dumps(DATA))
    os.utime(path, (1700000000, 1700000000))
    assert load_records(path).serial == 1700000000


def resolve_as_a_pod(name: str, namespace: str) -> tuple[str, list[str]] | None:
    """The stub resolver's walk (glibc and busybox alike) over the resolv.conf the kubelet
    writes for a pod of `namespace`: with fewer dots than `ndots`, each search domain first,
    then the name as it is; the first NOERROR answer with records wins."""
    conf = resolv_conf(namespace).splitlines()
    search = next(line.split()[1:] for line in conf if line.startswith("search "))
    ndots = int(next(line for line in conf if line.startswith("options")).split(":")[1])
    tries = [f"{name}.{domain}" for domain in search]
    tries = [*tries, name] if name.count(".") < ndots else [name, *tries]
    for candidate in tries:
        reply = ask(candidate)
        if reply.header.rcode == RCODE.NOERROR and reply.rr:
            return str(reply.rr[0].rname).rstrip("."), values(reply)
    return None


@pytest.mark.parametrize(
    ("name", "namespace", "found"),
    [
        ("backend", "default", "backend.default.svc.cluster.local"),
        ("backend.default", "default", "backend.default.svc.cluster.local"),
        ("backend.default.svc", "default", "backend.default.svc.cluster.local"),
        ("backend.default.svc.cluster.local", "default", "backend.default.svc.cluster.local"),
        ("backend.default", "kube-system", "backend.default.svc.cluster.local"),
        ("backend.default.svc", "kube-system", "backend.default.svc.cluster.local"),
        ("kube-dns.kube-system", "default", "kube-dns.kube-system.svc.cluster.local"),
        ("backend", "kube-system", None),
        ("backend.kube-system", "default", None),
        ("backend.default.svc.cluster", "default", None),
    ],
    ids=[
        "svc from its own namespace",
        "svc.ns",
        "svc.ns.svc",
        "svc.ns.svc.cluster.local",
        "svc.ns from another namespace",
        "svc.ns.svc from another namespace",
        "the cluster DNS by svc.ns",
        "svc alone is looked up in the pod's own namespace only",
        "svc.ns names the namespace it is in",
        "a cut-short cluster domain",
    ],
)
def test_a_pods_search_list_finds_a_service_by_each_of_its_names(
    name: str, namespace: str, found: str | None
) -> None:
    got = resolve_as_a_pod(name, namespace)
    if found is None:
        assert got is None
        return
    assert got is not None
    assert got[0] == found
    assert got[1] == [
        next(
            s["clusterIP"]
            for s in DATA["services"]
            if found.startswith(f"{s['name']}.{s['namespace']}.")
        )
    ]


def test_the_search_list_starts_with_the_pods_namespace() -> None:
    assert resolv_conf("team-a").splitlines() == [
        "search team-a.svc.cluster.local svc.cluster.local cluster.local",
        "nameserver 198.19.0.10",
        "options ndots:5",
    ]
