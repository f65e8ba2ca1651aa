"""ClusterIP services as DNAT, kube-proxy nftables style: a verdict map keyed by
`daddr . proto . port` leads to a chain per service port that picks an endpoint with numgen.

Runs at prerouting, before the filter chains, so policy sees real pod addresses, and at output
for the node's own connections. With flow
logging, each service port's chain reports its new connections before DNAT (`flowlog`), so a
flow can name the Service its client dialled.

Node ports (NodePort and LoadBalancer Services) as kube-proxy's `nodeport-ips` set and
`service-nodeports` map: a connection to a node's address on a node port goes to the same
chain as the ClusterIP's. Every node's table holds the addresses of every node, so the DNAT
happens on the client's own node (at prerouting for its pods, at output for its own processes)
and the reply comes back through it: no SNAT, and the destination's policy sees the client's
real address, as for a ClusterIP. Pure: no I/O here.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from podwall.model.cluster import Backend, Cluster, Pod, Service, ServicePort
from podwall.nft.flowlog import Logging
from podwall.nft.logtags import LogTag, TagKind
from podwall.nft.naming import name
from podwall.nft.objects import Chain, Element, Map, Set
from podwall.nft.objects import Rule as NftRule
from podwall.nft.ruleset import Ruleset
from podwall.nft.statements import DNAT, Field, Goto, Lookup, Match, NumgenVMap, VMap
from podwall.nft.values import NftType

SERVICES_MAP = "services"
NODEPORTS_MAP = "service-nodeports"
NODE_ADDRESSES = "nodeport-ips"


def base(rs: Ruleset, nat_chain: str) -> None:
    """The services map and the prerouting rule that looks it up."""
    key = (NftType.IPV4_ADDR, NftType.INET_PROTO, NftType.INET_SERVICE)
    rs.set(Map(name=SERVICES_MAP, key=key, comment="ClusterIP . protocol . port"))
    lookup(rs, nat_chain)


def lookup(rs: Ruleset, nat_chain: str) -> None:
    """The rule in `nat_chain` that looks a connection up in the services map."""
    fields = (Field.IP_DADDR, Field.L4PROTO, Field.TH_DPORT)
    rs.rule(NftRule(chain=nat_chain, statements=(VMap(fields, SERVICES_MAP),), comment="services"))


def nodeports_base(rs: Ruleset, chains: Iterable[str], addresses: Iterable[str]) -> None:
    """The node addresses, the node ports map, and the rule in each of `chains` that looks
    a connection to a node address up in it."""
    rs.set(Set(name=NODE_ADDRESSES, key=(NftType.IPV4_ADDR,), comment="addresses of every node"))
    key = (NftType.INET_PROTO, NftType.INET_SERVICE)
    rs.set(Map(name=NODEPORTS_MAP, key=key, comment="protocol . node port"))
    for address in sorted(set(addresses)):
        rs.element(Element(set=NODE_ADDRESSES, key=(address,)))
    lookup = (
        Lookup((Field.IP_DADDR,), NODE_ADDRESSES),
        VMap((Field.L4PROTO, Field.TH_DPORT), NODEPORTS_MAP),
    )
    for chain in chains:
        rs.rule(NftRule(chain=chain, statements=lookup, comment="node ports"))


def node_ports(svc: Service) -> bool:
    """Whether the Service serves node ports (and has endpoints to send them to)."""
    return cluster_ip(svc) is not None and any(sp.node_port for sp in svc.ports)


def cluster_ip(svc: Service) -> str | None:
    try:
        ip = ipaddress.ip_address(svc.cluster_ip or "")
    except ValueError:
        return None
    return str(ip) if ip.version == 4 else None


def endpoints(pods: list[Pod], svc: Service, sp: ServicePort) -> list[tuple[Pod, str, int]]:
    """(pod, address, target port) of every pod the service selects that has the port."""
    out = []
    assert svc.selector is not None
    for pod in pods:
        if pod.namespace != svc.namespace or not svc.selector.matches(pod.labels):
            continue
        target = sp.target_port
        number = target if isinstance(target, int) else pod.named_port(target, sp.protocol)
        v4 = [ip for ip in pod.ips if ip.version == 4]
        if number is not None and v4:
            out.append((pod, str(v4[0]), number))
    return sorted(out, key=lambda e: e[0].key)


def backends(svc: Service, sp: ServicePort) -> list[tuple[str, str, int]]:
    """(name, address, port) of every backend of a Service without a selector that serves
    `sp`: the slice port of the same name and protocol, as kube-proxy pairs them."""
    out = []
    for backend in svc.backends:
        if (backend.name or None) == (sp.name or None) and backend.protocol is sp.protocol:
            v4 = _v4(backend)
            if v4 is not None:
                out.append((f"{v4}:{backend.port}", v4, backend.port))
    return sorted(set(out))


def _v4(backend: Backend) -> str | None:
    try:
        ip = ipaddress.ip_address(backend.address)
    except ValueError:
        return None
    return str(ip) if ip.version == 4 else None


def service_fragment(cluster: Cluster, svc: Service, logging: Logging | None = None) -> Ruleset:
    rs = Ruleset()
    if cluster_ip(svc) is None:
        return rs
    pods = [p for p in cluster.pods if p.namespace == svc.namespace]
    for sp in svc.ports:
        if svc.selector is not None:
            eps = [(pod.key, ip, number) for pod, ip, number in endpoints(pods, svc, sp)]
        else:
            eps = backends(svc, sp)
        _service_port(rs, eps, svc, sp, logging)
    return rs


def _service_port(
    rs: Ruleset,
    eps: list[tuple[str, str, int]],
    svc: Service,
    sp: ServicePort,
    logging: Logging | None,
) -> None:
    """`eps`: (what the endpoint is, address, port), in a stable order."""
    if not eps:
        # No DNAT: the node has no route to the service range, so the client gets an ICMP
        # unreachable at once instead of a black hole (kube-proxy rejects, to the same end).
        return
    proto = sp.protocol.value.lower()
    label = f"service {svc.key}:{sp.port}/{sp.protocol}"
    chain = name("svc", svc.namespace, svc.name, proto, str(sp.port))
    rs.chain(Chain(name=chain, comment=label))
    address = cluster_ip(svc)
    assert address is not None
    rs.element(Element(map=SERVICES_MAP, key=(address, proto, str(sp.port)), value=Goto(chain)))
    if sp.node_port:
        key = (proto, str(sp.node_port))
        rs.element(Element(map=NODEPORTS_MAP, key=key, value=Goto(chain)))
    targets = []
    for what, ip, number in eps:
        ep = name("ep", svc.namespace, svc.name, proto, str(sp.port), what)
        rs.chain(Chain(name=ep))
        dnat = (Match(Field.L4PROTO, proto), DNAT(ip, number))
        rs.rule(NftRule(chain=ep, statements=dnat, comment=f"endpoint {what} {ip}:{number}"))
        targets.append(ep)
    # One endpoint needs no draw: a plain goto, and no anonymous verdict map (every set,
    # anonymous or named, slows the loading of every later one).
    pick = Goto(targets[0]) if len(targets) == 1 else NumgenVMap(tuple(targets))
    if logging is None:
        rs.rule(NftRule(chain=chain, statements=(pick,), comment=label))
        return
    for body in logging.service(LogTag(kind=TagKind.SERVICE, service=svc.key), pick):
        rs.rule(NftRule(chain=chain, statements=body, comment=label))
