"""Cluster DNS: an authoritative server for `cluster.local`, fed by a JSON records file.

Answers, following the Kubernetes DNS specification (CoreDNS's behaviour where it differs):

- `<svc>.<ns>.svc.cluster.local` A (AAAA for IPv6): the ClusterIP; for a headless service
  (clusterIP "None"), every endpoint IP, plus `<hostname>.<svc>...` and `<a-b-c-d>.<svc>...`
  for each endpoint.
- `_<port>._<proto>.<svc>.<ns>.svc.cluster.local` SRV for named ports (priority 0, weight 100),
  with the targets' A records in the additional section.
- `<svc>.<ns>.svc.cluster.local` CNAME for an ExternalName service (not followed).
- `<a-b-c-d>.<ns>.pod.cluster.local` A: that address, for any known namespace (CoreDNS's
  `pods insecure`, the kubeadm default).
- an existing name without records of the asked type: NOERROR, no answer, SOA in authority;
  any other name in cluster.local: NXDOMAIN; names outside cluster.local: REFUSED, never
  forwarded (the sandbox resolves nothing outside the cluster).

The records file (`--records FILE`) is re-read when its modification time changes; write it
atomically (write a temporary file, then rename) so a half-written file is never read. A file
that cannot be read or parsed leaves the previous records in force. Its shape:

    {"namespaces": ["default", "kube-system"],
     "services": [
       {"namespace": "default", "name": "backend", "clusterIP": "198.19.0.20",
        "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}]},
       {"namespace": "default", "name": "db", "clusterIP": "None",
        "ports": [{"name": "pg", "port": 5432}],
        "endpoints": [{"ip": "198.18.0.7", "hostname": "db-0"}]},
       {"namespace": "default", "name": "web", "externalName": "example.com"}]}

Run as `python -m podwall.runtime.dns --records FILE --port 53` (UDP and TCP). It drops to
the pod's uid first, so the file must be world-readable and port 53 needs the pod netns sysctl
`net.ipv4.ip_unprivileged_port_start=0`. `answer()` is pure, for tests and other servers.
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import json
import logging
import re
import signal
import struct
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dnslib import (  # type: ignore[import-untyped]
    AAAA,
    CNAME,
    QTYPE,
    RCODE,
    RR,
    SOA,
    SRV,
    A,
    DNSError,
    DNSHeader,
    DNSRecord,
)

from podwall.runtime.standins.privileges import drop_privileges
from podwall.runtime.standins.sockets import UdpReplier, bound_socket

log = logging.getLogger("podwall.runtime.dns")  # not __main__ under `python -m`

ZONE = "cluster.local"
TTL = 5
UDP_LIMIT = 512
_POD_NAME = re.compile(rf"(\d+)-(\d+)-(\d+)-(\d+)\.([a-z0-9-]+)\.pod\.{re.escape(ZONE)}")


@dataclass(frozen=True, slots=True)
class Srv:
    port: int
    target: str


@dataclass(frozen=True, slots=True)
class Records:
    """Every name of the zone (lower case, no trailing dot) and its records.

    Invariant: `names` holds every owner name of `a`, `srv` and `cname` and all their ancestors
    up to the zone, so a name outside `names` (and not a pod name) does not exist.
    """

    a: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    srv: Mapping[str, tuple[Srv, ...]] = field(default_factory=dict)
    cname: Mapping[str, str] = field(default_factory=dict)
    names: frozenset[str] = frozenset({ZONE})
    namespaces: frozenset[str] = frozenset()
    serial: int = 1


class _Builder:
    def __init__(self) -> None:
        self.a: dict[str, list[str]] = {}
        self.srv: dict[str, list[Srv]] = {}
        self.cname: dict[str, str] = {}
        self.namespaces: set[str] = set()

    def add_a(self, name: str, ip: str) -> None:
        ips = self.a.setdefault(name, [])
        if ip not in ips:
            ips.append(ip)

    def add_srv(self, name: str, srv: Srv) -> None:
        self.srv.setdefault(name, []).append(srv)

    def build(self, serial: int) -> Records:
        owners = [*self.a, *self.srv, *self.cname]
        return Records(
            a={name: tuple(ips) for name, ips in self.a.items()},
            srv={name: tuple(srvs) for name, srvs in self.srv.items()},
            cname=dict(self.cname),
            names=frozenset(_with_ancestors(owners)),
            namespaces=frozenset(self.namespaces),
            serial=serial,
        )


def _with_ancestors(names: Iterable[str]) -> set[str]:
    found = {ZONE}
    for name in names:
        labels = name.split(".")
        for start in range(len(labels)):
            suffix = ".".join(labels[start:])
            found.add(suffix)
            if suffix == ZONE:
                break
    return found


def parse_records(data: Mapping[str, Any], serial: int = 1) -> Records:
    """Records from the JSON shape in the module docstring; ValueError names the bad entry."""
    builder = _Builder()
    builder.namespaces.update(str(ns).lower() for ns in data.get("namespaces", []))
    for index, service in enumerate(data.get("services", [])):
        try:
            _add_service(builder, service)
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"services[{index}]: {exc!r}") from exc
    return builder.build(serial)


def _add_service(builder: _Builder, service: Mapping[str, Any]) -> None:
    namespace = str(service["namespace"]).lower()
    builder.namespaces.add(namespace)
    fqdn = f"{str(service['name']).lower()}.{namespace}.svc.{ZONE}"
    if service.get("externalName"):
        builder.cname[fqdn] = str(service["externalName"]).lower().rstrip(".")
        return
    cluster_ip = str(service.get("clusterIP") or "None")
    if cluster_ip == "None":
        targets = _add_endpoints(builder, fqdn, service.get("endpoints", []))
    else:
        builder.add_a(fqdn, str(ipaddress.ip_address(cluster_ip)))
        targets = [fqdn]
    for port in service.get("ports", []):
        if port.get("name"):
            proto = str(port.get("protocol", "TCP")).lower()
            name = f"_{str(port['name']).lower()}._{proto}.{fqdn}"
            for target in targets:
                builder.add_srv(name, Srv(int(port["port"]), target))


def _add_endpoints(
    builder: _Builder, fqdn: str, endpoints: Sequence[Mapping[str, Any]]
) -> list[str]:
    """A records of a headless service; returns each endpoint's own name, for SRV targets."""
    targets = []
    for endpoint in endpoints:
        ip = str(ipaddress.ip_address(str(endpoint["ip"])))
        label = str(endpoint.get("hostname") or re.sub("[.:]", "-", ip)).lower()
        builder.add_a(fqdn, ip)
        builder.add_a(f"{label}.{fqdn}", ip)
        targets.append(f"{label}.{fqdn}")
    return targets


