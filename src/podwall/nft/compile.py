"""`compile(snapshot, node)`: the nftables ruleset of one node.

Base chains are a data table. Established and related traffic is accepted and invalid
dropped first; then the egress of the source and the ingress of the destination are checked in
two base chains of the forward hook (an `accept` in the first goes on to the second, a `drop`
is final). Pods no policy isolates are not in the verdict maps and pass. Pure: no I/O here.
"""

from __future__ import annotations

from dataclasses import dataclass

from podwall.model.cluster import Cluster
from podwall.model.policy import Direction
from podwall.nft import policies, services
from podwall.nft.objects import Chain, ChainPolicy, ChainType, Hook, Priority
from podwall.nft.objects import Rule as NftRule
from podwall.nft.ruleset import Ruleset
from podwall.nft.statements import Accept, CtState, Drop, Field, Match, VMap


@dataclass(frozen=True, slots=True)
class BaseChain:
    name: str
    type: ChainType
    hook: Hook
    priority: int
    direction: Direction | None  # the policy direction it enforces; None for NAT
    comment: str


BASE_CHAINS = (
    BaseChain("nat-prerouting", ChainType.NAT, Hook.PREROUTING, Priority.DSTNAT, None,
              "ClusterIP services: DNAT to an endpoint"),
    BaseChain("egress", ChainType.FILTER, Hook.FORWARD, Priority.FILTER, Direction.EGRESS,
              "egress of the source pod"),
    BaseChain("ingress", ChainType.FILTER, Hook.FORWARD, Priority.FILTER + 10, Direction.INGRESS,
              "ingress of the destination pod"),
)  # fmt: skip


def compile_ruleset(cluster: Cluster, node: str | None = None) -> Ruleset:
    """The ruleset for the pods of `node` (every pod when None or when pods name no node)."""
    local = [p for p in cluster.pods if node is None or p.node in (None, node)]
    rs = Ruleset()
    for base in BASE_CHAINS:
        rs.chain(
            Chain(
                name=base.name,
                type=base.type,
                hook=base.hook,
                priority=int(base.priority),
                policy=ChainPolicy.ACCEPT,
                comment=base.comment,
            )
        )
    services.add_services(rs, cluster, "nat-prerouting")
    ctx = policies.Context.of(cluster, local)
    for base in BASE_CHAINS:
        if base.direction is not None:
            _filter_chain(rs, ctx, base)
    return rs


def _filter_chain(rs: Ruleset, ctx: policies.Context, base: BaseChain) -> None:
    assert base.direction is not None
    policies.add_direction(rs, ctx, base.direction)
    established = (Match(Field.CT_STATE, ("established", "related")), Accept())
    invalid = (Match(Field.CT_STATE, CtState.INVALID.value), Drop())
    field = Field.IP_SADDR if base.direction is Direction.EGRESS else Field.IP_DADDR
    lookup = (VMap((field,), policies.vmap_name(base.direction)),)
    rs.rule(NftRule(chain=base.name, statements=established, comment="replies of allowed flows"))
    rs.rule(NftRule(chain=base.name, statements=invalid, comment="conntrack: invalid"))
    rs.rule(
        NftRule(
            chain=base.name,
            statements=lookup,
            comment=f"pods isolated for {base.direction}: their class chain",
        )
    )


__all__ = ["BASE_CHAINS", "compile_ruleset"]
