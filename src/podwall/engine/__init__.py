"""NetworkPolicy semantics over an immutable cluster snapshot.

`decide()` is the reference for one connection and carries its reasons; `connectivity()` and
`port_matrix()` compute whole maps over identities. Pure: no I/O here.
"""

from podwall.engine.connectivity import ConnectivityMap, connectivity
from podwall.engine.decide import decide
from podwall.engine.decision import Decision, DirectionVerdict, PolicyCheck, RuleCheck, Status
from podwall.engine.endpoints import Endpoint, Traffic
from podwall.engine.matrix import PortMatrix, port_matrix

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
