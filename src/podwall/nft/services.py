"""ClusterIP services as DNAT, kube-proxy nftables style: a verdict map keyed by
`daddr . proto . port` leads to a chain per service port that picks an endpoint with numgen.

Runs at prerouting, before the filter chains, so policy sees real pod addresses.
Pure: no I/O here.
"""

from __future__ import annotations

import ipaddress

from podwall.model.cluster import Cluster, Pod, Service, ServicePort
from podwall.nft.naming import name
from podwall.nft.objects import Chain, Element, Map
from podwall.nft.objects import Rule as NftRule
from podwall.nft.ruleset import Ruleset
from podwall.nft.statements import DNAT, Field, Goto, Match, NumgenVMap, VMap
from podwall.nft.values import NftType

SERVICES_MAP = "services"


def add_services(rs: Ruleset, cluster: Cluster, nat_chain: str) -> None:
    key = (NftType.IPV4_ADDR, NftType.INET_PROTO, NftType.INET_SERVICE)
    rs.set(Map(name=SERVICES_MAP, key=key, comment="ClusterIP . protocol . port"))
    fields = (Field.IP_DADDR, Field.L4PROTO, Field.TH_DPORT)
    rs.rule(NftRule(chain=nat_chain, statements=(VMap(fields, SERVICES_MAP),), comment="services"))
    for svc in cluster.services:
        if not _cluster_ip(svc) or svc.selector is None:
            continue
        for sp in svc.ports:
            _service_port(rs, cluster, svc, sp)


def _cluster_ip(svc: Service) -> str | None:
    try:
        ip = ipaddress.ip_address(svc.cluster_ip or "")
    except ValueError:
        return None
    return str(ip) if ip.version == 4 else None


def endpoints(cluster: Cluster, svc: Service, sp: ServicePort) -> list[tuple[Pod, str, int]]:
    """(pod, address, target port) of every pod the service selects that has the port."""
    out = []
    assert svc.selector is not None
    for pod in cluster.pods:
        if pod.namespace != svc.namespace or not svc.selector.matches(pod.labels):
            continue
        target = sp.target_port
        number = target if isinstance(target, int) else pod.named_port(target, sp.protocol)
        v4 = [ip for ip in pod.ips if ip.version == 4]
        if number is not None and v4:
            out.append((pod, str(v4[0]), number))
    return sorted(out, key=lambda e: e[0].key)


def _service_port(rs: Ruleset, cluster: Cluster, svc: Service, sp: ServicePort) -> None:
    proto = sp.protocol.value.lower()
    label = f"service {svc.key}:{sp.port}/{sp.protocol}"
    eps = endpoints(cluster, svc, sp)
    if not eps:
        # No DNAT: the node has no route to the service range, so the client gets an ICMP
        # unreachable at once instead of a black hole (kube-proxy rejects, to the same end).
        return
    chain = name("svc", svc.namespace, svc.name, proto, str(sp.port))
    rs.chain(Chain(name=chain, comment=label))
    cluster_ip = _cluster_ip(svc)
    assert cluster_ip is not None
    rs.element(Element(map=SERVICES_MAP, key=(cluster_ip, proto, str(sp.port)), value=Goto(chain)))
    targets = []
    for pod, address, number in eps:
        ep = name("ep", svc.namespace, svc.name, proto, str(sp.port), pod.key)
        rs.chain(Chain(name=ep))
        dnat = (Match(Field.L4PROTO, proto), DNAT(address, number))
        rs.rule(
            NftRule(chain=ep, statements=dnat, comment=f"endpoint {pod.key} {address}:{number}")
        )
        targets.append(ep)
    rs.rule(NftRule(chain=chain, statements=(NumgenVMap(tuple(targets)),), comment=label))
