"""The nouns of podwall: labels, selectors, ports, policies, pods, the cluster snapshot.

Pure: no I/O here.

Records here, and in every module the review commands (check, explain, matrix, diff, lint,
exposure) import, are `record.Record`s: not dataclasses, not msgspec Structs, so that those
commands start fast. `@dataclass(frozen=True, slots=True, kw_only=True)` compiles each method
it generates when the class is created: about 0.7 ms a class (Python 3.11), and the review
commands' modules define some 70 records; importing `dataclasses` also brings `inspect`, `ast`,
`dis` and `tokenize`. A msgspec Struct class is made in C (~15 us), but `import msgspec` brings
typing_extensions (and with it `inspect`), `uuid`, `decimal`: ~10 ms of check's ~75 ms. A
Record class costs ~15 us to create and imports only `typing` and `operator`; its `__init__`
is compiled on the class's first instantiation. See record.py and bench/README.md;
tests/unit/test_startup_records.py keeps `dataclasses`, `msgspec`, `typing_extensions` and
`inspect` off that path.

`class X(Record)` is `@dataclass(frozen=True, slots=True, kw_only=True)`; the class keywords
`frozen=False`, `kw_only=False`, `eq=False` (identity equality) and `dict=True` (a `__dict__`
for `functools.cached_property`) map the other options; `record.field` takes `default`,
`default_factory` and `compare=False` (a manifest's `source` takes no part in == and hash);
`record.replace` / `fields` / `asdict` replace the `dataclasses` functions. Code off that path
(apiserver, agent, nft, runtime, ...) keeps its dataclasses.
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