def load_records(path: Path) -> Records:
    """Read and parse the records file; its mtime (in seconds) becomes the SOA serial."""
    data = json.loads(path.read_text())
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a JSON object")
    return parse_records(data, serial=int(path.stat().st_mtime) & 0xFFFFFFFF)


def answer(records: Records, request: bytes, *, udp: bool = False) -> bytes:
    """The wire-format reply to the wire-format `request`; b"" when it cannot be parsed at all.

    With `udp`, a reply larger than the client accepts (512 bytes, or its EDNS size) is
    truncated with TC set, so the client retries over TCP.
    """
    try:
        query = DNSRecord.parse(request)
    except (DNSError, struct.error, IndexError, ValueError):
        return _format_error(request)
    reply = _reply(records, query)
    data = bytes(reply.pack())
    if udp and len(data) > _udp_limit(query):
        data = bytes(reply.truncate().pack())
    return data


def _reply(records: Records, query: Any) -> Any:
    reply = query.reply(ra=0, aa=1)
    if query.header.opcode != 0:
        return _set_rcode(reply, RCODE.NOTIMP, authoritative=False)
    if len(query.questions) != 1:
        return _set_rcode(reply, RCODE.FORMERR, authoritative=False)
    qname = str(query.q.qname).rstrip(".").lower()
    if qname != ZONE and not qname.endswith("." + ZONE):
        return _set_rcode(reply, RCODE.REFUSED, authoritative=False)
    answers, extra, exists = _lookup(records, qname, query.q.qtype)
    for rr in answers:
        if str(rr.rname).lower() == f"{qname}.":
            rr.rname = query.q.qname  # echo the asker's letter case (0x20 randomisation)
        reply.add_answer(rr)
    for rr in extra:
        reply.add_ar(rr)
    if not answers:
        reply.add_auth(_soa(records))
    if not exists:
        reply.header.rcode = RCODE.NXDOMAIN
    return reply


def _lookup(records: Records, qname: str, qtype: int) -> tuple[list[Any], list[Any], bool]:
    """(answer RRs, additional RRs, whether the name exists) for one question."""
    if qname in records.cname:
        return [_rr(qname, QTYPE.CNAME, CNAME(records.cname[qname] + "."))], [], True
    pod_ip = _pod_ip(records, qname)
    ips = (pod_ip,) if pod_ip else records.a.get(qname, ())
    exists = bool(pod_ip) or qname in records.names
    answers: list[Any] = []
    extra: list[Any] = []
    answers += _address_rrs(qname, ips, qtype)
    if qtype in (QTYPE.SRV, QTYPE.ANY):
        for srv in records.srv.get(qname, ()):
            answers.append(_rr(qname, QTYPE.SRV, SRV(0, 100, srv.port, srv.target + ".")))
            extra += _address_rrs(srv.target, records.a.get(srv.target, ()), QTYPE.ANY)
    if qname == ZONE and qtype in (QTYPE.SOA, QTYPE.ANY):
        answers.append(_soa(records))
    return answers, extra, exists


