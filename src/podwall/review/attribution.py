"""Why a changed connection is allowed on one side: the policies and rules responsible.

`decide()` is asked only for the connections a diff found changed, one representative pod pair
per change (the members of a group behave alike) and one port per atom, so the cost follows the
size of the change, not of the cluster. Pure: no I/O here.
"""

from __future__ import annotations

from collections.abc import Iterator

from podwall.engine import Decision, DirectionVerdict, Endpoint, Status, Traffic, decide
from podwall.engine.atoms import Atoms
from podwall.model.cluster import Cluster, Pod
from podwall.model.ports import PortSet, Protocol
from podwall.model.record import Record

MAX_ATOMS = 16  # per change: beyond it, the rest is not decided one by one

Atom = tuple[Protocol, int, int]


class Reason(Record):
    """What decided `ports` between one pair, a phrase per direction."""

    ports: PortSet
    egress: str
    ingress: str

    def render(self) -> str:
        return f"egress: {self.egress}; ingress: {self.ingress}"


def reasons(cluster: Cluster, src: Pod, dst: Pod, atoms: Atoms, mask: int) -> list[Reason]:
    """One reason per distinct explanation, with the ports it covers (the first MAX_ATOMS atoms)."""
    found: dict[tuple[str, str], list[Atom]] = {}
    for atom in first_atoms(atoms, mask):
        decision = decide(cluster, _traffic(src, dst, atom))
        key = (phrase(decision.egress), phrase(decision.ingress))
        found.setdefault(key, []).append(atom)
    return [
        Reason(ports=PortSet.of(items), egress=egress, ingress=ingress)
        for (egress, ingress), items in found.items()
    ]


def denials(cluster: Cluster, src: Pod, dst: Pod, atoms: Atoms, mask: int) -> list[str]:
    """What denies the first atoms now, one phrase per distinct answer."""
    out: list[str] = []
    for atom in first_atoms(atoms, mask):
        text = denial(decide(cluster, _traffic(src, dst, atom)))
        if text not in out:
            out.append(text)
    return out


def _traffic(src: Pod, dst: Pod, atom: Atom) -> Traffic:
    proto, lo, _ = atom
    return Traffic(src=Endpoint.of_pod(src), dst=Endpoint.of_pod(dst), port=lo, protocol=proto)


def first_atoms(atoms: Atoms, mask: int) -> Iterator[Atom]:
    count = 0
    while mask and count < MAX_ATOMS:
        low = mask & -mask
        yield atoms.atoms[low.bit_length() - 1]
        mask ^= low
        count += 1


def phrase(v: DirectionVerdict) -> str:
    """`default/web ingress[0] (k8s/web.yaml:3)`, `not isolated`, `denied (isolated by ...)`."""
    if v.admin is not None or v.baseline is not None:  # only with ClusterNetworkPolicies
        from podwall.engine.tierexplain import final_phrase

        tiered = final_phrase(v)  # a ClusterNetworkPolicy's Accept or Deny decided it
        if tiered is not None:
            return tiered
    if v.status is Status.NOT_ISOLATED:
        return "not isolated"
    if v.status is Status.HOST_NETWORK:
        return "host network, not subject to policy"
    if v.status is Status.LOCAL_NODE:
        return "from the pod's own node, always allowed"
    if v.status in (Status.OUTSIDE, Status.SELF):
        return "not governed by policy"
    if v.status is Status.DENIED:
        names = ", ".join(p.policy.key for p in v.policies)
        return f"denied (isolated by {names}; no rule allows it)"
    rules = []
    for check, rule in v.admitted_by:
        where = check.policy.source.render()
        located = f" ({where})" if check.policy.source.line else ""
        rules.append(f"{check.policy.key} {v.direction.value}[{rule.index}]{located}")
    return ", ".join(rules)


def denial(decision: Decision) -> str:
    """The side that denies: `ingress denied (isolated by ...)`; both when both do."""
    sides = (decision.egress, decision.ingress)
    return "; ".join(f"{v.direction.value} {phrase(v)}" for v in sides if not v.allowed)
