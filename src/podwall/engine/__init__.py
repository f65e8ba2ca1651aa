"""NetworkPolicy semantics over an immutable cluster snapshot.

`decide()` is the reference for one connection and carries its reasons; `connectivity()` and
`port_matrix()` compute whole maps over identities. Pure: no I/O here.

The names below are imported on first use: the node agent's compiler needs `identities` and
`selectorcache` only, not the maps and the explainer (~0.1 s of its start).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from podwall import lazypackage

if TYPE_CHECKING:
    from podwall.engine.connectivity import ConnectivityMap, connectivity
    from podwall.engine.decide import decide
    from podwall.engine.decision import (
        Decision,
        DirectionVerdict,
        PolicyCheck,
        RuleCheck,
        Status,
    )
    from podwall.engine.endpoints import Endpoint, Traffic
    from podwall.engine.matrix import PortMatrix, port_matrix

_HOMES = {
    "ConnectivityMap": "podwall.engine.connectivity",
    "connectivity": "podwall.engine.connectivity",
    "decide": "podwall.engine.decide",
    "Decision": "podwall.engine.decision",
    "DirectionVerdict": "podwall.engine.decision",
    "PolicyCheck": "podwall.engine.decision",
    "RuleCheck": "podwall.engine.decision",
    "Status": "podwall.engine.decision",
    "Endpoint": "podwall.engine.endpoints",
    "Traffic": "podwall.engine.endpoints",
    "PortMatrix": "podwall.engine.matrix",
    "port_matrix": "podwall.engine.matrix",
}

__all__ = [
    "ConnectivityMap",
    "Decision",
    "DirectionVerdict",
    "Endpoint",
    "PolicyCheck",
    "PortMatrix",
    "RuleCheck",
    "Status",
    "Traffic",
    "connectivity",
    "decide",
    "port_matrix",
]


__getattr__ = lazypackage.install(__name__, _HOMES)