def _address_rrs(name: str, ips: Iterable[str], qtype: int) -> list[Any]:
    """A records for the IPv4 and AAAA records for the IPv6 addresses `qtype` asks for."""
    rrs = []
    for ip in ips:
        v6 = ":" in ip
        if qtype in (QTYPE.ANY, QTYPE.AAAA if v6 else QTYPE.A):
            rrs.append(_rr(name, QTYPE.AAAA, AAAA(ip)) if v6 else _rr(name, QTYPE.A, A(ip)))
    return rrs


def _pod_ip(records: Records, qname: str) -> str | None:
    match = _POD_NAME.fullmatch(qname)
    if match is None or match.group(5) not in records.namespaces:
        return None
    octets = [int(part) for part in match.group(1, 2, 3, 4)]
    return ".".join(map(str, octets)) if all(o <= 255 for o in octets) else None


def _rr(name: str, rtype: int, rdata: Any) -> Any:
    return RR(name + ".", rtype, rdata=rdata, ttl=TTL)


def _soa(records: Records) -> Any:
    times = (records.serial, 7200, 1800, 86400, TTL)
    soa = SOA(f"ns.dns.{ZONE}.", f"hostmaster.{ZONE}.", times)
    return RR(ZONE + ".", QTYPE.SOA, rdata=soa, ttl=TTL)


def _set_rcode(reply: Any, rcode: int, *, authoritative: bool) -> Any:
    reply.header.rcode = rcode
    reply.header.aa = int(authoritative)
    return reply


def _format_error(request: bytes) -> bytes:
    if len(request) < 12:
        return b""
    (query_id,) = struct.unpack("!H", request[:2])
    header = DNSHeader(id=query_id, qr=1, rcode=RCODE.FORMERR)
    return bytes(DNSRecord(header).pack())


def _udp_limit(query: Any) -> int:
    for rr in query.ar:
        if rr.rtype == QTYPE.OPT:
            return max(UDP_LIMIT, int(rr.rclass))
    return UDP_LIMIT


class RecordsFile:
    """The records file, re-read when its mtime changes; a bad file keeps the last records."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._mtime: int | None = None
        self._records = Records()

    def current(self) -> Records:
        try:
            mtime = self.path.stat().st_mtime_ns
        except OSError as exc:
            log.warning("records=%s unreadable (%s); keeping the last records", self.path, exc)
            return self._records
        if mtime != self._mtime:
            self._reload(mtime)
        return self._records

    def _reload(self, mtime: int) -> None:
        try:
            self._records = load_records(self.path)
        except (OSError, ValueError) as exc:
            log.warning("records=%s not loaded (%s); keeping the last records", self.path, exc)
        else:
            log.info("records=%s loaded names=%d", self.path, len(self._records.names))
        self._mtime = mtime


async def _serve_tcp(
    records: RecordsFile, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> None:
    try:
        while True:
            (length,) = struct.unpack("!H", await asyncio.wait_for(reader.readexactly(2), 10))
            reply = answer(records.current(), await reader.readexactly(length))
            if not reply:
                break
            writer.write(struct.pack("!H", len(reply)) + reply)
            await writer.drain()
    except (asyncio.IncompleteReadError, TimeoutError, OSError):
        pass
    finally:
        writer.close()


async def serve(records: RecordsFile, port: int, host: str = "") -> None:
    """Answer on UDP and TCP `port` until SIGTERM or SIGINT."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    udp = bound_socket("udp", port, host)
    await loop.create_datagram_endpoint(
        lambda: UdpReplier(lambda data, addr: answer(records.current(), data, udp=True) or None),
        sock=udp,
    )
    tcp = bound_socket("tcp", port, host)
    tcp.listen(128)
    await asyncio.start_server(lambda r, w: _serve_tcp(records, r, w), sock=tcp)
    log.info("serving zone=%s port=%d records=%s", ZONE, port, records.path)
    await stop.wait()


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="podwall-dns", description=__doc__.split("\n")[0])
    parser.add_argument("--records", type=Path, required=True, help="records JSON file")
    parser.add_argument("--port", type=int, default=53)
    parser.add_argument("--address", default="", help="address to bind (default: all)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    drop_privileges()
    records = RecordsFile(args.records)
    records.current()
    asyncio.run(serve(records, args.port, args.address))


if __name__ == "__main__":
    main()
