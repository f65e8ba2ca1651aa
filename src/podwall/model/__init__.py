"""The nouns of podwall: labels, selectors, ports, policies, pods, the cluster snapshot.

Pure: no I/O here.

Records here, and in every module the review commands (check, explain, matrix, diff, lint,
exposure) import, are msgspec Structs, not dataclasses, so that those commands start fast.
Creating a Struct class is C code: about 15 us. `@dataclass(frozen=True, slots=True,
kw_only=True)` compiles each method it generates: about 0.7 ms a class (Python 3.11, 200
classes of each kind created in a loop: 700-780 us against 14-18 us), and the review commands'
modules define some 70 records; importing `dataclasses` also brings `inspect`, `ast`, `dis` and
`tokenize`. `podwall check` went from 401 to 338 M instructions (2.43x -> 2.05x a bare
`import yaml`; wall clock 84 -> 78 ms), msgspec's own import included: ~100 M, ~25 ms (it
imports typing_extensions, and with it `inspect`); see bench/README.md.
tests/unit/test_startup_records.py keeps `dataclasses` off that path.

The dataclass options map onto class options (`frozen=True`, hashable; `kw_only=True`;
`order=True`; `eq=False`: identity equality); slots are always on; `msgspec.field` takes
`default_factory`; `msgspec.structs.replace` / `fields` / `asdict` replace the `dataclasses`
functions (`dataclasses.replace` on a Struct fails at run time, and mypy does not see it). A
field left out of == and hash (`field(compare=False)`, which msgspec lacks): derive from
`source.Sourced`. A `functools.cached_property`: `dict=True`. Code off that path (apiserver,
agent, nft, runtime, ...) keeps its dataclasses.
"""

from podwall.model.cluster import Cluster, Namespace, Pod, Service, ServicePort
from podwall.model.labels import Labels, LabelSelector, Operator, Requirement
from podwall.model.policy import Direction, IPBlock, NetworkPolicy, Peer, PolicyType, Rule
from podwall.model.ports import ContainerPort, PolicyPort, PortSet, Protocol

__all__ = [
    "Cluster",
    "ContainerPort",
    "Direction",
    "IPBlock",
    "LabelSelector",
    "Labels",
    "Namespace",
    "NetworkPolicy",
    "Operator",
    "Peer",
    "Pod",
    "PolicyPort",
    "PolicyType",
    "PortSet",
    "Protocol",
    "Requirement",
    "Rule",
    "Service",
    "ServicePort",
]
