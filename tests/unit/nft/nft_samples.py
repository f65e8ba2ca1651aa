"""A realistic sample ruleset shared by the podwall.nft tests."""

from __future__ import annotations

from podwall.nft.objects import (
    Chain,
    ChainPolicy,
    ChainType,
    Element,
    Hook,
    Map,
    Priority,
    Rule,
    Set,
    SetFlag,
    Table,
)
from podwall.nft.statements import (
    DNAT,
    Accept,
    Counter,
    CtState,
    Drop,
    Field,
    Goto,
    Jump,
    Lookup,
    Match,
    NumgenVMap,
    Op,
    VMap,
)
from podwall.nft.transaction import Transaction
from podwall.nft.values import NftType

TABLE = "podwall"
V4 = NftType.IPV4_ADDR
PROTO = NftType.INET_PROTO
PORT = NftType.INET_SERVICE
INTERVAL = frozenset({SetFlag.INTERVAL})


def sample_transaction() -> Transaction:
    """A realistic dataplane: conntrack, egress/ingress per-pod chains via verdict maps,
    an ipBlock with except, a named port per pod, and a ClusterIP service via numgen."""
    tx = Transaction(TABLE)
    tx.add(Table(comment="podwall dataplane"))
    tx.flush(Table())
    for chain in ("pod-in_default_web", "pol-in_default_allow", "svc_default_web", "ep_web-0"):
        tx.add(Chain(name=chain))
    tx.add(Chain(name="ep_web-1"))
    tx.add(
        Chain(
            name="filter-ingress",
            type=ChainType.FILTER,
            hook=Hook.FORWARD,
            priority=Priority.FILTER + 10,
            policy=ChainPolicy.ACCEPT,
            comment="ingress isolation",
        )
    )
    tx.add(Chain(name="nat-prerouting", type=ChainType.NAT, hook=Hook.PREROUTING, priority=-100))
    tx.add(Map(name="ingress-pods", key=(V4,)))
    tx.add(Map(name="services", key=(V4, PROTO, PORT)))
    tx.add(Set(name="pol-in_default_allow_0-cidr", key=(V4,), flags=INTERVAL))
    tx.add(Set(name="pol-in_default_allow_0-except", key=(V4,), flags=INTERVAL))
    tx.add(Set(name="pol-in_default_allow_1-ports", key=(V4, PROTO, PORT), flags=INTERVAL))
    tx.add(Element(map="ingress-pods", key=("10.244.1.5",), value=Jump("pod-in_default_web")))
    tx.add(Element(map="services", key=("10.96.0.10", "tcp", "80"), value=Goto("svc_default_web")))
    tx.add(Element(set="pol-in_default_allow_0-cidr", key=("10.0.0.0/8",)))
    tx.add(Element(set="pol-in_default_allow_0-except", key=("10.1.0.0/16",)))
    tx.add(Element(set="pol-in_default_allow_0-except", key=("10.2.0.1-10.2.0.9",)))
    tx.add(Element(set="pol-in_default_allow_1-ports", key=("10.244.1.5", "tcp", "8080")))
    tx.add(Element(set="pol-in_default_allow_1-ports", key=("10.244.1.6", "tcp", "9000-9001")))
    rules = [
        Rule(
            chain="filter-ingress",
            statements=(Match(Field.CT_STATE, ("established", "related")), Accept()),
            comment="conntrack: established flows",
        ),
        Rule(
            chain="filter-ingress",
            statements=(Match(Field.CT_STATE, CtState.INVALID.value), Drop()),
            comment="conntrack: invalid",
        ),
        Rule(
            chain="filter-ingress",
            statements=(VMap((Field.IP_DADDR,), "ingress-pods"),),
            comment="to a pod selected by an ingress policy",
        ),
        Rule(
            chain="pod-in_default_web",
            statements=(Jump("pol-in_default_allow"),),
            comment="policy default/allow selects default/web",
        ),
        Rule(
            chain="pod-in_default_web",
            statements=(Counter(), Drop()),
            comment="default deny: default/web is isolated for ingress",
        ),
        Rule(
            chain="pol-in_default_allow",
            statements=(
                Lookup((Field.IP_SADDR,), "pol-in_default_allow_0-except", Op.NE),
                Match(Field.IP_SADDR, "@pol-in_default_allow_0-cidr"),
                Match(Field.L4PROTO, "tcp"),
                Match(Field.TH_DPORT, "80-81"),
                Accept(),
            ),
            comment="policy default/allow ingress[0]",
        ),
        Rule(
            chain="pol-in_default_allow",
            statements=(
                Match(Field.IP_SADDR, ("192.168.0.0/16", "172.16.0.1")),
                Lookup(
                    (Field.IP_DADDR, Field.L4PROTO, Field.TH_DPORT), "pol-in_default_allow_1-ports"
                ),
                Accept(),
            ),
            comment="policy default/allow ingress[1] port http",
        ),
        Rule(
            chain="nat-prerouting",
            statements=(VMap((Field.IP_DADDR, Field.L4PROTO, Field.TH_DPORT), "services"),),
            comment="services",
        ),
        Rule(
            chain="svc_default_web",
            statements=(NumgenVMap(("ep_web-0", "ep_web-1")),),
            comment="service default/web tcp/80",
        ),
        Rule(
            chain="ep_web-0",
            statements=(Match(Field.L4PROTO, "tcp"), DNAT("10.244.1.5", 8080)),
            comment="endpoint 10.244.1.5:8080",
        ),
        Rule(
            chain="ep_web-1",
            statements=(Match(Field.L4PROTO, "tcp"), DNAT("10.244.1.6", 9000)),
            comment="endpoint 10.244.1.6:9000",
        ),
    ]
    for rule in rules:
        tx.add(rule)
    return tx
