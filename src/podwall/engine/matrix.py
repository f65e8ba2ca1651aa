"""Pod-by-pod reachability on one port: the `{"pods": [...], "allowed": [[...]]}` contract.

Pure: no I/O here.
"""

from __future__ import annotations

from typing import Any

from podwall.engine.connectivity import ConnectivityMap, connectivity
from podwall.model.cluster import Cluster
from podwall.model.ports import Protocol
from podwall.model.record import Record


# A result read field by field, never compared or hashed: identity equality is enough.
class PortMatrix(Record, eq=False):
    """Rows are sources and columns destinations, both in the order of `pods`."""

    pods: tuple[str, ...]
    allowed: tuple[tuple[bool, ...], ...]
    port: int | str
    protocol: Protocol

    def to_json(self) -> dict[str, Any]:
        return {"pods": list(self.pods), "allowed": [list(row) for row in self.allowed]}

    def cell(self, src: str, dst: str) -> bool:
        return self.allowed[self.pods.index(src)][self.pods.index(dst)]


def port_matrix(
    cluster: Cluster,
    port: int | str,
    protocol: Protocol = Protocol.TCP,
    *,
    cmap: ConnectivityMap | None = None,
) -> PortMatrix:
    """Reachability of `port` (a number, or a name resolved on each destination pod)."""
    cmap = cmap or connectivity(cluster)
    pods = cmap.pods
    columns: list[list[bool]] = []
    for j, dst in enumerate(pods):
        number = port if isinstance(port, int) else dst.named_port(port, protocol)
        if number is None:
            columns.append([i == j for i in range(len(pods))])
            continue
        sources = cmap.sources_on(cmap.of_pod[j], cmap.atoms.port_mask(protocol, number))
        columns.append([i == j or bool(sources >> cmap.of_pod[i] & 1) for i in range(len(pods))])
    rows = tuple(tuple(columns[j][i] for j in range(len(pods))) for i in range(len(pods)))
    return PortMatrix(pods=tuple(p.key for p in pods), allowed=rows, port=port, protocol=protocol)
